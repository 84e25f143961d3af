#!/usr/bin/env node
// The reference rows of the tokenizer benchmark, on the same corpus as tokenizer_bench.cpp
// (documents separated by NUL bytes), printed as the same RESULT lines:
//   node bench.js hf TOKENIZER_JSON_OR_DIR CORPUS [REPS]
//     Hugging Face tokenizers (npm, Rust): encode() one document at a time, each awaited
//     before the next, and encodeBatch() of all documents; its rayon pool takes
//     RAYON_NUM_THREADS threads (run.sh sets it), reported as threads=.
//   node bench.js tiktoken ENCODING CORPUS [REPS]
//     npm tiktoken (OpenAI's Rust core compiled to wasm): encode_ordinary() one document at a
//     time (ids only: no offsets or token strings, less work than the others do).
// cpu_mbps is MB per CPU-second of the whole process (process.cpuUsage counts every thread,
// so the libuv/rayon threads that run an awaited encode() are included).
'use strict';
const fs = require('fs');
const path = require('path');
const modules = path.join(__dirname, '..', 'node_modules');
const [impl, what, corpusFile, repsArg] = process.argv.slice(2);
const reps = Math.max(1, parseInt(repsArg || '3', 10));
const docs = fs.readFileSync(corpusFile, 'utf8').split('\0').filter((d) => d.length > 0);
const mb = docs.reduce((n, d) => n + Buffer.byteLength(d), 0) / 1e6;
const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

async function row(name, threads, pass) {
  let tokens = await pass();  // warm-up
  const cpu = [], wall = [];
  for (let r = 0; r < reps; r++) {
    const c0 = cpuSeconds();
    const w0 = process.hrtime.bigint();
    tokens = await pass();
    wall.push(mb / (Number(process.hrtime.bigint() - w0) / 1e9));
    cpu.push(mb / (cpuSeconds() - c0));
  }
  console.log(`RESULT impl=${impl} row=${name} threads=${threads} cpu_mbps=${median(cpu).toFixed(2)} wall_mbps=${median(wall).toFixed(2)} tokens=${tokens}`);
}

(async () => {
  console.log(`${what}: ${mb.toFixed(2)} MB in ${docs.length} documents, ${reps} repetitions (+1 warm-up) [${impl}]`);
  if (impl === 'hf') {
    const { Tokenizer } = require(path.join(modules, 'tokenizers'));
    const tok = Tokenizer.fromFile(fs.statSync(what).isDirectory() ? path.join(what, 'tokenizer.json') : what);
    const opts = { addSpecialTokens: false };
    const threads = parseInt(process.env.RAYON_NUM_THREADS || '0', 10) || require('os').cpus().length;
    if (threads === 1) {
      await row('encode', 1, async () => { let n = 0; for (const d of docs) n += (await tok.encode(d, null, opts)).getLength(); return n; });
    }
    await row('encode_batch', threads, async () => (await tok.encodeBatch(docs, opts)).reduce((n, e) => n + e.getLength(), 0));
  } else if (impl === 'tiktoken') {
    const { get_encoding } = require(path.join(modules, 'tiktoken'));
    const enc = get_encoding(what);
    await row('encode', 1, async () => { let n = 0; for (const d of docs) n += enc.encode_ordinary(d).length; return n; });
    enc.free();
  } else {
    console.error('usage: bench.js hf TOKENIZER CORPUS [REPS] | bench.js tiktoken ENCODING CORPUS [REPS]');
    process.exit(2);
  }
})();
