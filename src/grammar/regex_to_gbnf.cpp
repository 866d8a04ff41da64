#include "grammar/regex_to_gbnf.h"

#include <algorithm>
#include <cstdio>

#include "base/error.h"
#include "grammar/gbnf_text.h"
#include "base/hex.h"
#include "grammar/hash_mix.h"
#include "text/utf8.h"

namespace ug {
namespace {

constexpr int64_t kUnbounded = -1;
constexpr int64_t kMaxRegexRepeat = 10000;

struct RNode {
  enum Kind { Alt, Seq, Set, Repeat, Begin, End } kind = Seq;
  std::vector<RNode> children;
  std::vector<CodeRange> set;
  int64_t min = 0, max = 0;
};

std::vector<CodeRange> ascii_only(std::vector<CodeRange> r) {
  std::vector<CodeRange> out;
  for (CodeRange x : r) {
    if (x.lo > 0x7F) continue;
    out.push_back({x.lo, std::min<char32_t>(x.hi, 0x7F)});
  }
  return out;
}

const std::vector<CodeRange>& digit_set() {
  static const std::vector<CodeRange> s = {{'0', '9'}};
  return s;
}
const std::vector<CodeRange>& word_set() {
  static const std::vector<CodeRange> s =
      normalize_chars({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
  return s;
}
const std::vector<CodeRange>& space_set() {
  static const std::vector<CodeRange> s = normalize_chars({{'\t', '\r'}, {' ', ' '}});
  return s;
}

class RegexParser {
 public:
  explicit RegexParser(std::string_view p) : p_(p) {}

  RNode parse() {
    RNode n = alternation();
    if (pos_ < p_.size()) error("unbalanced ')'");
    return n;
  }

  [[noreturn]] void error(const std::string& what) const {
    fail("pattern /", std::string(p_), "/: ", what, " at offset ", pos_);
  }

 private:
  bool at_end() const { return pos_ >= p_.size(); }
  char peek(size_t k = 0) const { return pos_ + k < p_.size() ? p_[pos_ + k] : '\0'; }

  RNode alternation() {
    RNode alt;
    alt.kind = RNode::Alt;
    alt.children.push_back(sequence());
    while (peek() == '|') {
      ++pos_;
      alt.children.push_back(sequence());
    }
    if (alt.children.size() == 1) return std::move(alt.children[0]);
    return alt;
  }

  RNode sequence() {
    RNode seq;
    seq.kind = RNode::Seq;
    while (!at_end() && peek() != '|' && peek() != ')') {
      RNode atom_node = atom();
      if (atom_node.kind == RNode::Begin || atom_node.kind == RNode::End) {
        seq.children.push_back(std::move(atom_node));
        continue;
      }
      seq.children.push_back(quantified(std::move(atom_node)));
    }
    return seq;
  }

  // Reads {n}, {n,}, {n,m} at pos_; false (pos_ unchanged) when it is not a quantifier.
  bool braces(int64_t& min, int64_t& max) {
    size_t i = pos_ + 1;
    auto number = [&](int64_t& v) {
      const size_t start = i;
      v = 0;
      while (i < p_.size() && p_[i] >= '0' && p_[i] <= '9') {
        v = std::min<int64_t>(v * 10 + (p_[i] - '0'), kMaxRegexRepeat + 1);
        ++i;
      }
      return i > start;
    };
    if (!number(min)) return false;
    max = min;
    if (i < p_.size() && p_[i] == ',') {
      ++i;
      if (!number(max)) max = kUnbounded;
    }
    if (i >= p_.size() || p_[i] != '}') return false;
    pos_ = i + 1;
    return true;
  }

  RNode quantified(RNode item) {
    for (;;) {
      int64_t min, max;
      const char c = peek();
      if (c == '*') {
        min = 0, max = kUnbounded, ++pos_;
      } else if (c == '+') {
        min = 1, max = kUnbounded, ++pos_;
      } else if (c == '?') {
        min = 0, max = 1, ++pos_;
      } else if (c == '{' && braces(min, max)) {
        if (max != kUnbounded && max < min) error("quantifier {n,m} with m < n");
        if (min > kMaxRegexRepeat || max > kMaxRegexRepeat)
          error("repetition count above " + std::to_string(kMaxRegexRepeat));
      } else {
        return item;
      }
      if (peek() == '?') ++pos_;  // lazy: same language
      if (peek() == '*' || peek() == '+' || peek() == '?' ||
          (peek() == '{' && peek(1) >= '0' && peek(1) <= '9'))
        error("nothing to repeat");
      RNode r;
      r.kind = RNode::Repeat;
      r.min = min;
      r.max = max;
      r.children.push_back(std::move(item));
      item = std::move(r);
    }
  }

  static RNode set_node(std::vector<CodeRange> s) {
    RNode n;
    n.kind = RNode::Set;
    n.set = normalize_chars(std::move(s));
    return n;
  }

  uint32_t hex(int digits) {
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      const int d = hex_digit(peek());
      if (d < 0) error("expected a hex digit");
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    return v;
  }

  // After '\': a class escape (\d...) fills `set` and returns true; a character escape returns
  // false with the code point in `cp`.
  bool escape(std::vector<CodeRange>& set, bool& negated_shorthand, char32_t& cp, bool in_class) {
    if (at_end()) error("'\\' at the end of the pattern");
    const char c = p_[pos_++];
    negated_shorthand = false;
    switch (c) {
      case 'd':
        set = digit_set();
        return true;
      case 'w':
        set = word_set();
        return true;
      case 's':
        set = space_set();
        return true;
      case 'D':
      case 'W':
      case 'S': {
        const auto& base = c == 'D' ? digit_set() : c == 'W' ? word_set() : space_set();
        set = ascii_only(negate_chars(base));
        negated_shorthand = true;
        return true;
      }
      case 't':
        cp = '\t';
        return false;
      case 'n':
        cp = '\n';
        return false;
      case 'r':
        cp = '\r';
        return false;
      case 'f':
        cp = '\f';
        return false;
      case 'v':
        cp = '\v';
        return false;
      case '0':
        if (peek() >= '0' && peek() <= '9') error("octal escapes are not supported");
        cp = 0;
        return false;
      case 'x':
        cp = hex(2);
        return false;
      case 'u':
        if (peek() == '{') {
          ++pos_;
          uint32_t v = 0;
          int n = 0;
          while (peek() != '}') {
            v = v * 16 + hex(1);
            if (++n > 6 || v > 0x10FFFF) error("\\u{...} above U+10FFFF");
          }
          ++pos_;
          cp = v;
          return false;
        }
        cp = hex(4);
        return false;
      case 'c': {
        const char l = peek();
        if (!((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z')))
          error("expected a letter after \\c");
        ++pos_;
        cp = static_cast<char32_t>(l % 32);
        return false;
      }
      case 'b':
        if (in_class) {
          cp = '\b';
          return false;
        }
        --pos_;
        error("word boundaries (\\b) are not supported");
      case 'B':
        --pos_;
        error("\\B is not supported");
      case 'p':
      case 'P':
        --pos_;
        error("Unicode property escapes (\\p{...}) are not supported");
      case 'k':
        --pos_;
        error("named backreferences are not supported");
      default:
        if (c >= '1' && c <= '9') {
          --pos_;
          error("backreferences are not supported");
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
          --pos_;
          error(std::string("unknown escape \\") + c);
        }
        {
          // Escaped punctuation or any other character stands for itself.
          --pos_;
          const Utf8Char u = utf8_next(p_, pos_);
          if (!u.valid) error("invalid UTF-8");
          pos_ += u.len;
          cp = u.cp;
        }
        return false;
    }
  }

  char32_t literal_char() {
    const Utf8Char u = utf8_next(p_, pos_);
    if (!u.valid) error("invalid UTF-8");
    pos_ += u.len;
    return u.cp;
  }

  RNode char_class() {
    ++pos_;  // '['
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<CodeRange> ranges;
    bool shorthand = false;  // \d \w \s (or negated ones) inside
    bool first = true;
    while (first || peek() != ']') {
      if (at_end()) error("unterminated character class");
      first = false;
      // One class atom: a character, or a shorthand class.
      auto class_atom = [&](char32_t& cp) -> bool {  // true: a single character in cp
        if (peek() == '\\') {
          ++pos_;
          std::vector<CodeRange> s;
          bool neg = false;
          if (escape(s, neg, cp, true)) {
            ranges.insert(ranges.end(), s.begin(), s.end());
            shorthand = true;
            return false;
          }
          return true;
        }
        cp = literal_char();
        return true;
      };
      char32_t lo;
      if (!class_atom(lo)) continue;
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < p_.size()) {
        ++pos_;
        char32_t hi;
        if (!class_atom(hi)) error("a class like \\d cannot end a range");
        if (hi < lo) error("character range out of order");
        ranges.push_back({lo, hi});
      } else {
        ranges.push_back({lo, lo});
      }
    }
    ++pos_;  // ']'
    if (!negated) return set_node(std::move(ranges));
    std::vector<CodeRange> s = negate_chars(ranges);
    if (shorthand) s = ascii_only(std::move(s));
    return set_node(std::move(s));
  }

  RNode atom() {
    const char c = peek();
    switch (c) {
      case '^': {
        ++pos_;
        RNode n;
        n.kind = RNode::Begin;
        return n;
      }
      case '$': {
        ++pos_;
        RNode n;
        n.kind = RNode::End;
        return n;
      }
      case '.':
        ++pos_;
        return set_node(negate_chars({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
      case '[':
        return char_class();
      case '(': {
        ++pos_;
        if (peek() == '?') {
          if (peek(1) == ':') {
            pos_ += 2;
          } else if (peek(1) == '<' && peek(2) != '=' && peek(2) != '!') {
            const size_t close = p_.find('>', pos_);
            if (close == std::string_view::npos) error("unterminated group name");
            pos_ = close + 1;
          } else {
            error("lookahead and lookbehind are not supported");
          }
        }
        RNode inner = alternation();
        if (peek() != ')') error("missing ')'");
        ++pos_;
        return inner;
      }
      case '\\': {
        ++pos_;
        std::vector<CodeRange> s;
        bool neg = false;
        char32_t cp = 0;
        if (escape(s, neg, cp, false)) return set_node(std::move(s));
        return set_node({{cp, cp}});
      }
      case '*':
      case '+':
      case '?':
        error("nothing to repeat");
      case ')':
        error("unbalanced ')'");
      case '{': {
        int64_t a, b;
        const size_t save = pos_;
        if (braces(a, b)) {
          pos_ = save;
          error("nothing to repeat");
        }
        ++pos_;
        return set_node({{'{', '{'}});
      }
      default: {
        const char32_t cp = literal_char();
        return set_node({{cp, cp}});
      }
    }
  }

  std::string_view p_;
  size_t pos_ = 0;
};

void lengths(const RNode& n, int64_t& min, int64_t& max) {
  auto add = [](int64_t a, int64_t b) { return a < 0 || b < 0 ? kUnbounded : a + b; };
  switch (n.kind) {
    case RNode::Set:
      min = max = 1;
      return;
    case RNode::Begin:
    case RNode::End:
      min = max = 0;
      return;
    case RNode::Seq:
      min = max = 0;
      for (const RNode& c : n.children) {
        int64_t a, b;
        lengths(c, a, b);
        min += a;
        max = add(max, b);
      }
      return;
    case RNode::Alt:
      min = INT64_MAX, max = 0;
      for (const RNode& c : n.children) {
        int64_t a, b;
        lengths(c, a, b);
        min = std::min(min, a);
        max = (max < 0 || b < 0) ? kUnbounded : std::max(max, b);
      }
      return;
    case RNode::Repeat: {
      int64_t a, b;
      lengths(n.children[0], a, b);
      min = a * n.min;
      max = (n.max < 0 && b != 0) || b < 0 ? kUnbounded : b * std::max<int64_t>(n.max, 0);
      return;
    }
  }
}

class Emitter {
 public:
  explicit Emitter(StringSyntax syntax) : syntax_(syntax) {}

  std::string emit(const RNode& n) {
    switch (n.kind) {
      case RNode::Set:
        return string_char_gbnf(n.set, syntax_);
      case RNode::Begin:
      case RNode::End:
        fail("regex anchors (^ $) are supported only at the start and end of the pattern");
      case RNode::Seq: {
        if (n.children.empty()) return "\"\"";
        std::string s = "(";
        for (size_t i = 0; i < n.children.size(); ++i) s += (i ? " " : "") + emit(n.children[i]);
        return s + ")";
      }
      case RNode::Alt: {
        std::string s = "(";
        for (size_t i = 0; i < n.children.size(); ++i) s += (i ? " | " : "") + emit(n.children[i]);
        return s + ")";
      }
      case RNode::Repeat: {
        const std::string item = emit(n.children[0]);
        if (n.max < 0) return item + "{" + std::to_string(n.min) + ",}";
        return item + "{" + std::to_string(n.min) + "," + std::to_string(n.max) + "}";
      }
    }
    return "\"\"";
  }

 private:
  StringSyntax syntax_;
};

// Drops ^ at the start and $ at the end of each top-level alternative (through nested groups at
// those ends); anchors anywhere else stay and make emit() fail.
void strip_anchors(RNode& n, bool at_start, bool at_end) {
  if (n.kind == RNode::Alt) {
    for (RNode& c : n.children) strip_anchors(c, at_start, at_end);
    return;
  }
  if (n.kind != RNode::Seq) return;
  auto& ch = n.children;
  if (at_start)
    while (!ch.empty() && ch.front().kind == RNode::Begin) ch.erase(ch.begin());
  if (at_end)
    while (!ch.empty() && ch.back().kind == RNode::End) ch.pop_back();
  for (size_t i = 0; i < ch.size(); ++i)
    if (ch[i].kind == RNode::Alt || ch[i].kind == RNode::Seq)
      strip_anchors(ch[i], at_start && i == 0, at_end && i + 1 == ch.size());
}

}  // namespace

std::string string_char_gbnf(const std::vector<CodeRange>& set_in, StringSyntax syntax) {
  const std::vector<CodeRange> set = normalize_chars(set_in);
  std::vector<CodeRange> plain;
  std::vector<std::string> escapes;
  if (syntax == StringSyntax::Dsl) {
    // Raw text; '|' never appears so no <|...> or <...|> marker can form, and NUL is left out.
    plain = normalize_chars(set);
    std::vector<CodeRange> cut;
    for (CodeRange r : plain) {
      if (r.lo == 0) r.lo = 1;
      if (r.lo > r.hi) continue;
      if (r.lo <= '|' && '|' <= r.hi) {
        if (r.lo < '|') cut.push_back({r.lo, '|' - 1});
        if (r.hi > '|') cut.push_back({'|' + 1, r.hi});
      } else {
        cut.push_back(r);
      }
    }
    plain = normalize_chars(cut);
  } else {
    for (CodeRange r : set) {
      // JSON needs '"', '\' and U+0000..U+001F escaped; U+007F is escaped too (conservative).
      for (char32_t c = r.lo; c <= std::min<char32_t>(r.hi, 0x7F); ++c) {
        if (c < 0x20 || c == '"' || c == '\\' || c == 0x7F) {
          static const char* kShort[] = {nullptr, nullptr, nullptr, nullptr, nullptr,
                                         nullptr, nullptr, nullptr, "\\b",   "\\t",
                                         "\\n",   nullptr, "\\f",   "\\r"};
          std::string esc;
          if (c == '"') {
            esc = "\\\"";
          } else if (c == '\\') {
            esc = "\\\\";
          } else if (c < 14 && kShort[c]) {
            esc = kShort[c];
          } else {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            esc = buf;
          }
          escapes.push_back(gbnf_quote(esc));
        } else {
          plain.push_back({c, c});
        }
      }
      if (r.hi > 0x7F) plain.push_back({std::max<char32_t>(r.lo, 0x80), r.hi});
    }
    plain = normalize_chars(plain);
  }
  std::vector<std::string> alts;
  if (!plain.empty()) alts.push_back(gbnf_class(plain));
  alts.insert(alts.end(), escapes.begin(), escapes.end());
  if (alts.empty()) return "[]";  // matches nothing
  if (alts.size() == 1) return alts[0];
  std::string s = "(";
  for (size_t i = 0; i < alts.size(); ++i) s += (i ? " | " : "") + alts[i];
  return s + ")";
}

RegexGrammar regex_to_gbnf(std::string_view pattern, StringSyntax syntax) {
  RegexParser parser(pattern);
  RNode root = parser.parse();
  strip_anchors(root, true, true);
  RegexGrammar out;
  lengths(root, out.min_chars, out.max_chars);
  try {
    out.expr = Emitter(syntax).emit(root);
  } catch (const Error& e) {
    fail("pattern /", std::string(pattern), "/: ", e.what());
  }
  return out;
}

bool regex_single_repeat(std::string_view pattern, std::vector<CodeRange>& set, int64_t& min,
                         int64_t& max) {
  RNode root = RegexParser(pattern).parse();
  strip_anchors(root, true, true);
  const RNode* n = &root;
  while (n->kind == RNode::Seq && n->children.size() == 1) n = &n->children[0];
  if (n->kind != RNode::Repeat) return false;
  const RNode* item = &n->children[0];
  while (item->kind == RNode::Seq && item->children.size() == 1) item = &item->children[0];
  if (item->kind != RNode::Set) return false;
  set = item->set;
  min = n->min;
  max = n->max;
  return true;
}

}  // namespace ug
