// Constrained decoding: what the engine calls. A request's constraint (GBNF text, a JSON Schema,
// "any JSON object", or tool calls) compiles once against the model's TokenVocab into an
// immutable CompiledGrammar; each sequence then owns a GrammarMatcher that gives the allowed-token
// mask before sampling and advances by the sampled token (see matcher.h).
//
//   auto vocab = TokenVocab::from_tokenizer(tokenizer);               // once per model
//   auto g = compile_json_schema(schema, vocab, {.allow_thought = thinking});
//   GrammarMatcher m(g);
//   m.fill_mask(bits); ...sample among set bits...; m.accept(token);
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "grammar/compiled_grammar.h"
#include "grammar/json_schema_grammar.h"
#include "grammar/matcher.h"
#include "grammar/token_vocab.h"

namespace ug {

struct ConstraintOptions {
  // The output may open with a thought block <|channel>...<channel|> that stays free; the
  // constraint applies after it (thinking mode). The thought can hold any token but the end
  // tokens and <channel|>.
  bool allow_thought = false;
  JsonSchemaOptions json;  // for the JSON front ends
};

// GBNF (llama.cpp syntax, plus <[id]> / <piece> / !<...> tokens). Throws ug::Error with line and
// column for syntax errors.
std::shared_ptr<const CompiledGrammar> compile_gbnf(std::string_view gbnf,
                                                    std::shared_ptr<const TokenVocab> vocab,
                                                    const ConstraintOptions& options = {});
// JSON Schema (parse request bodies with nlohmann::ordered_json to keep property order). Throws
// ug::Error naming the unsupported keyword and its path, e.g.
//   unsupported JSON Schema keyword "not" ({"type":"null"}) at /properties/a
std::shared_ptr<const CompiledGrammar> compile_json_schema(const nlohmann::ordered_json& schema,
                                                           std::shared_ptr<const TokenVocab> vocab,
                                                           const ConstraintOptions& options = {});
std::shared_ptr<const CompiledGrammar> compile_json_schema(const nlohmann::json& schema,
                                                           std::shared_ptr<const TokenVocab> vocab,
                                                           const ConstraintOptions& options = {});
// Any JSON object (OpenAI response_format json_object, Ollama format "json").
std::shared_ptr<const CompiledGrammar> compile_json_object(std::shared_ptr<const TokenVocab> vocab,
                                                           const ConstraintOptions& options = {});

// Adds the optional free thought block in front of the grammar's root (allow_thought). Throws if
// the vocabulary has no <|channel> / <channel|> tokens.
Grammar with_thought_prefix(Grammar grammar, const TokenVocab& vocab);

}  // namespace ug
