"""Model.encode on an encoder (the RoBERTa fixture of tests/data/hf) against Hugging Face's
last_hidden_state; pooling and normalisation against numpy on that reference."""

import numpy as np
import pytest

import tessera
from conftest import REPO, read_safetensors

FIXTURE = REPO / "tests" / "data" / "hf" / "roberta"


@pytest.fixture(scope="module")
def roberta():
    return tessera.load(str(FIXTURE)), read_safetensors(FIXTURE / "reference.safetensors")


def close(got, want):
    return np.max(np.abs(got - want)) <= 1e-4 * max(1.0, float(np.max(np.abs(want))))


def test_hidden_states_match_hugging_face(roberta):
    model, ref = roberta
    assert model.info.kind == "encoder"
    ids, mask, want = ref["input_ids"], ref["attention_mask"], ref["last_hidden_state"]
    lengths = mask.sum(axis=1)
    out = model.encode(ids, attention_mask=mask)
    assert out.shape == want.shape
    for r, n in enumerate(lengths):
        assert close(out[r, :n], want[r, :n])
        assert not out[r, n:].any()  # padding positions are zeros
    assert close(model.encode(ids[1, : lengths[1]]), want[1, : lengths[1]])  # one unpadded sequence


def test_pooling_and_normalisation(roberta):
    model, ref = roberta
    ids, mask, want = ref["input_ids"], ref["attention_mask"], ref["last_hidden_state"]
    lengths = mask.sum(axis=1)
    mean = np.stack([want[r, :n].astype(np.float64).mean(axis=0) for r, n in enumerate(lengths)])
    cls = want[:, 0].astype(np.float64)
    assert close(model.encode(ids, attention_mask=mask, pooling="mean"), mean)
    assert close(model.encode(ids, attention_mask=mask, pooling="cls"), cls)
    unit = mean / np.linalg.norm(mean, axis=1, keepdims=True)
    got = model.encode(ids, attention_mask=mask, pooling="mean", normalize=True)
    assert close(got, unit)
    assert model.encode(ids[0], pooling="cls").shape == (want.shape[2],)


def test_bad_pooling(roberta):
    model, ref = roberta
    with pytest.raises(tessera.Error, match="supported: mean, cls"):
        model.encode(ref["input_ids"], pooling="max")
    with pytest.raises(tessera.Error, match="normalize=True needs pooling"):
        model.encode(ref["input_ids"], normalize=True)


def test_encoder_has_no_decoder(roberta):
    model, ref = roberta
    with pytest.raises(tessera.Error, match="gives no logits"):
        model.forward(ref["input_ids"])
