#!/usr/bin/python3
"""Independent numpy reference of the Gemma 4 Unified (encoder-free) multimodal front end.

Written from /work/shared/spec/gemma4-input.md §1 (images), §2 (audio), §3 (video),
§5 (embedding injection) and §8 (weights); section numbers in comments point there. Computation
is in float64. The decoder itself is gemma4_ref.py; this module turns media into soft-token
embeddings, expands the prompt's single placeholders, and hands the overrides and bidirectional
blocks to it.

Usage:
  mm_ref.py logits --model TEXT.gguf|HF_FOLDER --mmproj MMPROJ.gguf|HF_FOLDER --tokens 2,105,...
                   [--image a.png ...] [--audio b.wav ...] [--video f0.png,f1.png --video-times 0,1]
                   [--image-tokens 280] [--out logits.npy] [--dump-embeddings emb.npz]
                   [--steps N --greedy] [--bidirectional-layers sliding|all|none]
  mm_ref.py target-size --width W --height H [--image-tokens 280]
"""

import argparse
import json
import math
import os
import sys
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gemma4_ref  # noqa: E402
import gguf_read  # noqa: E402
import safetensors_read  # noqa: E402

# §0 token ids.
IMAGE_TOKEN = 258880
AUDIO_TOKEN = 258881
VIDEO_TOKEN = 258884
BOI_TOKEN = 255999
EOI_TOKEN = 258882
BOA_TOKEN = 256000
EOA_TOKEN = 258883

SUPPORTED_BUDGETS = (70, 140, 280, 560, 1120)  # §0 / §1.2
VIDEO_FRAME_BUDGET = 70  # §3.3
AUDIO_SAMPLE_RATE = 16000  # §2.1
AUDIO_BLOCK_TOKENS = 750  # §2.5: 30 s per wrapped audio block
LAYER_NORM_EPS = 1e-5  # §1.6 (the three vision LayerNorms)

# Digit/':'/'▁' pieces of the Gemma vocabulary; looked up by string in the model's vocabulary when
# it has one, these are the ids input spec §6 lists (checked against the fixture vocabulary).
_SPEC_TIMESTAMP_IDS = {"0": 236771, "1": 236770, "2": 236778, "3": 236800, "4": 236812,
                       "5": 236810, ":": 236787, "\u2581": 236743}


class MMError(Exception):
    pass


# ------------------------------------------------------------------------------------------------
# Weights (§8.1 HF, §8.3 GGUF mmproj). Everything is stored as float64 with matrices [out, in].
# ------------------------------------------------------------------------------------------------
class MMWeights:
    """Vision: ln1_w/ln1_b [3*P*P] and dense_w [W, 3*P*P] in `layout` order ("HWC" or "CHW"),
    dense_b, ln2_*, ln3_* [W], pos [2, n_pos, W] (axis 0 = x table, axis 1 = y table),
    vis_proj [D, W]. Audio: aud_proj [D, frame]. Any of the two halves may be missing (None)."""

    def __init__(self):
        self.layout = None
        self.patch = 48
        self.rms_eps = 1e-6
        self.audio_rms_eps = 1e-6
        self.ln1_w = self.ln1_b = self.dense_w = self.dense_b = None
        self.ln2_w = self.ln2_b = self.ln3_w = self.ln3_b = None
        self.pos = None
        self.vis_proj = None
        self.aud_proj = None
        self.source = ""
        self.tensor_types = {}  # attribute name -> storage type in the file ("F16", "F32", ...)

    @property
    def has_vision(self):
        return self.dense_w is not None

    @property
    def has_audio(self):
        return self.aud_proj is not None

    @property
    def out_dim(self):
        proj = self.vis_proj if self.vis_proj is not None else self.aud_proj
        return int(proj.shape[0])

    def validate(self):
        if self.has_vision:
            n = 3 * self.patch * self.patch
            w = self.dense_w.shape[0]
            checks = [("patch LN1 weight", self.ln1_w.shape, (n,)),
                      ("patch LN1 bias", self.ln1_b.shape, (n,)),
                      ("patch dense weight", self.dense_w.shape, (w, n)),
                      ("patch dense bias", self.dense_b.shape, (w,)),
                      ("patch LN2 weight", self.ln2_w.shape, (w,)),
                      ("patch LN3 weight", self.ln3_w.shape, (w,)),
                      ("vision projection", self.vis_proj.shape[1:], (w,))]
            for what, got, want in checks:
                if tuple(got) != tuple(want):
                    raise MMError(f"{self.source}: {what} has shape {list(got)}, expected "
                                  f"{list(want)} (patch {self.patch}, width {w})")
            if self.pos.ndim != 3 or self.pos.shape[0] != 2 or self.pos.shape[2] != w:
                raise MMError(f"{self.source}: position table has shape {list(self.pos.shape)}, "
                              f"expected [2, n, {w}]")
        if self.has_audio and self.has_vision and self.aud_proj.shape[0] != self.vis_proj.shape[0]:
            raise MMError(f"{self.source}: audio projection outputs {self.aud_proj.shape[0]} "
                          f"values, vision projection {self.vis_proj.shape[0]}")


