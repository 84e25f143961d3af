"""Beam search reference: Hugging Face's vectorised _beam_search (transformers 4.5x / 5.x,
GenerationMixin._beam_search with _get_top_k_continuations, _get_running_beams_for_next_iteration,
_update_finished_beams, _check_early_stop_heuristic, _beam_search_has_unfinished_sequences) for batch 1, on
top of this directory's full-recompute models, plus the logits processors tessera supports
(repetition penalty, no_repeat_ngram_size, min_length, min_new_tokens, forced BOS/EOS, suppress_tokens,
begin_suppress_tokens) in HF's order.

  /usr/bin/python3 tools/reference/beam_search.py         # (re)writes tests/data/beam/*.json
  /usr/bin/python3 tools/reference/beam_search.py mt5    # only the cases whose name contains a word

Each case file holds the model fixture directory, the input (decoder prompt_ids, or encoder input row + decoder
start), the options, and the expected hypotheses (new tokens, ending in EOS when finished on one) with
sequences_scores.
"""
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import decoders  # noqa: E402
import seq2seq  # noqa: E402
import st  # noqa: E402
from common import load_config, load_weights  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEAD = -1.0e9


def process(scores, ids, cur_len, prompt_len, max_length, o):
    """HF logits processors on log-probs [k, V] for running sequences ids [k, cur_len]."""
    eos = o.get("eos_token_ids", [])
    rp = o.get("repetition_penalty", 1.0)
    if rp != 1.0:
        s = torch.gather(scores, 1, ids)
        s = torch.where(s < 0, s * rp, s / rp)
        scores = scores.scatter(1, ids, s)
    n = o.get("no_repeat_ngram_size", 0)
    if n > 0 and cur_len + 1 >= n:
        for b in range(ids.shape[0]):
            seq = ids[b].tolist()
            grams = {}
            for i in range(len(seq) - n + 1):
                grams.setdefault(tuple(seq[i:i + n - 1]), []).append(seq[i + n - 1])
            for t in grams.get(tuple(seq[cur_len - n + 1:cur_len]), []):
                scores[b, t] = -math.inf
    if cur_len < o.get("min_length", 0):
        scores[:, eos] = -math.inf
    if cur_len - prompt_len < o.get("min_new_tokens", 0):
        scores[:, eos] = -math.inf
    if o.get("forced_bos_token_id") is not None and cur_len == 1:
        scores = torch.full_like(scores, -math.inf)
        scores[:, o["forced_bos_token_id"]] = 0
    if o.get("forced_eos_token_id") is not None and cur_len == max_length - 1:
        scores = torch.full_like(scores, -math.inf)
        scores[:, o["forced_eos_token_id"]] = 0
    if o.get("suppress_tokens"):
        scores[:, o["suppress_tokens"]] = -math.inf
    if o.get("begin_suppress_tokens") and cur_len == prompt_len:
        scores[:, o["begin_suppress_tokens"]] = -math.inf
    return scores


def beam_search(next_logits, prompt, o):
    """next_logits(ids [k, L]) -> logits [k, V] of the last position. Returns [(tokens, score)]."""
    k = o["num_beams"]
    lp_pow = o.get("length_penalty", 1.0)
    early = o.get("early_stopping", False)
    eos = o.get("eos_token_ids", [])
    P = len(prompt)
    max_length = P + o["max_new_tokens"]
    keep = max(2, 1 + len(eos)) * k
    running = torch.tensor([prompt] * k, dtype=torch.long)
    running_scores = torch.full((k,), DEAD)
    running_scores[0] = 0.0
    fin_seqs = [list(prompt) for _ in range(k)]
    fin_scores = torch.full((k,), DEAD)
    fin_done = torch.zeros(k, dtype=torch.bool)
    improvable = True
    cur_len = P
    top_mask = torch.cat([torch.ones(k, dtype=torch.bool), torch.zeros(keep - k, dtype=torch.bool)])
    while True:
        logits = next_logits(running).float()
        vocab = logits.shape[-1]
        lp = torch.log_softmax(logits, dim=-1)
        lp = process(lp, running, cur_len, P, max_length, o)
        lp = (lp + running_scores[:, None]).reshape(-1)
        top_vals, top_idx = torch.topk(lp, keep)
        src = top_idx // vocab
        tok = top_idx % vocab
        cand = torch.cat([running[src], tok[:, None]], dim=1)
        hits = torch.tensor([(cur_len + 1 >= max_length) or int(t) in eos for t in tok])
        run_vals = top_vals + hits.float() * DEAD
        nxt = torch.topk(run_vals, k)[1]
        # finished
        just = hits & top_mask
        f = top_vals / ((cur_len + 1 - P) ** lp_pow)
        f = f + float(bool(fin_done.all()) and early is True) * DEAD
        f = f + float(not improvable) * DEAD
        f = f + (~just).float() * DEAD
        m_scores = torch.cat([fin_scores, f])
        m_seqs = fin_seqs + [c.tolist() for c in cand]
        m_done = torch.cat([fin_done, just])
        best = torch.topk(m_scores, k)[1]
        fin_seqs = [m_seqs[i] for i in best.tolist()]
        fin_scores = m_scores[best]
        fin_done = m_done[best]
        running = cand[nxt]
        running_scores = run_vals[nxt]
        cur_len += 1
        best_len = (max_length - P) if (early == "never" and lp_pow > 0) else (cur_len - P)
        best_possible = running_scores[0] / (best_len ** lp_pow)
        worst = torch.where(fin_done, fin_scores.min(), torch.tensor(DEAD))
        improvable = improvable and bool((best_possible > worst).any())
        if not improvable or (bool(fin_done.all()) and early is True) or bool(hits.all()):
            break
    n_ret = o.get("num_return_sequences", 1)
    return [(fin_seqs[i][P:], float(fin_scores[i])) for i in range(n_ret)]


