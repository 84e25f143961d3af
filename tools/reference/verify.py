"""Run the reference re-implementation on every fixture directory given (default: tests/data/hf/*) and compare
with the stored outputs. Usage: /usr/bin/python3 tools/reference/verify.py [fixture_dir ...]"""
import glob
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402
import decoders  # noqa: E402
import encoders  # noqa: E402
import seq2seq  # noqa: E402
from common import load_config, load_weights  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def masked_maxdiff(a, b, mask=None):
    d = (a - b).abs()
    if mask is not None:
        d = d[mask.bool()]
    return float(d.max())


def run_dir(d):
    cfg = load_config(d)
    w = load_weights(d)
    ref, _ = st.load(os.path.join(d, "reference.safetensors"))
    mt = cfg["model_type"]
    res = {}
    gen_ok = None
    if mt in decoders.FORWARD:
        m = decoders.Model(cfg, w)
        lg = decoders.forward(m, ref["input_ids"], ref.get("attention_mask"))
        res["logits"] = masked_maxdiff(lg, ref["logits"],
                                       ref["attention_mask"] if "attention_mask" in ref else None)
        if "generated_ids" in ref:
            P = ref["prompt_ids"].shape[1]
            n = ref["generated_ids"].shape[1] - P
            g, _, _ = decoders.generate(m, ref["prompt_ids"], n)
            gen_ok = bool(torch.equal(g, ref["generated_ids"]))
            meta = json.load(open(os.path.join(d, "meta.json")))
            if meta.get("generation", {}).get("dynamic_rope_cached_generate") is not None:
                g2, _, _ = decoders.generate(m, ref["prompt_ids"], n, cached_dynamic=True)
                gen_ok = gen_ok and bool(torch.equal(g2, ref["generated_ids"]))
    elif mt in encoders.FORWARD:
        out = encoders.forward(cfg, w, ref)
        for k, v in out.items():
            if k in ref:
                mask = ref.get("attention_mask") if k == "last_hidden_state" else None
                res[k] = masked_maxdiff(v, ref[k], mask)
    elif mt in seq2seq.FORWARD:
        m = seq2seq.Model(cfg, w)
        out = seq2seq.forward(m, ref)
        for k, v in out.items():
            if k in ref:
                mask = ref.get("attention_mask") if k == "encoder_last_hidden_state" else None
                res[k] = masked_maxdiff(v, ref[k], mask)
        if "generated_ids" in ref:
            n = ref["generated_ids"].shape[1] - 1
            g, _, _ = seq2seq.generate(m, ref, n)
            gen_ok = bool(torch.equal(g, ref["generated_ids"]))
    else:
        raise ValueError(mt)
    return res, gen_ok


def main():
    dirs = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "tests/data/hf/*"))) + \
        sorted(glob.glob(os.path.join(ROOT, "tests/data/torch/*")))
    worst = 0.0
    bad = False
    for d in dirs:
        res, gen_ok = run_dir(d)
        name = os.path.relpath(d, ROOT)
        mx = max(res.values())
        worst = max(worst, mx)
        gtxt = "-" if gen_ok is None else ("equal" if gen_ok else "DIFFER")
        if gen_ok is False or mx > 1e-4:
            bad = True
        print("%-45s %s  generated_ids: %s" % (name, "  ".join("%s=%.2e" % kv for kv in res.items()), gtxt))
    print("worst max|diff| = %.2e" % worst)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
