#!/usr/bin/python3
"""Independent numpy reference of the Gemma 4 text decoder.

Written from /work/shared/spec/gemma4-text.md §3 (forward), §4 (masks), §5 (GGUF keys/tensors)
and §6 (HF config/tensors); section numbers in comments point there. It is deliberately simple: no
KV cache, every call recomputes full attention over the whole sequence. Computation is in float64 by default
(weights are dequantized to float32 by the readers, then widened); `dtype=np.float32` is allowed for
large models.

Usage:
  gemma4_ref.py logits --model FILE.gguf|HF_FOLDER --tokens 2,105,... [--out logits.npy]
                       [--steps N --greedy] [--embeddings-override x.npz]
                       [--bidirectional 5:10,20:30] [--bidirectional-layers sliding|all|none]
"""

import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_read  # noqa: E402
import safetensors_read  # noqa: E402


# ------------------------------------------------------------------------------------------------
# Configuration (§2, §5.1, §6.1): everything read from the file, nothing hard-coded.
# ------------------------------------------------------------------------------------------------
class Config:
    """Per-model and per-layer hyperparameters.

    Per layer l: is_sliding[l], n_head_kv[l], head_dim[l], n_rot[l] (leading dims RoPE touches),
    rope_omega[l] (float64 [n_rot/2]: angle per position of pair d, pairs (d, d + n_rot/2)).
    """

    def __init__(self):
        self.n_layer = 0
        self.n_embd = 0
        self.n_head = 0
        self.n_head_kv = []
        self.head_dim = []
        self.is_sliding = []
        self.n_rot = []
        self.rope_omega = []
        self.sliding_window = 0
        self.rms_eps = 1e-6
        self.final_softcap = None
        self.suppress_tokens = []
        self.vocab = 0
        self.source = ""
        self.tensor_types = {}  # role -> storage type in the file ("F16", "Q8_0", ...)

    def summary(self):
        return {
            "source": self.source,
            "n_layer": self.n_layer,
            "n_embd": self.n_embd,
            "n_head": self.n_head,
            "n_head_kv": list(map(int, self.n_head_kv)),
            "head_dim": list(map(int, self.head_dim)),
            "sliding": [bool(s) for s in self.is_sliding],
            "sliding_window": self.sliding_window,
            "rms_eps": self.rms_eps,
            "final_softcap": self.final_softcap,
            "suppress_tokens": list(map(int, self.suppress_tokens)),
            "vocab": self.vocab,
        }


