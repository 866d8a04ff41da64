// Grammars for Gemma 4 tool calls: `<|tool_call>call:NAME{args}<tool_call|>` with the arguments
// in the chat template's DSL (strings between <|"|> tokens, bare sorted keys) following each
// tool's `parameters` schema, so that text/output_parser reads back exactly those calls.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ug {

// tools: OpenAI-style array ({"type":"function","function":{name, parameters}}; bare
// {name, parameters} objects too). tool_choice (OpenAI's):
//   "auto"     - free text, and any tool call in it has valid arguments (parallel calls allowed);
//   "required" - one or more tool calls and nothing else;
//   {"type":"function","function":{"name":N}} (or "N") - exactly one call of N.
// allow_thought: a free <|channel>...<channel|> block may come first ("auto" allows it anyway).
// Throws ug::Error for an unknown tool name, a tool without a name, "none" (no constraint to
// build) or a parameters schema the converter refuses (naming the tool and the path).
std::string tool_call_gbnf(const nlohmann::ordered_json& tools,
                           const nlohmann::ordered_json& tool_choice, bool allow_thought);

}  // namespace ug
