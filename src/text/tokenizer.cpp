#include "text/tokenizer.h"

#include <algorithm>
#include <array>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "base/error.h"
#include "text/utf8.h"
#include "text/vocab_util.h"

namespace ug {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁"

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using PieceMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

size_t count_code_points(std::string_view s) {
  size_t n = 0;
  for (size_t pos = 0; pos < s.size(); ++n) pos += utf8_next(s, pos).len;
  return n;
}

// Open-addressing map (left id, right id) -> (rank, merged id); the BPE inner loop looks up every
// adjacent pair, so this avoids std::unordered_map's node chasing.
class MergeTable {
 public:
  struct Value {
    int32_t rank;
    int32_t result;
  };
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    keys_.assign(cap, kEmpty);
    values_.assign(cap, Value{-1, -1});
    mask_ = cap - 1;
  }
  // Keeps the first (lowest-rank) entry for a pair listed twice.
  void insert(int32_t left, int32_t right, Value v) {
    const uint64_t key = make_key(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return;
      if (keys_[i] == kEmpty) {
        keys_[i] = key;
        values_[i] = v;
        return;
      }
    }
  }
  const Value* find(int32_t left, int32_t right) const {
    const uint64_t key = make_key(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t make_key(int32_t l, int32_t r) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  static size_t hash(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    return static_cast<size_t>(x ^ (x >> 33));
  }
  std::vector<uint64_t> keys_;
  std::vector<Value> values_;
  size_t mask_ = 0;
};

// Byte trie of the added tokens for leftmost-longest matching.
class AddedTrie {
 public:
  AddedTrie() : nodes_(1) { root_.fill(-1); }
  void insert(std::string_view piece, int32_t id, bool control) {
    int32_t node = 0;
    for (size_t i = 0; i < piece.size(); ++i) {
      const auto b = static_cast<unsigned char>(piece[i]);
      int32_t next = child(node, b);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_.emplace_back();
        if (node == 0) {
          root_[b] = next;
        } else {
          nodes_[node].kids.emplace_back(b, next);
        }
      }
      node = next;
    }
    if (nodes_[node].id < 0) nodes_[node].id = id, nodes_[node].control = control;
  }
  bool may_start(unsigned char b) const { return root_[b] >= 0; }
  // Longest allowed token at text[pos..]; returns its length (0 if none) and id.
  size_t match(std::string_view text, size_t pos, bool parse_special, int32_t& id) const {
    size_t best = 0;
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node < 0) break;
      const Node& n = nodes_[node];
      if (n.id >= 0 && (parse_special || !n.control)) best = i + 1 - pos, id = n.id;
    }
    return best;
  }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> kids;
    int32_t id = -1;
    bool control = false;
  };
  int32_t child(int32_t node, unsigned char b) const {
    if (node == 0) return root_[b];
    for (const auto& [k, v] : nodes_[node].kids) {
      if (k == b) return v;
    }
    return -1;
  }
  std::array<int32_t, 256> root_;
  std::vector<Node> nodes_;
};

bool is_whitespace_run(std::string_view p) {
  if (p.empty()) return false;
  if (p.find_first_not_of('\n') == std::string_view::npos) return true;
  if (p.find_first_not_of('\t') == std::string_view::npos) return true;
  if (p.size() < 2 * kSpaceMark.size() || p.size() % kSpaceMark.size() != 0) return false;
  for (size_t i = 0; i < p.size(); i += kSpaceMark.size()) {
    if (p.substr(i, kSpaceMark.size()) != kSpaceMark) return false;
  }
  return true;
}

}  // namespace

std::vector<int32_t> tokenizer_added_token_ids(const TokenizerData& d) {
  std::unordered_set<std::string_view> merged;
  std::vector<std::string> results;
  results.reserve(d.merges.size());
  for (const std::string& m : d.merges) {
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) continue;
    results.push_back(m.substr(0, sp) + m.substr(sp + 1));
  }
  merged.reserve(results.size());
  for (const std::string& r : results) merged.insert(r);
  std::vector<int32_t> ids;
  for (size_t id = 0; id < d.tokens.size() && id < d.types.size(); ++id) {
    if (d.types[id] != TokenType::Normal) continue;
    const std::string& p = d.tokens[id];
    if (is_whitespace_run(p) || (count_code_points(p) >= 2 && !merged.count(p))) {
      ids.push_back(static_cast<int32_t>(id));
    }
  }
  return ids;
}

