#!/usr/bin/env bash
# Installs the reference tokenizers used by compare.sh: the npm packages into
# tests/tokenizer/node_modules (ignored by git) and Debian's sentencepiece (spm_train).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# spm_train is only needed to regenerate the SentencePiece references (build_tokenizers.js).
if [ "${1:-}" = "--regenerate" ] && ! command -v spm_train >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sentencepiece
  else
    echo "setup.sh: spm_train missing; run as root or: apt-get install sentencepiece" >&2
  fi
fi
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
