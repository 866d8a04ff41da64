// Tool declarations of the Gemma 4 system turn, as the canonical chat template writes them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ug {

// One OpenAI-style tool ({"type":"function","function":{name, description, parameters}}; a bare
// {name, description, parameters} object is accepted too) as the template's
// format_function_declaration macro renders it, without the <|tool>...<tool|> wrapper:
// `declaration:NAME{description:<|"|>...<|"|>,parameters:{properties:{...},required:[...],
// type:<|"|>OBJECT<|"|>}}`. Reproduces the template's quirks (parameters named like schema keys
// are skipped; nested `items` keys keep JSON-schema spelling).
std::string format_tool_declaration(const nlohmann::json& tool);

// The template's format_parameters macro over a JSON-schema `properties` object.
std::string format_tool_parameters(const nlohmann::json& properties);

}  // namespace ug