struct Tokenizer::Impl {
  TokenizerData data;
  PieceMap ids;
  // Code point -> id of its single-character token, or -1; as long as the largest such code
  // point needs (a full 0x110000-entry table costs 4.4 MB and its filling per tokenizer).
  std::vector<int32_t> char_id;
  std::array<int32_t, 256> byte_id;  // byte -> id of "<0xXX>", or -1
  std::vector<int16_t> byte_value;   // id -> byte of a Byte token, or -1
  MergeTable merges;
  AddedTrie added;
  size_t max_input_bytes = 1;
};

Tokenizer::Tokenizer(TokenizerData data) : impl_(std::make_unique<Impl>()) {
  validate_tokenizer_data(data, "tokenizer");
  Impl& m = *impl_;
  m.data = std::move(data);
  const TokenizerData& d = m.data;
  const int32_t n = static_cast<int32_t>(d.tokens.size());
  m.ids.reserve(n);
  m.byte_id.fill(-1);
  m.byte_value.assign(n, -1);
  for (int32_t id = 0; id < n; ++id) {
    const std::string& p = d.tokens[id];
    m.ids.emplace(p, id);  // keeps the first id of a duplicated piece
    const TokenType t = d.types[id];
    // A "▁" in a piece may come from a typed "▁" as well as from a space: count its 3 bytes.
    if (t != TokenType::Byte) m.max_input_bytes = std::max(m.max_input_bytes, p.size());
    if (t == TokenType::Byte) {
      const int b = byte_piece_value(p);
      if (b >= 0) {
        m.byte_value[id] = static_cast<int16_t>(b);
        if (m.byte_id[b] < 0) m.byte_id[b] = id;
      }
    }
    if (t == TokenType::Control || t == TokenType::Unused || p.empty()) continue;
    const Utf8Char c = utf8_next(p, 0);
    if (!c.valid || c.len != p.size()) continue;
    if (c.cp >= m.char_id.size()) m.char_id.resize(c.cp + 1, -1);
    if (m.char_id[c.cp] < 0) m.char_id[c.cp] = id;
  }
  m.merges.reserve(d.merges.size());
  for (size_t rank = 0; rank < d.merges.size(); ++rank) {
    const std::string& s = d.merges[rank];
    const size_t sp = s.find(' ', 1);
    const std::string_view left(s.data(), sp), right(s.data() + sp + 1, s.size() - sp - 1);
    const int32_t l = token_id(left), r = token_id(right);
    const int32_t result = token_id(std::string(left) + std::string(right));
    if (l < 0 || r < 0 || result < 0) {
      fail("tokenizer: merge ", rank, " \"", s, "\" uses or produces a piece that is not in the ",
           "vocabulary (\"",
           l < 0   ? left
           : r < 0 ? right
                   : std::string_view("(merged)"),
           "\")");
    }
    m.merges.insert(l, r, {static_cast<int32_t>(rank), result});
  }
  for (int32_t id = 0; id < n; ++id) {
    const TokenType t = d.types[id];
    if (t == TokenType::Control || t == TokenType::Unknown) {
      m.added.insert(d.tokens[id], id, true);
    } else if (t == TokenType::UserDefined) {
      m.added.insert(d.tokens[id], id, false);
    }
  }
  for (int32_t id : tokenizer_added_token_ids(d)) m.added.insert(d.tokens[id], id, false);
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  size_t seg = 0;
  for (size_t pos = 0; pos < text.size();) {
    int32_t id = -1;
    size_t len = 0;
    if (impl_->added.may_start(static_cast<unsigned char>(text[pos]))) {
      len = impl_->added.match(text, pos, parse_special, id);
    }
    if (len == 0) {
      ++pos;
      continue;
    }
    bpe(text.substr(seg, pos - seg), out);
    out.push_back(id);
    pos += len;
    seg = pos;
  }
  bpe(text.substr(seg), out);
  return out;
}