def rope_omega_ggml(n_rot, base, freq_factors=None):
    """§3.5 llama.cpp form: theta_d = pos * base^(-2d/n_rot) / freq_factor[d], d = 0..n_rot/2-1."""
    d = np.arange(n_rot // 2, dtype=np.float64)
    omega = np.power(float(base), -2.0 * d / n_rot)
    if freq_factors is not None:
        ff = np.asarray(freq_factors, dtype=np.float64)
        if ff.shape[0] < n_rot // 2:
            raise ValueError(f"rope_freqs has {ff.shape[0]} factors, need {n_rot // 2}")
        omega = omega / ff[: n_rot // 2]
    return omega


def rope_omega_hf(head_dim, params):
    """§3.5 HF form. default: all head_dim/2 pairs rotate with theta^(-2d/head_dim).
    proportional: only the first int(partial*head_dim/2) pairs rotate (exponent still over the full
    head_dim); the remaining pairs get omega 0 (identity)."""
    rope_type = params.get("rope_type", "default")
    theta = float(params.get("rope_theta", 10000.0))
    factor = params.get("factor", 1.0)
    if factor not in (None, 1, 1.0):
        raise NotImplementedError(f"rope scaling factor {factor} is not supported by the reference")
    partial = float(params.get("partial_rotary_factor", 1.0))
    P = head_dim // 2
    d = np.arange(P, dtype=np.float64)
    omega = np.power(theta, -2.0 * d / head_dim)
    if rope_type == "proportional":
        n_rotating = int(partial * head_dim / 2)
        omega[n_rotating:] = 0.0
    elif rope_type == "default":
        if partial != 1.0:
            raise NotImplementedError("default RoPE with partial_rotary_factor != 1 is not "
                                      "supported")
    else:
        raise NotImplementedError(f"rope_type '{rope_type}' is not supported by the reference")
    return omega


# ------------------------------------------------------------------------------------------------
# Loading: both formats end in the same role-keyed dict of float arrays ([out, in] for matrices).
# Roles: token_embd, output (LM head; = token_embd when tied), output_norm, and per layer l
# "l.attn_norm", "l.attn_q", "l.attn_k", "l.attn_v" (absent => K=V), "l.attn_output",
# "l.attn_q_norm", "l.attn_k_norm", "l.post_attention_norm", "l.ffn_norm", "l.ffn_gate", "l.ffn_up", "l.ffn_down",
# "l.post_ffw_norm", "l.layer_output_scale".
# ------------------------------------------------------------------------------------------------
_LAYER_ROLES_GGUF = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "attn_q_norm",
                     "attn_k_norm", "post_attention_norm", "ffn_norm", "ffn_gate", "ffn_up",
                     "ffn_down", "post_ffw_norm", "layer_output_scale"]
_OPTIONAL_ROLES = {"attn_v"}

# §6.3 HF name (under the layer prefix) for each role.
_LAYER_ROLES_HF = {
    "attn_norm": "input_layernorm.weight",
    "attn_q": "self_attn.q_proj.weight",
    "attn_k": "self_attn.k_proj.weight",
    "attn_v": "self_attn.v_proj.weight",
    "attn_output": "self_attn.o_proj.weight",
    "attn_q_norm": "self_attn.q_norm.weight",
    "attn_k_norm": "self_attn.k_norm.weight",
    "post_attention_norm": "post_attention_layernorm.weight",
    "ffn_norm": "pre_feedforward_layernorm.weight",
    "ffn_gate": "mlp.gate_proj.weight",
    "ffn_up": "mlp.up_proj.weight",
    "ffn_down": "mlp.down_proj.weight",
    "post_ffw_norm": "post_feedforward_layernorm.weight",
    "layer_output_scale": "layer_scalar",
}


def _per_layer(value, n_layer, what):
    arr = np.atleast_1d(np.asarray(value))
    if arr.shape[0] == 1:
        return [arr[0].item()] * n_layer
    if arr.shape[0] != n_layer:
        raise ValueError(f"{what} has {arr.shape[0]} entries, expected 1 or {n_layer}")
    return [a.item() for a in arr]


def load_gguf(path, dtype=np.float64):
    g = gguf_read.GGUFFile(path)
    arch = g.get("general.architecture")
    if arch is None:
        raise ValueError(f"{path}: no general.architecture key")

    def key(name, default=None, required=True):
        full = f"{arch}.{name}"
        if full not in g.metadata:
            if required and default is None:
                raise ValueError(f"{path}: missing metadata key '{full}'")
            return default
        return g.metadata[full]

    c = Config()
    c.source = f"gguf:{path}"
    c.n_layer = int(key("block_count"))
    c.n_embd = int(key("embedding_length"))
    c.n_head = int(_per_layer(key("attention.head_count"), c.n_layer, "head_count")[0])
    c.n_head_kv = [int(v) for v in _per_layer(key("attention.head_count_kv"), c.n_layer,
                                              "head_count_kv")]
    pattern = key("attention.sliding_window_pattern", default=None, required=False)
    if pattern is None:
        c.is_sliding = [False] * c.n_layer
    else:
        c.is_sliding = [bool(v) for v in _per_layer(pattern, c.n_layer, "sliding_window_pattern")]
    c.sliding_window = int(key("attention.sliding_window", default=0, required=False))
    hd_full = int(key("attention.key_length"))
    hd_swa = int(key("attention.key_length_swa", default=hd_full, required=False))
    vd_full = int(key("attention.value_length", default=hd_full, required=False))
    vd_swa = int(key("attention.value_length_swa", default=hd_swa, required=False))
    if vd_full != hd_full or vd_swa != hd_swa:
        raise NotImplementedError("value_length != key_length is not supported by the reference")
    c.head_dim = [hd_swa if s else hd_full for s in c.is_sliding]
    rot_full = int(key("rope.dimension_count", default=hd_full, required=False))
    rot_swa = int(key("rope.dimension_count_swa", default=hd_swa, required=False))
    base_full = float(key("rope.freq_base", default=10000.0, required=False))
    base_swa = float(key("rope.freq_base_swa", default=base_full, required=False))
    # §3.5: rope_freqs (freq factors) apply to the global (non-sliding) layers only.
    freq_factors = g.tensor("rope_freqs.weight") if "rope_freqs.weight" in g.tensors else None
    for l in range(c.n_layer):
        if c.is_sliding[l]:
            c.n_rot.append(rot_swa)
            c.rope_omega.append(rope_omega_ggml(rot_swa, base_swa, None))
        else:
            c.n_rot.append(rot_full)
            c.rope_omega.append(rope_omega_ggml(rot_full, base_full, freq_factors))
    c.rms_eps = float(key("attention.layer_norm_rms_epsilon", default=1e-6, required=False))
    c.final_softcap = key("final_logit_softcapping", default=None, required=False)
    if c.final_softcap is not None:
        c.final_softcap = float(c.final_softcap)
    c.suppress_tokens = [int(t) for t in g.get("tokenizer.ggml.suppress_tokens", [])]

    w = {}
    w["token_embd"] = g.tensor("token_embd.weight").astype(dtype)
    head_name = "output.weight" if "output.weight" in g.tensors else "token_embd.weight"  # tied
    w["output"] = w["token_embd"] if head_name == "token_embd.weight" else g.tensor(
        head_name).astype(dtype)
    w["output_norm"] = g.tensor("output_norm.weight").astype(dtype)
    c.tensor_types["token_embd"] = g.tensors["token_embd.weight"].type_name
    c.tensor_types["output"] = g.tensors[head_name].type_name
    for l in range(c.n_layer):
        for role in _LAYER_ROLES_GGUF:
            name = f"blk.{l}.{role}.weight"
            if name not in g.tensors:
                if role in _OPTIONAL_ROLES:
                    continue
                raise ValueError(f"{path}: missing tensor '{name}'")
            w[f"{l}.{role}"] = g.tensor(name).astype(dtype)
            c.tensor_types[f"{l}.{role}"] = g.tensors[name].type_name
    c.vocab = w["token_embd"].shape[0]
    return c, w


def load_hf(folder, dtype=np.float64):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    tc = cfg.get("text_config", cfg)
    st = safetensors_read.SafetensorsFolder(folder)
    prefix = None
    for p in ("model.language_model.", "model."):
        if st.has(p + "embed_tokens.weight"):
            prefix = p
            break
    if prefix is None:
        raise ValueError(f"{folder}: no embed_tokens.weight under model.language_model. or model.")

    c = Config()
    c.source = f"hf:{folder}"
    c.n_layer = int(tc["num_hidden_layers"])
    c.n_embd = int(tc["hidden_size"])
    c.n_head = int(tc["num_attention_heads"])
    layer_types = tc.get("layer_types") or ["full_attention"] * c.n_layer
    if len(layer_types) != c.n_layer:
        raise ValueError(f"layer_types has {len(layer_types)} entries, expected {c.n_layer}")
    c.is_sliding = [t == "sliding_attention" for t in layer_types]
    hd_swa = int(tc.get("head_dim") or c.n_embd // c.n_head)
    hd_full = int(tc.get("global_head_dim") or hd_swa)
    kv_swa = int(tc.get("num_key_value_heads") or c.n_head)
    kv_full = int(tc.get("num_global_key_value_heads") or kv_swa)
    c.head_dim = [hd_swa if s else hd_full for s in c.is_sliding]
    c.n_head_kv = [kv_swa if s else kv_full for s in c.is_sliding]
    c.sliding_window = int(tc.get("sliding_window") or 0)
    rope_params = tc.get("rope_parameters") or {}
    for l in range(c.n_layer):
        params = rope_params.get(layer_types[l])
        if params is None:
            params = {"rope_type": "default", "rope_theta": tc.get("rope_theta", 10000.0)}
        c.n_rot.append(c.head_dim[l])
        c.rope_omega.append(rope_omega_hf(c.head_dim[l], params))
    c.rms_eps = float(tc.get("rms_norm_eps", 1e-6))
    c.final_softcap = tc.get("final_logit_softcapping")
    if c.final_softcap is not None:
        c.final_softcap = float(c.final_softcap)
    gen_path = os.path.join(folder, "generation_config.json")
    if os.path.exists(gen_path):
        with open(gen_path) as f:
            c.suppress_tokens = [int(t) for t in (json.load(f).get("suppress_tokens") or [])]

    w = {}
    w["token_embd"] = st.tensor(prefix + "embed_tokens.weight").astype(dtype)
    tied = cfg.get("tie_word_embeddings", tc.get("tie_word_embeddings", True))
    w["output"] = (st.tensor("lm_head.weight").astype(dtype)
                   if (not tied and st.has("lm_head.weight")) else w["token_embd"])
    w["output_norm"] = st.tensor(prefix + "norm.weight").astype(dtype)
    for l in range(c.n_layer):
        for role, hf_name in _LAYER_ROLES_HF.items():
            name = f"{prefix}layers.{l}.{hf_name}"
            if not st.has(name):
                if role in _OPTIONAL_ROLES:
                    continue
                raise ValueError(f"{folder}: missing tensor '{name}'")
            w[f"{l}.{role}"] = st.tensor(name).astype(dtype)
    c.vocab = w["token_embd"].shape[0]
    return c, w


def load_model(path, dtype=np.float64):
    if os.path.isdir(path):
        return load_hf(path, dtype)
    return load_gguf(path, dtype)


# ------------------------------------------------------------------------------------------------
# Building blocks
# ------------------------------------------------------------------------------------------------
def rmsnorm(x, weight, eps):
    """§3.2: y = x * (mean(x^2) + eps)^(-1/2) * w over the last axis; weight None = scale-free."""
    y = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    return y if weight is None else y * weight


def gelu_tanh(z):
    """§3.3: 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))."""
    return 0.5 * z * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z * z * z)))


