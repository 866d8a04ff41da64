// `unigemma bench --sequences N,...`: the kernel side of serving many users. N sequences each
// decode one token per step through one Decoder::forward_multi call, so every weight matrix is
// read once per step for all of them; the aggregate rate shows how well a batched step shares
// its weight reads (ideal: N × one sequence until the compute ceiling, which pp128 measures).
#pragma once

#include <cstdint>
#include <vector>

#include "model/decoder.h"

namespace ug {

// n caches, one untimed warm-up step, then `reps` repetitions of `steps` batched steps from
// empty caches (random tokens from rng): the seconds of each repetition.
std::vector<double> time_sequences(Decoder& dec, int n, int steps, int reps, uint64_t& rng);

}  // namespace ug
