#!/usr/bin/env node
// Finds which Unicode version each of Hugging Face tokenizers' character tables follows, by
// asking the real library (npm `tokenizers`, tests/tokenizer/node_modules) about every code
// point and comparing the answer with the Unicode Character Database of each version
// (@unicode/unicode-X.Y.Z npm packages). The versions it reports are the ones
// gen_tables.js is told to use.
// Usage: node tools/unicode/probe_hf.js [--data DIR]   (DIR holds @unicode/unicode-*; see gen_tables.js)
'use strict';
const path = require('path');
const fs = require('fs');

const args = process.argv.slice(2);
const data = args.includes('--data') ? args[args.indexOf('--data') + 1] : '/tmp/tessera-unicode/node_modules';
// --only WORD: run only the probes whose name holds WORD (onig, std, categories, scripts).
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : '';
const hf = require(path.join(__dirname, '..', '..', 'tests', 'tokenizer', 'node_modules', 'tokenizers'));
const VERSIONS = fs.readdirSync(path.join(data, '@unicode')).map((d) => d.replace('unicode-', '')).sort((a, b) =>
  a.split('.').map(Number).reduce((x, v, i) => x || v - b.split('.').map(Number)[i], 0));

const tokenizer = (pre, norm = null) => hf.Tokenizer.fromString(JSON.stringify({ version: '1.0', truncation: null,
  padding: null, added_tokens: [], normalizer: norm, pre_tokenizer: pre, post_processor: null, decoder: null,
  model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' } }));

const ALL = [];
for (let c = 0; c <= 0x10ffff; c++) if (c < 0xd800 || c > 0xdfff) ALL.push(c);

// The code points an Oniguruma class matches: Split(Removed) keeps only what does not match.
function regexSet(cls) {
  const pre = tokenizer({ type: 'Split', pattern: { Regex: cls }, behavior: 'Removed', invert: false }).getPreTokenizer();
  const set = new Set(ALL);
  for (let start = 0; start < ALL.length; start += 0x10000) {
    const chunk = ALL.slice(start, start + 0x10000);
    for (const [, [b, e]] of pre.preTokenizeString(String.fromCodePoint(...chunk)))
      for (let k = b; k < e; k++) set.delete(chunk[k]);
  }
  return set;
}
// The code points a single-character test accepts.
function charSet(test) {
  const set = new Set();
  for (const c of ALL) if (test(String.fromCodePoint(c), c)) set.add(c);
  return set;
}

const ucd = {};
async function load(version, prop) {
  const key = version + '/' + prop;
  if (!ucd[key]) {
    try {
      ucd[key] = new Set((await import(path.join(data, '@unicode', 'unicode-' + version, prop, 'code-points.mjs'))).default);
    } catch (e) { ucd[key] = null; }
  }
  return ucd[key];
}
async function lowerMap(version) {
  const simple = (await import(path.join(data, '@unicode', 'unicode-' + version, 'Simple_Case_Mapping', 'Lowercase', 'code-points.mjs'))).default;
  const special = (await import(path.join(data, '@unicode', 'unicode-' + version, 'Special_Casing', 'Lowercase', 'code-points.mjs'))).default;
  const m = new Map();
  for (const [k, v] of simple) m.set(k, [v]);
  for (const [k, v] of special) m.set(k, Array.isArray(v) ? v : [v]);
  return m;
}

// Prints, for each Unicode version, how many code points `got` and the union of `props`
// (plus `extra` code points) disagree on.
async function report(name, got, props, extra = []) {
  const rows = [];
  for (const v of VERSIONS) {
    const w = new Set(extra);
    let missing = false;
    for (const p of [].concat(props)) {
      const want = await load(v, p);
      if (!want) { missing = true; break; }
      for (const c of want) w.add(c);
    }
    if (missing) continue;
    let diff = 0;
    const ex = [];
    for (const c of ALL) if (got.has(c) !== w.has(c)) { diff++; if (ex.length < 4) ex.push(c.toString(16)); }
    rows.push(`${v}:${diff}${diff ? ' (' + ex.join(',') + ')' : ''}`);
  }
  console.log(`${name.padEnd(40)} ${rows.join('  ')}`);
}

async function main() {
  const gc = { L: 'Letter', Lu: 'Uppercase_Letter', Ll: 'Lowercase_Letter', Lt: 'Titlecase_Letter', Lm: 'Modifier_Letter',
    Lo: 'Other_Letter', M: 'Mark', Mn: 'Nonspacing_Mark', Mc: 'Spacing_Mark', Me: 'Enclosing_Mark', N: 'Number',
    Nd: 'Decimal_Number', Nl: 'Letter_Number', No: 'Other_Number', P: 'Punctuation', Pc: 'Connector_Punctuation',
    Pd: 'Dash_Punctuation', Ps: 'Open_Punctuation', Pe: 'Close_Punctuation', Pi: 'Initial_Punctuation',
    Pf: 'Final_Punctuation', Po: 'Other_Punctuation', S: 'Symbol', Sm: 'Math_Symbol', Sc: 'Currency_Symbol',
    Sk: 'Modifier_Symbol', So: 'Other_Symbol', Z: 'Separator', Zs: 'Space_Separator', Cc: 'Control', Cf: 'Format',
    Co: 'Private_Use' };
  const run = (section) => section.includes(only);
  console.log('component / property                     differing code points per Unicode version (first few)');
  if (run('categories')) {
    // unicode_categories: BertPreTokenizer's punctuation (ASCII punctuation or P*),
    // BertNormalizer's clean_text (drops Cc|Cf|Co but \t \n \r), strip_accents (drops Mn
    // after NFD: only characters without a decomposition tell), and
    // unicode-normalization-alignments' is_combining_mark (StripAccents, any M*).
    const bert = hf.bertPreTokenizer();
    const ascii = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'].map((x) => x.codePointAt(0));
    await report('unicode_categories P (BertPreTokenizer)', charSet((s) => bert.preTokenizeString('a' + s + 'a').length === 3),
      'General_Category/Punctuation', ascii);
    const clean = hf.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
    // NUL and U+FFFD are dropped and \t \n \r kept whatever their category: those four
    // differ in every version.
    await report('unicode_categories Cc|Cf|Co (clean_text)',
      charSet((s, c) => c !== 0 && c !== 0xfffd && clean.normalizeString(s) === ''),
      ['General_Category/Control', 'General_Category/Format', 'General_Category/Private_Use']);
    // strip_accents drops Mn after NFD, so only characters NFD leaves alone tell; the others
    // (18 in Unicode 8.0) differ in every version.
    const nfd = hf.nfdNormalizer();
    const strip = hf.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false });
    await report('unicode_categories Mn (strip_accents)',
      charSet((s) => nfd.normalizeString(s) === s && strip.normalizeString(s) === ''), 'General_Category/Nonspacing_Mark');
    const accents = hf.stripAccentsNormalizer();
    await report('normalization is_combining_mark (StripAccents)', charSet((s) => accents.normalizeString(s) === ''), 'General_Category/Mark');
  }
  if (run('onig')) {
    for (const [short, long] of Object.entries(gc)) await report(`onig \\p{${short}}`, regexSet(`\\p{${short}}`), 'General_Category/' + long);
    await report('onig \\s', regexSet('\\s'), 'Binary_Property/White_Space');
    await report('onig \\p{Alphabetic}', regexSet('\\p{Alphabetic}'), 'Binary_Property/Alphabetic');
    await report('onig \\p{Han}', regexSet('\\p{Han}'), 'Script/Han');
    await report('onig \\p{Latin}', regexSet('\\p{Latin}'), 'Script/Latin');
  }
  if (!run('std')) return;
  // Rust std char methods.
  const ws = hf.whitespaceSplitPreTokenizer();
  await report('std char::is_whitespace (WhitespaceSplit)', charSet((s) => ws.preTokenizeString(s).length === 0), 'Binary_Property/White_Space');
  const digits = hf.digitsPreTokenizer(true);
  // Between two 'a's a numeric character is a piece of its own.
  await report('std char::is_numeric (Digits)', charSet((s) => digits.preTokenizeString('a' + s + 'a').length === 3), 'General_Category/Number');
  const lower = hf.lowercase();
  const lowered = new Map();
  for (const c of ALL) {
    const s = String.fromCodePoint(c);
    const l = lower.normalizeString(s);
    if (l !== s) lowered.set(c, Array.from(l, (x) => x.codePointAt(0)));
  }
  for (const v of VERSIONS) {
    let m;
    try { m = await lowerMap(v); } catch (e) { continue; }
    let diff = 0;
    const ex = [];
    const keys = new Set([...lowered.keys(), ...m.keys()]);
    for (const k of keys) {
      const want = m.get(k), got = lowered.get(k);
      const w = want && !(want.length === 1 && want[0] === k) ? want.join(',') : '', g = got ? got.join(',') : '';
      if (w !== g) { diff++; if (ex.length < 4) ex.push(k.toString(16)); }
    }
    process.stdout.write(`${v}:${diff}${diff ? ' (' + ex.join(',') + ')' : ''}  `);
  }
  console.log(' <- std char::to_lowercase (Lowercase)');
  // The UnicodeScripts pre-tokenizer: where it cuts runs of consecutive code points, against
  // the cuts that each version's Script property gives with its rules (Hiragana, Katakana
  // and U+30FC as Han; space and characters without a script continue the piece).
  const scripts = tokenizer({ type: 'UnicodeScripts' }).getPreTokenizer();
  const cuts = new Set();
  for (let start = 0; start < ALL.length; start += 0x10000) {
    const chunk = ALL.slice(start, start + 0x10000);
    for (const [, [b]] of scripts.preTokenizeString(String.fromCodePoint(...chunk))) cuts.add(chunk[b]);
  }
  const rows = [];
  for (const v of VERSIONS) {
    const dir = path.join(data, '@unicode', 'unicode-' + v, 'Script');
    const script = new Map();
    for (const name of fs.readdirSync(dir)) {
      if (name === 'Unknown' || !fs.existsSync(path.join(dir, name, 'code-points.mjs'))) continue;
      const fixed = name === 'Hiragana' || name === 'Katakana' ? 'Han' : name;
      for (const c of await load(v, 'Script/' + name)) script.set(c, fixed);
    }
    script.set(0x30fc, 'Han');
    script.delete(0x20);
    const want = new Set();
    for (let start = 0; start < ALL.length; start += 0x10000) {
      let last = null;
      for (const c of ALL.slice(start, start + 0x10000)) {
        const sc = script.get(c);
        if (sc === undefined) continue;
        if (sc !== last) want.add(c);
        last = sc;
      }
    }
    let diff = 0;
    for (const c of ALL) if (cuts.has(c) !== want.has(c)) diff++;
    rows.push(`${v}:${diff}`);
  }
  console.log(`${'UnicodeScripts cuts'.padEnd(40)} ${rows.join('  ')}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
