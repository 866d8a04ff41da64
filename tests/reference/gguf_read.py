"""Minimal GGUF v3 reader (numpy + struct), written from /work/shared/spec/formats.md.

Reads metadata (scalars, strings, arrays incl. arrays of strings) and dequantizes tensors of type
F32, F16, BF16, Q8_0 and Q4_0 to float32. Other tensor types raise NotImplementedError.
Tensors are returned in numpy (row-major) order, i.e. a GGUF tensor with ne = [in, out] becomes an
array of shape (out, in): the same bytes as a PyTorch [out, in] weight.
"""

import struct

import numpy as np

GGUF_MAGIC = 0x46554747

# Metadata value types (formats.md "Value types").
_SCALAR_FORMATS = {
    0: "<B",  # u8
    1: "<b",  # i8
    2: "<H",  # u16
    3: "<h",  # i16
    4: "<I",  # u32
    5: "<i",  # i32
    6: "<f",  # f32
    7: "<?",  # bool (1 byte)
    10: "<Q",  # u64
    11: "<q",  # i64
    12: "<d",  # f64
}
_NUMPY_SCALAR = {0: "<u1", 1: "<i1", 2: "<u2", 3: "<i2", 4: "<u4", 5: "<i4", 6: "<f4", 7: "<u1",
                 10: "<u8", 11: "<i8", 12: "<f8"}
_TYPE_STRING = 8
_TYPE_ARRAY = 9

# Tensor types: id -> (name, elements per block, bytes per block).
GGML_TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    30: ("BF16", 1, 2),
}


class GGUFError(Exception):
    pass


class _Cursor:
    def __init__(self, buf, path):
        self.buf = buf
        self.pos = 0
        self.path = path

    def need(self, n):
        if self.pos + n > len(self.buf):
            raise GGUFError(f"{self.path}: truncated at byte {self.pos}, need {n} more bytes")

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        self.need(size)
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self):
        n = self.unpack("<Q")
        self.need(n)
        s = bytes(self.buf[self.pos:self.pos + n]).decode("utf-8", errors="replace")
        self.pos += n
        return s

    def value(self, vtype):
        if vtype in _SCALAR_FORMATS:
            return self.unpack(_SCALAR_FORMATS[vtype])
        if vtype == _TYPE_STRING:
            return self.string()
        if vtype == _TYPE_ARRAY:
            etype = self.unpack("<I")
            count = self.unpack("<Q")
            if etype in _NUMPY_SCALAR:
                dt = np.dtype(_NUMPY_SCALAR[etype])
                self.need(count * dt.itemsize)
                arr = np.frombuffer(self.buf, dtype=dt, count=count, offset=self.pos).copy()
                self.pos += count * dt.itemsize
                return arr.astype(bool) if etype == 7 else arr
            return [self.value(etype) for _ in range(count)]
        raise GGUFError(f"{self.path}: unknown metadata value type {vtype} at byte {self.pos}")


class GGUFTensorInfo:
    def __init__(self, name, ne, ggml_type, offset):
        self.name = name
        self.ne = ne  # ggml order: ne[0] contiguous
        self.ggml_type = ggml_type
        self.offset = offset

    @property
    def type_name(self):
        return GGML_TYPES.get(self.ggml_type, (f"type{self.ggml_type}",))[0]

    @property
    def shape(self):
        """numpy (row-major) shape: reversed ne."""
        return tuple(reversed(self.ne))


class GGUFFile:
    def __init__(self, path):
        self.path = str(path)
        self._mm = np.memmap(self.path, dtype=np.uint8, mode="r")
        cur = _Cursor(self._mm, self.path)
        magic = cur.unpack("<I")
        if magic != GGUF_MAGIC:
            raise GGUFError(f"{self.path}: not a GGUF file (magic 0x{magic:08x})")
        self.version = cur.unpack("<I")
        if self.version != 3:
            raise GGUFError(f"{self.path}: GGUF version {self.version}, expected 3")
        n_tensors = cur.unpack("<Q")
        n_kv = cur.unpack("<Q")
        self.metadata = {}
        for _ in range(n_kv):
            key = cur.string()
            vtype = cur.unpack("<I")
            self.metadata[key] = cur.value(vtype)
        self.tensors = {}
        for _ in range(n_tensors):
            name = cur.string()
            n_dims = cur.unpack("<I")
            ne = [cur.unpack("<Q") for _ in range(n_dims)]
            ggml_type = cur.unpack("<I")
            offset = cur.unpack("<Q")
            self.tensors[name] = GGUFTensorInfo(name, ne, ggml_type, offset)
        alignment = int(self.metadata.get("general.alignment", 32))
        self.data_start = (cur.pos + alignment - 1) // alignment * alignment

    def get(self, key, default=None):
        return self.metadata.get(key, default)

    def tensor(self, name):
        """Dequantized float32 array of shape reversed(ne)."""
        if name not in self.tensors:
            raise KeyError(f"{self.path}: no tensor named '{name}'")
        info = self.tensors[name]
        if info.ggml_type not in GGML_TYPES:
            raise NotImplementedError(
                f"{self.path}: tensor '{name}' has unknown ggml type {info.ggml_type}")
        tname, block, block_bytes = GGML_TYPES[info.ggml_type]
        n = int(np.prod(info.ne)) if info.ne else 1
        if info.ne[0] % block != 0:
            raise GGUFError(f"{self.path}: tensor '{name}' ne[0]={info.ne[0]} is not a multiple of "
                            f"the {tname} block size {block}")
        nbytes = n // block * block_bytes
        start = self.data_start + info.offset
        if start + nbytes > len(self._mm):
            raise GGUFError(f"{self.path}: tensor '{name}' ({tname}, {nbytes} bytes at {start}) "
                            f"extends past the end of the file ({len(self._mm)} bytes)")
        raw = self._mm[start:start + nbytes]
        if tname == "F32":
            out = raw.view("<f4").astype(np.float32)
        elif tname == "F16":
            out = raw.view("<f2").astype(np.float32)
        elif tname == "BF16":
            out = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        elif tname == "Q8_0":
            blocks = raw.reshape(-1, 34)
            d = blocks[:, 0:2].copy().view("<f2").astype(np.float32)  # (nb, 1)
            q = blocks[:, 2:34].copy().view(np.int8).astype(np.float32)  # (nb, 32)
            out = (d * q).reshape(-1)
        elif tname == "Q4_0":
            blocks = raw.reshape(-1, 18)
            d = blocks[:, 0:2].copy().view("<f2").astype(np.float32)  # (nb, 1)
            qs = blocks[:, 2:18]  # (nb, 16)
            lo = (qs & 0x0F).astype(np.int8) - 8  # elements 0..15
            hi = (qs >> 4).astype(np.int8) - 8  # elements 16..31
            out = (d * np.concatenate([lo, hi], axis=1).astype(np.float32)).reshape(-1)
        else:
            raise NotImplementedError(
                f"{self.path}: tensor '{name}' is {tname}; this reference reader dequantizes only "
                f"F32, F16, BF16, Q8_0 and Q4_0")
        return out.reshape(info.shape)
