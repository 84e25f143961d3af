#!/usr/bin/env python3
"""Dumps the tokenizer.* metadata of a GGUF file as one JSON object (GGUF key -> value), the
input that tessera::tokenizer_from_gguf_metadata takes. Reads the file with llama.cpp's gguf-py
(an independent reader of the format), so the test data does not depend on tessera's reader.

Usage: PYTHONPATH=/path/to/llama.cpp/gguf-py python3 dump_tokenizer_meta.py MODEL.gguf OUT.json
"""
import json
import sys

import gguf  # llama.cpp's gguf-py


def value_of(field):
    types = field.types
    if not types:
        return None
    if types[0] == gguf.GGUFValueType.ARRAY:
        sub = types[1] if len(types) > 1 else None
        parts = [field.parts[i] for i in field.data]
        if sub == gguf.GGUFValueType.STRING:
            return [bytes(p).decode("utf-8") for p in parts]
        return [p.tolist()[0] for p in parts]
    part = field.parts[field.data[0]]
    if types[0] == gguf.GGUFValueType.STRING:
        return bytes(part).decode("utf-8")
    if types[0] == gguf.GGUFValueType.BOOL:
        return bool(part[0])
    return part.tolist()[0]


def main():
    reader = gguf.GGUFReader(sys.argv[1])
    meta = {}
    for name, field in reader.fields.items():
        if name.startswith("tokenizer."):
            meta[name] = value_of(field)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
