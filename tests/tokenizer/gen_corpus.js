#!/usr/bin/env node
// Writes tests/data/tokenizers/hostile_corpus.json: a fixed-seed corpus of strings chosen to
// break tokenizers (every Unicode general category, combining marks, ZWJ emoji, CJK, RTL,
// control characters, long runs of spaces and digits, special-token look-alikes, code).
// Usage: node gen_corpus.js [COUNT] [OUT]
'use strict';
const fs = require('fs');
const path = require('path');

const COUNT = parseInt(process.argv[2] || '2400', 10);
const OUT = process.argv[3] || path.join(__dirname, '..', 'data', 'tokenizers', 'hostile_corpus.json');

let seed = 0x7e55e4a;
function rand() {  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randint = (a, b) => a + Math.floor(rand() * (b - a + 1));
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
const cp = (c) => String.fromCodePoint(c);

const CATEGORIES = ['Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'Mn', 'Mc', 'Me', 'Nd', 'Nl', 'No', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf',
  'Po', 'Sm', 'Sc', 'Sk', 'So', 'Zs', 'Zl', 'Zp', 'Cc', 'Cf', 'Co', 'Cn'];
// All code points of each category (no surrogates: they cannot be in UTF-8 text).
const byCat = {};
for (const cat of CATEGORIES) byCat[cat] = [];
const catRe = CATEGORIES.map((c) => [c, new RegExp(`^\\p{${c === 'Cn' ? 'Cn' : 'gc=' + c}}$`, 'u')]);
for (let c = 0; c <= 0x10ffff; c++) {
  if (c >= 0xd800 && c <= 0xdfff) continue;
  // Sample the huge planes sparsely to keep this fast.
  if (c > 0x30000 && c % 97 !== 0) continue;
  const s = cp(c);
  for (const [cat, re] of catRe) {
    if (re.test(s)) {
      byCat[cat].push(c);
      break;
    }
  }
}
const randCat = (cat) => cp(pick(byCat[cat]));

const WORDS = ['the', 'quick', 'brown', 'fox', "don't", "it's", "We'll", "I'M", "you'RE", 'naïve', 'café', 'über',
  'straße', 'İstanbul', 'ΣΊΣΥΦΟΣ', 'ὀδυσσεύς', 'Москва', 'ქართული', 'العربية', 'עִבְרִית', 'हिन्दी', 'বাংলা', 'ไทย',
  '日本語', '中文字符', '한국어', 'ﾊﾝｶｸ', 'ｆｕｌｌｗｉｄｔｈ', '𝐁𝐨𝐥𝐝', 'ﬁnance', 'Ⅻ', '½', '²³', '٣٤٥', '１２３', 'x²', 'e\u0301',
  'a\u0308\u0301', 'n\u0303', 'Å', 'A\u030a', '\u212b', 'ǅ', 'ß', 'ẞ', 'İ', 'ı', 'ﬀ', 'Ǆ', 'σς', 'hello_world', 'snake_case',
  'CamelCase', 'getHTTPResponse', 'x86_64', 'v1.2.3', '3.14159', '1e-9', '0xDEADBEEF', '$100', '€50', '£', '¥', '₹'];
const EMOJI = ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇯🇵', '🇺🇸', '❤️', '🧑🏿‍🚀', '👁️‍🗨️', '🤷‍♀️', '✊🏾', '🫠', '🦀', '#️⃣',
  '1️⃣', '©️', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '👩🏻‍❤️‍💋‍👨🏼', '☃', '\u{1F600}\u{FE0F}', '\u200d', '\ufe0f'];
const SPECIAL = ['<|endoftext|>', '<|endoftext|', '|endoftext|>', '<|endoftext|>>', '<<|endoftext|>', '<|ENDOFTEXT|>',
  '<|endoftext|><|endoftext|>', ' <|endoftext|> ', '[CLS]', '[SEP]', '[PAD]', '[MASK]', '[UNK]', '[cls]', '[ CLS ]',
  '[CLS][SEP]', '<s>', '</s>', '<unk>', '<pad>', '<s >', '< s>', '</s></s>', '<mask>', '▁', '▁▁', '▁the', '<0x41>', '<0xZZ>',
  '##ing', '##', 'Ġ', 'Ċ', 'ĠĠ', '<|im_start|>', '<|begin_of_text|>', '<|fim_prefix|>', '\\u0000', '&lt;s&gt;'];
const SPACES = [' ', '  ', '   ', '\t', '\n', '\r\n', '\r', '\u00a0', '\u2003', '\u3000', '\u200b', '\u2028', '\u2029',
  '\u0085', '\u000b', '\u000c', '\u180e', '\ufeff', '\u202f', '\u205f', '\u1680'];
const CONTROLS = [0, 1, 7, 8, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9f, 0xad, 0x200e, 0x200f, 0x202a, 0x202e, 0x2066, 0x2069,
  0xfff9, 0xfffc, 0xfffd, 0xe000, 0xf8ff, 0xf0000, 0x10fffd, 0xfdd0, 0xfffe, 0xffff, 0x1fffe, 0xe0001, 0xe007f];
