#!/usr/bin/env python3
"""Quantize pycode-6m with llama-quantize, run nll on every file, write tests/data/gguf/reference.json.

Run from anywhere; paths are fixed for this machine. Standard library only.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_types  # noqa: E402

L = "/work/peers/llama.cpp/build/bin"
TOOLS = "/work/peers/tools"
SHARED = "/work/shared/models/pycode-6m-gguf"
OUT = sys.argv[1] if len(sys.argv) > 1 else "/work/wt-peer/tests/data/gguf"
os.makedirs(OUT, exist_ok=True)

# (file name, quantize args or None for the shared files)
JOBS = [
    ("pycode-6m-F32.gguf", None),
    ("pycode-6m-Q4_K_M.gguf", None),
    ("pycode-6m-Q8_0.gguf", ["Q8_0"]),
    ("pycode-6m-Q4_0.gguf", ["Q4_0"]),
    ("pycode-6m-Q4_1.gguf", ["Q4_1"]),
    ("pycode-6m-Q5_0.gguf", ["Q5_0"]),
    ("pycode-6m-Q5_1.gguf", ["Q5_1"]),
    ("pycode-6m-Q2_K.gguf", ["Q2_K"]),
    ("pycode-6m-Q3_K_M.gguf", ["Q3_K_M"]),
    ("pycode-6m-Q5_K_M.gguf", ["Q5_K_M"]),
    ("pycode-6m-Q6_K.gguf", ["Q6_K"]),
    ("pycode-6m-pure-q8_0.gguf", ["--pure", "q8_0"]),
    ("pycode-6m-pure-q4_0.gguf", ["--pure", "q4_0"]),
    ("pycode-6m-pure-q4_k.gguf", ["--pure", "q4_k"]),
    ("pycode-6m-pure-q5_k.gguf", ["--pure", "q5_k"]),
    ("pycode-6m-pure-q6_k.gguf", ["--pure", "q6_k"]),
]


def sha256(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


f32 = os.path.join(OUT, "pycode-6m-F32.gguf")
files = []
for name, args in JOBS:
    path = os.path.join(OUT, name)
    if args is None:
        src = os.path.join(SHARED, "pycode-6m-f32.gguf" if "F32" in name else "pycode-6m-Q4_K_M.gguf")
        shutil.copyfile(src, path)
        cmd = "copied from shared/models/pycode-6m-gguf/" + os.path.basename(src)
        if "Q4_K_M" in name:
            cmd += " (made there by: llama-quantize pycode-6m-f32.gguf pycode-6m-Q4_K_M.gguf Q4_K_M)"
    else:
        flags, qtype = args[:-1], args[-1]
        argv = [os.path.join(L, "llama-quantize")] + flags + [f32, path, qtype, "1"]
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("quantize failed for %s:\n%s" % (name, r.stderr[-3000:]))
        with open(os.path.join("/work/peers/logs", "quantize-" + name + ".log"), "w") as lf:
            lf.write(r.stdout + r.stderr)
        cmd = "llama-quantize " + " ".join(flags + ["pycode-6m-F32.gguf", name, qtype, "1"])
    info = gguf_types.read(path)
    r = subprocess.run([os.path.join(TOOLS, "nll"), path, os.path.join(TOOLS, "eval_ids.json"),
                        os.path.join(TOOLS, "prompt_ids.json"), "64"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("nll failed for %s:\n%s" % (name, r.stderr[-3000:]))
    res = json.loads(r.stdout)
    per_tensor = {t["name"]: t["type"] for t in info["tensors"]}
    entry = {
        "file": name,
        "command": cmd,
        "bytes": os.path.getsize(path),
        "sha256": sha256(path),
        "file_type": info["file_type"],
        "tensor_types": info["type_counts"],
        "tensors": per_tensor,
        "nll": res["nll"],
        "greedy": res["greedy"],
    }
    files.append(entry)
    print("%-28s nll=%.6f types=%s bytes=%d" % (name, res["nll"], info["type_counts"], entry["bytes"]), flush=True)

ref = {
    "about": ("pycode-6m (shared/models/pycode-6m) as GGUF: the shared F32 and Q4_K_M files and llama-quantize's "
              "outputs from the F32 file (llama.cpp 34af94c, CPU build). nll: mean next-token NLL over the 256 "
              "eval_ids of shared/models/pycode-6m/reference.safetensors (255 predictions, all ids in one "
              "llama_decode). greedy: the 64 ids llama.cpp picks by argmax after prompt_ids (same file). "
              "Computed by tools/peers/nll.cpp linked against libllama, 1 thread, default context settings "
              "(F16 KV cache). tensor_types: count of tensors per ggml type; tensors: the type of each tensor."),
    "hf_nll": 3.3533051013946533,
    "eval_ids_source": "shared/models/pycode-6m/reference.safetensors:eval_ids",
    "prompt_ids_source": "shared/models/pycode-6m/reference.safetensors:prompt_ids",
    "files": files,
}
with open(os.path.join(OUT, "reference.json"), "w") as f:
    json.dump(ref, f, indent=1)
    f.write("\n")

# A file byte-identical to an earlier one (llama-quantize --pure q8_0 == Q8_0, --pure q6_k == Q6_K here) is not
# kept twice: the later entry names the earlier file and says so.
seen = {}
for e in files:
    if e["sha256"] in seen:
        os.remove(os.path.join(OUT, e["file"]))
        e["made_as"] = e["file"]
        e["file"] = seen[e["sha256"]]
        e["note"] = "byte-identical to %s, so that file stands for this one" % e["file"]
    else:
        seen[e["sha256"]] = e["file"]
with open(os.path.join(OUT, "reference.json"), "w") as f:
    json.dump(ref, f, indent=1)
    f.write("\n")