def load_mmproj_gguf(path):
    """§8.3: clip-architecture mmproj with gemma4uv / gemma4ua projectors; patch vectors CHW."""
    g = gguf_read.GGUFFile(path)
    if g.get("general.architecture") != "clip":
        raise MMError(f"{path}: general.architecture is '{g.get('general.architecture')}', "
                      f"expected 'clip' (an mmproj file)")
    m = MMWeights()
    m.source = f"gguf:{path}"
    m.layout = "CHW"

    def t(name):
        return g.tensor(name).astype(np.float64)

    for attr, name in (("dense_w", "v.patch_embd.weight"),
                       ("vis_proj", "mm.input_projection.weight"),
                       ("aud_proj", "mm.a.input_projection.weight")):
        if name in g.tensors:
            m.tensor_types[attr] = g.tensors[name].type_name
    if "v.patch_embd.weight" in g.tensors:
        ptype = g.get("clip.vision.projector_type")
        if ptype not in (None, "gemma4uv"):
            raise MMError(f"{path}: clip.vision.projector_type is '{ptype}', expected 'gemma4uv'")
        scale = int(g.get("clip.vision.projector.scale_factor", 3))
        m.patch = int(g.get("clip.vision.patch_size", 16)) * scale
        m.rms_eps = float(g.get("clip.vision.attention.layer_norm_epsilon", 1e-6))
        for n in ("1", "2", "3"):
            if f"v.patch_norm.{n}.weight" not in g.tensors:
                raise MMError(f"{path}: missing tensor 'v.patch_norm.{n}.weight' (an mmproj from "
                              f"an early converter; input spec §8.3)")
        m.ln1_w, m.ln1_b = t("v.patch_norm.1.weight"), t("v.patch_norm.1.bias")
        m.ln2_w, m.ln2_b = t("v.patch_norm.2.weight"), t("v.patch_norm.2.bias")
        m.ln3_w, m.ln3_b = t("v.patch_norm.3.weight"), t("v.patch_norm.3.bias")
        m.dense_w, m.dense_b = t("v.patch_embd.weight"), t("v.patch_embd.bias")
        m.pos = t("v.position_embd.weight")  # ne [W, n, 2] -> [2, n, W]
        m.vis_proj = t("mm.input_projection.weight")  # ne [W, D] -> [D, W]
    if "mm.a.input_projection.weight" in g.tensors:
        m.aud_proj = t("mm.a.input_projection.weight")  # ne [640, D] -> [D, 640]
        m.audio_rms_eps = float(g.get("clip.audio.attention.layer_norm_epsilon", 1e-6))
    m.validate()
    return m