def rope_neox(x, positions, omega, n_rot):
    """§3.5 rotate-half. x: [T, H, hd]; pair d couples element d with d + n_rot/2 (d < n_rot/2);
    elements >= n_rot pass through."""
    P = n_rot // 2
    ang = positions.astype(np.float64)[:, None] * omega[None, :]  # [T, P]
    cos = np.cos(ang)[:, None, :].astype(x.dtype)
    sin = np.sin(ang)[:, None, :].astype(x.dtype)
    a = x[..., :P]
    b = x[..., P:n_rot]
    out = x.copy()
    out[..., :P] = a * cos - b * sin
    out[..., P:n_rot] = b * cos + a * sin
    return out


def attention_mask(n, sliding, window, bidirectional_blocks=()):
    """§4: allowed[i, j] for query i, key j (positions = indices).
    global: j <= i (or i, j in the same bidirectional block, if the caller passes blocks).
    sliding: (i - j < window) and (j <= i or i, j in the same bidirectional block).
    The reference (input spec §1.8) passes blocks [start, end) to sliding layers only; see
    Gemma4Reference.bidirectional_layers."""
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    causal = j <= i
    same_block = np.zeros((n, n), dtype=bool)
    for start, end in bidirectional_blocks:
        inside_i = (i >= start) & (i < end)
        inside_j = (j >= start) & (j < end)
        same_block |= inside_i & inside_j
    if not sliding:
        return causal | same_block
    return ((i - j) < window) & (causal | same_block)


