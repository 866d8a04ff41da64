#include "grammar/number_grammar.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "base/error.h"

namespace ug {
namespace {

std::string digit_class(int lo, int hi) {
  if (lo == hi) return "\"" + std::to_string(lo) + "\"";
  return "[" + std::to_string(lo) + "-" + std::to_string(hi) + "]";
}

std::string any_digits(int min, int max) {
  if (max <= 0) return "\"\"";
  if (min == max) return "[0-9]{" + std::to_string(min) + "}";
  return "[0-9]{" + std::to_string(min) + "," + std::to_string(max) + "}";
}

std::string alternatives(const std::vector<std::string>& alts) {
  if (alts.empty()) return "";
  if (alts.size() == 1) return alts[0];
  std::string s = "(";
  for (size_t i = 0; i < alts.size(); ++i) s += (i ? " | " : "") + alts[i];
  return s + ")";
}

int digit_at(const std::string& s, size_t i) { return i < s.size() ? s[i] - '0' : 0; }

bool zero_from(const std::string& s, size_t i) {
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] != '0') return false;
  return true;
}

// Digit strings s with 0 <= |s| <= n and, reading s as the fraction 0.s, lo <(=) 0.s <(=) hi
// where lo and hi are the fraction digits from position i on (null: no bound). When `dot`, every
// non-empty alternative starts with "." (the empty string means "no fraction part").
std::string frac_expr(const std::string* lo, bool lo_strict, const std::string* hi, bool hi_strict,
                      size_t i, int n, bool dot) {
  if (lo && !lo_strict && zero_from(*lo, i)) lo = nullptr;  // 0.s >= 0 always holds
  std::vector<std::string> alts;
  const bool lo_ok = !lo || (!lo_strict && zero_from(*lo, i));
  const bool hi_ok = !hi || !hi_strict || !zero_from(*hi, i);
  if (lo_ok && hi_ok) alts.push_back("\"\"");
  if (n > 0) {
    if (!lo && !hi) {
      alts.push_back((dot ? "\".\" " : "") + any_digits(1, n));
    } else {
      // Group first digits by what they leave to check.
      int c = 0;
      while (c <= 9) {
        const int dl = lo ? digit_at(*lo, i) : 0, dh = hi ? digit_at(*hi, i) : 9;
        auto state = [&](int d) {  // -1 rejected; bit 0: lo still binds; bit 1: hi still binds
          if (lo && d < dl) return -1;
          if (hi && d > dh) return -1;
          return (lo && d == dl ? 1 : 0) | (hi && d == dh ? 2 : 0);
        };
        const int st = state(c);
        int e = c;
        while (e + 1 <= 9 && state(e + 1) == st) ++e;
        if (st >= 0) {
          std::string rest;
          if (st == 0) {
            rest = any_digits(0, n - 1);
          } else {
            rest = frac_expr(st & 1 ? lo : nullptr, lo_strict, st & 2 ? hi : nullptr, hi_strict,
                             i + 1, n - 1, false);
          }
          if (!rest.empty()) {
            std::string alt = dot ? "\".\" " : "";
            alt += digit_class(c, e);
            if (rest != "\"\"") alt += " " + rest;
            alts.push_back(alt);
          }
        }
        c = e + 1;
      }
    }
  }
  return alternatives(alts);
}

// Non-negative integers (digit strings without leading zeros) in [a, b] of equal length.
std::string ge_digits(const std::string& s, size_t i) {
  const int n = static_cast<int>(s.size() - i);
  if (n == 0) return "\"\"";
  if (zero_from(s, i)) return any_digits(n, n);
  std::vector<std::string> alts;
  const int d = s[i] - '0';
  const std::string rest = ge_digits(s, i + 1);
  alts.push_back("\"" + std::string(1, s[i]) + "\"" + (rest == "\"\"" ? "" : " " + rest));
  if (d < 9) alts.push_back(digit_class(d + 1, 9) + (n > 1 ? " " + any_digits(n - 1, n - 1) : ""));
  return alternatives(alts);
}

