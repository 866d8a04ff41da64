#include "model/tensor_binder.h"

#include "base/error.h"
#include "tensor/quant.h"

namespace ug {

TensorBinder::TensorBinder(std::string file,
                           std::function<const TensorView*(const std::string&)> find,
                           std::string what)
    : file_(std::move(file)), what_(std::move(what)), find_(std::move(find)) {}

const TensorView* TensorBinder::get(const std::string& name, bool required) {
  const TensorView* t = find_(name);
  if (!t && required) fail(file_, ": missing ", what_, " '", name, "'");
  if (t) used_.insert(name);
  return t;
}

std::vector<float> TensorBinder::vec(const std::string& name, int64_t n, bool required) {
  const TensorView* t = get(name, required);
  if (!t) return {};
  if (t->n_elements() != n)
    fail(file_, ": ", what_, " '", name, "' has ", t->n_elements(), " elements ",
         shape_string(t->ne), ", expected ", n);
  std::vector<float> out(n);
  dequantize_row(t->type, t->data, out.data(), n);
  return out;
}

TensorView TensorBinder::mat(const std::string& name, int64_t in, int64_t out, bool required) {
  const TensorView* t = get(name, required);
  if (!t) return {};
  if (t->ne.size() != 2 || t->ne[0] != in || t->ne[1] != out)
    fail(file_, ": ", what_, " '", name, "' has shape ", shape_string(t->ne),
         " (ggml order), expected [", in, ", ", out, "]");
  return *t;
}

void TensorBinder::check_all_used(const std::vector<TensorView>& all,
                                  const std::set<std::string>& ignored) const {
  std::string extra;
  int n = 0;
  for (const auto& t : all)
    if (!used_.count(t.name) && !ignored.count(t.name)) {
      if (n < 5) extra += (n ? ", '" : "'") + t.name + "'";
      ++n;
    }
  if (n) fail(file_, ": ", n, " unexpected ", what_, "(s): ", extra, n > 5 ? ", ..." : "");
}

}  // namespace ug