def load_mm_hf(folder):
    """§8.1: HF checkpoint; patch vectors HWC; pos_embedding [n, 2, W]."""
    cfg = {}
    cfg_path = os.path.join(folder, "config.json")
    if os.path.exists(cfg_path):
        with open(cfg_path) as f:
            cfg = json.load(f)
    st = safetensors_read.SafetensorsFolder(folder)
    m = MMWeights()
    m.source = f"hf:{folder}"
    m.layout = "HWC"
    vc = cfg.get("vision_config") or {}
    ac = cfg.get("audio_config") or {}
    pre = "model.vision_embedder."

    def t(name):
        return st.tensor(name).astype(np.float64)

    if st.has(pre + "patch_dense.weight"):
        m.patch = int(vc.get("model_patch_size", 48))
        m.rms_eps = float(vc.get("rms_norm_eps", 1e-6))
        m.ln1_w, m.ln1_b = t(pre + "patch_ln1.weight"), t(pre + "patch_ln1.bias")
        m.ln2_w, m.ln2_b = t(pre + "patch_ln2.weight"), t(pre + "patch_ln2.bias")
        m.ln3_w, m.ln3_b = t(pre + "pos_norm.weight"), t(pre + "pos_norm.bias")
        m.dense_w, m.dense_b = t(pre + "patch_dense.weight"), t(pre + "patch_dense.bias")
        m.pos = np.ascontiguousarray(t(pre + "pos_embedding").transpose(1, 0, 2))
        m.vis_proj = t("model.embed_vision.embedding_projection.weight")
    if st.has("model.embed_audio.embedding_projection.weight"):
        m.aud_proj = t("model.embed_audio.embedding_projection.weight")
        m.audio_rms_eps = float(ac.get("rms_norm_eps", 1e-6))
    m.validate()
    return m


def load_mm(path):
    return load_mm_hf(path) if os.path.isdir(path) else load_mmproj_gguf(path)


