#!/usr/bin/env node
// Encode throughput of Hugging Face tokenizers (npm) on the same text as tokenizer_bench.cpp:
// encode() one line at a time (awaited in turn) and encodeBatch() of all lines.
// Usage: node bench.js TOKENIZER_JSON TEXT_FILE [SECONDS]
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require(path.join(__dirname, '..', 'node_modules', 'tokenizers'));
const [file, textFile, secs] = process.argv.slice(2);
const seconds = parseFloat(secs || '3');
const tok = Tokenizer.fromFile(fs.statSync(file).isDirectory() ? path.join(file, 'tokenizer.json') : file);
const lines = fs.readFileSync(textFile, 'utf8').split('\n').map((l) => l + '\n');
lines.pop();
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
async function run(body) {
  let rounds = 0, tokens = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  do {
    tokens += await body();
    rounds++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < seconds);
  return [bytes * rounds / elapsed / 1e6, tokens / elapsed / 1e6];
}
(async () => {
  const [mb1, mt1] = await run(async () => { let n = 0; for (const l of lines) n += (await tok.encode(l, null, { addSpecialTokens: false })).getLength(); return n; });
  const [mbn, mtn] = await run(async () => (await tok.encodeBatch(lines, { addSpecialTokens: false })).reduce((n, e) => n + e.getLength(), 0));
  console.log(`${file}: ${(bytes / 1e6).toFixed(2)} MB of text, ${lines.length} lines (tokenizers npm)`);
  console.log(`  encode, one at a time:       ${mb1.toFixed(2).padStart(8)} MB/s  ${mt1.toFixed(2).padStart(6)} M tokens/s`);
  console.log(`  encodeBatch (rayon threads): ${mbn.toFixed(2).padStart(8)} MB/s  ${mtn.toFixed(2).padStart(6)} M tokens/s`);
})();
