#!/usr/bin/env node
// Reference ids for tests/gguf_tokenizer_test.cpp: Hugging Face tokenizers (the npm package that
// tests/tokenizer/setup.sh installs) encodes every string of a corpus with DIR's tokenizer.json
// (with and without special tokens) and decodes the ids without them. Usage: node hf_reference_ids.js DIR CORPUS_JSON  (writes DIR/reference.json)
'use strict';
const fs = require('fs');
const path = require('path');
const nm = path.join(__dirname, '..', '..', 'tests', 'tokenizer', 'node_modules');
const hf = require(path.join(nm, 'tokenizers'));

(async () => {
  const [dir, corpusFile] = process.argv.slice(2);
  const corpus = JSON.parse(fs.readFileSync(corpusFile, 'utf8'));
  const tok = hf.Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
  // ids (with special tokens) for the first strings, ids_no_special for each; decoded only where it is not the text itself.
  const ids = [], idsNoSpecial = [], decoded = {};
  for (let i = 0; i < corpus.length; i++) {
    const e = await tok.encode(corpus[i]);
    const plain = await tok.encode(corpus[i], null, { addSpecialTokens: false });
    if (i < 64) ids.push(e.getIds());  // the post-processor's part: a few are enough
    idsNoSpecial.push(plain.getIds());
    const d = await tok.decode(plain.getIds(), false);
    if (d !== corpus[i]) decoded[i] = d;
  }
  const version = require(path.join(nm, 'tokenizers', 'package.json')).version;
  fs.writeFileSync(path.join(dir, 'reference.json'), JSON.stringify({
    how: `tokenizers (npm ${version}) Tokenizer.fromFile(tokenizer.json).encode(text); written by tools/gguf/hf_reference_ids.js`,
    corpus: path.basename(corpusFile), ids, ids_no_special: idsNoSpecial, decoded }) + '\n');
})();