void Tokenizer::bpe(std::string_view segment, std::vector<int32_t>& out) const {
  if (segment.empty()) return;
  const Impl& m = *impl_;
  // The normalizer: " " -> "▁".
  std::string norm;
  norm.reserve(segment.size() + segment.size() / 2);
  for (char c : segment) {
    if (c == ' ') {
      norm += kSpaceMark;
    } else {
      norm += c;
    }
  }
  // One symbol per code point; an ill-formed byte is a symbol of its own that never merges.
  struct Sym {
    int32_t id, prev, next;
    uint32_t start, len;
  };
  std::vector<Sym> sym;
  sym.reserve(norm.size());
  for (size_t pos = 0; pos < norm.size();) {
    const Utf8Char c = utf8_next(norm, pos);
    const uint32_t len = c.valid ? c.len : 1;
    const int32_t id = c.valid && c.cp < m.char_id.size() ? m.char_id[c.cp] : -1;
    const auto i = static_cast<int32_t>(sym.size());
    sym.push_back({id, i - 1, i + 1, static_cast<uint32_t>(pos), len});
    pos += len;
  }
  sym.back().next = -1;

  struct Cand {
    int32_t rank, left, right, left_id, right_id;
  };
  // Lowest rank first; among equal ranks the leftmost pair (what HF tokenizers does).
  auto worse = [](const Cand& a, const Cand& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  std::priority_queue<Cand, std::vector<Cand>, decltype(worse)> heap(worse);
  auto consider = [&](int32_t l) {
    if (l < 0) return;
    const int32_t r = sym[l].next;
    if (r < 0 || sym[l].id < 0 || sym[r].id < 0) return;
    if (const MergeTable::Value* v = m.merges.find(sym[l].id, sym[r].id)) {
      heap.push({v->rank, l, r, sym[l].id, sym[r].id});
    }
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) consider(i);
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    Sym& l = sym[c.left];
    // Stale entries: a side was merged away or changed since this pair was queued.
    if (l.len == 0 || l.next != c.right || l.id != c.left_id || sym[c.right].id != c.right_id) {
      continue;
    }
    Sym& r = sym[c.right];
    l.id = m.merges.find(c.left_id, c.right_id)->result;
    l.len += r.len;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = c.left;
    r.len = 0;
    r.id = -1;
    consider(l.prev);
    consider(c.left);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) {
    if (sym[i].id >= 0) {
      out.push_back(sym[i].id);
      continue;
    }
    for (uint32_t k = 0; k < sym[i].len; ++k) {
      const int32_t b = m.byte_id[static_cast<unsigned char>(norm[sym[i].start + k])];
      out.push_back(b >= 0 ? b : m.data.unk_id);
    }
  }
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= vocab_size()) {
    fail("tokenizer: token id ", id, " is outside the vocabulary of ", vocab_size(), " tokens");
  }
}

void Tokenizer::append_token_bytes(std::string& out, int32_t id) const {
  check_id(id);
  const int16_t b = impl_->byte_value[id];
  if (b >= 0) {
    out += static_cast<char>(b);
    return;
  }
  const std::string& p = impl_->data.tokens[id];
  for (size_t pos = 0; pos < p.size();) {
    const size_t hit = p.find(kSpaceMark, pos);
    if (hit == std::string::npos) {
      out.append(p, pos, std::string::npos);
      break;
    }
    out.append(p, pos, hit - pos);
    out += ' ';
    pos = hit + kSpaceMark.size();
  }
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string raw;
  for (int32_t id : ids) {
    check_id(id);
    if (skip_special && is_control(id)) continue;
    append_token_bytes(raw, id);
  }
  std::string out;
  out.reserve(raw.size());
  utf8_append_sanitized(out, raw, true);
  return out;
}

const std::string& Tokenizer::piece(int32_t id) const {
  check_id(id);
  return impl_->data.tokens[id];
}

int32_t Tokenizer::token_id(std::string_view piece) const {
  auto it = impl_->ids.find(piece);
  return it == impl_->ids.end() ? -1 : it->second;
}

TokenType Tokenizer::type(int32_t id) const {
  check_id(id);
  return impl_->data.types[id];
}

bool Tokenizer::is_control(int32_t id) const { return type(id) == TokenType::Control; }
int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->data.tokens.size()); }
int32_t Tokenizer::bos_id() const { return impl_->data.bos_id; }
int32_t Tokenizer::eos_id() const { return impl_->data.eos_id; }
int32_t Tokenizer::pad_id() const { return impl_->data.pad_id; }
bool Tokenizer::add_bos() const { return impl_->data.add_bos; }
const TokenizerData& Tokenizer::data() const { return impl_->data; }
size_t Tokenizer::max_token_input_bytes() const { return impl_->max_input_bytes; }

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tok_(&tokenizer), skip_special_(skip_special) {}

std::string StreamDecoder::push(int32_t id) {
  std::string out;
  if (skip_special_ && tok_->is_control(id)) return out;
  tok_->append_token_bytes(pending_, id);
  const size_t used = utf8_append_sanitized(out, pending_, false);
  pending_.erase(0, used);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  utf8_append_sanitized(out, pending_, true);
  pending_.clear();
  return out;
}

}  // namespace ug
