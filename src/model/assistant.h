// The Gemma 4 MTP "assistant" drafter (text spec §7): a 4-layer model that reads the target's
// token embedding, the target's last post-norm hidden row and the target's KV cache, and proposes
// the next token plus the hidden row to feed its next step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "model/attention.h"
#include "model/config.h"
#include "model/layer_ops.h"
#include "model/rope.h"
#include "model/weights.h"

namespace ug {

class Decoder;
class KvCache;

struct AssistantLayer {
  bool sliding = true;
  int head_dim = 0;
  std::vector<float> attn_norm, post_attn_norm, ffn_norm, post_ffw_norm;  // [n_embd]
  std::vector<float> q_norm;                                              // [head_dim]
  Matrix wq;                    // {n_embd, n_head·head_dim}
  Matrix wo;                    // {n_head·head_dim, n_embd}
  Matrix w_gate, w_up, w_down;  // {n_embd, n_ff} ×2, {n_ff, n_embd}
  float layer_scalar = 1.0f;
};

struct AssistantModel {
  std::string source;  // what was loaded, for messages
  std::string format;  // "gguf" or "hf"
  int n_embd = 0;      // the assistant's own width (1024 for the 12B's drafter)
  int n_ff = 0;
  int n_head = 0;
  int n_layer = 0;
  int n_embd_target = 0;  // embedding_length_out / backbone_hidden_size (3840)
  int vocab_size = 0;
  float rms_eps = 1e-6f;
  Matrix tok_embd;                       // {n_embd, vocab}: the tied LM head only
  std::vector<float> output_norm;        // [n_embd]
  Matrix pre_projection;                 // {2·n_embd_target, n_embd}: input [e ; h]
  Matrix post_projection;                // {n_embd, n_embd_target}
  std::vector<float> rope_freq_factors;  // as stored (GGUF) or derived (HF); inf = identity
  std::vector<AssistantLayer> layers;
  std::vector<std::shared_ptr<const void>> keep_alive;  // mapped files
};

// Opens a GGUF (arch gemma4-assistant) or an HF assistant folder
// (Gemma4UnifiedAssistantForCausalLM) and validates every key and tensor against its own
// config and against the target's (head dims, window, RoPE, vocabulary, backbone width; the
// target's last two layers must be sliding then global). Throws ug::Error naming the file and
// the key or tensor.
AssistantModel load_assistant(const std::string& path, const Gemma4Config& target);

// Runs drafter steps (text spec §7.3) with everything prepared once: the RoPE tables of both layer
// kinds, the attention scratch, and every vector of a step, sized for the assistant at
// construction, so a step allocates nothing (logits and h_next are resized once, then reused).
// It holds nothing of a sequence: one DraftStepper serves any number of sequences, one step at a
// time (an engine keeps one per thread that drafts, or one per sequence). The assistant and the
// target decoder must outlive it.
//
// A step is the drafter's layers (assistant.cpp) over the decoder's own pieces: the row kernels
// and sub-layer tails of model/layer_ops.h and the attention of model/attention.h, reading the
// target cache's last sliding and last global layer.
class DraftStepper {
 public:
  DraftStepper(const AssistantModel& assistant, const Decoder& target);

  // One step at position `pos` for token `token` with the target's post-norm hidden row h
  // [n_embd_target]. Attends to the target cache's positions < pos of the target's last sliding
  // layer (sliding steps: the last window−1 of them) and last global layer. logits: [vocab] (no
  // softcap, nothing suppressed); h_next: [n_embd_target]. Throws ug::Error when pos is outside
  // 1..cache.n_past() or the cache no longer holds the positions the step needs.
  void step(const KvCache& target_cache, ThreadPool& pool, int32_t token, const float* h,
            int64_t pos, std::vector<float>& logits, std::vector<float>& h_next);

 private:
  const AssistantModel& m_;
  const Decoder& target_;
  RopeTable rope_swa_, rope_global_;
  Attention attention_;
  TailScratch tail_;
  std::vector<float> in_, z_, a_, q_, o_;  // [2·n_embd_target], [n_embd] ×2, [n_head·hd_max] ×2
  std::vector<float> cos_, sin_;           // this step's angles, [pairs] of the larger kind
  int64_t lo_ = 0, hi_ = 0;
};

// One drafter step, as DraftStepper::step, with a DraftStepper made for this call (it allocates
// the tables and scratch each time: keep a DraftStepper where steps repeat).
void draft_step(const AssistantModel& assistant, const Decoder& target, const KvCache& target_cache,
                ThreadPool& pool, int32_t token, const float* h, int64_t pos,
                std::vector<float>& logits, std::vector<float>& h_next);

}  // namespace ug
