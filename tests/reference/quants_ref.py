#!/usr/bin/python3
"""Independent numpy reference for ggml block dequantization, and a minimal GGUF tensor extractor.

Written from the block layouts in ggml-common.h (see /work/shared/spec/formats.md), vectorised over
blocks, so it shares no code with src/tensor. Every product is done in float32 in the same order as
llama.cpp's dequantize_row_* so results are bit-identical.

Usage:
  quants_ref.py dequant TYPE IN.bin OUT.f32     raw blocks -> little-endian float32
  quants_ref.py gguf-extract FILE.gguf OUTDIR TYPE... [--max N]
      writes OUTDIR/<i>.bin (raw tensor bytes) and OUTDIR/index.txt lines "i name type ne0 nrows"
      for up to N tensors (default 3) of each named type.
"""
import os
import struct
import sys

import numpy as np

F32 = np.float32

# name -> (ggml id, block elements, block bytes)
TYPES = {
    "F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q4_1": (3, 32, 20),
    "Q5_0": (6, 32, 22), "Q5_1": (7, 32, 24), "Q8_0": (8, 32, 34), "Q2_K": (10, 256, 84),
    "Q3_K": (11, 256, 110), "Q4_K": (12, 256, 144), "Q5_K": (13, 256, 176),
    "Q6_K": (14, 256, 210), "BF16": (30, 1, 2),
}
NAME_OF_ID = {v[0]: k for k, v in TYPES.items()}


def f16(b):
    """(nb, 2k) uint8 -> (nb, k) float32 from little-endian halves."""
    return np.ascontiguousarray(b).view("<f2").astype(F32)


def nibbles(qs):
    """(nb, 16) bytes -> (nb, 32): low nibbles are elements 0-15, high nibbles 16-31."""
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int32)


def bits32(qh):
    """(nb, 4) bytes -> (nb, 32) bit j of the little-endian u32."""
    u = np.ascontiguousarray(qh).view("<u4")  # (nb, 1)
    return ((u >> np.arange(32, dtype=np.uint32)) & 1).astype(np.int32)


def deq_q4_0(b):
    d = f16(b[:, 0:2])
    return (nibbles(b[:, 2:18]) - 8).astype(F32) * d


def deq_q4_1(b):
    d, m = f16(b[:, 0:2]), f16(b[:, 2:4])
    return nibbles(b[:, 4:20]).astype(F32) * d + m


def deq_q5_0(b):
    d = f16(b[:, 0:2])
    q = nibbles(b[:, 6:22]) | (bits32(b[:, 2:6]) << 4)
    return (q - 16).astype(F32) * d


def deq_q5_1(b):
    d, m = f16(b[:, 0:2]), f16(b[:, 2:4])
    q = nibbles(b[:, 8:24]) | (bits32(b[:, 4:8]) << 4)
    return q.astype(F32) * d + m


def deq_q8_0(b):
    d = f16(b[:, 0:2])
    return b[:, 2:34].view(np.int8).astype(F32) * d


def k_scale_min(s):
    """(nb, 12) packed bytes -> scale, min as (nb, 8) float32 (6-bit values)."""
    s = s.astype(np.int32)
    sc = np.empty((s.shape[0], 8), np.int32)
    mn = np.empty_like(sc)
    sc[:, :4] = s[:, 0:4] & 63
    mn[:, :4] = s[:, 4:8] & 63
    sc[:, 4:] = (s[:, 8:12] & 0x0F) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc.astype(F32), mn.astype(F32)


def deq_q4_k(b):
    nb = b.shape[0]
    d, dmin = f16(b[:, 0:2]), f16(b[:, 2:4])
    sc, mn = k_scale_min(b[:, 4:16])
    qs = b[:, 16:144].reshape(nb, 4, 32)
    # sub-block 2c = low nibbles of chunk c, 2c+1 = high nibbles
    q = np.stack([qs & 0x0F, qs >> 4], axis=2).reshape(nb, 8, 32).astype(F32)
    dl = (d * sc)[:, :, None]
    ml = (dmin * mn)[:, :, None]
    return (dl * q - ml).reshape(nb, 256)


