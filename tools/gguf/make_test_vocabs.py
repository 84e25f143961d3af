#!/usr/bin/env python3
"""Writes the Hugging Face tokenizers that tests/gguf_tokenizer_test.cpp rebuilds from GGUF
metadata (see make_tokenizer_test_data.sh):
  llama3-style/  the first N tokens of cl100k_base (real merges, a consistent sub-vocabulary since
                 every merge of a token uses lower ranks) in Llama 3's tokenizer.json pipeline:
                 Split by Llama 3's regex + ByteLevel, ignore_merges, <|begin_of_text|> prepended;
  qwen2-style/   the same vocabulary in Qwen2's pipeline: NFC, Qwen2's regex (single digits),
                 no BOS;
  spm-llama/     a SentencePiece BPE model with byte fallback trained here with spm_train (as
                 tests/tokenizer/build_tokenizers.js trains its spm-bpe model), for the "llama"
                 GGUF tokenizer.
Each BPE vocabulary also gets special tokens after a hole in the ids (GGUF fills it with an
UNUSED "[PADi]") and one non-special added token (GGUF USER_DEFINED).
Usage: make_test_vocabs.py REPO_ROOT OUT_DIR WORK_DIR
"""
import glob
import json
import os
import subprocess
import sys

N = 3000
LLAMA3_REGEX = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
QWEN2_REGEX = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
               "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")


def added(i, content, special=True):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": special}


def byte_level(**kw):
    d = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    d.update(kw)
    return d


def write(out, name, tok, config):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
        f.write("\n")


def bpe_tokenizers(root, out):
    cl = json.load(open(os.path.join(root, "tests/data/tokenizers/cl100k/tokenizer.json"), encoding="utf-8"))
    vocab = {t: i for t, i in cl["model"]["vocab"].items() if i < N}
    merges = [m for m in cl["model"]["merges"] if m[0] in vocab and m[1] in vocab and m[0] + m[1] in vocab]
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
             "vocab": vocab, "merges": merges}
    # Llama 3: specials from N+1 on (N is a hole), one user-defined token.
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    at = [added(N + 1 + k, s) for k, s in enumerate(specials)] + [added(N + 1 + len(specials), "<tool_call>", False)]
    bos = N + 1
    # Llama 3 keeps its specials out of model.vocab, contiguous after it; Hugging Face renumbers
    # added tokens that are not in model.vocab to follow it, so the ones after the hole go in too.
    model_l3 = dict(model, vocab=dict(vocab, **{a["content"]: a["id"] for a in at}))
    template = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [bos], "tokens": ["<|begin_of_text|>"]}}}
    write(out, "llama3-style", {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": at, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": False},
            byte_level(use_regex=False)]},
        "post_processor": {"type": "Sequence", "processors": [
            byte_level(add_prefix_space=True, trim_offsets=False), template]},
        "decoder": byte_level(add_prefix_space=True), "model": model_l3},
        {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
         "chat_template": "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
                          "{{ m['content'] }}<|eot_id|>{% endfor %}"})
    # Qwen2: specials right after the vocabulary, no BOS.
    qs = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    qat = [added(N + k, s) for k, s in enumerate(qs)] + [added(N + len(qs), "<tool_call>", False)]
    write(out, "qwen2-style", {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": qat, "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_REGEX}, "behavior": "Isolated", "invert": False},
            byte_level(use_regex=False, trim_offsets=False)]},
        "post_processor": byte_level(trim_offsets=False, use_regex=False),
        "decoder": byte_level(trim_offsets=False, use_regex=False), "model": dict(model, ignore_merges=False)},
        {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "add_bos_token": False,
         "chat_template": "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"})


def spm_model(root, out, work):
    corpus = json.load(open(os.path.join(root, "tests/data/tokenizers/hostile_corpus.json"), encoding="utf-8"))
    text = []
    for p in sorted(glob.glob("/usr/share/common-licenses/*")):
        try:
            text.append(open(p, encoding="utf-8").read())
        except (OSError, UnicodeDecodeError):
            pass
    text += corpus[::2]
    lines = [l for l in "\n".join(text).split("\n") if l.strip()]
    train = os.path.join(work, "spm_train.txt")
    with open(train, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    prefix = os.path.join(work, "spm")
    subprocess.run(["spm_train", f"--input={train}", f"--model_prefix={prefix}", "--model_type=bpe",
                    "--vocab_size=3000", "--byte_fallback=true", "--character_coverage=0.9995",
                    "--normalization_rule_name=identity", "--remove_extra_whitespaces=false", "--split_digits=true",
                    "--allow_whitespace_only_pieces=true", "--num_threads=1", "--minloglevel=2"], check=True)
    d = os.path.join(out, "spm-llama")
    os.makedirs(d, exist_ok=True)
    # What convert_hf_to_gguf reads besides tokenizer.model (Llama 2's files say the same).
    with open(os.path.join(work, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "chat_template": "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"}, f)
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": 2}, f)
    return prefix + ".model"


if __name__ == "__main__":
    root, out, work = sys.argv[1:4]
    bpe_tokenizers(root, out)
    print(spm_model(root, out, work))