# ------------------------------------------------------------------------------------------------
# Images (§1)
# ------------------------------------------------------------------------------------------------
def target_size(height, width, budget, patch=16, kernel=3):
    """§1.2 get_aspect_ratio_preserving_size. Returns (Ht, Wt)."""
    if budget not in SUPPORTED_BUDGETS:
        raise MMError(f"image token budget {budget} is not one of {list(SUPPORTED_BUDGETS)}")
    if height <= 0 or width <= 0:
        raise MMError(f"image size {width}x{height} is empty")
    side = patch * kernel
    max_patches = budget * kernel * kernel
    target_px = max_patches * patch * patch
    f = math.sqrt(target_px / (height * width))
    ht = math.floor(f * height / side) * side
    wt = math.floor(f * width / side) * side
    if ht == 0 and wt == 0:
        raise MMError(f"image {width}x{height} cannot be resized to a {side}-pixel grid")
    max_side = (max_patches // (kernel * kernel)) * side
    if ht == 0:
        ht = side
        wt = min((width // height) * side, max_side)
    elif wt == 0:
        wt = side
        ht = min((height // width) * side, max_side)
    if ht * wt > target_px:
        raise MMError(f"target {wt}x{ht} exceeds the {target_px}-pixel budget")
    return ht, wt


def load_image(path, budget=None, size=None):
    """§1.1-§1.4: decode, EXIF transpose, RGB, bicubic resize to the §1.2 size (or `size`
    (Ht, Wt) when given), /255. Returns float64 [Ht, Wt, 3]."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        im = im.convert("RGB")
        if size is None:
            size = target_size(im.height, im.width, budget)
        ht, wt = size
        if (ht, wt) != (im.height, im.width):
            im = im.resize((wt, ht), Image.BICUBIC)
        pixels = np.asarray(im, dtype=np.uint8)
    return pixels.astype(np.float64) / 255.0


def image_patches(pixels, patch, layout):
    """§1.5: [Ht, Wt, 3] -> ([N, 3*P*P] in `layout` order, gx [N], gy [N]); raster order."""
    h, w, c = pixels.shape
    if c != 3 or h % patch or w % patch:
        raise MMError(f"image of {w}x{h}x{c} is not an RGB multiple of {patch}")
    rows, cols = h // patch, w // patch
    grid = pixels.reshape(rows, patch, cols, patch, 3)
    if layout == "HWC":
        grid = grid.transpose(0, 2, 1, 3, 4)  # [rows, cols, r, c, ch]
    elif layout == "CHW":
        grid = grid.transpose(0, 2, 4, 1, 3)  # [rows, cols, ch, r, c]
    else:
        raise MMError(f"unknown patch layout '{layout}'")
    gy, gx = np.divmod(np.arange(rows * cols), cols)
    return grid.reshape(rows * cols, 3 * patch * patch), gx, gy


def layer_norm(x, w, b, eps=LAYER_NORM_EPS):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)  # biased variance
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def embed_patches(m, patches, gx, gy):
    """§1.6: [N, 3*P*P] -> soft tokens [N, D]."""
    if not m.has_vision:
        raise MMError(f"{m.source}: no vision weights")
    if gx.max(initial=0) >= m.pos.shape[1] or gy.max(initial=0) >= m.pos.shape[1]:
        raise MMError(f"patch grid {gx.max() + 1}x{gy.max() + 1} exceeds the "
                      f"{m.pos.shape[1]}-entry position tables")
    h = layer_norm(patches, m.ln1_w, m.ln1_b)
    h = h @ m.dense_w.T + m.dense_b
    h = layer_norm(h, m.ln2_w, m.ln2_b)
    h = h + m.pos[0][gx] + m.pos[1][gy]
    h = layer_norm(h, m.ln3_w, m.ln3_b)
    h = rms_norm(h, m.rms_eps)
    return h @ m.vis_proj.T


def embed_image(m, path, budget=280, size=None):
    pixels = load_image(path, budget, size)
    patches, gx, gy = image_patches(pixels, m.patch, m.layout)
    return embed_patches(m, patches, gx, gy)


# ------------------------------------------------------------------------------------------------
# Audio (§2)
# ------------------------------------------------------------------------------------------------
def load_wav(path):
    """16-bit PCM WAV at 16 kHz -> float64 mono samples in [-1, 1) (channels averaged)."""
    with wave.open(path, "rb") as w:
        channels, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), \
            w.getnframes()
        if width != 2:
            raise MMError(f"{path}: {8 * width}-bit samples; this reference reads 16-bit PCM only")
        if rate != AUDIO_SAMPLE_RATE:
            raise MMError(f"{path}: sample rate {rate} Hz, expected {AUDIO_SAMPLE_RATE} Hz "
                          f"(resample first)")
        raw = w.readframes(n)
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    if samples.size != n * channels:
        raise MMError(f"{path}: {samples.size} samples, header says {n} x {channels}")
    return samples.reshape(n, channels).mean(axis=1)


def audio_frames(samples, frame):
    """§2.2: ceil(L / frame) frames, zero-padded at the end -> [N, frame]."""
    n = -(-len(samples) // frame)
    padded = np.zeros(n * frame)
    padded[:len(samples)] = samples
    return padded.reshape(n, frame)


def embed_audio(m, samples):
    """§2.3: weightless RMSNorm per frame, then the projection. -> [N, D]."""
    if not m.has_audio:
        raise MMError(f"{m.source}: no audio weights")
    frames = audio_frames(samples, m.aud_proj.shape[1])
    return rms_norm(frames, m.audio_rms_eps) @ m.aud_proj.T


# ------------------------------------------------------------------------------------------------
# Prompt expansion (§1.7, §2.4, §3.4, §5)
# ------------------------------------------------------------------------------------------------
class Video:
    """Frames (image paths) already sampled, with their timestamps in seconds (§3.1-§3.2)."""

    def __init__(self, frames, times):
        if len(frames) != len(times) or not frames:
            raise MMError(f"video needs one timestamp per frame: {len(frames)} frames, "
                          f"{len(times)} timestamps")
        self.frames = list(frames)
        self.times = [float(t) for t in times]


def timestamp_text(seconds):
    """§3.4: MM:SS with MM = floor(t / 60) (two digits at least), SS = floor(t mod 60)."""
    mm = int(seconds // 60)
    ss = int(math.floor(seconds % 60))
    return f"{mm:02d}:{ss:02d}"


def vocab_piece_ids(vocab_tokens):
    """Ids of '0'-'9', ':' and '▁' from a vocabulary list (spec §6 ids when there is none)."""
    if vocab_tokens is None:
        return dict(_SPEC_TIMESTAMP_IDS)
    wanted = set("0123456789:") | {"\u2581"}
    ids = {}
    for i, piece in enumerate(vocab_tokens):
        if piece in wanted and piece not in ids:
            ids[piece] = i
    missing = wanted - set(ids)
    if missing:
        raise MMError(f"vocabulary lacks the pieces {sorted(missing)} needed for video timestamps")
    return ids


def timestamp_ids(text, pieces):
    """Digits and ':' are single tokens (input spec §4.1, §6); no merges apply between them."""
    try:
        return [pieces[ch] for ch in text]
    except KeyError as e:
        raise MMError(f"no token for character {e} of timestamp '{text}'") from None


class Expanded:
    def __init__(self):
        self.ids = []
        self.overrides = {}  # position -> soft embedding (unscaled, §5)
        self.blocks = []  # bidirectional [start, end) runs (image and video frames only, §1.8)
        self.media = []  # description of each media item, for the JSON report

    def add_run(self, placeholder, embeddings, bidirectional):
        start = len(self.ids)
        for k, e in enumerate(embeddings):
            self.overrides[start + k] = e
        self.ids += [placeholder] * len(embeddings)
        if bidirectional and len(embeddings):
            self.blocks.append((start, len(self.ids)))
        return start


def expand_prompt(ids, mm, images=(), audios=(), videos=(), image_budget=280, pieces=None):
    """Replaces every single placeholder id by its full token run and collects the soft embeddings.

    images: paths; audios: float sample arrays (16 kHz mono) or WAV paths; videos: Video objects.
    Each modality's inputs are consumed in order of that modality's placeholders."""
    pieces = pieces or dict(_SPEC_TIMESTAMP_IDS)
    queues = {IMAGE_TOKEN: list(images), AUDIO_TOKEN: list(audios), VIDEO_TOKEN: list(videos)}
    names = {IMAGE_TOKEN: "image", AUDIO_TOKEN: "audio", VIDEO_TOKEN: "video"}
    out = Expanded()
    for pos, t in enumerate(ids):
        if t not in queues:
            out.ids.append(int(t))
            continue
        if not queues[t]:
            raise MMError(f"prompt position {pos}: <{names[t]}> placeholder has no {names[t]} "
                          f"input left (give one per placeholder, in order)")
        item = queues[t].pop(0)
        if t == IMAGE_TOKEN:
            e = embed_image(mm, item, image_budget)
            out.ids.append(BOI_TOKEN)
            start = out.add_run(IMAGE_TOKEN, e, bidirectional=True)
            out.ids.append(EOI_TOKEN)
            out.media.append({"kind": "image", "path": str(item), "tokens": len(e),
                              "start": start})
        elif t == AUDIO_TOKEN:
            samples = load_wav(item) if isinstance(item, str) else np.asarray(item, np.float64)
            e = embed_audio(mm, samples)
            for b in range(0, len(e), AUDIO_BLOCK_TOKENS):  # §2.5: ≤ 30 s per wrapped block
                out.ids.append(BOA_TOKEN)
                start = out.add_run(AUDIO_TOKEN, e[b:b + AUDIO_BLOCK_TOKENS], bidirectional=False)
                out.ids.append(EOA_TOKEN)
                out.media.append({"kind": "audio", "tokens": int(min(len(e) - b,
                                                                     AUDIO_BLOCK_TOKENS)),
                                  "start": start})
        else:
            size = None
            frames = []
            for k, (path, when) in enumerate(zip(item.frames, item.times)):
                if k > 0:
                    out.ids.append(pieces["\u2581"])  # frames joined by a single space
                out.ids += timestamp_ids(timestamp_text(when), pieces) + [pieces["\u2581"]]
                if size is None:  # §3.3: all frames share the first frame's target size
                    from PIL import Image, ImageOps
                    with Image.open(path) as im:
                        im = ImageOps.exif_transpose(im)
                        size = target_size(im.height, im.width, VIDEO_FRAME_BUDGET)
                e = embed_image(mm, path, size=size)
                out.ids.append(BOI_TOKEN)
                start = out.add_run(VIDEO_TOKEN, e, bidirectional=True)
                out.ids.append(EOI_TOKEN)
                frames.append({"path": str(path), "time": when, "tokens": len(e),
                               "start": start})
            out.media.append({"kind": "video", "frames": frames})
    for t, left in queues.items():
        if left:
            raise MMError(f"{len(left)} {names[t]} input(s) given but the prompt has no "
                          f"placeholder left for them")
    return out


def vocab_of(model_path):
    """Vocabulary list of a GGUF (tokenizer.ggml.tokens) or HF folder (tokenizer.json), if any."""
    if os.path.isdir(model_path):
        tj = os.path.join(model_path, "tokenizer.json")
        if not os.path.exists(tj):
            return None
        with open(tj) as f:
            vocab = json.load(f)["model"]["vocab"]
        out = [None] * (max(vocab.values()) + 1)
        for piece, i in vocab.items():
            out[i] = piece
        return out
    return gguf_read.GGUFFile(model_path).get("tokenizer.ggml.tokens")


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------
def _split(text):
    return [p for p in (text or "").split(",") if p.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ts = sub.add_parser("target-size", help="§1.2 resize target of a W x H image")
    ts.add_argument("--width", type=int, required=True)
    ts.add_argument("--height", type=int, required=True)
    ts.add_argument("--image-tokens", type=int, default=280)
    lg = sub.add_parser("logits", help="expand media placeholders and run the reference decoder")
    lg.add_argument("--model", required=True, help="text GGUF file or HF folder")
    lg.add_argument("--mmproj", help="mmproj GGUF or HF folder (default: --model)")
    lg.add_argument("--tokens", required=True, help="comma-separated ids (include BOS) with single "
                    "placeholders 258880 (image), 258881 (audio), 258884 (video)")
    lg.add_argument("--image", action="append", default=[], help="image file, once per <|image|>")
    lg.add_argument("--audio", action="append", default=[], help="16 kHz 16-bit WAV per <|audio|>")
    lg.add_argument("--video", action="append", default=[],
                    help="comma-separated frame images of one video, per <|video|>")
    lg.add_argument("--video-times", action="append", default=[],
                    help="comma-separated frame timestamps (s), one list per --video")
    lg.add_argument("--image-tokens", type=int, default=280, help="image budget (70..1120)")
    lg.add_argument("--out", help="save logits [T, vocab] (float32) to this .npy")
    lg.add_argument("--dump-embeddings", help="save positions/embeddings/ids/blocks to this .npz")
    lg.add_argument("--steps", type=int, default=0, help="greedy steps to generate")
    lg.add_argument("--greedy", action="store_true", help="greedy decoding (the only mode)")
    lg.add_argument("--bidirectional-layers", default="sliding", choices=["sliding", "all", "none"])
    lg.add_argument("--float32", action="store_true", help="decoder in float32 instead of float64")
    lg.add_argument("--top", type=int, default=5)
    args = ap.parse_args(argv)

    if args.cmd == "target-size":
        ht, wt = target_size(args.height, args.width, args.image_tokens)
        print(json.dumps({"height": ht, "width": wt, "tokens": (ht // 48) * (wt // 48)}))
        return

    if len(args.video_times) != len(args.video):
        ap.error("give one --video-times list per --video")
    videos = [Video(_split(f), [float(t) for t in _split(t)])
              for f, t in zip(args.video, args.video_times)]
    mm = load_mm(args.mmproj or args.model)
    ids = [int(t) for t in _split(args.tokens)]
    pieces = vocab_piece_ids(vocab_of(args.model)) if videos else None
    ex = expand_prompt(ids, mm, args.image, args.audio, videos, args.image_tokens, pieces)
    model = gemma4_ref.Gemma4Reference(args.model, np.float32 if args.float32 else np.float64)
    model.bidirectional_layers = args.bidirectional_layers
    if ex.overrides and mm.out_dim != model.config.n_embd:
        raise MMError(f"soft tokens have {mm.out_dim} values but the text model's n_embd is "
                      f"{model.config.n_embd}")
    result = {"config": model.config.summary(), "expanded_ids": ex.ids,
              "prompt_tokens": len(ex.ids), "bidirectional_blocks": ex.blocks,
              "bidirectional_layers": args.bidirectional_layers, "media": ex.media}
    if args.dump_embeddings:
        pos = np.array(sorted(ex.overrides), dtype=np.int64)
        emb = np.array([ex.overrides[p] for p in pos]).reshape(len(pos), -1)
        np.savez(args.dump_embeddings, positions=pos, embeddings=emb,
                 ids=np.array(ex.ids, dtype=np.int64),
                 blocks=np.array(ex.blocks, dtype=np.int64).reshape(-1, 2))
        result["embeddings_file"] = args.dump_embeddings
    z = model.logits(ex.ids, ex.overrides, ex.blocks)
    result["last_top"] = gemma4_ref.top_k(gemma4_ref.log_softmax(z[-1]), args.top)
    if args.out:
        np.save(args.out, z.astype(np.float32))
        result["logits_file"] = args.out
        result["logits_shape"] = list(z.shape)
    if args.steps > 0:
        steps = gemma4_ref.greedy(model, ex.ids, args.steps, ex.overrides, ex.blocks, args.top)
        result["generated_ids"] = [s["id"] for s in steps]
        result["steps"] = steps
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
