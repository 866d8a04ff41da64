// Checks stb_image 2.27 (Debian 12) needs before it is given a file: it reads zeros past the end
// of a truncated BMP or GIF (the missing pixels come out black instead of an error), and it
// overflows its Huffman tables on a JPEG whose DHT code counts add up to more than 256 (fixed
// upstream in 2.28). Each function throws ug::Error "image '<name>': ..." for such input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ug {

// The pixel rows the BMP header describes must lie in the file. Layouts stb refuses anyway (RLE,
// embedded JPEG/PNG, unknown headers) are left to it.
void check_bmp_extent(const uint8_t* d, size_t n, const std::string& name);

// The GIF's blocks up to the end of the first frame's data sub-blocks must lie in the file.
void check_gif_extent(const uint8_t* d, size_t n, const std::string& name);

// Every Huffman table of every DHT segment stb can reach holds at most 256 codes.
void check_jpeg_huffman_tables(const uint8_t* d, size_t n, const std::string& name);

}  // namespace ug
