// A small blocking HTTP(S) client over libcurl: the only code in unigemma that opens network
// connections, and it runs only when a download was asked for (`pull`, or `-m hf://...`).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ug::hub {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  bool head = false;                 // HEAD instead of GET
  bool follow_redirects = false;     // follow 3xx (curl drops Authorization on a host change)
  int64_t resume_from = 0;           // > 0: "Range: bytes=N-"
  int connect_timeout_s = 15;
  int stall_timeout_s = 60;  // abort when fewer than 1 byte/s arrives for this long
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // of the last response; names in lower case
  std::string url;                             // the last URL (after redirects)
  std::string body;  // fetch(): the body; stream(): the body of a non-2xx answer (for messages)
  // The value of a header, "" when absent. name: lower case.
  std::string header(const std::string& name) const;
};

// Receives the body of a 2xx answer with its status (200, or 206 for a range); returning false
// aborts the transfer.
using BodySink = std::function<bool(long status, const char* data, size_t n)>;

struct StreamResult {
  HttpResponse response;
  bool complete = false;  // the whole body arrived (false: the connection broke mid-way)
  std::string error;      // why it did not complete
};

// Small requests (API calls, HEAD). Throws ug::Error when the server cannot be reached (DNS,
// connection, TLS, timeout) with a message naming the host; bodies over max_body are refused.
HttpResponse http_fetch(const HttpRequest& req, size_t max_body = size_t(64) << 20);

// A download: the 2xx body goes to sink. A transfer that breaks after it started returns with
// complete = false (the caller resumes with a Range request); a failure before any answer came
// back throws ug::Error as http_fetch does.
StreamResult http_stream(const HttpRequest& req, const BodySink& sink);

// "https://huggingface.co/a/b" -> "huggingface.co"
std::string url_host(const std::string& url);

// Percent-encodes everything but unreserved characters (and '/' when keep_slash).
std::string url_encode(const std::string& s, bool keep_slash);

}  // namespace ug::hub
