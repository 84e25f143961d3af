#!/usr/bin/env bash
# Tokenizer speed, tessera vs Hugging Face tokenizers (npm, Rust) and tiktoken (npm, wasm),
# side by side in one run on the Python standard library sources of this machine.
# Usage: tests/tokenizer/bench/run.sh BUILD_DIR [REPETITIONS] [TOKENIZERS...]
#   BUILD_DIR must have built the target tessera_tokenizer_bench;
#   REPETITIONS (default 3): timed passes over the corpus per row, medians reported;
#   TOKENIZERS (default: gpt2 cl100k bert-base-uncased): folders of tests/data/tokenizers.
# Prints the raw RESULT lines (with `uptime` before each tokenizer), then a Markdown table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: run.sh BUILD_DIR [REPETITIONS] [TOKENIZERS...]}"
reps="${2:-3}"
shift $(( $# >= 2 ? 2 : 1 ))
tokenizers=("$@")
[ ${#tokenizers[@]} -gt 0 ] || tokenizers=(gpt2 cl100k bert-base-uncased)
bin="$build/tests/tessera_tokenizer_bench"
[ -x "$bin" ] || bin="$build/tests/tokenizer/tessera_tokenizer_bench"
[ -x "$bin" ] || bin="$build/tessera_tokenizer_bench"
corpus="$(mktemp)"
log="$(mktemp)"
trap 'rm -f "$corpus" "$log"' EXIT

# The corpus: every .py file of the Python standard library (valid UTF-8 ones, sorted by
# path), cut at line ends into documents of at most 8 KiB, separated by NUL bytes.
py=/usr/lib/python3.11
python3 - "$py" "$corpus" <<'PY'
import os, sys
root, out = sys.argv[1], sys.argv[2]
docs = []
for d, _, files in sorted(os.walk(root)):
    for name in sorted(files):
        if not name.endswith('.py'):
            continue
        try:
            text = open(os.path.join(d, name), 'rb').read().decode('utf-8')
        except (UnicodeDecodeError, OSError):
            continue
        doc = ''
        for line in text.splitlines(keepends=True):
            if doc and len((doc + line).encode()) > 8192:
                docs.append(doc)
                doc = ''
            doc += line
        if doc:
            docs.append(doc)
open(out, 'w', encoding='utf-8').write('\0'.join(docs))
PY

declare -A tiktoken_name=([gpt2]=gpt2 [cl100k]=cl100k_base)
for t in "${tokenizers[@]}"; do
  dir="$here/../../data/tokenizers/$t"
  echo "LOAD tokenizer=$t $(uptime)" | tee -a "$log"
  "$bin" "$dir" "$corpus" "$reps" | sed "s/^RESULT /RESULT tokenizer=$t /" | tee -a "$log"
  RAYON_NUM_THREADS=1 node "$here/bench.js" hf "$dir" "$corpus" "$reps" | sed "s/^RESULT /RESULT tokenizer=$t /" | tee -a "$log"
  RAYON_NUM_THREADS=2 node "$here/bench.js" hf "$dir" "$corpus" "$reps" | sed "s/^RESULT /RESULT tokenizer=$t /" | tee -a "$log"
  if [ -n "${tiktoken_name[$t]:-}" ]; then
    node "$here/bench.js" tiktoken "${tiktoken_name[$t]}" "$corpus" "$reps" | sed "s/^RESULT /RESULT tokenizer=$t /" | tee -a "$log"
  fi
done
echo "LOAD end $(uptime)" | tee -a "$log"

# The table: MB/s per row, and tessera's ratio to the Rust tokenizers on the same row.
node - "$log" <<'JS'
const lines = require('fs').readFileSync(process.argv[2], 'utf8').split('\n');
const rows = [];
for (const l of lines) {
  if (!l.startsWith('RESULT ')) continue;
  const r = Object.fromEntries(l.slice(7).split(' ').map((kv) => kv.split('=')));
  rows.push(r);
}
const find = (t, impl, row, th) => rows.find((r) => r.tokenizer === t && r.impl === impl && r.row === row && r.threads === String(th));
console.log('\n| tokenizer | row | tessera | HF tokenizers (Rust) | tiktoken (wasm) | tessera / HF |');
console.log('|---|---|---|---|---|---|');
for (const t of [...new Set(rows.map((r) => r.tokenizer))]) {
  for (const [row, th, unit] of [['encode', 1, 'cpu'], ['encode_batch', 1, 'wall'], ['encode_batch', 2, 'wall']]) {
    const key = unit + '_mbps';
    const a = find(t, 'tessera', row, th), b = find(t, 'hf', row, th), c = find(t, 'tiktoken', row, th);
    const v = (x) => (x ? Number(x[key]).toFixed(2) : '–');
    const ratio = a && b ? (Number(a[key]) / Number(b[key])).toFixed(2) + '×' : '–';
    console.log(`| ${t} | ${row}, ${th} thread${th > 1 ? 's' : ''} (${unit === 'cpu' ? 'MB/CPU-s' : 'MB/s wall'}) | ${v(a)} | ${v(b)} | ${v(c)} | ${ratio} |`);
  }
}
JS
