#include "base/mapped_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "base/error.h"

namespace ug {

TEST(MappedFile, MapsContents) {
  std::string p = testing::TempDir() + "mapped_file_test.bin";
  { std::ofstream(p, std::ios::binary) << "hello"; }
  MappedFile f(p);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.data()), 5), "hello");
  std::remove(p.c_str());
}

TEST(MappedFile, MissingFileNamesThePath) {
  try {
    MappedFile f("/nonexistent/x.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.gguf"), std::string::npos);
  }
}

TEST(MappedFile, DirectoryIsRefused) { EXPECT_THROW(MappedFile f("/tmp"), Error); }

}  // namespace ug
