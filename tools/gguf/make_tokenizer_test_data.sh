#!/usr/bin/env bash
# Regenerates tests/data/gguf/ (the GGUF tokenizer test data): test vocabularies
# (make_test_vocabs.py), their GGUF metadata as convert_hf_to_gguf.py would write it
# (hf_to_gguf_tokenizer_meta.py, through a real vocabulary-only GGUF) and reference ids from
# independent tokenizers (Hugging Face tokenizers via npm; SentencePiece itself).
# Needs: llama.cpp's gguf-py (LLAMA_CPP=/path/to/llama.cpp), Debian's python3-numpy,
# python3-sentencepiece and sentencepiece (spm_train), tests/tokenizer/setup.sh's node_modules,
# and for pycode-6m the GGUF file (PYCODE_GGUF).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/tests/data/gguf"
py=/usr/bin/python3
export PYTHONPATH="${LLAMA_CPP:-/work/peers/llama.cpp}/gguf-py"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
tools="$root/tools/gguf"
if [ -n "${PYCODE_GGUF:-}" ]; then
  "$py" "$tools/dump_tokenizer_meta.py" "$PYCODE_GGUF" "$out/pycode-6m-tokenizer-meta.json"
fi
model="$("$py" "$tools/make_test_vocabs.py" "$root" "$out" "$work" | tail -1)"
"$py" - "$root/tests/data/tokenizers/hostile_corpus.json" "$out/corpus.json" <<'PY'
import json, sys
corpus = json.load(open(sys.argv[1], encoding="utf-8"))
corpus += [
    "<|begin_of_text|>Hello<|eot_id|> world <tool_call>{\"a\": 1}",
    "<|im_start|>user\nWhat is 12345 + 678?<|im_end|>\n<|im_start|>assistant\n",
    "def f(x):\n    return x ** 2  # square\n\n\nclass A:\n\tpass\n",
    "caf\u0065\u0301 vs caf\u00e9, \uff21\uff22 \u2460",
]
json.dump(corpus, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
for name in llama3-style qwen2-style; do
  pre=llama-bpe; [ "$name" = qwen2-style ] && pre=qwen2
  "$py" "$tools/hf_to_gguf_tokenizer_meta.py" bpe "$out/$name" "$pre" "$out/$name/gguf-meta.json"
  node "$tools/hf_reference_ids.js" "$out/$name" "$out/corpus.json"
done
"$py" "$tools/hf_to_gguf_tokenizer_meta.py" spm "$model" "$work" "$out/spm-llama/gguf-meta.json"
"$py" "$tools/spm_reference_ids.py" "$model" "$out/corpus.json" "$out/spm-llama/reference.json"
echo "make_tokenizer_test_data: wrote $out"
