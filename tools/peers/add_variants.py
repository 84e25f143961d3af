#!/usr/bin/env python3
"""Add to tests/data/gguf/reference.json the NLL llama.cpp gives under other legitimate context settings,
so tests can see how much llama.cpp's own number moves with evaluation order alone."""
import json, os, subprocess, sys
OUT = sys.argv[1] if len(sys.argv) > 1 else "/work/wt-peer/tests/data/gguf"
VARIANTS = {"fa_off": ["--fa", "off"], "fa_off_kv_f32": ["--fa", "off", "--kv", "f32"],
            "no_repack": ["--no-repack"], "no_repack_fa_off": ["--no-repack", "--fa", "off"],
            "threads_2": ["-t", "2"]}
p = os.path.join(OUT, "reference.json")
ref = json.load(open(p))
for e in ref["files"]:
    e["nll_other_settings"] = {}
    for k, o in VARIANTS.items():
        r = subprocess.run(["/work/peers/tools/nll"] + o + [os.path.join(OUT, e["file"]), "/work/peers/tools/eval_ids.json",
                            "/work/peers/tools/prompt_ids.json", "64"], capture_output=True, text=True, check=True)
        e["nll_other_settings"][k] = json.loads(r.stdout)["nll"]
    v = list(e["nll_other_settings"].values()) + [e["nll"]]
    print("%-28s nll=%.6f spread=%.6f %s" % (e.get("made_as", e["file"]), e["nll"], max(v) - min(v), e["nll_other_settings"]), flush=True)
ref["about"] += (" nll_other_settings: llama.cpp's NLL on the same file with other context settings (fa_off: flash "
                 "attention disabled; kv_f32: F32 KV cache; no_repack: use_extra_bufts=false; threads_2: 2 threads); "
                 "nll and greedy are the default-settings values.")
with open(p, "w") as f:
    json.dump(ref, f, indent=1)
    f.write("\n")
