#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora into fuzz/corpus/<target>/ (small files, committed).

Formats are written here from their specifications (python stdlib); images, sound and video come
from ImageMagick, sox and ffmpeg (scripts/setup.sh installs them). Run from anywhere:
    fuzz/make_seeds.py
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- GGUF (v3, little-endian; shared/spec/formats.md)
U32, I32, F32, BOOL, STRING, ARRAY, U64 = 4, 5, 6, 7, 8, 9, 10


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(t, v):
    if t == U32:
        return struct.pack("<I", v)
    if t == I32:
        return struct.pack("<i", v)
    if t == F32:
        return struct.pack("<f", v)
    if t == BOOL:
        return struct.pack("<B", 1 if v else 0)
    if t == U64:
        return struct.pack("<Q", v)
    if t == STRING:
        return gguf_str(v)
    et, items = v
    return struct.pack("<IQ", et, len(items)) + b"".join(gguf_value(et, x) for x in items)


def gguf(kvs, tensors):
    """kvs: [(key, type, value)]; tensors: [(name, ne, ggml_type, bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, t, v in kvs:
        out += gguf_str(key) + struct.pack("<I", t) + gguf_value(t, v)
    offset = 0
    for name, ne, gtype, data in tensors:
        out += gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        out += struct.pack("<IQ", gtype, offset)
        offset += (len(data) + 31) // 32 * 32
    out += b"\0" * (-len(out) % 32)
    for _, _, _, data in tensors:
        out += data + b"\0" * (-len(data) % 32)
    return out


TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<|turn>", "<turn|>", "a", "b", "ab",
          "\u2581", "\u2581a", "<0x41>", "<0xFF>", "\n", "\n\n"]
TYPES = [3, 3, 3, 2, 3, 3, 3, 1, 1, 1, 1, 1, 6, 6, 1, 1]
MERGES = ["a b", "\u2581 a", "\n \n"]


def text_gguf(with_tensor):
    p = "gemma4."
    kvs = [("general.architecture", STRING, "gemma4"),
           (p + "block_count", U32, 2), (p + "embedding_length", U32, 8),
           (p + "feed_forward_length", U32, 16), (p + "attention.head_count", U32, 2),
           (p + "attention.head_count_kv", ARRAY, (U32, [1, 1])),
           (p + "attention.key_length", U32, 4), (p + "attention.key_length_swa", U32, 4),
           (p + "attention.sliding_window", U32, 4),
           (p + "attention.sliding_window_pattern", ARRAY, (BOOL, [True, False])),
           (p + "context_length", U32, 128), (p + "rope.freq_base", F32, 1e6),
           (p + "final_logit_softcapping", F32, 30.0),
           ("tokenizer.ggml.model", STRING, "gemma4"),
           ("tokenizer.ggml.tokens", ARRAY, (STRING, TOKENS)),
           ("tokenizer.ggml.token_type", ARRAY, (I32, TYPES)),
           ("tokenizer.ggml.merges", ARRAY, (STRING, MERGES)),
           ("tokenizer.ggml.bos_token_id", U32, 2), ("tokenizer.ggml.eos_token_id", U32, 1),
           ("tokenizer.ggml.add_bos_token", BOOL, True),
           ("tokenizer.chat_template", STRING, "{{ bos_token }}")]
    tensors = [("token_embd.weight", [8, 16], 0, struct.pack("<128f", *([0.5] * 128)))] if with_tensor else []
    return gguf(kvs, tensors)


def mmproj_gguf():
    kvs = [("general.architecture", STRING, "clip"),
           ("clip.vision.projector_type", STRING, "gemma4uv"),
           ("clip.vision.embedding_length", U32, 8),
           ("clip.audio.projector_type", STRING, "gemma4ua"),
           ("clip.audio.embedding_length", U32, 640)]
    return gguf(kvs, [("mm.input_projection.weight", [4, 2], 1, b"\0\x3c" * 8)])


def safetensors(header, data):
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    put("gguf", "text.gguf", text_gguf(True))
    put("gguf", "text_no_tensor.gguf", text_gguf(False))
    put("gguf", "mmproj.gguf", mmproj_gguf())
    put("gguf", "nested_array.gguf",
        gguf([("a", ARRAY, (ARRAY, [(U32, [1, 2]), (U32, [])])), ("b", U64, 7)], []))

    put("safetensors", "two.safetensors", safetensors(
        {"__metadata__": {"format": "pt"},
         "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
         "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]}}, b"\1" * 22))
    put("safetensors", "empty.safetensors", safetensors({}, b""))
    put("safetensors", "f16.safetensors", safetensors(
        {"x": {"dtype": "F16", "shape": [1, 0], "data_offsets": [0, 0]},
         "y": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 8))

    config = {"architectures": ["Gemma4UnifiedForConditionalGeneration"], "model_type": "gemma4",
              "text_config": {"model_type": "gemma4_text", "num_hidden_layers": 2,
                              "hidden_size": 8, "intermediate_size": 16,
                              "num_attention_heads": 2, "num_key_value_heads": 1,
                              "num_global_key_value_heads": 1, "head_dim": 4,
                              "global_head_dim": 8, "vocab_size": 16, "sliding_window": 4,
                              "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
                              "final_logit_softcapping": 30.0, "attention_k_eq_v": True,
                              "layer_types": ["sliding_attention", "full_attention"],
                              "rope_parameters": {
                                  "full_attention": {"rope_type": "proportional",
                                                     "rope_theta": 1e6,
                                                     "partial_rotary_factor": 0.25},
                                  "sliding_attention": {"rope_theta": 1e4}}},
              "vision_config": {"mm_embed_dim": 8, "mm_posemb_size": 16, "model_patch_size": 48},
              "audio_config": {"audio_embed_dim": 640},
              "image_token_id": 12, "eos_token_id": [1, 6], "suppress_tokens": [3],
              "temperature": 1.0, "top_k": 64, "top_p": 0.95}
    put("hf_config", "config.json", json.dumps(config, indent=1))
    put("hf_config", "bare_text.json", json.dumps(config["text_config"]))
    put("hf_config", "generation.json", '{"eos_token_id": 1, "top_k": 40, "temperature": 0.7}')

    vocab = {t: i for i, t in enumerate(TOKENS) if TYPES[i] != 3}
    tokenizer = {"version": "1.0",
                 "added_tokens": [{"id": i, "content": t, "special": True}
                                  for i, t in enumerate(TOKENS) if TYPES[i] == 3],
                 "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
                 "post_processor": {"type": "TemplateProcessing",
                                    "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}},
                                               {"Sequence": {"id": "A", "type_id": 0}}]},
                 "model": {"type": "BPE", "byte_fallback": True, "unk_token": "<unk>",
                           "vocab": vocab, "merges": MERGES},
                 "add_bos_token": True, "chat_template": "{{ messages }}"}
    put("tokenizer_json", "tokenizer.json", json.dumps(tokenizer))
    tokenizer["model"]["merges"] = [m.split(" ") for m in MERGES]
    put("tokenizer_json", "pair_merges.json", json.dumps(tokenizer))

    user = {"role": "user", "content": "Hello"}
    tool = {"type": "function", "function": {
        "name": "get_weather", "description": "Weather in a city",
        "parameters": {"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string", "description": "name", "enum": ["Paris", "Oslo"]},
            "days": {"type": "integer", "nullable": True},
            "opts": {"type": "object", "properties": {"unit": {"type": "string"}}},
            "tags": {"type": "array", "items": {"type": "string"}}}}}}
    openai = {
        "plain.json": {"model": "m", "messages": [user], "max_tokens": 8, "temperature": 0.7,
                       "top_p": 0.9, "top_k": 40, "min_p": 0.05, "seed": 42, "stop": ["\n\n"],
                       "frequency_penalty": 0.1, "presence_penalty": 0.1, "stream": True,
                       "stream_options": {"include_usage": True}, "logprobs": True,
                       "top_logprobs": 3},
        "tools.json": {"messages": [
            {"role": "system", "content": "Be brief."}, user,
            {"role": "assistant", "content": None, "reasoning_content": "Need weather.",
             "tool_calls": [{"id": "c1", "type": "function", "function": {
                 "name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 2}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "{\"temp\": 21}"}],
            "tools": [tool], "tool_choice": "auto",
            "chat_template_kwargs": {"enable_thinking": True}},
        "parts.json": {"messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA"}}]}],
            "reasoning_effort": "low"},
        "completion.json": {"prompt": "Once upon", "max_tokens": 4, "logprobs": 2, "echo": False},
        "token_ids.json": {"prompt": [2, 105, 7], "n": 1, "seed": -1},
    }
    for name, body in openai.items():
        put("openai_request", name, json.dumps(body))
    ollama = {
        "chat.json": {"model": "m", "stream": False, "think": True, "keep_alive": "5m",
                      "messages": [user, {"role": "assistant", "content": "",
                                          "thinking": "hmm",
                                          "tool_calls": [{"function": {
                                              "name": "get_weather",
                                              "arguments": {"city": "Oslo"}}}]},
                                   {"role": "tool", "tool_name": "get_weather",
                                    "content": "cold"}],
                      "tools": [tool],
                      "options": {"temperature": 0.8, "top_k": 20, "top_p": 0.9, "min_p": 0.0,
                                  "seed": 7, "repeat_penalty": 1.1, "repeat_last_n": 64,
                                  "num_predict": 16, "num_ctx": 2048, "stop": ["END"],
                                  "mirostat": 0, "use_mmap": True}},
        "images.json": {"messages": [{"role": "user", "content": "see",
                                      "images": ["iVBORw0KGgo="]}], "think": "high"},
        "generate.json": {"prompt": "Why is the sky blue?", "system": "Be short.", "raw": False,
                          "options": {"num_predict": -1}},
    }
    for name, body in ollama.items():
        put("ollama_request", name, json.dumps(body))

    q = '<|"|>'
    outputs = {
        "thought.txt": "<|channel>thought\nLet me think.<channel|>The answer is 4.<turn|>",
        "call.txt": "<|tool_call>call:get_weather{city:" + q + "Paris" + q +
                    ",days:2,opts:{unit:" + q + "C" + q + "},tags:[1,2.5,true,null]}<tool_call|>",
        "mixed.txt": "Sure. <|tool_call>call:f{a:[{b:None}],\"c\":False}<tool_call|> Done"
                     "<|tool_response>",
        "dsl.txt": "{key:" + q + "v" + q + ",n:-3.5e2,list:[1,2,],ok:True}",
    }
    for name, text in outputs.items():
        put("tool_output", name, text)

    tmp = tempfile.mkdtemp()
    try:
        def run(cmd):
            subprocess.run(cmd, shell=True, check=True, cwd=tmp)

        run("convert -size 16x12 plasma:fractal -depth 8 src.png")
        media = {
            "image": [("png", "convert src.png s.png"), ("jpg", "convert src.png -quality 70 s.jpg"),
                      ("gif", "convert src.png s.gif"), ("bmp", "convert src.png bmp3:s.bmp"),
                      ("webp", "convert src.png -quality 60 s.webp"),
                      ("grey.png", "convert src.png -colorspace gray s.grey.png")],
            "audio": [("wav", "sox -n -r 8000 -c 1 -b 16 s.wav synth 0.05 sine 440"),
                      ("flac", "sox -n -r 8000 s.flac synth 0.05 sine 440"),
                      ("ogg", "sox -n -r 8000 s.ogg synth 0.05 sine 440"),
                      ("mp3", "ffmpeg -y -loglevel error -f lavfi -i sine=duration=0.05 "
                              "-ar 8000 -c:a libmp3lame -b:a 8k s.mp3")],
            "video": [("mp4", "ffmpeg -y -loglevel error -f lavfi -i "
                              "testsrc=duration=0.2:size=16x16:rate=10 -f lavfi -i "
                              "sine=duration=0.2 -ar 8000 -c:v libx264 -preset ultrafast "
                              "-pix_fmt yuv420p -c:a aac -b:a 8k -shortest s.mp4"),
                      ("webm", "ffmpeg -y -loglevel error -f lavfi -i "
                               "testsrc=duration=0.2:size=16x16:rate=10 -c:v libvpx "
                               "-deadline realtime s.webm"),
                      ("gif", "ffmpeg -y -loglevel error -f lavfi -i "
                              "testsrc=duration=0.2:size=16x16:rate=10 s.gif")],
        }
        for target, items in media.items():
            for ext, cmd in items:
                run(cmd)
                with open(os.path.join(tmp, "s." + ext), "rb") as f:
                    put(target, "seed." + ext, f.read())
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
