#!/usr/bin/env python3
"""Read a safetensors file into a dict of torch tensors, without the `safetensors` package.

Proof that PyTorch can read the files Pipelines writes (src/Components/Serialization/SafeTensors.cs).
Prints each tensor's name, dtype, shape and a checksum (sum of the values in float64, and the CRC-32
of the raw bytes), then the metadata.

Usage: python3 safetensors_to_torch.py FILE.safetensors
Needs only the standard library and torch.
"""

import json
import struct
import sys
import zlib

import torch

DTYPES = {"F32": (torch.float32, 4), "I32": (torch.int32, 4), "I64": (torch.int64, 8)}
MAXIMUM_HEADER_LENGTH = 100_000_000


def load(path):
    """Return (tensors: dict name -> torch.Tensor, metadata: dict) read from `path`."""
    if sys.byteorder != "little":
        raise RuntimeError("this reader relies on a little-endian host (safetensors data is little-endian)")
    with open(path, "rb") as file:
        content = file.read()
    if len(content) < 8:
        raise ValueError("file shorter than the 8-byte header length")
    (header_length,) = struct.unpack("<Q", content[:8])
    if header_length > MAXIMUM_HEADER_LENGTH or 8 + header_length > len(content):
        raise ValueError(f"bad header length {header_length}")
    header = json.loads(content[8 : 8 + header_length].decode("utf-8"))
    data = content[8 + header_length :]

    metadata = header.pop("__metadata__", {})
    tensors = {}
    covered = 0
    for name, info in sorted(header.items(), key=lambda item: tuple(item[1]["data_offsets"])):
        dtype, size = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        shape = info["shape"]
        count = 1
        for dimension in shape:
            count *= dimension
        if begin != covered or end - begin != count * size or end > len(data):
            raise ValueError(f"tensor {name}: bad data_offsets {info['data_offsets']} for shape {shape}")
        covered = end
        raw = bytearray(data[begin:end])  # a writable copy, so torch.frombuffer does not warn
        flat = torch.frombuffer(raw, dtype=dtype) if count > 0 else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(shape)
    if covered != len(data):
        raise ValueError(f"tensors cover {covered} of {len(data)} data bytes")
    return tensors, metadata


def main():
    if len(sys.argv) != 2:
        print("usage: python3 safetensors_to_torch.py FILE.safetensors", file=sys.stderr)
        return 2
    path = sys.argv[1]
    tensors, metadata = load(path)
    with open(path, "rb") as file:
        content = file.read()
    (header_length,) = struct.unpack("<Q", content[:8])
    data = content[8 + header_length :]
    header = json.loads(content[8 : 8 + header_length])
    for name, tensor in tensors.items():
        begin, end = header[name]["data_offsets"]
        checksum = tensor.to(torch.float64).sum().item()
        crc = zlib.crc32(data[begin:end])
        print(f"{name}\t{str(tensor.dtype).replace('torch.', '')}\t{list(tensor.shape)}\tsum={checksum:.9g}\tcrc32={crc:08x}")
    print(f"metadata: {json.dumps(metadata, ensure_ascii=False, sort_keys=True)}")
    print(f"torch {torch.__version__}: read {len(tensors)} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
