#include "grammar/gbnf_parser.h"

#include <map>

#include "base/error.h"
#include "base/hex.h"
#include "grammar/hash_mix.h"
#include "grammar/token_vocab.h"
#include "text/utf8.h"

namespace ug {
namespace {

// Repetition counts above this are refused: each copy becomes automaton states.
constexpr int64_t kMaxRepeat = 100000;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

class GbnfParser {
 public:
  GbnfParser(std::string_view text, const TokenVocab* vocab) : s_(text), vocab_(vocab) {}

  Grammar parse() {
    skip_space(true);
    while (!at_end()) parse_rule();
    for (const auto& [name, use] : first_use_) {
      if (!defined_[static_cast<size_t>(rule_id(name))]) {
        pos_ = use;
        error("rule '" + name + "' is used but never defined");
      }
    }
    auto root = ids_.find("root");
    if (root == ids_.end()) {
      pos_ = 0;
      error("the grammar has no 'root' rule");
    }
    g_.root = root->second;
    return std::move(g_);
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) {
        ++col;
      }
    }
    fail("grammar line ", line, ", column ", col, ": ", what);
  }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }

  void skip_space(bool newlines) {
    while (!at_end()) {
      const char c = s_[pos_];
      if (c == ' ' || c == '\t' || (newlines && (c == '\r' || c == '\n'))) {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && s_[pos_] != '\r' && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (!at_end() && is_name_char(s_[pos_])) ++pos_;
    if (pos_ == start) error("expected a rule name");
    return std::string(s_.substr(start, pos_ - start));
  }

  int32_t rule_id(const std::string& name) {
    auto [it, added] = ids_.emplace(name, static_cast<int32_t>(g_.rules.size()));
    if (added) {
      g_.rules.push_back({name, GExpr::seq()});
      defined_.push_back(false);
    }
    return it->second;
  }

  void parse_rule() {
    const size_t start = pos_;
    const std::string name = parse_name();
    skip_space(false);
    if (s_.substr(pos_, 3) != "::=") error("expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    skip_space(true);
    const int32_t id = rule_id(name);
    if (defined_[static_cast<size_t>(id)]) {
      pos_ = start;
      error("rule '" + name + "' is defined twice");
    }
    GExpr body = parse_alternates(false);
    g_.rules[static_cast<size_t>(id)].body = std::move(body);
    defined_[static_cast<size_t>(id)] = true;
    if (peek() == '\r') ++pos_;
    if (peek() == '\n') {
      ++pos_;
    } else if (!at_end()) {
      error(std::string("unexpected '") + peek() + "'; expected the end of the rule");
    }
    skip_space(true);
  }

  GExpr parse_alternates(bool nested) {
    std::vector<GExpr> alts;
    alts.push_back(parse_sequence(nested));
    while (peek() == '|') {
      ++pos_;
      skip_space(true);
      alts.push_back(parse_sequence(nested));
    }
    return GExpr::alt(std::move(alts));
  }

  uint32_t parse_hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const int d = hex_digit(peek());
      if (d < 0) error("expected " + std::to_string(digits) + " hex digits");
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    return v;
  }

  char32_t parse_char() {
    if (at_end()) error("unexpected end of the grammar");
    if (s_[pos_] == '\\') {
      ++pos_;
      const char c = peek();
      ++pos_;
      switch (c) {
        case 'x':
          return parse_hex(2);
        case 'u':
          return parse_hex(4);
        case 'U': {
          const uint32_t v = parse_hex(8);
          if (v > 0x10FFFF) error("code point above U+10FFFF");
          return v;
        }
        case 't':
          return '\t';
        case 'r':
          return '\r';
        case 'n':
          return '\n';
        case '\\':
        case '"':
        case '[':
        case ']':
        case '-':
          return static_cast<char32_t>(c);
        default:
          --pos_;
          error(std::string("unknown escape '\\") + c + "'");
      }
    }
    const Utf8Char u = utf8_next(s_, pos_);
    if (!u.valid) error("invalid UTF-8 in the grammar");
    pos_ += u.len;
    return u.cp;
  }

  int32_t parse_token_ref() {
    const size_t start = pos_;
    ++pos_;  // '<'
    if (peek() == '[') {
      ++pos_;
      int64_t id = 0;
      const size_t digits = pos_;
      while (peek() >= '0' && peek() <= '9') {
        id = id * 10 + (peek() - '0');
        if (id > 0x7FFFFFFF) error("token id too large");
        ++pos_;
      }
      if (pos_ == digits) error("expected a token id in <[...]>");
      if (peek() != ']' || peek(1) != '>') error("expected ']>' after the token id");
      pos_ += 2;
      if (vocab_ && id >= vocab_->size()) {
        pos_ = start;
        error("token id " + std::to_string(id) + " is outside the vocabulary (" +
              std::to_string(vocab_->size()) + " tokens)");
      }
      return static_cast<int32_t>(id);
    }
    const size_t close = s_.find('>', pos_);
    if (close == std::string_view::npos) error("expected '>' to close the token");
    pos_ = close + 1;
    const std::string piece(s_.substr(start, pos_ - start));
    if (!vocab_) {
      pos_ = start;
      error("token " + piece + " needs a vocabulary; write <[id]>");
    }
    const int32_t id = vocab_->find_name(piece);
    if (id < 0) {
      pos_ = start;
      error("no token is named " + piece);
    }
    return id;
  }

  GExpr parse_class() {
    ++pos_;  // '['
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<CodeRange> ranges;
    while (peek() != ']') {
      if (at_end()) error("unterminated character class");
      const char32_t lo = parse_char();
      char32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < s_.size()) {
        ++pos_;
        hi = parse_char();
        if (hi < lo) error("character range is reversed");
      }
      ranges.push_back({lo, hi});
    }
    ++pos_;
    return GExpr::chars(negated ? negate_chars(ranges) : ranges);
  }

  int64_t parse_count() {
    if (!(peek() >= '0' && peek() <= '9')) error("expected a number");
    int64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > kMaxRepeat) error("repetition count above " + std::to_string(kMaxRepeat));
      ++pos_;
    }
    return v;
  }

  GExpr parse_sequence(bool nested) {
    std::vector<GExpr> items;
    for (;;) {
      const char c = peek();
      if (c == '"') {
        ++pos_;
        std::u32string text;
        while (peek() != '"') {
          if (at_end()) error("unterminated string literal");
          text += parse_char();
        }
        ++pos_;
        items.push_back(GExpr::literal(text));
      } else if (c == '[') {
        items.push_back(parse_class());
      } else if (c == '<' || (c == '!' && peek(1) == '<')) {
        const bool negated = c == '!';
        if (negated) ++pos_;
        items.push_back(GExpr::token_ref(parse_token_ref(), negated));
      } else if (is_name_char(c)) {
        const size_t at = pos_;
        const std::string name = parse_name();
        first_use_.emplace(name, at);
        items.push_back(GExpr::ref(rule_id(name)));
      } else if (c == '(') {
        ++pos_;
        skip_space(true);
        GExpr inner = parse_alternates(true);
        if (peek() != ')') error("expected ')'");
        ++pos_;
        items.push_back(std::move(inner));
      } else if (c == '.') {
        ++pos_;
        items.push_back(GExpr::chars(all_chars()));
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (items.empty()) error(std::string("'") + c + "' has nothing to repeat");
        int64_t min = 0, max = -1;
        ++pos_;
        if (c == '+') {
          min = 1;
        } else if (c == '?') {
          max = 1;
        } else if (c == '{') {
          skip_space(nested);
          min = parse_count();
          skip_space(nested);
          if (peek() == '}') {
            max = min;
          } else if (peek() == ',') {
            ++pos_;
            skip_space(nested);
            if (peek() != '}') {
              max = parse_count();
              skip_space(nested);
              if (max < min) error("repetition {m,n} with n < m");
            }
            if (peek() != '}') error("expected '}'");
          } else {
            error("expected ',' or '}' in a repetition");
          }
          ++pos_;
        }
        GExpr last = std::move(items.back());
        items.back() =
            GExpr::repeat(std::move(last), static_cast<int32_t>(min), static_cast<int32_t>(max));
      } else {
        break;
      }
      skip_space(nested);
    }
    if (items.size() == 1) return std::move(items[0]);
    return GExpr::seq(std::move(items));
  }

  std::string_view s_;
  const TokenVocab* vocab_;
  size_t pos_ = 0;
  Grammar g_;
  std::map<std::string, int32_t> ids_;
  std::vector<bool> defined_;
  std::map<std::string, size_t> first_use_;
};

}  // namespace

Grammar parse_gbnf(std::string_view text, const TokenVocab* vocab) {
  return GbnfParser(text, vocab).parse();
}

}  // namespace ug
