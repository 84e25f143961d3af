#!/usr/bin/env python3
"""Makes GGUF tokenizer metadata for tests, the way llama.cpp's convert_hf_to_gguf.py does, from
  bpe: a Hugging Face tokenizer.json (+ tokenizer_config.json), like get_vocab_base/_set_vocab_gpt2:
       tokens in id order ("[PADi]" UNUSED for holes), added tokens CONTROL when special (or
       looking special) else USER_DEFINED, merges and special ids/add_bos via gguf-py's SpecialVocab;
  spm: a SentencePiece .model, like _create_vocab_sentencepiece: pieces, scores, types from
       sentencepiece itself; bos/eos/unk and add_bos from a tokenizer_config.json via SpecialVocab.
It writes a vocabulary-only GGUF with gguf-py's GGUFWriter, reads it back with GGUFReader and
dumps the tokenizer.* keys (dump_tokenizer_meta.py), so the JSON is what a real file holds.

Usage (needs llama.cpp's gguf-py on PYTHONPATH, numpy, and for spm python3-sentencepiece):
  hf_to_gguf_tokenizer_meta.py bpe DIR_WITH_TOKENIZER_JSON PRE OUT.json
  hf_to_gguf_tokenizer_meta.py spm MODEL_FILE CONFIG_DIR OUT.json
"""
import json
import os
import sys
import tempfile

import gguf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dump_tokenizer_meta import value_of  # noqa: E402


def looks_special(text):
    return (text in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (text.startswith("<|") and text.endswith("|>"))
            or (text.startswith("<unused") and text.endswith(">")))


def bpe_vocab(directory):
    tok = json.load(open(os.path.join(directory, "tokenizer.json"), encoding="utf-8"))
    vocab = dict(tok["model"]["vocab"])
    added = {a["id"]: a for a in tok.get("added_tokens", [])}
    for i, a in added.items():
        vocab[a["content"]] = i
    reverse = {i: t for t, i in vocab.items()}
    size = max(reverse) + 1
    tokens, types = [], []
    for i in range(size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        t = reverse[i]
        if i in added:
            if added[i].get("special") or looks_special(t):
                types.append(gguf.TokenType.CONTROL)
            else:
                t = t.replace("\u2581", " ")
                types.append(gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
        tokens.append(t)
    return tokens, types


def main():
    mode, src, arg, out = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "vocab.gguf")
        w = gguf.GGUFWriter(path, "llama")
        if mode == "bpe":
            tokens, types = bpe_vocab(src)
            w.add_tokenizer_model("gpt2")
            w.add_tokenizer_pre(arg)
            w.add_token_list(tokens)
            w.add_token_types(types)
            special = gguf.SpecialVocab(src, load_merges=True)
        elif mode == "spm":
            import sentencepiece
            sp = sentencepiece.SentencePieceProcessor()
            sp.LoadFromFile(src)
            tokens, scores, types = [], [], []
            for i in range(sp.vocab_size()):
                tokens.append(sp.IdToPiece(i))
                scores.append(sp.GetScore(i))
                t = gguf.TokenType.NORMAL
                if sp.IsUnknown(i):
                    t = gguf.TokenType.UNKNOWN
                elif sp.IsControl(i):
                    t = gguf.TokenType.CONTROL
                elif sp.IsUnused(i):
                    t = gguf.TokenType.UNUSED
                elif sp.IsByte(i):
                    t = gguf.TokenType.BYTE
                types.append(t)
            w.add_tokenizer_model("llama")
            w.add_tokenizer_pre("default")
            w.add_token_list(tokens)
            w.add_token_scores(scores)
            w.add_token_types(types)
            special = gguf.SpecialVocab(arg, n_vocab=len(tokens))
        else:
            sys.exit(f"unknown mode {mode}")
        special.add_to_gguf(w)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        reader = gguf.GGUFReader(path)
        meta = {k: value_of(f) for k, f in reader.fields.items() if k.startswith("tokenizer.")}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
