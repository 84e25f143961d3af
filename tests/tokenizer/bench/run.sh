#!/usr/bin/env bash
# Tokenizer speed, tessera vs Hugging Face tokenizers (npm), on ~2 MB of Python source and
# prose from this machine. Usage: tests/tokenizer/bench/run.sh BUILD_DIR [SECONDS]
# (BUILD_DIR must have built the target tessera_tokenizer_bench.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: run.sh BUILD_DIR [SECONDS]}"
secs="${2:-3}"
text="$(mktemp)"
trap 'rm -f "$text"' EXIT
py=$(ls -d /usr/lib/python3.* 2>/dev/null | head -1)
cat "$py"/*.py /usr/share/common-licenses/* 2>/dev/null | head -c 2000000 > "$text"
for t in gpt2 bert-base-uncased spm-bpe-llama spm-unigram cl100k; do
  dir="$here/../../data/tokenizers/$t"
  "$build/tests/tessera_tokenizer_bench" "$dir" "$text" "$secs" 2>/dev/null \
    || "$build/tests/tokenizer/tessera_tokenizer_bench" "$dir" "$text" "$secs"
  node "$here/bench.js" "$dir" "$text" "$secs"
done
