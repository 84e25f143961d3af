#!/usr/bin/env python3
"""Turn gemm_bench JSON (run with --benchmark_repetitions and aggregates) into the markdown
table in docs/PERFORMANCE.md: median GFLOP/s per shape, and ours/OpenBLAS, ours/Eigen.

usage: gemm_table.py gemm.json [openblas_skylakex.json]
"""
import json
import re
import sys


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
        out[(name, int(thr), int(M), int(K), int(N))] = b["FLOP/s"] / 1e9
    return out


def main():
    r = medians(sys.argv[1])
    if len(sys.argv) > 2:
        r.update({("openblas_skx",) + k[1:]: v for k, v in medians(sys.argv[2]).items()})
    cols = ["tessera_f32", "tessera_f16", "tessera_bf16", "eigen", "openblas"]
    if any(k[0] == "openblas_skx" for k in r):
        cols.append("openblas_skx")
    for thr in (1, 2):
        print(f"\n**{thr} thread{'s' if thr > 1 else ''}** (GFLOP/s, median of 3)\n")
        print("| M | K×N | " + " | ".join(cols) + " | f32/OpenBLAS | f32/Eigen |")
        print("|" + "---|" * (len(cols) + 4))
        shapes = sorted({k[2:] for k in r if k[1] == thr})
        for M, K, N in shapes:
            vals = [r.get((c, thr, M, K, N)) for c in cols]
            cells = [f"{v:.1f}" if v else "–" for v in vals]
            ours, ob, ei = vals[0], vals[4], vals[3]
            best_ob = max(v for v in (ob, r.get(("openblas_skx", thr, M, K, N))) if v) if ob else None
            print(f"| {M} | {K}×{N} | " + " | ".join(cells) +
                  f" | {ours / best_ob:.2f} | {ours / ei:.2f} |")


if __name__ == "__main__":
    main()
