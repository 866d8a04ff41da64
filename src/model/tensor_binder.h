// Binds tensors of one file (or one set of shards) to roles by name: checks each shape, turns
// small vectors into f32, and remembers what was used so leftover tensors are reported.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tensor/tensor_view.h"

namespace ug {

class TensorBinder {
 public:
  // what: how messages name a tensor of this file ("tensor", "assistant tensor").
  TensorBinder(std::string file, std::function<const TensorView*(const std::string&)> find,
               std::string what = "tensor");

  const TensorView* get(const std::string& name, bool required);
  // n f32 values (any stored type); empty when absent and not required.
  std::vector<float> vec(const std::string& name, int64_t n, bool required = true);
  // A matrix with ggml ne = {in, out}; data == nullptr when absent and not required.
  TensorView mat(const std::string& name, int64_t in, int64_t out, bool required = true);
  // Fails naming up to five tensors of `all` that no role took (and that are not ignored).
  void check_all_used(const std::vector<TensorView>& all,
                      const std::set<std::string>& ignored = {}) const;

  const std::string& file() const { return file_; }

 private:
  std::string file_, what_;
  std::function<const TensorView*(const std::string&)> find_;
  std::set<std::string> used_;
};

}  // namespace ug
