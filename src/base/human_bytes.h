// Byte counts for people: "1.23 GiB" (binary units, for memory) or "1.23 GB" (decimal units, as
// download tools and the Hugging Face hub show file sizes).
#pragma once

#include <string>

namespace ug {

std::string human_bytes(double bytes, bool decimal = false);

}  // namespace ug
