// What a generation request asks for and what it gives back, shared by the engine and every
// front end (run, chat, the server).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/prompt.h"
#include "runtime/sampler.h"
#include "runtime/stop_reason.h"

namespace ug {

class TokenConstraint;

struct EngineRequest {
  Prompt prompt;
  int max_tokens = 256;     // <= 0 or beyond the context: up to the end of the context
  SamplingParams sampling;  // own seed: a request's output does not depend on its neighbours
  std::vector<int32_t> stop_ids;
  std::vector<std::string> stop_strings;
  bool logprobs = false;  // record the chosen token's log-probability
  int top_logprobs = 0;   // candidates per step (0: none)
  // Speculative decoding with the engine's drafter: -1 the engine's setting, 0 off, n at most n
  // draft tokens per step (the engine adapts the length to the acceptance it sees).
  int draft = -1;
  // Restricts which tokens may be sampled (structured output); null: free text.
  std::shared_ptr<TokenConstraint> constraint;
  // The prompt is still growing (live audio): rows arrive through RequestHandle::append_prompt
  // and are prefilled as they come; generation starts at RequestHandle::close_prompt.
  bool open_prompt = false;
};

struct StepInfo {
  int32_t id = 0;
  float logprob = 0;  // log-softmax of the model's logits (before sampling changes them)
  std::vector<std::pair<int32_t, float>> top;
};

// One step's worth of output: the sampled token and the text released with it (text can lag a
// token while it may still be the start of a stop string, and a token may release nothing when
// it ends inside a UTF-8 character). step.id < 0: text only (held-back text released at the end).
struct EngineToken {
  StepInfo step;
  std::string text;
};

struct EngineResult {
  std::vector<int32_t> generated;  // includes a stop token
  std::string text;                // stop token and stop string excluded
  std::vector<StepInfo> steps;
  StopReason stop_reason = StopReason::kNone;
  std::string error;                             // kError: what failed
  int64_t prompt_tokens = 0, cached_tokens = 0;  // cached: taken from the slot's prefix cache
  int64_t drafted = 0, accepted = 0;             // speculative decoding: proposed, kept
  double queue_seconds = 0, prompt_seconds = 0, generation_seconds = 0;
};

}  // namespace ug
