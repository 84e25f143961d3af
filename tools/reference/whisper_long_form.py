#!/usr/bin/env python3
"""Reference for tessera's long-form Whisper code (src/generation/whisper_chunks.cpp and
whisper_timestamps.cpp): a numpy re-implementation, written from Hugging Face transformers'
source, of

  pipelines/automatic_speech_recognition.py   chunk_iter (window plan, in samples)
  models/whisper/tokenization_whisper.py      _find_longest_common_sequence, _decode_asr
                                              (segment timestamps or none; no word timestamps)
  generation/logits_process.py                WhisperTimeStampLogitsProcessor

run over synthetic token sequences (a made-up transcript seen through overlapping 30 s windows,
with decoding noise) and written to tests/data/whisper_long_form/cases.json, which
tests/whisper_long_form_test.cpp replays. Deterministic (seeded); Debian python3 + python3-numpy:

  /usr/bin/python3 tools/reference/whisper_long_form.py
"""
import json
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "whisper_long_form", "cases.json")


# ---- pipeline: the window plan ------------------------------------------------------------

def plan_windows(n, chunk_len, left, right):
    """Window list [begin, end, stride_left, stride_right, is_last] as chunk_iter yields them."""
    out = []
    step = chunk_len - left - right
    for start in range(0, n, step):
        end = start + chunk_len
        piece_len = len(range(start, min(end, n)))
        s_left = 0 if start == 0 else left
        last = end >= n
        s_right = 0 if last else right
        if piece_len > s_left:
            out.append([start, min(end, n), s_left, s_right, last])
        if last:
            break
    return out


# ---- tokenizer: stitching ----------------------------------------------------------------

