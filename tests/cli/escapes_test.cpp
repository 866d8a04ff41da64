// -e/--escape: llama.cpp's escape rules, byte for byte.
#include "cli/escapes.h"

#include <gtest/gtest.h>

namespace ug::cli {
namespace {

TEST(Escapes, NamedEscapesBecomeTheirCharacters) {
  EXPECT_EQ(process_escapes(R"(<|turn>user\nHi<turn|>\n)"), "<|turn>user\nHi<turn|>\n");
  EXPECT_EQ(process_escapes(R"(a\tb\rc)"), "a\tb\rc");
  EXPECT_EQ(process_escapes(R"(\\n is not a newline)"), "\\n is not a newline");
  EXPECT_EQ(process_escapes(R"(say \"hi\" and \'bye\')"), "say \"hi\" and 'bye'");
}

TEST(Escapes, HexEscapesAreRawBytes) {
  EXPECT_EQ(process_escapes(R"(\x41\x62)"), "Ab");
  EXPECT_EQ(process_escapes(R"(caf\xc3\xa9)"), "caf\xc3\xa9");  // two bytes make UTF-8 é
  EXPECT_EQ(process_escapes(R"(\x00)"), std::string(1, '\0'));
  // Not two hex digits: left as written.
  EXPECT_EQ(process_escapes(R"(\x4g)"), "\\x4g");
  EXPECT_EQ(process_escapes(R"(\x4)"), "\\x4");
  EXPECT_EQ(process_escapes(R"(\x+1)"), "\\x+1");
}

TEST(Escapes, EverythingElsePassesThrough) {
  EXPECT_EQ(process_escapes(R"(\q\u00e9)"), "\\q\\u00e9");
  EXPECT_EQ(process_escapes("trailing\\"), "trailing\\");
  EXPECT_EQ(process_escapes("déjà vu — 日本"), "déjà vu — 日本");
  EXPECT_EQ(process_escapes(""), "");
}

}  // namespace
}  // namespace ug::cli
