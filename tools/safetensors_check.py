#!/usr/bin/python3
"""Reads, checks and writes safetensors files with numpy and torch only (the `safetensors`
package is not needed), independently of patchnet's C++ code (include/patchnet/io/).

Format: 8-byte little-endian uint64 N; N bytes of UTF-8 JSON
    {"__metadata__": {"key": "value", ...},
     "<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
padded with spaces to a multiple of 8; then the data, each tensor row-major little-endian at
[begin, end) from the start of the data, the ranges tiling the data exactly.

As a module:
    tensors, metadata = load(path)          # dict name -> torch.Tensor (CPU), dict str -> str
    save(path, tensors, metadata=None)      # tensors: dict name -> torch.Tensor / numpy array

save() writes what patchnet's save_safetensors writes, byte for byte: compact JSON
(separators "," and ":", non-ASCII kept), "__metadata__" first with sorted keys (omitted when
empty), tensors in the dict's order, data laid out by decreasing item size (stable).

From the shell:
    tools/safetensors_check.py FILE...      check each file, list its tensors and metadata;
                                            exit status 1 if any is invalid
    tools/safetensors_check.py --write-sample [PATH]
                                            write the sample the C++ tests read
                                            (default tests/golden/safetensors_sample.safetensors)
    tools/safetensors_check.py --check-sample FILE
                                            check that FILE holds exactly the sample's tensors
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch

DTYPES = {  # safetensors name -> (numpy little-endian dtype, torch dtype)
    "F32": ("<f4", torch.float32),
    "F64": ("<f8", torch.float64),
    "I32": ("<i4", torch.int32),
    "I64": ("<i8", torch.int64),
    "U8": ("u1", torch.uint8),
}
TORCH_TO_NAME = {torch_dtype: name for name, (_, torch_dtype) in DTYPES.items()}

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_PATH = os.path.join(REPO, "tests", "golden", "safetensors_sample.safetensors")


class FormatError(Exception):
    pass


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise FormatError(f"duplicate key {k!r} in the header")
        d[k] = v
    return d


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def load(path):
    """Returns (dict name -> torch.Tensor, metadata dict). Raises FormatError when invalid."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise FormatError(f"{path}: {len(raw)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise FormatError(f"{path}: header length {n} exceeds the {len(raw) - 8} bytes after it")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise FormatError(f"{path}: header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise FormatError(f"{path}: header is not a JSON object")
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise FormatError(f"{path}: __metadata__ must map strings to strings")
    tensors, ranges = {}, []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise FormatError(f"{path}: tensor {name!r}: needs exactly dtype, shape, data_offsets")
        if info["dtype"] not in DTYPES:
            raise FormatError(f"{path}: tensor {name!r}: unsupported dtype {info['dtype']!r}")
        np_dtype, _ = DTYPES[info["dtype"]]
        shape = info["shape"]
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise FormatError(f"{path}: tensor {name!r}: bad shape {shape!r}")
        offs = info["data_offsets"]
        if not (isinstance(offs, list) and len(offs) == 2 and all(_is_int(o) for o in offs)
                and 0 <= offs[0] <= offs[1] <= len(data)):
            raise FormatError(f"{path}: tensor {name!r}: bad data_offsets {offs!r} (data is {len(data)} bytes)")
        nbytes = math.prod(shape) * np.dtype(np_dtype).itemsize
        if offs[1] - offs[0] != nbytes:
            raise FormatError(f"{path}: tensor {name!r}: shape {shape} needs {nbytes} bytes, offsets hold "
                              f"{offs[1] - offs[0]}")
        array = np.frombuffer(data[offs[0]:offs[1]], dtype=np_dtype).reshape(shape)
        tensors[name] = torch.from_numpy(array.astype(array.dtype.newbyteorder("="), copy=True))
        ranges.append((offs[0], offs[1], name))
    at = 0
    for begin, end, name in sorted(ranges):
        if begin != at:
            raise FormatError(f"{path}: tensor {name!r} starts at {begin}, expected {at} (gap or overlap)")
        at = end
    if at != len(data):
        raise FormatError(f"{path}: {len(data) - at} trailing bytes of data belong to no tensor")
    return tensors, metadata


def save(path, tensors, metadata=None):
    """Writes tensors (dict name -> torch.Tensor or numpy array) and string metadata."""
    items = []
    for name, t in tensors.items():
        t = torch.as_tensor(t).detach().cpu().contiguous()
        if t.dtype not in TORCH_TO_NAME:
            raise ValueError(f"tensor {name!r}: unsupported dtype {t.dtype}")
        dtype = TORCH_TO_NAME[t.dtype]
        blob = t.numpy().astype(DTYPES[dtype][0], copy=False).tobytes()
        items.append((name, dtype, list(t.shape), blob))
    order = sorted(range(len(items)), key=lambda i: -np.dtype(DTYPES[items[i][1]][0]).itemsize)  # stable
    begin, at = {}, 0
    for i in order:
        begin[i] = at
        at += len(items[i][3])
    header = {}
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    for i, (name, dtype, shape, blob) in enumerate(items):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [begin[i], begin[i] + len(blob)]}
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for i in order:
            f.write(items[i][3])


def sample():
    """The sample's tensors and metadata; tests/unit/safetensors_io_test.cpp checks the same values."""
    tensors = {
        "weight": torch.tensor([[0.5, -1.25, 3.0], [0.1, -1024.0, 1e-30]], dtype=torch.float32),
        "bias": torch.tensor([math.pi, -math.e, 1e-300], dtype=torch.float64),
        "counts": torch.tensor([[-2147483648, 2147483647], [0, -7]], dtype=torch.int32),
        "step": torch.tensor(1234567890123, dtype=torch.int64),  # shape []
        "mask": torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8),
        "empty": torch.zeros((0, 4), dtype=torch.float32),
        "big": torch.tensor([-(2 ** 62), 2 ** 62 + 1, -1], dtype=torch.int64),
    }
    metadata = {"format": "pt", "producer": "tools/safetensors_check.py", "note": "\u00fcnic\u00f8de \"quoted\"\n\ttab"}
    return tensors, metadata