def deq_q5_k(b):
    nb = b.shape[0]
    d, dmin = f16(b[:, 0:2]), f16(b[:, 2:4])
    sc, mn = k_scale_min(b[:, 4:16])
    qh = b[:, 16:48].astype(np.int32)  # (nb, 32)
    qs = b[:, 48:176].reshape(nb, 4, 32).astype(np.int32)
    low = np.stack([qs & 0x0F, qs >> 4], axis=2).reshape(nb, 8, 32)
    hbit = (qh[:, None, :] >> np.arange(8)[None, :, None]) & 1  # sub-block s uses bit s
    q = (low + (hbit << 4)).astype(F32)
    dl = (d * sc)[:, :, None]
    ml = (dmin * mn)[:, :, None]
    return (dl * q - ml).reshape(nb, 256)


def deq_q6_k(b):
    nb = b.shape[0]
    ql = b[:, 0:128].reshape(nb, 2, 64).astype(np.int32)
    qh = b[:, 128:192].reshape(nb, 2, 32).astype(np.int32)
    sc = b[:, 192:208].view(np.int8).astype(F32)  # (nb, 16)
    d = f16(b[:, 208:210])
    # Per half of 128: groups of 32 elements g=0..3 take nibbles from ql[(g%2)*32 ...] (low for
    # g<2, high for g>=2) and 2 bits from qh at shift 2g.
    lo = np.concatenate([ql[:, :, 0:32] & 0x0F, ql[:, :, 32:64] & 0x0F,
                         ql[:, :, 0:32] >> 4, ql[:, :, 32:64] >> 4], axis=2)  # (nb, 2, 128)
    hi = np.concatenate([(qh >> (2 * g)) & 3 for g in range(4)], axis=2)
    q = ((lo | (hi << 4)) - 32).astype(F32).reshape(nb, 16, 16)
    dl = (d * sc)[:, :, None]  # scale s covers elements 16s..16s+15
    return (dl * q).reshape(nb, 256)


def deq_q2_k(b):
    nb = b.shape[0]
    sc = b[:, 0:16].astype(np.int32)
    qs = b[:, 16:80].reshape(nb, 2, 32).astype(np.int32)
    d, dmin = f16(b[:, 80:82]), f16(b[:, 82:84])
    # element 128h + 32j + l  <- (qs[h][l] >> 2j) & 3; scale index 8h + 2j + l//16
    q = np.stack([(qs >> (2 * j)) & 3 for j in range(4)], axis=2)  # (nb, 2, 4, 32)
    q = q.reshape(nb, 16, 16).astype(F32)
    dl = (d * (sc & 0x0F).astype(F32))[:, :, None]
    ml = (dmin * (sc >> 4).astype(F32))[:, :, None]
    return (dl * q - ml).reshape(nb, 256)


