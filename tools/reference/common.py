"""Shared pieces of the reference re-implementation (PyTorch, float32, CPU).

Everything here is written from Hugging Face transformers' modeling code (5.x, eager attention) and
reads config.json generically (4.x keys such as rope_theta / rope_scaling / rotary_pct / torch_dtype and
5.x keys such as rope_parameters / dtype).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

import st

torch.set_num_threads(1)

NEG = torch.finfo(torch.float32).min


# ----------------------------------------------------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------------------------------------------------
def load_config(d):
    with open(os.path.join(d, "config.json")) as f:
        return json.load(f)


def load_weights(d, dtype=torch.float32):
    """All tensors of model.safetensors upcast to float32 (the reference always computes in float32)."""
    w, _ = st.load(os.path.join(d, "model.safetensors"))
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in w.items()}


class W:
    """Weight dict with prefix access."""

    def __init__(self, d, prefix=""):
        self.d = d
        self.prefix = prefix

    def __call__(self, name, default=KeyError):
        k = self.prefix + name
        if k in self.d:
            return self.d[k]
        if default is KeyError:
            raise KeyError(k)
        return default

    def has(self, name):
        return (self.prefix + name) in self.d

    def sub(self, p):
        return W(self.d, self.prefix + p)


# ----------------------------------------------------------------------------------------------------------------------
# activations (transformers.activations.ACT2FN)
# ----------------------------------------------------------------------------------------------------------------------
def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def act_fn(name):
    name = name.lower() if isinstance(name, str) else name
    table = {
        "gelu": F.gelu,                                            # exact (erf)
        "gelu_python": lambda x: x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))),
        "gelu_new": gelu_new,                                      # tanh approximation, explicit formula
        "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "gelu_fast": lambda x: 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
        "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
        "relu": F.relu,
        "relu6": F.relu6,
        "silu": F.silu,
        "swish": F.silu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "linear": lambda x: x,
        "mish": F.mish,
    }
    if name not in table:
        raise ValueError("unsupported activation %r" % name)
    return table[name]


# ----------------------------------------------------------------------------------------------------------------------
# norms / linear
# ----------------------------------------------------------------------------------------------------------------------
def linear(x, w, b=None):
    return F.linear(x, w, b)


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def rms_norm(x, w, eps, gemma=False):
    """LlamaRMSNorm / T5LayerNorm (w * x/rms); Gemma: (1 + w) * x/rms, both computed in float32."""
    dt = x.dtype
    h = x.to(torch.float32)
    var = h.pow(2).mean(-1, keepdim=True)
    h = h * torch.rsqrt(var + eps)
    if gemma:
        return (h * (1.0 + w.float())).to(dt)
    return w * h.to(dt)


# ----------------------------------------------------------------------------------------------------------------------
# attention (eager)
# ----------------------------------------------------------------------------------------------------------------------
def eager_attention(q, k, v, scaling, mask=None, bias=None, softcap=None):
    """q [B,H,Lq,D], k/v [B,H,Lk,D] (already repeated for GQA); mask additive [B or 1,1 or H,Lq,Lk].
    softcap (Gemma 2): scores -> softcap * tanh(scores / softcap) before the mask."""
    s = torch.matmul(q, k.transpose(2, 3))
    if scaling != 1.0:
        s = s * scaling
    if softcap is not None:
        s = torch.tanh(s / softcap) * softcap
    if bias is not None:
        s = s + bias
    if mask is not None:
        s = s + mask
    p = torch.softmax(s, dim=-1, dtype=torch.float32).to(q.dtype)
    return torch.matmul(p, v)


def repeat_kv(x, n):
    if n == 1:
        return x
    b, h, l, d = x.shape
    return x[:, :, None].expand(b, h, n, l, d).reshape(b, h * n, l, d)


def causal_mask(lq, lk, sliding_window=None, dtype=torch.float32, offset=None):
    """Additive mask [1,1,lq,lk]; query i (absolute position offset+i) sees key j iff j <= pos and
    (sliding_window is None or pos - j < sliding_window)."""
    if offset is None:
        offset = lk - lq
    i = torch.arange(lq)[:, None] + offset
    j = torch.arange(lk)[None, :]
    ok = j <= i
    if sliding_window is not None:
        ok = ok & (i - j < sliding_window)
    m = torch.zeros(lq, lk, dtype=dtype)
    m[~ok] = torch.finfo(dtype).min
    return m[None, None]


def padding_mask(attention_mask, dtype=torch.float32):
    """[B,L] 1/0 -> additive [B,1,1,L] with finfo.min at padding."""
    m = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - m) * torch.finfo(dtype).min


def combine_masks(a, b):
    """Add two additive masks, clamping at finfo.min (HF builds a boolean AND then converts)."""
    if a is None:
        return b
    if b is None:
        return a
    return torch.clamp(a + b, min=torch.finfo(a.dtype).min)


# ----------------------------------------------------------------------------------------------------------------------
# config helpers
# ----------------------------------------------------------------------------------------------------------------------
def first(cfg, *keys, default=None):
    for k in keys:
        if k in cfg and cfg[k] is not None:
            return cfg[k]
    return default


def greedy_ok(step_logits, special):
    """Return (token, margin, is_special) for one step's logits [V]."""
    top = torch.topk(step_logits, 2)
    tok = int(top.indices[0])
    return tok, float(top.values[0] - top.values[1]), tok in special
