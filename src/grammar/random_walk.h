// Generation from random logits under a grammar: at every step a uniform pick among the allowed
// tokens (= the argmax of i.i.d. random logits over them). What comes out is valid only because
// of the mask, which makes this the test and benchmark driver of the mask code
// (`unigemma grammar-check`, bench/grammar_bench.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "grammar/compiled_grammar.h"

namespace ug {

struct RandomWalk {
  std::string text;       // the bytes of the text tokens taken
  bool finished = false;  // an end token was taken within the budget
  int tokens = 0;         // text and special tokens taken (the end token not counted)
};

// Up to max_tokens steps. mask_timer, if set, wraps each fill_mask call (it must call its
// argument once), so callers time exactly the mask. Throws ug::Error when a mask is empty or the
// matcher refuses a token of its own mask (both bugs).
RandomWalk random_walk(const std::shared_ptr<const CompiledGrammar>& grammar, std::mt19937_64& rng,
                       int max_tokens,
                       const std::function<void(const std::function<void()>&)>& mask_timer = {});

}  // namespace ug
