#!/usr/bin/env python3
"""Turn gemm_bench JSON (run with --benchmark_repetitions and aggregates) into the markdown
tables in docs/PERFORMANCE.md: median GFLOP/s per shape; packed f32 against the better of
OpenBLAS's two kernels and against Eigen; the fraction of the measured FMA peak; and for
M = 1 the weight-read bandwidth against the measured DRAM read ceiling.

usage: gemm_table.py gemm.json [openblas_skylakex.json] [--peak 255] [--dram 35]
"""
import argparse
import json
import re


def medians(path, prefix=""):
    out = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        m = re.match(r"BM_(\w+?)(?:/(f32|f16|bf16))?/M:(\d+)/K:(\d+)/N:(\d+)/thr:(\d+)", b["run_name"])
        if not m:
            continue
        lib, dt, M, K, N, thr = m.groups()
        name = prefix + lib + ("_" + dt if dt else "")
        wbytes = {"f16": 2, "bf16": 2}.get(dt, 4)
        flops = b["FLOP/s"]
        # weight bytes per second = FLOP/s / (2 M) * wbytes (each weight read once per call)
        out[(name, int(thr), int(M), int(K), int(N))] = (flops / 1e9, flops / (2 * int(M)) * wbytes / 1e9)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("skx", nargs="?")
    ap.add_argument("--peak", type=float, default=255.0)
    ap.add_argument("--dram", type=float, default=35.0)
    a = ap.parse_args()
    r = medians(a.json)
    if a.skx:
        r.update({("openblas_skx",) + k[1:]: v for k, v in medians(a.skx).items()})
    cols = ["tessera_f32", "packed_f32", "packed_f16", "packed_bf16", "eigen", "openblas", "openblas_skx"]
    g = lambda c, thr, M, K, N: (r.get((c, thr, M, K, N)) or (None, None))[0]
    for thr in (1, 2):
        print(f"\n**{thr} thread{'s' if thr > 1 else ''}, M ≥ 64** (GFLOP/s, median of 3; tessera_f32 = `gemm`, "
              f"repacking W per call; packed_* = `gemm_packed`)\n")
        print("| M | K×N | " + " | ".join(cols) + " | packed f32/OpenBLAS | packed f32/Eigen | % of peak |")
        print("|" + "---|" * (len(cols) + 5))
        shapes = sorted({k[2:] for k in r if k[1] == thr and k[2] >= 64})
        for M, K, N in shapes:
            vals = [g(c, thr, M, K, N) for c in cols]
            cells = [f"{v:.1f}" if v else "–" for v in vals]
            ours, ei = vals[1], vals[4]
            obs = [v for v in (vals[5], vals[6]) if v]
            ob = max(obs) if obs else None
            ratio_ob = f"{ours / ob:.2f}" if ours and ob else "–"
            ratio_ei = f"{ours / ei:.2f}" if ours and ei else "–"
            peak = f"{100 * ours / (a.peak * thr):.0f}%" if ours else "–"
            print(f"| {M} | {K}×{N} | " + " | ".join(cells) + f" | {ratio_ob} | {ratio_ei} | {peak} |")
    print(f"\n**M = 1 (decode): weight bytes read per second, GB/s** (median of 3; DRAM read ceiling "
          f"{a.dram:g} GB/s per core)\n")
    wcols = ["tessera_f32", "packed_f32", "packed_f16", "packed_bf16", "eigen"]
    print("| threads | K×N | W size | " + " | ".join(wcols) + " | packed f32 % of DRAM | f16 % | bf16 % |")
    print("|" + "---|" * (len(wcols) + 6))
    for thr in (1, 2):
        for M, K, N in sorted({k[2:] for k in r if k[1] == thr and k[2] == 1}):
            bw = [(r.get((c, thr, M, K, N)) or (None, None))[1] for c in wcols]
            cells = [f"{v:.1f}" if v else "–" for v in bw]
            size = K * N * 4 / 2**20
            pct = [f"{100 * v / a.dram:.0f}%" if v else "–" for v in bw[1:4]]
            print(f"| {thr} | {K}×{N} | {size:.0f} MiB f32 | " + " | ".join(cells) + " | " + " | ".join(pct) + " |")


if __name__ == "__main__":
    main()