def attention(q, k, v, allowed):
    """§3.4: q [T, H, hd], k/v [T, Hkv, hd]; scale 1.0; query head h uses kv head h // (H/Hkv)."""
    T, H, hd = q.shape
    Hkv = k.shape[1]
    group = H // Hkv
    out = np.empty_like(q)
    for h in range(H):
        kv = h // group
        s = q[:, h, :] @ k[:, kv, :].T  # [T, T], no 1/sqrt(hd)
        s = np.where(allowed, s, -np.inf)
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        out[:, h, :] = p @ v[:, kv, :]
    return out


# ------------------------------------------------------------------------------------------------
# Forward (§3.0)
# ------------------------------------------------------------------------------------------------
class Gemma4Reference:
    def __init__(self, path, dtype=np.float64):
        self.dtype = dtype
        self.config, self.w = load_model(path, dtype)
        # §3.1: x = E[token] * sqrt(n_embd); llama.cpp uses the f32 value of sqrtf(n_embd).
        self.embed_scale = float(np.float32(math.sqrt(self.config.n_embd)))
        # Which layers see bidirectional blocks: "sliding" (HF reference, input spec §1.8), "all"
        # (llama.cpp's non-causal image decoding, input spec §10) or "none" (everything causal).
        self.bidirectional_layers = "sliding"
        # When a dict, layer() stores {layer: (K [T, Hkv, hd] post-norm post-RoPE, V [T, Hkv, hd]
        # normed)} in it: the target KV cache the MTP drafter reads (spec §7.3).
        self.kv_capture = None

    def embed(self, tokens, overrides=None):
        """[T, n_embd]. overrides: {position: vector} written WITHOUT the sqrt(d) scale (§3.1)."""
        x = self.w["token_embd"][np.asarray(tokens, dtype=np.int64)] * self.embed_scale
        for pos, vec in (overrides or {}).items():
            vec = np.asarray(vec, dtype=self.dtype).reshape(-1)
            if vec.shape[0] != self.config.n_embd:
                raise ValueError(f"override at position {pos} has {vec.shape[0]} values, "
                                 f"expected {self.config.n_embd}")
            x[pos] = vec
        return x

    # The three numeric kernels, kept as methods so that a precision-emulating subclass
    # (llamacpp_emulation.py) can change where values are rounded without touching the structure.
    def matmul(self, x, role):
        """x [T, in] times the [out, in] weight of `role`, transposed -> [T, out]."""
        return x @ self.w[role].T

    def attention(self, q, k, v, allowed):
        return attention(q, k, v, allowed)

    def geglu(self, gate, up):
        return gelu_tanh(gate) * up

    def layer(self, l, x, positions, bidirectional_blocks):
        c, w = self.config, self.w
        T = x.shape[0]
        H, Hkv, hd = c.n_head, c.n_head_kv[l], c.head_dim[l]
        eps = c.rms_eps
        a = rmsnorm(x, w[f"{l}.attn_norm"], eps)
        q = self.matmul(a, f"{l}.attn_q").reshape(T, H, hd)
        q = rmsnorm(q, w[f"{l}.attn_q_norm"], eps)  # per head over hd
        q = rope_neox(q, positions, c.rope_omega[l], c.n_rot[l])
        kr = self.matmul(a, f"{l}.attn_k").reshape(T, Hkv, hd)  # raw K projection
        if f"{l}.attn_v" in w:
            v = self.matmul(a, f"{l}.attn_v").reshape(T, Hkv, hd)
        else:
            v = kr  # K=V layer: V is the raw K projection, before k_norm and RoPE
        k = rmsnorm(kr, w[f"{l}.attn_k_norm"], eps)
        k = rope_neox(k, positions, c.rope_omega[l], c.n_rot[l])
        v = rmsnorm(v, None, eps)  # weightless v norm
        if self.kv_capture is not None:
            self.kv_capture[l] = (k, v)
        if self.bidirectional_layers not in ("sliding", "all", "none"):
            raise ValueError(f"bidirectional_layers must be sliding, all or none, not "
                             f"'{self.bidirectional_layers}'")
        use_blocks = (self.bidirectional_layers == "all" or
                      (self.bidirectional_layers == "sliding" and c.is_sliding[l]))
        allowed = attention_mask(T, c.is_sliding[l], c.sliding_window,
                                 bidirectional_blocks if use_blocks else ())
        o = self.attention(q, k, v, allowed).reshape(T, H * hd)  # heads concatenated head-major
        o = self.matmul(o, f"{l}.attn_output")
        o = rmsnorm(o, w[f"{l}.post_attention_norm"], eps)
        x = x + o
        m = rmsnorm(x, w[f"{l}.ffn_norm"], eps)
        f = self.geglu(self.matmul(m, f"{l}.ffn_gate"), self.matmul(m, f"{l}.ffn_up"))
        f = self.matmul(f, f"{l}.ffn_down")
        f = rmsnorm(f, w[f"{l}.post_ffw_norm"], eps)
        x = x + f
        x = x * w[f"{l}.layer_output_scale"].reshape(())  # scales the whole residual stream
        return x

    def hidden(self, tokens, overrides=None, bidirectional_blocks=()):
        """Post-final-norm hidden states h [T, n_embd]."""
        x = self.embed(tokens, overrides)
        positions = np.arange(len(tokens))
        for l in range(self.config.n_layer):
            x = self.layer(l, x, positions, bidirectional_blocks)
        return rmsnorm(x, self.w["output_norm"], self.config.rms_eps)

    def logits_from_hidden(self, h):
        """§3.6/§3.8: tied head, 30*tanh(z/30), suppressed tokens -> -inf."""
        z = self.matmul(h, "output")
        cap = self.config.final_softcap
        if cap:
            z = cap * np.tanh(z / cap)
        for t in self.config.suppress_tokens:
            if 0 <= t < z.shape[-1]:
                z[..., t] = -np.inf
        return z

    def logits(self, tokens, overrides=None, bidirectional_blocks=(), last_only=False):
        h = self.hidden(tokens, overrides, bidirectional_blocks)
        if last_only:
            h = h[-1:]
        return self.logits_from_hidden(h)