std::string le_digits(const std::string& s, size_t i) {
  const int n = static_cast<int>(s.size() - i);
  if (n == 0) return "\"\"";
  if (s.find_first_not_of('9', i) == std::string::npos) return any_digits(n, n);
  std::vector<std::string> alts;
  const int d = s[i] - '0';
  const std::string rest = le_digits(s, i + 1);
  alts.push_back("\"" + std::string(1, s[i]) + "\"" + (rest == "\"\"" ? "" : " " + rest));
  if (d > 0) alts.push_back(digit_class(0, d - 1) + (n > 1 ? " " + any_digits(n - 1, n - 1) : ""));
  return alternatives(alts);
}

std::string same_length_range(const std::string& x, const std::string& y, size_t i) {
  const int n = static_cast<int>(x.size() - i);
  if (n == 0) return "\"\"";
  if (x[i] == y[i]) {
    const std::string rest = same_length_range(x, y, i + 1);
    return "\"" + std::string(1, x[i]) + "\"" + (rest == "\"\"" ? "" : " " + rest);
  }
  std::vector<std::string> alts;
  const int dx = x[i] - '0', dy = y[i] - '0';
  std::string rest = ge_digits(x, i + 1);
  alts.push_back("\"" + std::string(1, x[i]) + "\"" + (rest == "\"\"" ? "" : " " + rest));
  if (dy - dx >= 2)
    alts.push_back(digit_class(dx + 1, dy - 1) + (n > 1 ? " " + any_digits(n - 1, n - 1) : ""));
  rest = le_digits(y, i + 1);
  alts.push_back("\"" + std::string(1, y[i]) + "\"" + (rest == "\"\"" ? "" : " " + rest));
  return alternatives(alts);
}

int cmp_digits(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

std::string add_one(std::string s) {
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] != '9') {
      ++s[i];
      return s;
    }
    s[i] = '0';
  }
  return "1" + s;
}

std::string sub_one(std::string s) {  // s > 0
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] != '0') {
      --s[i];
      break;
    }
    s[i] = '9';
  }
  const size_t nz = s.find_first_not_of('0');
  return nz == std::string::npos ? "0" : s.substr(nz);
}

// Integers (no leading zeros) in [a, b]; b null: up to max_digits digits.
std::string int_range(const std::string& a, const std::string* b, int max_digits) {
  std::vector<std::string> alts;
  const int la = static_cast<int>(a.size());
  const int lb = b ? static_cast<int>(b->size()) : max_digits;
  for (int len = la; len <= lb; ++len) {
    const std::string lo = len == la ? a : "1" + std::string(static_cast<size_t>(len - 1), '0');
    if (!b && len > la) {
      // Every longer length up to the cap at once.
      alts.push_back("[1-9] " + any_digits(len - 1, max_digits - 1));
      break;
    }
    const std::string hi = b && len == lb ? *b : std::string(static_cast<size_t>(len), '9');
    if (cmp_digits(lo, hi) > 0) continue;
    alts.push_back(same_length_range(lo, hi, 0));
  }
  return alternatives(alts);
}

