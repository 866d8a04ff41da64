#include "text/output_parser.h"

#include <algorithm>
#include <array>
#include <exception>
#include <utility>

#include "text/tool_syntax.h"

namespace ug {
namespace {

constexpr std::string_view kChannelOpen = "<|channel>";
constexpr std::string_view kChannelClose = "<channel|>";
constexpr std::string_view kCallOpen = "<|tool_call>";
constexpr std::string_view kCallClose = "<tool_call|>";
constexpr std::string_view kTurnEnd = "<turn|>";
constexpr std::string_view kToolResponse = "<|tool_response>";
constexpr std::string_view kThought = "thought";

constexpr std::array<std::string_view, 5> kContentMarkers = {kChannelOpen, kChannelClose, kCallOpen,
                                                             kTurnEnd, kToolResponse};
constexpr std::array<std::string_view, 4> kReasoningMarkers = {kChannelClose, kChannelOpen,
                                                               kTurnEnd, kToolResponse};
constexpr std::array<std::string_view, 4> kCallMarkers = {kCallClose, kCallOpen, kTurnEnd,
                                                          kToolResponse};

bool is_ws(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim_ascii(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

template <std::size_t N>
std::pair<std::size_t, std::string_view> earliest(std::string_view buf,
                                                  const std::array<std::string_view, N>& markers) {
  std::pair<std::size_t, std::string_view> best{std::string_view::npos, {}};
  for (auto m : markers) {
    const std::size_t at = buf.find(m);
    if (at < best.first) best = {at, m};
  }
  return best;
}

// Length of the longest end of buf that could still grow into one of the markers.
template <std::size_t N>
std::size_t held_suffix(std::string_view buf, const std::array<std::string_view, N>& markers) {
  std::size_t longest = 0;
  for (auto m : markers) longest = std::max(longest, m.size() - 1);
  for (std::size_t k = std::min(buf.size(), longest); k > 0; --k)
    for (auto m : markers)
      if (m.size() > k && buf.ends_with(m.substr(0, k))) return k;
  return 0;
}

// Appends text to out whose trailing whitespace is withheld in `pending` until more text shows
// it is not the end.
void append_trimmed_end(std::string& out, std::string& pending, std::string_view text) {
  std::size_t last = text.size();
  while (last > 0 && is_ws(text[last - 1])) --last;
  if (last == 0) {
    pending += text;
    return;
  }
  out += pending;
  pending.clear();
  out += text.substr(0, last);
  pending = std::string(text.substr(last));
}

}  // namespace

void StreamingOutputParser::emit(Delta& out, std::string_view text) {
  if (state_ == State::Reasoning) {
    if (!block_started_) {
      while (!text.empty() && is_ws(text.front())) text.remove_prefix(1);
      if (text.empty()) return;
      if (reasoning_started_) out.reasoning += '\n';  // separates thought blocks
      block_started_ = reasoning_started_ = true;
    }
    append_trimmed_end(out.reasoning, reasoning_ws_, text);
    return;
  }
  if (!content_started_) {
    if (after_marker_) {  // the format's whitespace after a thought block or a tool call
      while (!text.empty() && is_ws(text.front())) text.remove_prefix(1);
    } else if (std::all_of(text.begin(), text.end(), is_ws)) {
      // The answer's own leading whitespace (the first token's space): kept, as OpenAI and
      // llama.cpp keep it, so content agrees with the tokens' logprobs; dropped if a marker
      // comes next instead of text.
      content_ws_ += text;
      return;
    }
    if (text.empty()) return;
    content_started_ = true;
  }
  append_trimmed_end(out.content, content_ws_, text);
}

void StreamingOutputParser::close_tool_call(Delta& out, std::string_view body, bool closed) {
  state_ = State::Content;
  std::string_view call = trim_ascii(body);
  if (call.starts_with("call:")) {
    const std::size_t brace = call.find('{');
    const std::string_view name =
        trim_ascii(call.substr(5, brace == std::string_view::npos ? 0 : brace - 5));
    const bool name_ok =
        brace != std::string_view::npos && !name.empty() &&
        std::none_of(name.begin(), name.end(), [](char c) { return is_ws(c) || c == '<'; });
    if (name_ok) {
      try {
        std::size_t pos = brace;
        nlohmann::json args = parse_gemma_dsl_value(call, pos);
        if (args.is_object() && trim_ascii(call.substr(pos)).empty()) {
          out.tool_calls.push_back(
              {"call_" + std::to_string(next_call_id_++), std::string(name), std::move(args)});
          return;
        }
      } catch (const std::exception&) {
        // falls through: the model's text is kept as it was written
      }
    }
  }
  std::string raw(kCallOpen);
  raw += body;
  if (closed) raw += kCallClose;
  emit(out, raw);
}

void StreamingOutputParser::run(Delta& out, bool final) {
  for (;;) {
    switch (state_) {
      case State::Done:
        buf_.clear();
        return;
      case State::ChannelHeader: {
        if (!header_named_) {
          if (buf_.starts_with(kThought)) {
            buf_.erase(0, kThought.size());
          } else if (!final && kThought.starts_with(buf_)) {
            return;  // maybe "thought", not decided yet
          }
          header_named_ = true;
        }
        std::size_t ws = 0;
        while (ws < buf_.size() && is_ws(buf_[ws])) ++ws;
        buf_.erase(0, ws);
        if (buf_.empty() && !final) return;
        state_ = State::Reasoning;
        block_started_ = false;
        reasoning_ws_.clear();
        break;
      }
      case State::Content:
      case State::Reasoning: {
        const bool reasoning = state_ == State::Reasoning;
        const auto [at, marker] =
            reasoning ? earliest(buf_, kReasoningMarkers) : earliest(buf_, kContentMarkers);
        if (at == std::string::npos) {
          const std::size_t hold = final ? 0
                                         : (reasoning ? held_suffix(buf_, kReasoningMarkers)
                                                      : held_suffix(buf_, kContentMarkers));
          emit(out, std::string_view(buf_).substr(0, buf_.size() - hold));
          buf_.erase(0, buf_.size() - hold);
          if (final) {
            reasoning_ws_.clear();
            content_ws_.clear();
            state_ = State::Done;
          }
          return;
        }
        emit(out, std::string_view(buf_).substr(0, at));
        buf_.erase(0, at + marker.size());
        if (reasoning) reasoning_ws_.clear();  // every marker here ends the thought block
        if (!content_started_) content_ws_.clear();
        after_marker_ = true;
        if (marker == kChannelOpen) {
          state_ = State::ChannelHeader;
          header_named_ = false;
        } else if (marker == kCallOpen) {
          state_ = State::ToolCall;
        } else if (marker == kChannelClose) {
          state_ = State::Content;  // a stray close in content is dropped
        } else {
          state_ = State::Done;  // a stop marker: the rest is not part of this answer
        }
        break;
      }
      case State::ToolCall: {
        const auto [at, marker] = earliest(buf_, kCallMarkers);
        if (at == std::string::npos) {
          if (!final) return;
          const std::string body = std::move(buf_);
          buf_.clear();
          close_tool_call(out, body, false);
          break;  // Content state drains the (empty) buffer and finishes
        }
        const std::string body = buf_.substr(0, at);
        buf_.erase(0, at + marker.size());
        close_tool_call(out, body, marker == kCallClose);
        if (marker == kCallOpen) state_ = State::ToolCall;
        if (marker == kTurnEnd || marker == kToolResponse) state_ = State::Done;
        break;
      }
    }
  }
}

StreamingOutputParser::Delta StreamingOutputParser::push(std::string_view text_piece) {
  Delta out;
  buf_ += text_piece;
  run(out, false);
  return out;
}

StreamingOutputParser::Delta StreamingOutputParser::finish() {
  Delta out;
  run(out, true);
  state_ = State::Done;
  return out;
}

ParsedOutput parse_output(std::string_view generated_text) {
  StreamingOutputParser parser;
  StreamingOutputParser::Delta a = parser.push(generated_text);
  StreamingOutputParser::Delta b = parser.finish();
  ParsedOutput out;
  out.content = std::move(a.content) + b.content;
  out.reasoning = std::move(a.reasoning) + b.reasoning;
  out.tool_calls = std::move(a.tool_calls);
  for (auto& c : b.tool_calls) out.tool_calls.push_back(std::move(c));
  return out;
}

}  // namespace ug
