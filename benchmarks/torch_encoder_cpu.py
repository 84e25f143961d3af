#!/usr/bin/python3
"""PyTorch encoder peer timed in wall *and* process CPU time (the 2 cores of the development
machine are shared with other builds, so one-thread wall time mostly measures the load).
Same model as /work/shared/tools/torch_encoder_bench.py: BERT-base-shaped
torch.nn.TransformerEncoder (12 layers, d_model 768, 12 heads, ffn 3072, GELU, post-norm,
batch_first, eval + inference_mode, fp32). Run with Debian's python3 (python3-torch) and
OMP_WAIT_POLICY=PASSIVE so that idle OpenMP workers do not burn CPU time.

Usage: OMP_WAIT_POLICY=PASSIVE python3 benchmarks/torch_encoder_cpu.py [--batch 8] [--runs 7] [threads ...]
"""
import argparse
import statistics
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("threads", nargs="*", type=int, default=[1, 2])
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--seq", type=int, default=128)
ap.add_argument("--runs", type=int, default=7)
args = ap.parse_args()

torch.manual_seed(0)
layer = torch.nn.TransformerEncoderLayer(d_model=768, nhead=12, dim_feedforward=3072, dropout=0.1,
                                         activation="gelu", batch_first=True, norm_first=False)
enc = torch.nn.TransformerEncoder(layer, num_layers=12, enable_nested_tensor=True).eval()
x = torch.randn(args.batch, args.seq, 768)
for nt in args.threads:
    torch.set_num_threads(nt)
    walls, cpus = [], []
    for i in range(args.runs + 2):
        w0, c0 = time.perf_counter(), time.process_time()
        with torch.inference_mode():
            enc(x)
        if i >= 2:
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
    print("torch encoder threads=%d batch=%d seq=%d median_wall_ms=%.1f median_cpu_ms=%.1f" %
          (nt, args.batch, args.seq, statistics.median(walls) * 1e3, statistics.median(cpus) * 1e3), flush=True)
