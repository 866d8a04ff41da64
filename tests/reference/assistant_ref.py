#!/usr/bin/python3
"""Independent numpy reference of one Gemma 4 MTP "assistant" drafter step.

Written from /work/shared/spec/gemma4-text.md §7.2 (GGUF tensors/keys of arch gemma4-assistant),
§7.3 (one drafter step) and §7.4 (what t, h, p are). Float64. The target's K/V cache is recomputed
with gemma4_ref (no cache there): K post-norm post-RoPE, V normed, of the target's last sliding
layer and last global layer.

Usage:
  assistant_ref.py draft --model TARGET.gguf --assistant ASSISTANT.gguf --tokens 2,105,...
                         [--steps 3] [--h h.npy] [--position P] [--out-logits x.npy]
                         [--out-h h_next.npy]
  --tokens is the whole known sequence ending with t (the token the target just produced), so
  p = len(tokens) - 1 and the target's K/V cover positions 0..p-1. h defaults to the target's
  post-final-norm hidden row p-1 (§7.4).
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gemma4_ref as R  # noqa: E402
import gguf_read  # noqa: E402

_LAYER_ROLES = ["attn_norm", "attn_q", "attn_q_norm", "attn_output", "post_attention_norm",
                "ffn_norm", "ffn_gate", "ffn_up", "ffn_down", "post_ffw_norm",
                "layer_output_scale"]


class AssistantError(Exception):
    pass


class Assistant:
    """Weights [out, in]: pre [n_embd, 2*n_backbone], post [n_backbone, n_embd], token_embd
    [vocab, n_embd] (tied head), output_norm, and per layer the roles above."""

    def __init__(self, path, dtype=np.float64):
        g = gguf_read.GGUFFile(path)
        arch = g.get("general.architecture")
        if arch != "gemma4-assistant":
            raise AssistantError(f"{path}: general.architecture is '{arch}', expected "
                                 f"'gemma4-assistant'")

        def key(name, default=None):
            full = f"{arch}.{name}"
            if full not in g.metadata:
                if default is None:
                    raise AssistantError(f"{path}: missing metadata key '{full}'")
                return default
            return g.metadata[full]

        self.n_layer = int(key("block_count"))
        self.n_embd = int(key("embedding_length"))
        self.n_backbone = int(key("embedding_length_out"))
        self.n_head = int(np.atleast_1d(key("attention.head_count"))[0])
        self.is_sliding = [bool(v) for v in R._per_layer(key("attention.sliding_window_pattern"),
                                                          self.n_layer, "sliding_window_pattern")]
        self.window = int(key("attention.sliding_window"))
        self.rms_eps = float(key("attention.layer_norm_rms_epsilon", 1e-6))
        hd_full = int(key("attention.key_length"))
        hd_swa = int(key("attention.key_length_swa", hd_full))
        self.head_dim = [hd_swa if s else hd_full for s in self.is_sliding]
        rot_full = int(key("rope.dimension_count", hd_full))
        rot_swa = int(key("rope.dimension_count_swa", hd_swa))
        base_full = float(key("rope.freq_base", 10000.0))
        base_swa = float(key("rope.freq_base_swa", base_full))
        ff = g.tensor("rope_freqs.weight") if "rope_freqs.weight" in g.tensors else None
        self.n_rot = [rot_swa if s else rot_full for s in self.is_sliding]
        self.omega = [R.rope_omega_ggml(rot_swa, base_swa, None) if s else
                      R.rope_omega_ggml(rot_full, base_full, ff) for s in self.is_sliding]

        def t(name):
            if name not in g.tensors:
                raise AssistantError(f"{path}: missing tensor '{name}'")
            return g.tensor(name).astype(dtype)

        self.w = {"token_embd": t("token_embd.weight"), "output_norm": t("output_norm.weight"),
                  "pre": t("nextn.pre_projection.weight"),
                  "post": t("nextn.post_projection.weight")}
        for l in range(self.n_layer):
            for role in _LAYER_ROLES:
                self.w[f"{l}.{role}"] = t(f"blk.{l}.{role}.weight")
        if self.w["pre"].shape != (self.n_embd, 2 * self.n_backbone):
            raise AssistantError(f"{path}: nextn.pre_projection has shape "
                                 f"{list(self.w['pre'].shape)}, expected "
                                 f"[{self.n_embd}, {2 * self.n_backbone}] ([out, in])")
        if self.w["post"].shape != (self.n_backbone, self.n_embd):
            raise AssistantError(f"{path}: nextn.post_projection has shape "
                                 f"{list(self.w['post'].shape)}, expected "
                                 f"[{self.n_backbone}, {self.n_embd}]")

    def step(self, target, t, h, p, kv):
        """§7.3. target: gemma4_ref.Gemma4Reference (embedding table and scale); h [n_backbone];
        kv: {"sliding": (K, V), "global": (K, V)} with K/V [>= p, Hkv, hd] of the target.
        Returns (logits [vocab], h_next [n_backbone])."""
        w, eps = self.w, self.rms_eps
        if target.config.n_embd != self.n_backbone:
            raise AssistantError(f"target n_embd {target.config.n_embd} != assistant "
                                 f"embedding_length_out {self.n_backbone}")
        h = np.asarray(h, dtype=np.float64).reshape(-1)
        if h.shape[0] != self.n_backbone:
            raise AssistantError(f"h has {h.shape[0]} values, expected {self.n_backbone}")
        e = target.w["token_embd"][int(t)] * target.embed_scale  # TARGET table and scale
        z = (w["pre"] @ np.concatenate([e, h]))[None, :]  # [1, n_embd]; embedding first
        pos = np.array([p])
        for l in range(self.n_layer):
            kind = "sliding" if self.is_sliding[l] else "global"
            K, V = kv[kind]
            if K.shape[0] < p or K.shape[2] != self.head_dim[l]:
                raise AssistantError(f"layer {l}: target {kind} K/V is {list(K.shape)}, need "
                                     f">= {p} positions of head dim {self.head_dim[l]}")
            K, V = K[:p], V[:p]  # position p itself is not in the target cache (§7.4)
            H, hd = self.n_head, self.head_dim[l]
            if H % K.shape[1]:
                raise AssistantError(f"layer {l}: {H} query heads over {K.shape[1]} kv heads")
            a = R.rmsnorm(z, w[f"{l}.attn_norm"], eps)
            q = (a @ w[f"{l}.attn_q"].T).reshape(1, H, hd)
            q = R.rmsnorm(q, w[f"{l}.attn_q_norm"], eps)
            q = R.rope_neox(q, pos, self.omega[l], self.n_rot[l])
            j = np.arange(p)[None, :]
            allowed = (p - j) < self.window if self.is_sliding[l] else np.ones((1, p), bool)
            o = R.attention(q, K, V, allowed).reshape(1, H * hd)
            z = z + R.rmsnorm(o @ w[f"{l}.attn_output"].T, w[f"{l}.post_attention_norm"], eps)
            m = R.rmsnorm(z, w[f"{l}.ffn_norm"], eps)
            f = R.gelu_tanh(m @ w[f"{l}.ffn_gate"].T) * (m @ w[f"{l}.ffn_up"].T)
            z = z + R.rmsnorm(f @ w[f"{l}.ffn_down"].T, w[f"{l}.post_ffw_norm"], eps)
            z = z * w[f"{l}.layer_output_scale"].reshape(())
        g = R.rmsnorm(z, w["output_norm"], eps)[0]
        return w["token_embd"] @ g, w["post"] @ g  # no softcap (§7.1)


def target_context(target, tokens):
    """Runs the target over `tokens` (positions 0..len-1). Returns (post-norm hidden [T, d],
    {"sliding": (K, V) of the last sliding layer, "global": (K, V) of the last global layer})."""
    c = target.config
    target.kv_capture = {}
    try:
        hidden = target.hidden(tokens)
        captured = target.kv_capture
    finally:
        target.kv_capture = None
    kv = {}
    for kind, want in (("sliding", True), ("global", False)):
        layers = [l for l in range(c.n_layer) if c.is_sliding[l] == want]
        if not layers:
            raise AssistantError(f"the target has no {kind} layer to share K/V from")
        kv[kind] = captured[layers[-1]]
    return hidden, kv


def draft(target, assistant, tokens, steps, h=None, position=None):
    """§7.4: p = len(tokens) - 1 (or `position`), t = tokens[p], h = target hidden row p-1
    unless given; `steps` greedy draft steps at constant p."""
    p = len(tokens) - 1 if position is None else int(position)
    if not 0 < p <= len(tokens) - 1:
        raise AssistantError(f"position {p} must be in 1..{len(tokens) - 1}")
    hidden, kv = target_context(target, list(tokens[:p]))
    h = hidden[p - 1] if h is None else h
    t = tokens[p]
    out = []
    for _ in range(steps):
        logits, h = assistant.step(target, t, h, p, kv)
        t = int(np.argmax(logits))
        out.append({"id": t, "logits": logits, "h_next": h})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draft", help="greedy drafter steps")
    d.add_argument("--model", required=True, help="target GGUF")
    d.add_argument("--assistant", required=True, help="assistant GGUF (gemma4-assistant)")
    d.add_argument("--tokens", required=True, help="known sequence ending with t")
    d.add_argument("--steps", type=int, default=1)
    d.add_argument("--h", help=".npy with h (default: target hidden row p-1)")
    d.add_argument("--position", type=int, help="p (default: len(tokens) - 1)")
    d.add_argument("--out-logits", help="save the first step's draft logits (.npy)")
    d.add_argument("--out-h", help="save the first step's h_next (.npy)")
    d.add_argument("--top", type=int, default=5)
    args = ap.parse_args(argv)
    target = R.Gemma4Reference(args.model)
    assistant = Assistant(args.assistant)
    tokens = [int(x) for x in args.tokens.split(",") if x.strip()]
    h = np.load(args.h) if args.h else None
    steps = draft(target, assistant, tokens, args.steps, h, args.position)
    if args.out_logits:
        np.save(args.out_logits, steps[0]["logits"])
    if args.out_h:
        np.save(args.out_h, steps[0]["h_next"])
    print(json.dumps({"position": len(tokens) - 1 if args.position is None else args.position,
                      "draft_ids": [s["id"] for s in steps],
                      "top": [R.top_k(R.log_softmax(s["logits"]), args.top) for s in steps]},
                     indent=1))


if __name__ == "__main__":
    main()
