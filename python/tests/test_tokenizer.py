"""tessera.Tokenizer against the ids and texts Hugging Face's tokenizer produced for
pycode-6m (tokenizer_reference.json, meta.json)."""

import json

import numpy as np
import pytest

import tessera


def test_encode_matches_hugging_face(tokenizer, pycode_dir):
    cases = json.loads((pycode_dir / "tokenizer_reference.json").read_text())["cases"]
    assert len(cases) == 30
    for case in cases:
        assert tokenizer.encode(case["text"]) == case["ids"], case["source"]


def test_decode_matches_hugging_face(tokenizer, pycode_dir):
    cases = json.loads((pycode_dir / "tokenizer_reference.json").read_text())["cases"]
    for case in cases:
        assert tokenizer.decode(case["ids"]) == case["decoded"], case["source"]


def test_round_trip(tokenizer, pycode_dir):
    for text in ["def f(x):\n    return x ** 2\n", "naïve café — 日本語 🙂", "", "   \t\n", "<|endoftext|>a"]:
        assert tokenizer.decode(tokenizer.encode(text)) == text


def test_decode_of_reference_window(tokenizer, reference, meta):
    assert tokenizer.decode(reference["eval_ids"][0]) == meta["reference"]["eval_text"]


def test_batch_and_vocabulary(tokenizer, meta):
    texts = ["import os\n", "class A:\n    pass\n"]
    assert tokenizer.encode_batch(texts) == [tokenizer.encode(t) for t in texts]
    assert tokenizer.vocab_size == meta["tokenizer"]["vocab_size"]
    assert tokenizer.token_to_id("<|endoftext|>") == 0
    assert tokenizer.id_to_token(0) == "<|endoftext|>"
    assert tokenizer.id_to_token(tokenizer.vocab_size) is None
    assert tokenizer.token_to_id("no such token, surely") is None


def test_decode_refuses_ids_outside_the_vocabulary(tokenizer):
    with pytest.raises(tessera.Error, match=r"id 4096 at position 1 is outside the vocabulary \[0, 4096\)"):
        tokenizer.decode([1, 4096])
    with pytest.raises(tessera.Error, match="id -1 at position 0"):
        tokenizer.decode(np.array([-1, 2]))


def test_encode_refuses_invalid_utf8_through_str_only(tokenizer):
    # Python str cannot hold invalid UTF-8 except lone surrogates, which pybind11 refuses.
    with pytest.raises((UnicodeEncodeError, TypeError)):
        tokenizer.encode("\ud800")
