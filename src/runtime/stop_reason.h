// Why a generation ended: one type for the engine and every front end, so no caller compares
// strings to find out.
#pragma once

namespace ug {

enum class StopReason {
  kNone,        // still running
  kEndToken,    // the model sampled a stop token (<eos>, <turn|>, ...)
  kStopString,  // a stop string appeared in the text
  kLength,      // the token limit or the end of the context
  kCancelled,   // the client asked (or went away)
  kShutdown,    // the server is stopping
  kError,       // the request failed; EngineResult::error says why
};

// "stop", "length", "cancelled", "shutdown", "error" (the end token and a stop string are both
// "stop", as in OpenAI's finish_reason).
inline const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kNone:
      return "none";
    case StopReason::kEndToken:
    case StopReason::kStopString:
      return "stop";
    case StopReason::kLength:
      return "length";
    case StopReason::kCancelled:
      return "cancelled";
    case StopReason::kShutdown:
      return "shutdown";
    case StopReason::kError:
      return "error";
  }
  return "error";
}

}  // namespace ug
