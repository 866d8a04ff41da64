// Generates test tensors in parallel and streams them to a writer in bounded chunks: while one
// chunk is written on a background thread the next is generated, so memory stays at two chunks
// whatever the model size.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/thread_pool.h"
#include "testmodel/test_model.h"

namespace ug {

enum class TestEncoding {
  Gguf,    // GGUF element order, in the tensor's gguf_type
  HfBf16,  // HF element order, BF16
};

// Calls write(data, nbytes) with consecutive pieces of each tensor's bytes, tensors in order
// (the GGUF and safetensors writers accept a tensor in consecutive chunks).
void stream_tensors(const std::vector<const TestTensor*>& tensors, TestEncoding encoding,
                    ThreadPool& pool, const std::function<void(const void*, uint64_t)>& write,
                    uint64_t chunk_bytes = 64ull << 20);

}  // namespace ug