def decoder_case(fixture, prompt, options):
    d = os.path.join(ROOT, "tests", "data", fixture)
    m = decoders.Model(load_config(d), load_weights(d))
    return beam_search(lambda ids: decoders.forward(m, ids, torch.ones_like(ids))[:, -1], prompt, options)


def seq2seq_case(fixture, source_ids, options):
    d = os.path.join(ROOT, "tests", "data", fixture)
    cfg = load_config(d)
    m = seq2seq.Model(cfg, load_weights(d))
    src = torch.tensor([source_ids])
    with torch.no_grad():
        enc, am = seq2seq.encode(m, {"input_ids": src, "attention_mask": torch.ones_like(src)}, row=0)

        def next_logits(ids):
            k = ids.shape[0]
            return seq2seq.FORWARD[m.mt][1](m, ids, enc.expand(k, -1, -1), am.expand(k, -1))[:, -1]
        return beam_search(next_logits, [seq2seq.decoder_start(cfg)], options)


CASES = [
    # name, kind, fixture, input, options
    ("gpt2_beams4_eos", "decoder", "hf/gpt2", [5, 17, 99, 3],
     dict(num_beams=4, max_new_tokens=10, length_penalty=1.0, early_stopping=False, num_return_sequences=3)),
    ("llama_beams3_ngram2_early", "decoder", "hf/llama", [1, 20, 30, 40, 20, 30],
     dict(num_beams=3, max_new_tokens=12, length_penalty=0.6, early_stopping=True, no_repeat_ngram_size=2,
          num_return_sequences=2)),
    ("bart_beams4_forced", "seq2seq", "hf/bart", [0, 45, 300, 12, 77, 2],
     dict(num_beams=4, max_new_tokens=9, length_penalty=2.0, early_stopping="never", forced_bos_token_id=0,
          forced_eos_token_id=2, no_repeat_ngram_size=3, min_new_tokens=2, num_return_sequences=4)),
    ("t5_beams5_minlen", "seq2seq", "hf/t5", [8, 200, 31, 5, 1],
     dict(num_beams=5, max_new_tokens=8, length_penalty=-0.5, early_stopping=False, min_length=4,
          repetition_penalty=1.3, suppress_tokens=[3], begin_suppress_tokens=[4], num_return_sequences=2)),
    ("marian_beams2_never", "seq2seq", "torch/marian-swish", [10, 11, 12, 13, 0],
     dict(num_beams=2, max_new_tokens=7, length_penalty=1.0, early_stopping="never", num_return_sequences=1)),
    ("mt5_beams3_untied", "seq2seq", "torch/mt5-untied-v4cfg", [20, 150, 7, 88, 301, 1],
     dict(num_beams=3, max_new_tokens=8, length_penalty=1.0, early_stopping=False, num_return_sequences=2)),
    ("mbart50_beams4_forcedbos", "seq2seq", "torch/mbart-50-forcedbos-v5cfg", [33, 120, 9, 250, 2, 305],
     dict(num_beams=4, max_new_tokens=8, length_penalty=1.0, early_stopping=True, forced_bos_token_id=305,
          num_return_sequences=3)),
    ("pegasus_beams3_lp", "seq2seq", "torch/pegasus-xsum-relu-v4cfg", [44, 12, 200, 9, 61, 1],
     dict(num_beams=3, max_new_tokens=9, length_penalty=0.8, early_stopping="never", no_repeat_ngram_size=2, min_new_tokens=3,
          num_return_sequences=2)),
]


def pick_eos(kind, fixture, inp, options):
    """An EOS that the beams actually meet: the token greedy search picks at step 3 (random-weight models rarely
    choose their configured EOS), so finishing, ranking and stopping all get exercised."""
    o = dict(options, num_beams=1, num_return_sequences=1, max_new_tokens=4, eos_token_ids=[])
    for key in ("forced_bos_token_id", "forced_eos_token_id", "min_length", "min_new_tokens"):
        o.pop(key, None)
    run = decoder_case if kind == "decoder" else seq2seq_case
    return run(fixture, inp, o)[0][0][2]


def main():
    out_dir = os.path.join(ROOT, "tests", "data", "beam")
    os.makedirs(out_dir, exist_ok=True)
    sel = sys.argv[1:]
    for name, kind, fixture, inp, options in CASES:
        if sel and not any(x in name for x in sel):
            continue
        o = dict(options)
        o["eos_token_ids"] = [pick_eos(kind, fixture, inp, options)]
        if "forced_eos_token_id" in o:
            o["forced_eos_token_id"] = o["eos_token_ids"][0]
        run = decoder_case if kind == "decoder" else seq2seq_case
        hyps = run(fixture, inp, o)
        case = {"fixture": fixture, "kind": kind, ("prompt_ids" if kind == "decoder" else "input_ids"): inp,
                "options": o, "hypotheses": [{"tokens": t, "score": s} for t, s in hyps]}
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            json.dump(case, f, indent=1)
        print(name, [(t, round(s, 4)) for t, s in hyps])


if __name__ == "__main__":
    sys.exit(main())
