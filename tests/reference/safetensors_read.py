"""Minimal HF safetensors reader (numpy + json), written from /work/shared/spec/formats.md.

Supports a single `model.safetensors` or shards listed in `model.safetensors.index.json`, with
dtypes F32, F16 and BF16 (converted to float32). Shapes are kept as stored (row-major, [out, in]).
"""

import json
import os
import struct

import numpy as np

_MAX_HEADER = 100 * 1024 * 1024
_DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2)}


class SafetensorsError(Exception):
    pass


class SafetensorsFile:
    def __init__(self, path):
        self.path = str(path)
        self._mm = np.memmap(self.path, dtype=np.uint8, mode="r")
        if len(self._mm) < 8:
            raise SafetensorsError(f"{self.path}: shorter than the 8-byte header size")
        (hsize,) = struct.unpack("<Q", bytes(self._mm[:8]))
        if hsize > _MAX_HEADER or 8 + hsize > len(self._mm):
            raise SafetensorsError(f"{self.path}: header size {hsize} is invalid for a file of "
                                   f"{len(self._mm)} bytes")
        header = json.loads(bytes(self._mm[8:8 + hsize]).decode("utf-8"))
        self.metadata = header.pop("__metadata__", {})
        self.entries = header
        self.data_start = 8 + hsize

    def names(self):
        return list(self.entries.keys())

    def tensor(self, name):
        e = self.entries[name]
        dtype = e["dtype"]
        if dtype not in _DTYPES:
            raise NotImplementedError(f"{self.path}: tensor '{name}' has dtype {dtype}; this "
                                      f"reference reader supports F32, F16 and BF16")
        np_dtype, size = _DTYPES[dtype]
        shape = tuple(int(s) for s in e["shape"])
        begin, end = (int(x) for x in e["data_offsets"])
        n = int(np.prod(shape)) if shape else 1
        if end - begin != n * size or self.data_start + end > len(self._mm) or begin > end:
            raise SafetensorsError(f"{self.path}: tensor '{name}' offsets [{begin}, {end}) do not "
                                   f"match shape {list(shape)} x {size} bytes or the file size")
        raw = self._mm[self.data_start + begin:self.data_start + end].view(np_dtype)
        if dtype == "BF16":
            out = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            out = raw.astype(np.float32)
        return out.reshape(shape)


class SafetensorsFolder:
    """All tensors of an HF checkpoint folder, by name."""

    def __init__(self, folder):
        self.folder = str(folder)
        index = os.path.join(self.folder, "model.safetensors.index.json")
        single = os.path.join(self.folder, "model.safetensors")
        self._files = {}
        self._where = {}
        if os.path.exists(index):
            with open(index) as f:
                weight_map = json.load(f)["weight_map"]
            for name, shard in weight_map.items():
                self._where[name] = shard
        elif os.path.exists(single):
            for name in self._open("model.safetensors").names():
                self._where[name] = "model.safetensors"
        else:
            raise SafetensorsError(f"{self.folder}: neither model.safetensors.index.json nor "
                                   f"model.safetensors exists")

    def _open(self, shard):
        if shard not in self._files:
            self._files[shard] = SafetensorsFile(os.path.join(self.folder, shard))
        return self._files[shard]

    def names(self):
        return list(self._where.keys())

    def has(self, name):
        return name in self._where

    def tensor(self, name):
        if name not in self._where:
            raise KeyError(f"{self.folder}: no tensor named '{name}'")
        return self._open(self._where[name]).tensor(name)
