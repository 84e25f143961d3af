#!/usr/bin/env python3
"""Write eval_ids.json, prompt_ids.json, generated_ids.json from a reference.safetensors (standard library only).

Usage: extract_ids.py shared/models/pycode-6m/reference.safetensors OUT_DIR
safetensors: 8-byte little-endian header length, JSON header (dtype, shape, data_offsets), then the data.
"""
import json
import os
import struct
import sys

src, out = sys.argv[1], sys.argv[2]
with open(src, "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(n))
    base = 8 + n
    for key in ("eval_ids", "prompt_ids", "generated_ids"):
        info = header[key]
        if info["dtype"] != "I64":
            sys.exit("%s: %s is %s, expected I64" % (src, key, info["dtype"]))
        a, b = info["data_offsets"]
        f.seek(base + a)
        ids = list(struct.unpack("<%dq" % ((b - a) // 8), f.read(b - a)))
        with open(os.path.join(out, key + ".json"), "w") as g:
            json.dump(ids, g)
        print("%s: %d ids" % (key, len(ids)))
