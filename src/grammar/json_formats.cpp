#include "grammar/json_formats.h"

#include <map>
#include <set>

#include "base/error.h"

namespace ug {
namespace {

// Pieces shared by several formats.
const std::string kDate =
    "[1-9][0-9]{3}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|"
    "02-(0[1-9]|1[0-9]|2[0-8]))";
const std::string kTime =
    "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])";
const std::string kLabel = "[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?";
const std::string kPchar = "([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})";
const std::string kQchar = "([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})";
const std::string kUri = "[a-z][a-z0-9+.-]{0,15}://" + kLabel + "(\\." + kLabel +
                         "){0,4}(:[0-9]{1,5})?(/" + kPchar + "{0,64}){0,16}(\\?" + kQchar +
                         "{0,128})?(#" + kQchar + "{0,64})?";
// A relative reference whose first segment has no ':' (else it would read as a scheme).
const std::string kRelative = "/?([A-Za-z0-9._~!$&'()*+,;=@-]|%[0-9A-Fa-f]{2}){1,64}(/" + kPchar +
                              "{0,64}){0,16}(\\?" + kQchar + "{0,128})?(#" + kQchar + "{0,64})?";
const std::string kOctet = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";

const std::map<std::string, std::string, std::less<>>& formats() {
  static const std::map<std::string, std::string, std::less<>> kFormats = {
      {"date", kDate},
      {"time", kTime},
      {"date-time", kDate + "T" + kTime},
      {"duration", "P[0-9]{1,4}[YMWD]|PT[0-9]{1,4}[HMS]|P[0-9]{1,4}DT[0-9]{1,4}[HMS]"},
      {"email", "[A-Za-z0-9_%+-]{1,32}(\\.[A-Za-z0-9_%+-]{1,32}){0,3}@(" + kLabel +
                    "\\.){1,3}[A-Za-z]{2,10}"},
      {"idn-email", "[A-Za-z0-9_%+-]{1,32}(\\.[A-Za-z0-9_%+-]{1,32}){0,3}@(" + kLabel +
                        "\\.){1,3}[A-Za-z]{2,10}"},
      {"hostname", "(" + kLabel + "\\.){0,3}" + kLabel},
      {"idn-hostname", "(" + kLabel + "\\.){0,3}" + kLabel},
      {"uuid", "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"},
      {"uri", kUri},
      {"iri", kUri},
      {"uri-reference", kUri + "|" + kRelative},
      {"iri-reference", kUri + "|" + kRelative},
      {"url", kUri},
      {"ipv4", "(" + kOctet + "\\.){3}" + kOctet},
      {"ipv6", "([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"},
      {"json-pointer", "(/([^~/]|~[01]){0,32}){0,8}"},
      {"relative-json-pointer", "(0|[1-9][0-9]{0,3})(#|(/([^~/]|~[01]){0,32}){0,8})"},
      {"regex", "[A-Za-z0-9 ]{0,64}"},
      {"byte", "([A-Za-z0-9+/]{4}){0,64}([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"},
      {"int32", "-?(0|[1-9][0-9]{0,8})"},
      {"int64", "-?(0|[1-9][0-9]{0,17})"},
      {"uint32", "0|[1-9][0-9]{0,8}"},
      {"uint64", "0|[1-9][0-9]{0,18}"},
      {"binary", ""},
      {"password", ""},
      {"textarea", ""},
  };
  return kFormats;
}

}  // namespace

bool is_standard_format(std::string_view format) {
  // The formats the JSON Schema drafts (3 to 2020-12) define; validators check these.
  static const std::set<std::string_view> kStandard = {
      "date-time",    "date",          "time",
      "duration",     "email",         "idn-email",
      "hostname",     "idn-hostname",  "ipv4",
      "ipv6",         "uri",           "uri-reference",
      "iri",          "iri-reference", "uuid",
      "uri-template", "json-pointer",  "relative-json-pointer",
      "regex",        "color",         "host-name",
      "ip-address",   "utc-millisec",  "style",
      "phone"};
  return kStandard.count(format) > 0;
}

std::string format_regex(std::string_view format, std::string_view path) {
  const auto& f = formats();
  auto it = f.find(format);
  // A format no draft defines is an annotation: validators ignore unknown formats (and 2019-09
  // on, format is an annotation by default), so a vendor format ("path", "html-selector") leaves
  // the string free. A standard format this file has no regex for is refused.
  if (it == f.end() && !is_standard_format(format)) return "";
  if (it == f.end()) {
    fail("unsupported JSON Schema format \"", std::string(format), "\" at ",
         path.empty() ? "/" : std::string(path));
  }
  return it->second;
}

}  // namespace ug
