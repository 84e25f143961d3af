#!/usr/bin/env python3
"""List the tensors of a GGUF file (name, ggml type, ne) and count the types. Standard library only.

Usage: gguf_types.py FILE.gguf [--json]
"""
import json
import struct
import sys

TYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K",
              11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
              19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32",
              27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4"}
SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def rd(f, fmt):
    return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))


def rstr(f):
    (n,) = rd(f, "Q")
    return f.read(n).decode("utf-8", "replace")


def rval(f, t):
    if t == 8:
        return rstr(f)
    if t == 9:
        et, n = rd(f, "IQ")
        return [rval(f, et) for _ in range(n)]
    return rd(f, SCALAR[t])[0]


def read(path):
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise SystemExit("%s: not a GGUF file" % path)
        ver, nt, nkv = rd(f, "IQQ")
        meta = {}
        for _ in range(nkv):
            k = rstr(f)
            (t,) = rd(f, "I")
            v = rval(f, t)
            if t != 9:
                meta[k] = v
        tensors = []
        for _ in range(nt):
            name = rstr(f)
            (nd,) = rd(f, "I")
            ne = list(rd(f, "Q" * nd))
            gt, off = rd(f, "IQ")
            tensors.append({"name": name, "type": TYPE_NAMES.get(gt, "type%d" % gt), "ne": ne})
    counts = {}
    for t in tensors:
        counts[t["type"]] = counts.get(t["type"], 0) + 1
    return {"version": ver, "file_type": meta.get("general.file_type"), "type_counts": counts, "tensors": tensors}


if __name__ == "__main__":
    info = read(sys.argv[1])
    if "--json" in sys.argv:
        print(json.dumps(info))
    else:
        print("file_type=%s counts=%s" % (info["file_type"], info["type_counts"]))
        for t in info["tensors"]:
            print("  %-28s %-6s %s" % (t["name"], t["type"], t["ne"]))