def check_sample(path):
    tensors, metadata = load(path)
    want_t, want_m = sample()
    if metadata != want_m:
        raise FormatError(f"{path}: metadata {metadata!r} differs from the sample's {want_m!r}")
    if list(tensors) != list(want_t):
        raise FormatError(f"{path}: tensors {list(tensors)} differ from the sample's {list(want_t)}")
    for name, want in want_t.items():
        got = tensors[name]
        if got.dtype != want.dtype or got.shape != want.shape or not torch.equal(got, want):
            raise FormatError(f"{path}: tensor {name!r} differs from the sample")


def describe(path):
    tensors, metadata = load(path)
    print(f"{path}: {len(tensors)} tensors, metadata {metadata}")
    for name, t in tensors.items():
        summary = ""
        if t.numel():
            v = t.double()
            summary = f" min {v.min().item():.6g} max {v.max().item():.6g} sum {v.sum().item():.9g}"
        print(f"  {name}: {TORCH_TO_NAME[t.dtype]} {list(t.shape)}{summary}")


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    if argv[0] == "--write-sample":
        path = argv[1] if len(argv) > 1 else SAMPLE_PATH
        save(path, *sample())
        check_sample(path)
        print(f"{os.path.relpath(path)}: {os.path.getsize(path)} bytes")
        return 0
    if argv[0] == "--check-sample":
        status = 0
        for path in argv[1:]:
            try:
                check_sample(path)
                print(f"{path}: holds the sample")
            except (FormatError, OSError) as e:
                print(f"INVALID {e}")
                status = 1
        return status
    status = 0
    for path in argv:
        try:
            describe(path)
        except (FormatError, OSError) as e:
            print(f"INVALID {e}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
