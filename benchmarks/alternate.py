#!/usr/bin/env python3
"""Whole-model prompt (pp512) or generation (tg64) speed of several engines, alternated.

The development machines are shared VMs whose memory speed changes from one minute to the
next (2-thread DRAM reads measured 46, 49 and 79 GB/s in three consecutive runs), so two
engines timed a few minutes apart are not comparable. This script runs them in turn, round
after round, and reports each engine's median and the median of its per-round ratio to the
first engine: that ratio is the number docs/PERFORMANCE.md quotes.

usage: alternate.py [--rounds 4] [--threads 1] [--test pp|tg] [--dtype f32|f16]
                    [--spec llama:hidden=768,...] [--llama-bench PATH] [--gguf-dir DIR]
                    [--model FILE.gguf] [--n-gen 64]
                    NAME=BINARY [NAME=BINARY ...]

A BINARY is a tessera-bench (run on `--random SPEC[,dtype=f16]`, or on the GGUF file given
with --model), or the word `llama` for llama.cpp's llama-bench on the --model file, or on
DIR/llama-110m-DTYPE.gguf (written by make_gguf.py with the same shapes) without one. Every
run is 3 repetitions (+ warm-up) of tessera-bench / llama-bench.
"""
import argparse
import re
import statistics
import subprocess

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--rounds", type=int, default=4)
ap.add_argument("--threads", default="1")
ap.add_argument("--test", choices=["pp", "tg"], default="pp")
ap.add_argument("--dtype", choices=["f32", "f16"], default="f32")
ap.add_argument("--spec", default="llama:hidden=768,layers=12,heads=12,ffn=3072,vocab=32000")
ap.add_argument("--llama-bench", default="llama-bench")
ap.add_argument("--gguf-dir", default=".")
ap.add_argument("--model", help="a GGUF file both engines run (quantized types: both read the same bytes)")
ap.add_argument("--n-gen", type=int, default=64, help="tokens of the tg test")
ap.add_argument("engines", nargs="+", metavar="NAME=BINARY")
args = ap.parse_args()

engines = [e.split("=", 1) for e in args.engines]
size = ["-p", "512", "-n", "0"] if args.test == "pp" else ["-p", "0", "-n", str(args.n_gen)]
spec = args.spec + (",dtype=f16" if args.dtype == "f16" else "")
row = re.compile(r"\|\s+(?:pp512|tg\d+)\s+\|\s+([\d.]+)")

def run(binary):
    if binary == "llama":
        model = args.model or f"{args.gguf_dir}/llama-110m-{args.dtype}.gguf"
        cmd = [args.llama_bench, "-m", model, "-t", args.threads, "-r", "3"]
    elif args.model:
        cmd = [binary, args.model, "-t", args.threads, "-r", "3"]
    else:
        cmd = [binary, "--random", spec, "-t", args.threads, "-r", "3"]
    out = subprocess.run(cmd + size, capture_output=True, text=True)
    m = row.search(out.stdout)
    if not m:
        raise SystemExit(f"no result from {' '.join(cmd + size)}:\n{out.stdout}\n{out.stderr}")
    return float(m.group(1))

results = {name: [] for name, _ in engines}
for r in range(args.rounds):
    for name, binary in engines:
        results[name].append(run(binary))
    print(f"round {r}: " + "  ".join(f"{n}={results[n][-1]:.1f}" for n, _ in engines), flush=True)

first = engines[0][0]
for name, _ in engines:
    v = results[name]
    ratio = statistics.median(a / b for a, b in zip(v, results[first]))
    print(f"{name}: median {statistics.median(v):.1f} t/s (min {min(v):.1f}, max {max(v):.1f}); "
          f"median per-round ratio to {first}: {ratio:.3f}")
