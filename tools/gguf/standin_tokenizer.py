#!/usr/bin/env python3
"""A stand-in byte-level BPE tokenizer.json of a given vocabulary size (the 256 byte symbols of
GPT-2's alphabet, then tokN for the rest, no merges), for test models that have none: llama.cpp
refuses a GGUF without tokenizer metadata, so tessera-quantize needs one to write a file
llama.cpp can load (tests/data/gguf/architectures.json).

usage: standin_tokenizer.py OUT/tokenizer.json VOCAB_SIZE
"""
import json, sys
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~")+1))+list(range(ord("¡"), ord("¬")+1))+list(range(ord("®"), ord("ÿ")+1))
    cs = bs[:]; n = 0
    for b in range(256):
        if b not in bs: bs.append(b); cs.append(256+n); n += 1
    return [chr(c) for c in cs]
V = int(sys.argv[2])
toks = bytes_to_unicode()
vocab = {t: i for i, t in enumerate(toks)}
for i in range(len(toks), V): vocab[f"tok{i}"] = i
tj = {"version": "1.0", "added_tokens": [], "normalizer": None,
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
      "post_processor": None, "decoder": {"type": "ByteLevel"},
      "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": []}}
json.dump(tj, open(sys.argv[1], 'w'))