def log_softmax(z):
    m = np.max(z, axis=-1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def top_k(logprobs, k):
    idx = np.argsort(-logprobs, kind="stable")[:k]
    return [[int(i), float(logprobs[i])] for i in idx]


def greedy(model, tokens, steps, overrides=None, bidirectional_blocks=(), k=5):
    """Greedy decoding without a cache: every step re-runs the whole sequence."""
    seq = list(tokens)
    out = []
    for _ in range(steps):
        lp = log_softmax(model.logits(seq, overrides, bidirectional_blocks, last_only=True)[0])
        nxt = int(np.argmax(lp))
        out.append({"id": nxt, "logprob": float(lp[nxt]), "top5": top_k(lp, k)})
        seq.append(nxt)
    return out


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------
def parse_blocks(text):
    blocks = []
    for part in filter(None, (text or "").split(",")):
        start, end = part.split(":")
        blocks.append((int(start), int(end)))
    return blocks


def load_overrides(path):
    """npz with `positions` [n] (int) and `embeddings` [n, n_embd]."""
    if not path:
        return None
    data = np.load(path)
    return {int(p): e for p, e in zip(data["positions"], data["embeddings"])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    lg = sub.add_parser("logits", help="logits of every position, or greedy generation")
    lg.add_argument("--model", required=True, help="GGUF file or HF folder")
    lg.add_argument("--tokens", required=True, help="comma-separated token ids (include BOS)")
    lg.add_argument("--out", help="save logits [T, vocab] (float32) to this .npy")
    lg.add_argument("--steps", type=int, default=0, help="greedy steps to generate")
    lg.add_argument("--greedy", action="store_true", help="greedy decoding (the only mode)")
    lg.add_argument("--embeddings-override", help="npz with positions [n] and embeddings [n, d]")
    lg.add_argument("--bidirectional", default="", help="blocks start:end,... (sliding layers)")
    lg.add_argument("--bidirectional-layers", default="sliding", choices=["sliding", "all", "none"],
                    help="layers the blocks apply to (reference: sliding)")
    lg.add_argument("--float32", action="store_true", help="compute in float32 instead of float64")
    lg.add_argument("--top", type=int, default=5, help="how many top log-probs to print")
    args = ap.parse_args(argv)

    model = Gemma4Reference(args.model, np.float32 if args.float32 else np.float64)
    model.bidirectional_layers = args.bidirectional_layers
    tokens = [int(t) for t in args.tokens.split(",") if t.strip()]
    overrides = load_overrides(args.embeddings_override)
    blocks = parse_blocks(args.bidirectional)
    result = {"config": model.config.summary(), "prompt_tokens": len(tokens),
              "dtype": "float32" if args.float32 else "float64"}
    z = model.logits(tokens, overrides, blocks)
    lp_last = log_softmax(z[-1])
    result["last_top"] = top_k(lp_last, args.top)
    if args.out:
        np.save(args.out, z.astype(np.float32))
        result["logits_file"] = args.out
        result["logits_shape"] = list(z.shape)
    if args.steps > 0:
        steps = greedy(model, tokens, args.steps, overrides, blocks, args.top)
        result["generated_ids"] = [s["id"] for s in steps]
        result["steps"] = steps
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
