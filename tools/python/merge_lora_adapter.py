#!/usr/bin/env python3
"""Merge a PEFT-format LoRA adapter into base weights: W = W0 + scale * B @ A, written as safetensors.

An independent check of the engine's adapters (src/Components/Lora): it reads only the two files PEFT writes,
`adapter_model.safetensors` (keys `base_model.model.<module path>.lora_A.weight` [r, in] and `.lora_B.weight`
[out, r]) and `adapter_config.json` (`r`, `lora_alpha`, `use_rslora`, `rank_pattern`, `alpha_pattern`,
`fan_in_fan_out`), and the base model's weights saved by `ParameterArena.SaveSafeTensors` (names as PyTorch's,
linear weights [out, in]). scale = lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA (Hu et al. arXiv
2106.09685; Kalajdzievski arXiv 2312.03732). The product is taken in float64 and the result stored as float32.

Usage: /usr/bin/python3 merge_lora_adapter.py BASE.safetensors ADAPTER_DIR MERGED.safetensors
Needs only numpy (Debian: python3-numpy); safetensors is read and written by hand.
"""

import json
import math
import struct
import sys
from pathlib import Path

import numpy as np

PREFIX = "base_model.model."
DTYPES = {"F32": np.float32, "I32": np.int32, "I64": np.int64}


def read_safetensors(path):
    """Return (ordered list of (name, array), metadata) from `path`."""
    content = Path(path).read_bytes()
    (header_length,) = struct.unpack("<Q", content[:8])
    header = json.loads(content[8:8 + header_length])
    metadata = header.pop("__metadata__", {})
    data = content[8 + header_length:]
    tensors = []
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        start, end = entry["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=np.dtype(DTYPES[entry["dtype"]]).newbyteorder("<"))
        tensors.append((name, array.reshape(entry["shape"]).copy()))
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Write (name, float32/int array) pairs in order, with string metadata."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    names = {np.dtype(value): key for key, value in DTYPES.items()}
    for name, array in tensors:
        blob = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[np.dtype(array.dtype)], "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def pattern_value(pattern, path, default):
    """PEFT's rank_pattern / alpha_pattern lookup: a key matches the module path or a dotted suffix of it."""
    for key, value in (pattern or {}).items():
        if path == key or path.endswith("." + key):
            return value
    return default


def merge(base_path, adapter_dir, merged_path):
    config = json.loads((Path(adapter_dir) / "adapter_config.json").read_text())
    if config.get("peft_type") != "LORA" or config.get("fan_in_fan_out") or config.get("bias", "none") != "none":
        raise SystemExit("only plain LoRA adapters (peft_type LORA, fan_in_fan_out false, bias none) are supported")
    adapter = dict(read_safetensors(Path(adapter_dir) / "adapter_model.safetensors")[0])
    base, metadata = read_safetensors(base_path)
    weights = dict(base)
    merged = {}
    for key, down in adapter.items():
        if not key.endswith(".lora_A.weight"):
            continue
        path = key[len(PREFIX):-len(".lora_A.weight")]
        up = adapter[PREFIX + path + ".lora_B.weight"]
        weight = weights[path + ".weight"]
        rank = pattern_value(config.get("rank_pattern"), path, config["r"])
        alpha = pattern_value(config.get("alpha_pattern"), path, config["lora_alpha"])
        if down.shape != (rank, weight.shape[1]) or up.shape != (weight.shape[0], rank):
            raise SystemExit(f"{path}: A {down.shape}, B {up.shape} do not fit W {weight.shape} at rank {rank}")
        scale = alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank
        merged[path + ".weight"] = (weight.astype(np.float64) + scale * (up.astype(np.float64) @ down.astype(np.float64))).astype(np.float32)
    write_safetensors(merged_path, [(name, merged.get(name, array)) for name, array in base], metadata)
    print(f"merged {len(merged)} weights into {merged_path}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    merge(*sys.argv[1:])
