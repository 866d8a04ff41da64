// JSON numbers within bounds as GBNF: `minimum`, `maximum`, `exclusiveMinimum`,
// `exclusiveMaximum` on integers and decimals, built digit by digit (no exponents when bounded).
// Bounds are taken as exact decimals from their JSON text, so 0.1 is 0.1, not the nearest double.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ug {

// An exact non-negative-or-negative decimal: digits without leading zeros ("0" for zero) and a
// fraction without trailing zeros.
struct Decimal {
  bool negative = false;
  std::string int_digits = "0";
  std::string frac_digits;
  static Decimal from_json(const nlohmann::json& number);  // throws on non-numbers
  bool is_zero() const { return int_digits == "0" && frac_digits.empty(); }
};

// -1, 0 or 1 as a < b, a == b, a > b.
int compare(const Decimal& a, const Decimal& b);

struct NumberBound {
  Decimal value;
  bool exclusive = false;
};

struct NumberGrammarOptions {
  bool integer = false;     // no fraction part
  int max_int_digits = 15;  // on a side without a bound
  int max_frac_digits = 6;
};

// GBNF expression for JSON numbers in [lo, hi] (either may be absent). Returns an empty string
// when no number satisfies the bounds.
std::string number_range_gbnf(const std::optional<NumberBound>& lo,
                              const std::optional<NumberBound>& hi,
                              const NumberGrammarOptions& options);

}  // namespace ug
