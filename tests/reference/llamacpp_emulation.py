"""The reference decoder with llama.cpp's CPU rounding points (for the golden comparison only).

The tiny random fixture is numerically ill-conditioned: its attention scores reach ~80 (scale 1.0
with q/k norms), so a relative perturbation of 1e-4 in the layer-0 input moves top log-probs by ~0.05.
llama.cpp's CPU backend rounds activations to 8 bits before every quantized matmul, so the exact
float64 reference and llama.cpp differ by up to 1.8 (median 0.16) in the golden top-5 log-probs on
this file, far more than the 1e-2 one would see on a trained model. With the rounding emulated the
median drops to 0.05, but the maximum stays ~1.4: once values are rounded, 1e-7 relative noise
(f32 summation order) flips roundings and moves log-probs by up to ~0.2, so only a bit-exact
re-implementation of ggml could meet 2e-2 here. To check the reference against llama.cpp's numbers, this subclass keeps the
reference's structure (gemma4_ref.Gemma4Reference.layer, unchanged) and only rounds values where
ggml's CPU backend does (behaviour read from ggml's public sources, see each method):

* matmul with an F16 weight: activations rounded to F16 (vec_dot_type F16), f32 accumulation.
* matmul with a Q8_0/Q4_0 weight: activations quantized to Q8_0 per 32-block
  (d = amax/127 stored as f16, q = round-to-nearest-even(x * 127/amax)).
* attention: ggml_flash_attn_ext on CPU ("one chunk" path for < 64 query rows): K and V come from an
  F16 cache, Q is rounded to F16, scores in f32, online softmax over keys in order with the V
  accumulator held in F16, divided by the f32 sum at the end.
* GEGLU: gelu looked up in ggml's f16 table (input rounded to f16, output stored as f16),
  0 for x <= -10, identity for x >= 10.
Everything else (norms, RoPE, residuals) stays in the reference's precision.
"""

import math

import numpy as np

import gemma4_ref as R

_F16_WEIGHTS = {"F16"}
_Q8_ACTIVATION_WEIGHTS = {"Q8_0", "Q4_0"}


def round_f16(a):
    return np.asarray(a, dtype=np.float32).astype(np.float16).astype(np.float64)


def quantize_q8_0(a):
    """Q8_0 quantize + dequantize along the last axis (length multiple of 32)."""
    shape = a.shape
    b = np.asarray(a, dtype=np.float32).reshape(-1, 32)
    amax = np.abs(b).max(axis=1, keepdims=True)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(amax > 0, np.float32(127) / amax, np.float32(0)).astype(np.float32)
    q = np.rint(b * inv)  # round half to even, as _mm256_round_ps(_MM_ROUND_NEAREST)
    dq = q.astype(np.float64) * d.astype(np.float16).astype(np.float64)
    return dq.reshape(shape)


def _gelu_f32(x):
    x = x.astype(np.float32)
    c = np.float32(math.sqrt(2.0 / math.pi))
    inner = c * x * (np.float32(1) + np.float32(0.044715) * x * x)
    return (np.float32(0.5) * x * (np.float32(1) + np.tanh(inner))).astype(np.float32)


# ggml_table_gelu_f16: gelu of every f16 value, stored as f16.
_GELU_TABLE = None


def _gelu_table():
    global _GELU_TABLE
    if _GELU_TABLE is None:
        all_f16 = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
        with np.errstate(over="ignore", invalid="ignore"):
            _GELU_TABLE = _gelu_f32(all_f16.astype(np.float32)).astype(np.float16)
    return _GELU_TABLE


class LlamaCppCpuEmulation(R.Gemma4Reference):
    def __init__(self, path, flash_attention=True, gelu_table=True):
        super().__init__(path, np.float64)
        self.flash_attention = flash_attention
        self.gelu_table = gelu_table

    def matmul(self, x, role):
        t = self.config.tensor_types.get(role)
        if t in _F16_WEIGHTS:
            x = round_f16(x)
        elif t in _Q8_ACTIVATION_WEIGHTS:
            x = quantize_q8_0(x)
        elif t not in ("F32", None):
            raise NotImplementedError(f"no activation rounding rule for weight type {t}")
        return x @ self.w[role].T

    def geglu(self, gate, up):
        if not self.gelu_table:
            return super().geglu(gate, up)
        g32 = gate.astype(np.float32)
        idx = g32.astype(np.float16).view(np.uint16)
        looked_up = _gelu_table()[idx].astype(np.float64)
        out = np.where(g32 <= -10, 0.0, np.where(g32 >= 10, gate, looked_up))
        return out * up

    def attention(self, q, k, v, allowed):
        k = round_f16(k)  # F16 KV cache
        v = round_f16(v)
        if not self.flash_attention:
            # mul_mat(k f16, q) -> q rounded to f16; softmax f32; mul_mat(v f16, kq) -> kq to f16
            T, H, hd = q.shape
            group = H // k.shape[1]
            q16 = round_f16(q)
            out = np.empty_like(q)
            for h in range(H):
                s = q16[:, h] @ k[:, h // group].T
                s = np.where(allowed, s, -np.inf)
                s = s - s.max(axis=1, keepdims=True)
                p = np.exp(s)
                p /= p.sum(axis=1, keepdims=True)
                out[:, h] = round_f16(p) @ v[:, h // group]
            return out
        T, H, hd = q.shape
        group = H // k.shape[1]
        q16 = round_f16(q)
        out = np.empty((T, H, v.shape[2]))
        for h in range(H):
            kh = k[:, h // group].astype(np.float32)
            vh = v[:, h // group].astype(np.float16)
            scores = (q16[:, h] @ kh.T.astype(np.float64)).astype(np.float32)
            for i in range(T):
                M = np.float32(-np.inf)
                S = np.float32(0)
                acc = np.zeros(v.shape[2], dtype=np.float16)
                for j in np.nonzero(allowed[i])[0]:
                    s = scores[i, j]
                    ms = np.float32(1)
                    vs = np.float32(1)
                    if s > M:
                        ms = np.float32(0) if M == -np.inf else np.float32(np.exp(M - s))
                        M = s
                        acc = (acc.astype(np.float32) * ms).astype(np.float16)
                    else:
                        vs = np.float32(np.exp(np.float32(s - M)))
                    acc32 = acc.astype(np.float32) + vh[j].astype(np.float32) * vs
                    acc = acc32.astype(np.float16)
                    S = np.float32(S * ms + vs)
                out[i, h] = acc.astype(np.float32) * (np.float32(1) / S)
        return out


def audio_embeddings(mm, samples):
    """The audio soft tokens with llama.cpp's CPU rounding points: frames and the weightless
    RMSNorm in f32, activations rounded to F16 before an F16 projection (vec_dot_type F16).
    mm: mm_ref.MMWeights loaded from a GGUF mmproj. -> [N, D] float64."""
    import mm_ref  # local import: mm_ref imports gemma4_ref too

    frames = mm_ref.audio_frames(np.asarray(samples, dtype=np.float32), mm.aud_proj.shape[1])
    frames = frames.astype(np.float32)
    ms = np.mean(frames * frames, axis=-1, keepdims=True, dtype=np.float32)
    h = (frames * (np.float32(1) / np.sqrt(ms + np.float32(mm.audio_rms_eps)))).astype(np.float32)
    t = mm.tensor_types.get("aud_proj")
    if t in _F16_WEIGHTS:
        h = round_f16(h)
    elif t not in ("F32", None):
        raise NotImplementedError(f"no activation rounding rule for weight type {t}")
    return h.astype(np.float64) @ mm.aud_proj.T
