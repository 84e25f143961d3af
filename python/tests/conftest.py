"""Fixtures for the tessera Python tests: the bundled pycode-6m model, its tokenizer, and the
PyTorch / Hugging Face reference figures shipped beside it (meta.json, reference.safetensors,
tokenizer_reference.json)."""

import json
import pathlib
import struct

import numpy as np
import pytest

import tessera

REPO = pathlib.Path(__file__).resolve().parents[2]
PYCODE = REPO / "models" / "pycode-6m"


def read_safetensors(path):
    """The tensors of a .safetensors file as numpy arrays (the format is an 8-byte header
    length, a JSON header of dtype/shape/offsets, then the data): enough for the reference
    files, without the safetensors package, which Debian 12 does not ship."""
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    raw = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return out


@pytest.fixture(scope="session")
def pycode_dir():
    assert PYCODE.is_dir(), f"{PYCODE} is missing (the model ships in the repository)"
    return PYCODE


@pytest.fixture(scope="session")
def meta(pycode_dir):
    return json.loads((pycode_dir / "meta.json").read_text())


@pytest.fixture(scope="session")
def reference(pycode_dir):
    return read_safetensors(pycode_dir / "reference.safetensors")


@pytest.fixture(scope="session")
def model(pycode_dir):
    return tessera.load(str(pycode_dir))


@pytest.fixture(scope="session")
def tokenizer(pycode_dir):
    return tessera.Tokenizer.from_file(str(pycode_dir))