// -1, 0, 1 comparing non-negative decimals.
int cmp(const Decimal& a, const Decimal& b) {
  const int c = cmp_digits(a.int_digits, b.int_digits);
  if (c != 0) return c;
  const size_t n = std::max(a.frac_digits.size(), b.frac_digits.size());
  for (size_t i = 0; i < n; ++i) {
    const int x = digit_at(a.frac_digits, i), y = digit_at(b.frac_digits, i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::string join(const std::string& head, const std::string& tail) {
  if (tail == "\"\"") return head;
  return head + " " + tail;
}

// Non-negative numbers in [a, b] (b null: unbounded), a >= 0.
std::string nonneg_range(const NumberBound& a, const std::optional<NumberBound>& b,
                         const NumberGrammarOptions& o) {
  const int frac_n = o.integer ? 0 : o.max_frac_digits;
  if (b) {
    const int c = cmp(a.value, b->value);
    if (c > 0 || (c == 0 && (a.exclusive || b->exclusive))) return "";
  }
  const std::string quoted_a = "\"" + a.value.int_digits + "\"";
  std::vector<std::string> alts;
  auto add = [&](const std::string& head, const std::string& frac) {
    if (!frac.empty() && !head.empty()) alts.push_back(join(head, frac));
  };
  if (b && a.value.int_digits == b->value.int_digits) {
    add(quoted_a, frac_expr(&a.value.frac_digits, a.exclusive, &b->value.frac_digits, b->exclusive,
                            0, frac_n, true));
    return alternatives(alts);
  }
  add(quoted_a, frac_expr(&a.value.frac_digits, a.exclusive, nullptr, false, 0, frac_n, true));
  const std::string next = add_one(a.value.int_digits);
  const std::string any_frac = frac_expr(nullptr, false, nullptr, false, 0, frac_n, true);
  if (b) {
    if (b->value.int_digits != "0") {
      const std::string prev = sub_one(b->value.int_digits);
      if (cmp_digits(next, prev) <= 0) add(int_range(next, &prev, 0), any_frac);
    }
    add("\"" + b->value.int_digits + "\"",
        frac_expr(nullptr, false, &b->value.frac_digits, b->exclusive, 0, frac_n, true));
  } else if (static_cast<int>(next.size()) <= o.max_int_digits) {
    add(int_range(next, nullptr, o.max_int_digits), any_frac);
  }
  return alternatives(alts);
}

Decimal negate(Decimal d) {
  d.negative = !d.negative;
  return d;
}

}  // namespace

int compare(const Decimal& a, const Decimal& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  const int m = cmp(a, b);  // magnitudes
  return a.negative ? -m : m;
}

Decimal Decimal::from_json(const nlohmann::json& v) {
  Decimal d;
  std::string digits;
  int point = 0;  // digits[0:point] is the integer part
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    const int64_t x = v.get<int64_t>();
    d.negative = x < 0;
    digits = std::to_string(x);
    if (d.negative) digits.erase(0, 1);
    point = static_cast<int>(digits.size());
  } else if (v.is_number_unsigned()) {
    digits = std::to_string(v.get<uint64_t>());
    point = static_cast<int>(digits.size());
  } else if (v.is_number_float()) {
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail("number bound ", v.dump(), " is not finite");
    char buf[64];
    const auto r =
        std::to_chars(buf, buf + sizeof(buf), std::fabs(x), std::chars_format::scientific);
    const std::string_view s(buf, static_cast<size_t>(r.ptr - buf));  // "1.25e-03"
    d.negative = x < 0;
    const size_t e = s.find('e');
    for (char c : s.substr(0, e))
      if (c != '.') digits += c;
    int exp = 0;
    std::from_chars(s.data() + e + 1 + (s[e + 1] == '+' ? 1 : 0), s.data() + s.size(), exp);
    point = exp + 1;
  } else {
    fail("expected a number, got ", v.dump());
  }
  if (point <= 0) {
    digits = std::string(static_cast<size_t>(-point), '0') + digits;
    point = 0;
  } else if (point > static_cast<int>(digits.size())) {
    digits += std::string(static_cast<size_t>(point) - digits.size(), '0');
  }
  std::string ip = digits.substr(0, static_cast<size_t>(point));
  std::string fp = digits.substr(static_cast<size_t>(point));
  const size_t nz = ip.find_first_not_of('0');
  d.int_digits = nz == std::string::npos ? "0" : ip.substr(nz);
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  d.frac_digits = fp;
  if (d.is_zero()) d.negative = false;
  return d;
}

std::string number_range_gbnf(const std::optional<NumberBound>& lo,
                              const std::optional<NumberBound>& hi, const NumberGrammarOptions& o) {
  std::vector<std::string> alts;
  // Negative part: "-" and a magnitude in (0, -lo] (or [-hi, -lo] when hi < 0); never "-0".
  if (!lo || lo->value.negative) {
    NumberBound mag_lo{Decimal{}, true};
    if (hi && hi->value.negative) mag_lo = {negate(hi->value), hi->exclusive};
    std::optional<NumberBound> mag_hi;
    if (lo) mag_hi = NumberBound{negate(lo->value), lo->exclusive};
    const std::string neg = nonneg_range(mag_lo, mag_hi, o);
    if (!neg.empty()) alts.push_back("\"-\" " + neg);
  }
  // Non-negative part: [max(lo, 0), hi].
  if (!hi || !hi->value.negative) {
    NumberBound from{Decimal{}, false};
    if (lo && !lo->value.negative) from = *lo;
    const std::string pos = nonneg_range(from, hi, o);
    if (!pos.empty()) alts.push_back(pos);
  }
  return alternatives(alts);
}

}  // namespace ug
