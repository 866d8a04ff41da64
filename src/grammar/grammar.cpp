#include "grammar/grammar.h"

#include <chrono>

#include "base/error.h"
#include "grammar/gbnf_parser.h"

namespace ug {
namespace {

std::shared_ptr<const CompiledGrammar> compile_text(std::string_view gbnf,
                                                    std::shared_ptr<const TokenVocab> vocab,
                                                    const ConstraintOptions& options) {
  if (!vocab) fail("compile grammar: no vocabulary");
  const auto t0 = std::chrono::steady_clock::now();
  Grammar g = parse_gbnf(gbnf, vocab.get());
  if (options.allow_thought) g = with_thought_prefix(std::move(g), *vocab);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return std::make_shared<const CompiledGrammar>(g, std::move(vocab), ms);
}

}  // namespace

Grammar with_thought_prefix(Grammar g, const TokenVocab& vocab) {
  const int32_t open = vocab.find_name("<|channel>");
  const int32_t close = vocab.find_name("<channel|>");
  if (open < 0 || close < 0)
    fail("thinking with a constraint needs the <|channel> and <channel|> tokens in the vocabulary");
  std::string name = "thought-then-root";
  for (const GRule& r : g.rules)
    if (r.name == name) name += "-";
  // root' ::= ( <|channel> !<channel|>* <channel|> )? root
  GExpr thought = GExpr::seq({GExpr::token_ref(open, false),
                              GExpr::repeat(GExpr::token_ref(close, true), 0, -1),
                              GExpr::token_ref(close, false)});
  GExpr body = GExpr::seq({GExpr::repeat(std::move(thought), 0, 1), GExpr::ref(g.root)});
  g.rules.push_back({name, std::move(body)});
  g.root = static_cast<int32_t>(g.rules.size()) - 1;
  return g;
}

std::shared_ptr<const CompiledGrammar> compile_gbnf(std::string_view gbnf,
                                                    std::shared_ptr<const TokenVocab> vocab,
                                                    const ConstraintOptions& options) {
  return compile_text(gbnf, std::move(vocab), options);
}

std::shared_ptr<const CompiledGrammar> compile_json_schema(const nlohmann::ordered_json& schema,
                                                           std::shared_ptr<const TokenVocab> vocab,
                                                           const ConstraintOptions& options) {
  return compile_text(json_schema_to_gbnf(schema, options.json), std::move(vocab), options);
}

std::shared_ptr<const CompiledGrammar> compile_json_schema(const nlohmann::json& schema,
                                                           std::shared_ptr<const TokenVocab> vocab,
                                                           const ConstraintOptions& options) {
  return compile_text(json_schema_to_gbnf(schema, options.json), std::move(vocab), options);
}

std::shared_ptr<const CompiledGrammar> compile_json_object(std::shared_ptr<const TokenVocab> vocab,
                                                           const ConstraintOptions& options) {
  return compile_text(json_object_gbnf(), std::move(vocab), options);
}

}  // namespace ug