def deq_q3_k(b):
    nb = b.shape[0]
    hm = b[:, 0:32].astype(np.int32)
    qs = b[:, 32:96].reshape(nb, 2, 32).astype(np.int32)
    s = b[:, 96:108].astype(np.int32)
    d = f16(b[:, 108:110])
    j = np.arange(16)
    low = np.where(j < 8, s[:, j % 8] & 0x0F, s[:, j % 8] >> 4)
    high = (s[:, 8 + j % 4] >> (2 * (j // 4))) & 3
    scale = ((low | (high << 4)) - 32).astype(F32)  # (nb, 16)
    q2 = np.stack([(qs >> (2 * jj)) & 3 for jj in range(4)], axis=2)  # (nb, 2, 4, 32)
    bit = np.arange(8).reshape(2, 4)  # hmask bit 4h + j
    h = (hm[:, None, None, :] >> bit[None, :, :, None]) & 1
    q = (q2 - np.where(h == 1, 0, 4)).reshape(nb, 16, 16).astype(F32)
    dl = (d * scale)[:, :, None]
    return (dl * q).reshape(nb, 256)


def dequantize(type_name, raw):
    _, blk, nbytes = TYPES[type_name]
    if type_name == "F32":
        return np.frombuffer(raw, "<f4").astype(F32)
    if type_name == "F16":
        return np.frombuffer(raw, "<f2").astype(F32)
    if type_name == "BF16":
        return (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(F32)
    if len(raw) % nbytes:
        raise ValueError(f"{type_name}: {len(raw)} bytes is not a whole number of {nbytes}-byte blocks")
    b = np.frombuffer(raw, np.uint8).reshape(-1, nbytes)
    fn = {"Q4_0": deq_q4_0, "Q4_1": deq_q4_1, "Q5_0": deq_q5_0, "Q5_1": deq_q5_1,
          "Q8_0": deq_q8_0, "Q2_K": deq_q2_k, "Q3_K": deq_q3_k, "Q4_K": deq_q4_k,
          "Q5_K": deq_q5_k, "Q6_K": deq_q6_k}[type_name]
    out = fn(b)
    assert out.dtype == F32, out.dtype
    return out.reshape(-1)


# --- minimal GGUF walk: only what is needed to find tensor bytes -------------------------------
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<B", 10: "<Q",
          11: "<q", 12: "<d"}


def gguf_tensors(path):
    """Returns (list of (name, type_id, ne, offset), data_start, mm)."""
    mm = np.memmap(path, np.uint8, mode="r")
    buf = memoryview(mm)
    pos = 0

    def rd(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, buf, pos)[0]
        pos += struct.calcsize(fmt)
        return v

    def rd_str():
        nonlocal pos
        n = rd("<Q")
        s = bytes(buf[pos:pos + n]).decode("utf-8", "replace")
        pos += n
        return s

    def skip_value(t):
        nonlocal pos
        if t in SCALAR:
            pos += struct.calcsize(SCALAR[t])
        elif t == 8:
            n = rd("<Q")  # read before advancing: `pos += rd()` would lose rd's own advance
            pos += n
        elif t == 9:
            et, count = rd("<I"), rd("<Q")
            if et in SCALAR:
                pos += count * struct.calcsize(SCALAR[et])
            else:
                for _ in range(count):
                    skip_value(et)
        else:
            raise ValueError(f"unknown GGUF value type {t} at byte {pos}")

    if bytes(buf[0:4]) != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    pos = 4
    version, n_tensors, n_kv = rd("<I"), rd("<Q"), rd("<Q")
    if version != 3:
        raise ValueError(f"{path}: GGUF version {version}, expected 3")
    alignment = 32
    for _ in range(n_kv):
        key = rd_str()
        t = rd("<I")
        if key == "general.alignment" and t == 4:
            alignment = rd("<I")
        else:
            skip_value(t)
    tensors = []
    for _ in range(n_tensors):
        name = rd_str()
        nd = rd("<I")
        ne = [rd("<Q") for _ in range(nd)]
        tensors.append((name, rd("<I"), ne, rd("<Q")))
    data_start = (pos + alignment - 1) // alignment * alignment
    return tensors, data_start, mm


def gguf_extract(path, outdir, type_names, max_per_type):
    tensors, data_start, mm = gguf_tensors(path)
    os.makedirs(outdir, exist_ok=True)
    count = {t: 0 for t in type_names}
    lines = []
    for name, tid, ne, off in tensors:
        tname = NAME_OF_ID.get(tid)
        if tname not in count or count[tname] >= max_per_type:
            continue
        _, blk, nbytes = TYPES[tname]
        nrows = int(np.prod(ne[1:])) if len(ne) > 1 else 1
        size = ne[0] // blk * nbytes * nrows
        i = len(lines)
        with open(os.path.join(outdir, f"{i}.bin"), "wb") as f:
            f.write(mm[data_start + off:data_start + off + size].tobytes())
        lines.append(f"{i} {name} {tname} {ne[0]} {nrows}\n")
        count[tname] += 1
    with open(os.path.join(outdir, "index.txt"), "w") as f:
        f.writelines(lines)


def main(argv):
    if len(argv) == 5 and argv[1] == "dequant":
        with open(argv[3], "rb") as f:
            raw = f.read()
        dequantize(argv[2], raw).astype("<f4").tofile(argv[4])
        return 0
    if len(argv) >= 5 and argv[1] == "gguf-extract":
        rest, max_n = argv[4:], 3
        if "--max" in rest:
            k = rest.index("--max")
            max_n = int(rest[k + 1])
            rest = rest[:k] + rest[k + 2:]
        gguf_extract(argv[2], argv[3], rest, max_n)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
