#!/usr/bin/env python3
"""Reference ids for tests/gguf_tokenizer_test.cpp: SentencePiece itself (python3-sentencepiece)
encodes and decodes every string of a corpus with a .model. SentencePiece never matches control
tokens written in the text (llama.cpp and Hugging Face do), so strings holding one are left out (null).
Usage: spm_reference_ids.py MODEL CORPUS_JSON OUT_JSON
"""
import json
import sys

import sentencepiece

model, corpus_file, out = sys.argv[1:4]
sp = sentencepiece.SentencePieceProcessor()
sp.LoadFromFile(model)
controls = [sp.IdToPiece(i) for i in range(sp.vocab_size()) if sp.IsControl(i) or sp.IsUnknown(i)]
ids_no_special, decoded = [], {}
for i, text in enumerate(json.load(open(corpus_file, encoding="utf-8"))):
    if any(c in text for c in controls):
        ids_no_special.append(None)
        continue
    ids = sp.EncodeAsIds(text)
    ids_no_special.append(ids)
    d = sp.DecodeIds(ids)
    if d != text:
        decoded[str(i)] = d
with open(out, "w", encoding="utf-8") as f:
    json.dump({"how": f"sentencepiece {sentencepiece.__version__} EncodeAsIds/DecodeIds; written by "
               "tools/gguf/spm_reference_ids.py; null: left out", "corpus": corpus_file.split("/")[-1],
               "ids_no_special": ids_no_special, "decoded": decoded}, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")
