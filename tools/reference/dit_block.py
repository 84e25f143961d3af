"""A DiT block with adaLN-Zero conditioning (Peebles & Xie, "Scalable Diffusion Models with
Transformers", 2023), written from the paper's equations in plain PyTorch, as the reference for
tessera's modulated residual (tests/composition_test.cpp):

    shift1, scale1, gate1, shift2, scale2, gate2 = Linear(SiLU(c)).chunk(6)
    x = x + gate1 * Attention(LayerNorm(x) * (1 + scale1) + shift1)
    x = x + gate2 * MLP(LayerNorm(x) * (1 + scale2) + shift2)

LayerNorm without affine parameters (eps 1e-6), bidirectional multi-head attention with one
fused qkv projection, MLP fc1 -> GELU(tanh) -> fc2. The weights are random (not adaLN-Zero's
zero init, which would make the block the identity). Two sequences of different lengths, each
with its own conditioning vector, are packed one after the other as tessera runs them.

Usage: /usr/bin/python3 tools/reference/dit_block.py   (writes tests/data/torch/dit-block/)
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "torch", "dit-block")
HIDDEN, HEADS, FFN, LENGTHS = 64, 4, 256, [5, 9]


def block(w, x, c):
    """x [L, HIDDEN], c [HIDDEN] -> [L, HIDDEN]."""
    mod = torch.nn.functional.linear(torch.nn.functional.silu(c), w["adaLN_modulation.1.weight"], w["adaLN_modulation.1.bias"])
    shift1, scale1, gate1, shift2, scale2, gate2 = mod.chunk(6)
    norm = lambda t: torch.nn.functional.layer_norm(t, (HIDDEN,), eps=1e-6)

    h = norm(x) * (1 + scale1) + shift1
    qkv = torch.nn.functional.linear(h, w["attn.qkv.weight"], w["attn.qkv.bias"])
    q, k, v = qkv.split(HIDDEN, dim=-1)
    hd = HIDDEN // HEADS
    q, k, v = (t.reshape(-1, HEADS, hd).transpose(0, 1) for t in (q, k, v))
    p = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hd), dim=-1)
    a = (p @ v).transpose(0, 1).reshape(-1, HIDDEN)
    x = x + gate1 * torch.nn.functional.linear(a, w["attn.proj.weight"], w["attn.proj.bias"])

    h = norm(x) * (1 + scale2) + shift2
    f = torch.nn.functional.gelu(torch.nn.functional.linear(h, w["mlp.fc1.weight"], w["mlp.fc1.bias"]), approximate="tanh")
    return x + gate2 * torch.nn.functional.linear(f, w["mlp.fc2.weight"], w["mlp.fc2.bias"])


def main():
    g = torch.Generator().manual_seed(20261203)
    rnd = lambda *shape, s=0.08: torch.randn(*shape, generator=g) * s
    w = {
        "adaLN_modulation.1.weight": rnd(6 * HIDDEN, HIDDEN), "adaLN_modulation.1.bias": rnd(6 * HIDDEN, s=0.1),
        "attn.qkv.weight": rnd(3 * HIDDEN, HIDDEN), "attn.qkv.bias": rnd(3 * HIDDEN, s=0.05),
        "attn.proj.weight": rnd(HIDDEN, HIDDEN), "attn.proj.bias": rnd(HIDDEN, s=0.05),
        "mlp.fc1.weight": rnd(FFN, HIDDEN), "mlp.fc1.bias": rnd(FFN, s=0.05),
        "mlp.fc2.weight": rnd(HIDDEN, FFN), "mlp.fc2.bias": rnd(HIDDEN, s=0.05),
    }
    x = torch.randn(sum(LENGTHS), HIDDEN, generator=g)
    c = torch.randn(len(LENGTHS), HIDDEN, generator=g)
    outs, offset = [], 0
    with torch.no_grad():
        for i, n in enumerate(LENGTHS):
            outs.append(block(w, x[offset:offset + n], c[i]))
            offset += n
    os.makedirs(OUT, exist_ok=True)
    st.save(w, os.path.join(OUT, "model.safetensors"))
    st.save({"x": x, "condition": c, "lengths": torch.tensor(LENGTHS, dtype=torch.int64), "out": torch.cat(outs)},
            os.path.join(OUT, "reference.safetensors"))
    meta = {"kind": "block", "what": "a DiT block with adaLN-Zero, written from the paper in PyTorch",
            "torch": torch.__version__, "hidden": HIDDEN, "heads": HEADS, "ffn": FFN, "lengths": LENGTHS,
            "tensors": {"x": "f32 [14, 64] two sequences packed", "condition": "f32 [2, 64] one per sequence",
                        "lengths": "int64 [2]", "out": "f32 [14, 64] the block's output"}}
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
