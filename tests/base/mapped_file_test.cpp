#include "base/mapped_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

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

// Weights copied elsewhere at load give their file pages back; other memory is never touched.
TEST(MappedFile, ReleasesPagesOnlyInsideALiveMapping) {
  std::string p = testing::TempDir() + "mapped_release_test.bin";
  { std::ofstream(p, std::ios::binary) << std::string(3 * 4096, 'x'); }
  std::vector<char> heap(8192, 'y');
  {
    MappedFile f(p);
    EXPECT_TRUE(release_mapped_pages(f.data() + 100, 8000));
    EXPECT_EQ(f.data()[5000], 'x');  // read back from the file
    EXPECT_FALSE(release_mapped_pages(heap.data(), heap.size()));
    EXPECT_FALSE(release_mapped_pages(f.data() + 4096, 3 * 4096));  // runs past the end
  }
  EXPECT_EQ(heap[5000], 'y');
  std::remove(p.c_str());
}

TEST(MappedFile, DirectoryIsRefused) { EXPECT_THROW(MappedFile f("/tmp"), Error); }

}  // namespace ug