const CODE = ['def f(x):\n    return x + 1\n', 'for (int i = 0; i < n; ++i) { a[i] = b[i] * 2; }',
  'if __name__ == "__main__":\n\tmain()', '#include <stdio.h>\nint main(){printf("%d\\n", 42);}',
  'SELECT * FROM t WHERE a >= 10 AND b <> \'x\';', '<div class="a">&nbsp;</div>', 'λx.λy.x', 'x => x ** 2',
  '    ', '\t\t\treturn;', '{"key": [1, 2.5e10, null, true]}', '// TODO: fix ünïcödé\n', 'a!=b&&c||d', '~/.bashrc',
  'https://example.com/path?q=1&r=%20#frag', 'user@example.org', '#!/usr/bin/env python3', '"""docstring"""'];
const SCRIPTS = [[0x0041, 0x007a], [0x00c0, 0x024f], [0x0370, 0x03ff], [0x0400, 0x04ff], [0x0530, 0x058f],
  [0x0590, 0x05ff], [0x0600, 0x06ff], [0x0900, 0x097f], [0x0980, 0x09ff], [0x0e00, 0x0e7f], [0x10a0, 0x10ff],
  [0x1100, 0x11ff], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x3400, 0x4dbf], [0x20000, 0x2a6df],
  [0xf900, 0xfaff], [0x1d400, 0x1d7ff], [0x1f300, 0x1f6ff], [0x0300, 0x036f], [0x2000, 0x206f], [0xff00, 0xffef]];

function fromScript() {
  const [a, b] = pick(SCRIPTS);
  let s = '';
  for (let n = randint(1, 12); n > 0; n--) {
    const c = randint(a, b);
    if (c >= 0xd800 && c <= 0xdfff) continue;
    s += cp(c);
  }
  return s;
}

const GENERATORS = [
  () => { let s = ''; for (let n = randint(1, 20); n > 0; n--) s += randCat(pick(CATEGORIES)); return s; },
  () => { const cat = pick(CATEGORIES); let s = ''; for (let n = randint(1, 8); n > 0; n--) s += randCat(cat); return s; },
  () => { let s = pick(WORDS); for (let n = randint(1, 6); n > 0; n--) s += randCat(pick(['Mn', 'Me', 'Mc'])); return s; },
  () => { let s = ''; for (let n = randint(1, 10); n > 0; n--) s += pick(WORDS) + pick(SPACES); return s; },
  () => { let s = ''; for (let n = randint(1, 6); n > 0; n--) s += pick(EMOJI) + (rand() < 0.5 ? ' ' : ''); return s; },
  () => { let s = ''; for (let n = randint(1, 5); n > 0; n--) s += pick(WORDS) + pick(SPECIAL) + pick(['', ' ', '\n']); return s; },
  () => ' '.repeat(randint(1, 80)) + pick(WORDS) + ' '.repeat(randint(0, 40)),
  () => pick(SPACES).repeat(randint(1, 30)) + pick(['', 'x', '1', '!', '\n']),
  () => '9'.repeat(randint(1, 60)) + pick(['', '.', ',', ' ']) + String(randint(0, 1e9)),
  () => { let s = ''; for (let n = randint(1, 40); n > 0; n--) s += String(randint(0, 9)); return s; },
  () => { let s = ''; for (let n = randint(1, 12); n > 0; n--) s += cp(pick(CONTROLS)) + (rand() < 0.5 ? pick(WORDS) : ''); return s; },
  () => pick(CODE) + pick(SPACES) + pick(CODE),
  () => fromScript() + pick(SPACES) + fromScript(),
  () => '\u202e' + pick(WORDS) + ' ' + pick(WORDS) + '\u202c' + ' \u05e9\u05dc\u05d5\u05dd 123 abc \u0645\u0631\u062d\u0628\u0627',
  () => { let s = ''; for (let n = randint(2, 30); n > 0; n--) s += pick([pick(WORDS), pick(EMOJI), pick(SPECIAL), pick(SPACES), randCat(pick(CATEGORIES)), fromScript(), String(randint(0, 99999)), pick(["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "’s"])]); return s; },
  () => pick(WORDS).toUpperCase() + pick(WORDS).normalize(pick(['NFC', 'NFD', 'NFKC', 'NFKD'])),
  () => pick(["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]).repeat(randint(1, 5)) + pick(SPACES) + "'",
  () => pick('!@#$%^&*()_+-=[]{};:\'",.<>/?\\|`~'.split('')).repeat(randint(1, 30)),
  () => { let s = ''; for (let n = randint(1, 200); n > 0; n--) s += String.fromCharCode(randint(32, 126)); return s; },
  () => pick(WORDS).repeat(randint(5, 60)),
];

const fixed = ['', ' ', '  ', '\n', '\n\n', '\t', 'a', ' a', 'a ', '  a  ', '\u00e9', 'e\u0301', '\u0301', '\u0301a', 'ﬁ',
  '<|endoftext|>', 'x<|endoftext|>y', ' <|endoftext|>', '[CLS] hello [SEP]', '<s>hi</s>', '▁▁▁', '\u0000', '\uffff',
  '\ufeffBOM', 'Hello, world!', "I'm here, you're there, it's fine.", 'ＡＢＣ１２３', '𝕳𝖊𝖑𝖑𝖔', '\u{10FFFF}', '\u{E0041}'];

const out = [...fixed];
while (out.length < COUNT) {
  const s = pick(GENERATORS)();
  out.push(s);
}
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify(out, null, 0) + '\n');
const cats = Object.fromEntries(CATEGORIES.map((c) => [c, byCat[c].length]));
console.error(`gen_corpus: wrote ${out.length} strings to ${OUT}; category pools: ${JSON.stringify(cats)}`);
