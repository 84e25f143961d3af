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

# The table: per row, MB per CPU-second and MB per wall second for each implementation, and
# tessera's ratio to the Rust tokenizers on the same row (CPU and wall).
node - "$log" <<'JS'
const lines = require('fs').readFileSync(process.argv[2], 'utf8').split('\n');
const rows = [];
for (const l of lines) {
  if (!l.startsWith('RESULT ')) continue;
  rows.push(Object.fromEntries(l.slice(7).split(' ').map((kv) => kv.split('='))));
}
const find = (t, impl, row, th) => rows.find((r) => r.tokenizer === t && r.impl === impl && r.row === row && r.threads === String(th));
const v = (x, k) => (x ? Number(x[k]).toFixed(2) : '–');
const ratio = (a, b, k) => (a && b ? (Number(a[k]) / Number(b[k])).toFixed(2) + '×' : '–');
console.log('\n| tokenizer | row | tessera CPU | tessera wall | HF CPU | HF wall | tiktoken CPU | tiktoken wall | tessera/HF CPU | tessera/HF wall |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const t of [...new Set(rows.map((r) => r.tokenizer))]) {
  for (const [row, th] of [['encode', 1], ['encode_batch', 1], ['encode_batch', 2]]) {
    const a = find(t, 'tessera', row, th), b = find(t, 'hf', row, th), c = find(t, 'tiktoken', row, th);
    console.log(`| ${t} | ${row}, ${th} thread${th > 1 ? 's' : ''} | ${v(a, 'cpu_mbps')} | ${v(a, 'wall_mbps')} | ${v(b, 'cpu_mbps')} | ${v(b, 'wall_mbps')} | ${v(c, 'cpu_mbps')} | ${v(c, 'wall_mbps')} | ${ratio(a, b, 'cpu_mbps')} | ${ratio(a, b, 'wall_mbps')} |`);
  }
}
console.log('\nCPU: MB per CPU-second of the process (all its threads); wall: MB per wall-clock second.');
JS
