"""Bad input through the Python API: tessera.Error (a RuntimeError) with tessera's message,
naming the path or parameter; never a crash."""

import numpy as np
import pytest

import tessera


def test_error_is_a_runtime_error():
    assert issubclass(tessera.Error, RuntimeError)


def test_missing_model_names_the_path(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(tessera.Error) as e:
        tessera.load(str(missing))
    assert str(missing) in str(e.value)


def test_missing_tokenizer_names_the_path(tmp_path):
    missing = tmp_path / "nothing" / "tokenizer.json"
    with pytest.raises(tessera.Error) as e:
        tessera.Tokenizer.from_file(str(missing))
    assert str(missing.parent) in str(e.value)


def test_directory_without_config(tmp_path):
    with pytest.raises(tessera.Error, match="config.json"):
        tessera.load(str(tmp_path))


def test_unknown_quantization_type_lists_the_choices(pycode_dir):
    with pytest.raises(tessera.Error, match="q8_0"):
        tessera.load(str(pycode_dir), quantize="q3_xyz")


def test_forward_rejects_bad_ids(model):
    with pytest.raises(tessera.Error, match="outside the vocabulary"):
        model.forward([1, 2, 4096])
    with pytest.raises(tessera.Error, match="not a valid token id"):
        model.forward([1, -2, 3])
    with pytest.raises(tessera.Error, match="ids must be integers"):
        model.forward(np.array([1.0, 2.0]))
    with pytest.raises(tessera.Error, match=r"1-D \[tokens\] or 2-D"):
        model.forward(np.zeros((1, 2, 3), dtype=np.int32))
    with pytest.raises(tessera.Error, match="no token ids"):
        model.forward([])
    with pytest.raises(tessera.Error, match="rows of equal length, found list"):
        model.forward([[1, 2], [3]])
    with pytest.raises(tessera.Error, match="numpy dtype object is not supported"):
        model.forward(object())
    with pytest.raises(tessera.Error, match="numpy dtype"):
        model.forward(np.array(["a", "b"]))
    with pytest.raises(tessera.Error, match="not in native byte order"):
        model.forward(np.array([1, 2], dtype=">i4"))


def test_forward_rejects_bad_attention_mask(model):
    with pytest.raises(tessera.Error, match="attention_mask"):
        model.forward([[1, 2, 3]], attention_mask=[[1, 1]])
    with pytest.raises(tessera.Error, match="right-padded"):
        model.forward([[1, 2, 3]], attention_mask=[[0, 1, 1]])


def test_decoder_has_no_encoder(model):
    with pytest.raises(tessera.Error, match="no text encoder"):
        model.encode([1, 2, 3])


def test_forward_named_refuses_misspelt_inputs(model):
    with pytest.raises(tessera.Error, match="input_id"):
        model.forward_named({"input_id": np.array([[1, 2]])})


def test_set_num_threads_refuses_zero():
    with pytest.raises(tessera.Error, match="n >= 1"):
        tessera.set_num_threads(0)
