// Structured output for the engine: what a request asks for (a GBNF grammar, a JSON Schema, any
// JSON object, or tool calls in the model's syntax) compiled against the model's vocabulary into a
// TokenConstraint that masks the sampler at every step. Front ends fill an OutputSpec from their
// flags or request fields; make_constraint does the rest.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/constraint.h"
#include "text/tokenizer.h"

namespace ug {

struct OutputSpec {
  enum class Kind { kFree, kGbnf, kJsonSchema, kJsonObject, kToolCalls };
  Kind kind = Kind::kFree;
  std::string gbnf;                     // kGbnf
  nlohmann::ordered_json schema;        // kJsonSchema
  nlohmann::ordered_json tools;         // kToolCalls: OpenAI-style tools array
  nlohmann::ordered_json tool_choice = "auto";  // "auto", "required" or {"function": {"name"}}
  // Thinking mode: a free thought block may come first; the constraint applies to the answer.
  bool thinking = false;

  bool free() const { return kind == Kind::kFree; }
};

// null for a free spec. Compiles (or takes from a small cache of recent grammars) and throws
// ug::Error for a grammar or schema that cannot be used, naming the keyword and its path for an
// unsupported JSON Schema keyword. The first call for a model builds its vocabulary tables
// (about a second); later ones reuse them.
std::shared_ptr<TokenConstraint> make_constraint(const OutputSpec& spec,
                                                 const std::shared_ptr<const Tokenizer>& tokenizer);

}  // namespace ug