def longest_common_sequence(seqs):
    left = list(seqs[0])
    total = []
    for right in seqs[1:]:
        right = list(right)
        nl, nr = len(left), len(right)
        best = 0.0
        best_idx = (nl, nl, 0, 0)
        for i in range(1, nl + nr):
            eps = i / 10000.0
            ls, le = max(0, nl - i), min(nl, nl + nr - i)
            rs, re_ = max(0, i - nl), min(nr, i)
            a, b = np.array(left[ls:le]), np.array(right[rs:re_])
            assert len(a) == len(b)
            hits = int(np.sum(a == b))
            score = hits / i + eps
            if hits > 1 and score > best:
                best = score
                best_idx = (ls, le, rs, re_)
        ls, le, rs, re_ = best_idx
        total.extend(left[: (le + ls) // 2])
        left = right[(re_ + rs) // 2:]
    total.extend(left)
    return total


def decode_asr(windows, tb, precision, specials, languages, return_timestamps, segment_size=1500):
    """windows: [{tokens, stride: [length_s, left_s, right_s]}] -> [{start, end, tokens, language}]."""
    specials = set(specials)
    languages = dict(languages)
    state = {"lang": None}

    def fresh():
        return {"language": state["lang"], "timestamp": [None, None], "tokens": []}

    out = []
    seg = fresh()
    offset = 0.0
    pending = []  # token runs of the open segment
    skip = False
    for w in windows:
        ids = list(w["tokens"])
        last_ts = None
        first_ts = tb
        cur_max = prev_len = penult = 0.0
        length, s_left, s_right = w["stride"]
        offset -= s_left
        right_start = length - s_right
        if s_left:
            first_ts = s_left / precision + tb
        if s_right:
            for t in reversed(ids):
                if t >= tb:
                    if last_ts is not None and (t - tb) * precision < right_start:
                        break
                    last_ts = t
        cur = []
        for i, t in enumerate(ids):
            if t in specials:
                lang = languages.get(t)
                if lang is not None:
                    if state["lang"] and lang != state["lang"] and not return_timestamps:
                        pending.append(cur)
                        seg["tokens"] = longest_common_sequence(pending)
                        out.append(seg)
                        pending, cur = [], []
                        seg = fresh()
                    seg["language"] = lang
                    state["lang"] = lang
            elif t >= tb:
                stamp = float((t - tb) * precision)
                if stamp < cur_max:
                    single_end = i >= 2 and not (ids[i - 1] >= tb and ids[i - 2] >= tb)
                    if single_end:
                        prev_len += precision * segment_size
                    else:
                        cur_max = penult
                        prev_len += penult
                penult = cur_max
                cur_max = stamp
                time = round((t - tb) * precision + offset + prev_len, 2)
                if last_ts and t >= last_ts:
                    skip = True
                elif skip or (pending and t < first_ts):
                    skip = False
                elif seg["timestamp"][0] is None:
                    seg["timestamp"][0] = time
                elif time != seg["timestamp"][0]:
                    seg["timestamp"][1] = time
                    pending.append(cur)
                    seg["tokens"] = longest_common_sequence(pending)
                    out.append(seg)
                    pending, cur = [], []
                    seg = fresh()
            else:
                cur.append(t)
        offset += length - s_right
        if cur:
            pending.append(cur)
        elif not any(p for p in pending):
            seg = fresh()
            pending, cur = [], []
    if pending:
        seg["tokens"] = longest_common_sequence(pending)
        out.append(seg)
    res = []
    for s in out:
        start, end = s["timestamp"] if return_timestamps else (None, None)
        res.append({"start": start, "end": end, "tokens": [int(x) for x in s["tokens"]], "language": s["language"] or ""})
    return res


# ---- generation: the timestamp rules ------------------------------------------------------

def timestamp_rules(seq, scores, no_ts, eos, begin, max_initial):
    s = np.array(scores, dtype=np.float32).copy()
    tb = no_ts + 1
    s[no_ts] = -np.inf
    gen = list(seq[begin:])
    last = len(gen) >= 1 and gen[-1] >= tb
    penult = len(gen) < 2 or gen[-2] >= tb
    if last:
        if penult:
            s[tb:] = -np.inf
        else:
            s[:eos] = -np.inf
    stamps = [t for t in gen if t >= tb]
    if stamps:
        upto = stamps[-1] if (last and not penult) else stamps[-1] + 1
        s[tb:upto] = -np.inf
    if len(seq) == begin:
        s[:tb] = -np.inf
        if max_initial is not None:
            s[tb + max_initial + 1:] = -np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.max(s)
        if np.isfinite(m):
            logp = s.astype(np.float64) - m - math.log(np.sum(np.exp(s.astype(np.float64) - m)))
            ts_mass = np.logaddexp.reduce(logp[tb:])
            if ts_mass > np.max(logp[:tb]):
                s[:tb] = -np.inf
    return [None if not np.isfinite(v) else float(v) for v in s]


# ---- synthetic cases ----------------------------------------------------------------------

TB = 100            # <|0.00|>; text 0..49, <|endoftext|> 50, <|startoftranscript|> 51, ...
EOS, SOT, EN, DE, TRANSLATE, TRANSCRIBE, NO_TS = 50, 51, 52, 53, 54, 55, 99
SPECIALS = list(range(50, 100))
LANGS = [[EN, "en"], [DE, "de"]]
PREC = 0.02
SR = 16000


def transcript(rng, duration):
    """Segments (start, end, [(time, token)]) covering the audio."""
    segs, t = [], float(rng.uniform(0, 1.5))
    while t < duration - 0.5:
        length = float(rng.uniform(1.0, 8.0))
        end = min(t + length, duration)
        n = max(1, int((end - t) * rng.uniform(1.5, 3.5)))
        times = np.sort(rng.uniform(t, end, n))
        segs.append((t, end, [(float(x), int(rng.integers(0, 50))) for x in times]))
        t = end + float(rng.uniform(0.0, 1.2))
    return segs


def stamp(x):
    return TB + int(round(min(max(x, 0.0), 30.0) / PREC))


def window_output(rng, segs, ws, we, timestamps, lang, noise):
    out = [SOT, lang, TRANSCRIBE] + ([] if timestamps else [NO_TS])
    for (a, b, words) in segs:
        if b <= ws or a >= we:
            continue
        inside = [tok for (x, tok) in words if ws <= x < we]
        noisy = []
        for tok in inside:
            r = rng.uniform()
            if r < noise:
                noisy.append(int(rng.integers(0, 50)))
            elif r < noise * 1.5:
                continue
            else:
                noisy.append(tok)
        if timestamps:
            out.append(stamp(a - ws))
            out.extend(noisy)
            if b <= we:
                out.append(stamp(b - ws))
            else:
                break  # the window cut the segment: no closing timestamp
        else:
            out.extend(noisy)
    out.append(EOS)
    return out


def long_form_case(rng, name, timestamps, chunk_s=30.0, stride_s=5.0, switch_language=False):
    duration = float(rng.uniform(31.0, 130.0))
    n = int(duration * SR)
    segs = transcript(rng, duration)
    plan = plan_windows(n, int(round(chunk_s * SR)), int(round(stride_s * SR)), int(round(stride_s * SR)))
    windows = []
    for k, (b, e, l, r, _) in enumerate(plan):
        lang = DE if (switch_language and k == len(plan) - 1) else EN
        toks = window_output(rng, segs, b / SR, b / SR + chunk_s, timestamps, lang, noise=0.1)
        windows.append({"tokens": toks, "stride": [(e - b) / SR, l / SR, r / SR]})
    return {"name": name, "timestamp_begin": TB, "time_precision": PREC, "special_ids": SPECIALS, "languages": LANGS,
            "return_timestamps": timestamps, "windows": windows,
            "expected": decode_asr(windows, TB, PREC, SPECIALS, LANGS, timestamps)}


def hand_window_cases():
    ts = lambda s: TB + int(round(s / PREC))
    cases = []

    def add(name, windows, timestamps=True):
        cases.append({"name": name, "timestamp_begin": TB, "time_precision": PREC, "special_ids": SPECIALS,
                      "languages": LANGS, "return_timestamps": timestamps, "windows": windows,
                      "expected": decode_asr(windows, TB, PREC, SPECIALS, LANGS, timestamps)})

    one = lambda toks: [{"tokens": toks, "stride": [12.0, 0.0, 0.0]}]
    add("single_window_two_segments", one([SOT, EN, TRANSCRIBE, ts(0), 1, 2, ts(2.5), ts(2.5), 3, ts(4.0), EOS]))
    add("repeated_start_is_not_an_end", one([SOT, ts(1.0), 5, ts(1.0), 6, ts(3.0), EOS]))
    add("no_closing_timestamp", one([SOT, ts(0), 7, 8, 9, EOS]))
    add("sequential_long_form_restarts", one([SOT, ts(0), 1, ts(29.0), ts(0.0), 2, ts(3.0), 3, ts(1.0), 4, ts(2.0), EOS]))
    add("empty_windows", [{"tokens": [SOT, EOS], "stride": [30.0, 0.0, 5.0]},
                          {"tokens": [SOT, EOS], "stride": [30.0, 5.0, 5.0]},
                          {"tokens": [SOT, ts(0), 1, 2, ts(4.0), EOS], "stride": [12.0, 5.0, 0.0]}])
    add("only_timestamps", one([SOT, ts(0), ts(1.0), ts(1.0), ts(2.0), EOS]))
    add("no_timestamps_language_switch", [{"tokens": [SOT, EN, 1, 2, 3, 4], "stride": [30.0, 0.0, 5.0]},
                                          {"tokens": [SOT, EN, 3, 4, 5, 6], "stride": [30.0, 5.0, 5.0]},
                                          {"tokens": [SOT, DE, 7, 8], "stride": [20.0, 5.0, 0.0]}], timestamps=False)
    return cases


def main():
    rng = np.random.default_rng(20261203)
    plans = []
    for (n, c, l, r) in [(0, 10, 2, 2), (5, 10, 2, 2), (10, 10, 2, 2), (11, 10, 2, 2), (100, 10, 2, 2), (101, 10, 3, 1),
                         (1120000, 480000, 80000, 80000), (480000, 480000, 80000, 80000), (480001, 480000, 80000, 80000),
                         (37, 7, 0, 0), (38, 9, 4, 0)]:
        plans.append({"n": n, "chunk": c, "left": l, "right": r, "expected": plan_windows(n, c, l, r)})
    lcs = [{"sequences": [[1, 2, 3, 4], [3, 4, 5]]}, {"sequences": [[1, 2], [3, 4]]}, {"sequences": [[], [1, 2, 3]]},
           {"sequences": [[1, 2, 3], []]}, {"sequences": [[5, 5, 5, 5], [5, 5, 5, 6]]}]
    for _ in range(40):
        base = list(rng.integers(0, 12, int(rng.integers(10, 60))))
        seqs, pos = [], 0
        while pos < len(base):
            length = int(rng.integers(4, 25))
            piece = base[max(0, pos - int(rng.integers(0, 8))): pos + length]
            piece = [int(t) if rng.uniform() > 0.15 else int(rng.integers(0, 12)) for t in piece]
            seqs.append(piece)
            pos += length
        lcs.append({"sequences": seqs})
    for c in lcs:
        c["expected"] = [int(x) for x in longest_common_sequence(c["sequences"])]

    windows = hand_window_cases()
    for k in range(24):
        windows.append(long_form_case(rng, f"synthetic_timestamps_{k}", True))
    for k in range(10):
        windows.append(long_form_case(rng, f"synthetic_text_{k}", False, switch_language=(k % 3 == 0)))
    windows.append(long_form_case(rng, "synthetic_chunk10_stride2", True, chunk_s=10.0, stride_s=2.0))
    windows.append(long_form_case(rng, "synthetic_chunk20_stride0", True, chunk_s=20.0, stride_s=0.0))

    rules = []
    vocab, no_ts, eos, begin = 60, 49, 40, 3
    for k in range(80):
        gen = []
        for _ in range(int(rng.integers(0, 7))):
            gen.append(int(rng.integers(50, 60)) if rng.uniform() < 0.45 else int(rng.integers(0, 41)))
        seq = [41, 42, 43] + gen
        scores = rng.normal(0, 2, vocab).astype(np.float32)
        if k % 3 == 0:
            scores[50:] += 2.5  # make the timestamps' total mass win sometimes
        max_initial = None if k % 2 else int(rng.integers(0, 4))
        rules.append({"sequence": seq, "scores": [float(x) for x in scores], "no_timestamps_token_id": no_ts,
                      "eos_token_id": eos, "begin_index": begin, "max_initial_timestamp_index": max_initial,
                      "expected": timestamp_rules(seq, scores, no_ts, eos, begin, max_initial)})

    with open(OUT, "w") as f:
        json.dump({"about": "written by tools/reference/whisper_long_form.py; replayed by tests/whisper_long_form_test.cpp",
                   "plans": plans, "lcs": lcs, "windows": windows, "timestamp_rules": rules}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(plans)} plans, {len(lcs)} lcs, {len(windows)} window cases, {len(rules)} rule cases")


if __name__ == "__main__":
    main()
