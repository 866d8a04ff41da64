// safetensors header and tensor extents.
#include "formats/safetensors.h"

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ug::fuzz::MemFile file;
  const std::string& path = file.hold(data, size);
  ug::fuzz::refusals_allowed([&] {
    const ug::SafetensorsFile st(path);
    for (const ug::TensorView& t : st.tensors()) ug::fuzz::touch(t);
  });
  return 0;
}
