"""Text generation through Python: streaming, callbacks, stop strings, sampling options,
and the GIL being released while tessera computes."""

import threading
import time

import numpy as np
import pytest

import tessera

PROMPT = "def fibonacci(n):\n"


def test_stream_pieces_concatenate_to_generate_text(model, tokenizer, meta):
    pieces = list(model.stream_text(tokenizer, PROMPT, max_new_tokens=64, temperature=0, ignore_eos=True))
    assert len(pieces) > 10
    assert "".join(pieces) == meta["generation"]["continuation"]


def test_stream_stops_when_the_consumer_stops(model, tokenizer):
    stream = model.stream_text(tokenizer, PROMPT, max_new_tokens=64, temperature=0, ignore_eos=True)
    first = next(stream)
    stream.close()  # joins the worker: returns only once generation has stopped
    assert first == "\n"
    for _ in zip(range(3), model.stream_text(tokenizer, PROMPT, max_new_tokens=64, temperature=0)):
        pass  # break out of a for loop: the generator is closed when dropped


def test_stream_raises_library_errors_in_the_consumer(model, tokenizer):
    with pytest.raises(tessera.Error, match="temperature"):
        list(model.stream_text(tokenizer, PROMPT, temperature=-1.0))
    with pytest.raises(TypeError):
        list(model.stream_text(tokenizer, PROMPT, on_text=print))


def test_on_text_callback_can_stop(model, tokenizer, meta):
    seen = []

    def on_text(piece):
        seen.append(piece)
        return len(seen) < 5

    text = model.generate_text(tokenizer, PROMPT, max_new_tokens=64, temperature=0, ignore_eos=True, on_text=on_text)
    assert len(seen) == 5
    assert text == "".join(seen)
    assert meta["generation"]["continuation"].startswith(text)


def test_callback_exception_propagates(model, tokenizer):
    def on_text(piece):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        model.generate_text(tokenizer, PROMPT, max_new_tokens=8, on_text=on_text)


def test_stop_strings_cut_the_text(model, tokenizer, meta):
    full = meta["generation"]["continuation"]  # "\ndef filterer(n):\n    \"\"\"Return ..."
    # The text ends just before the stop string, which is left out (as the C++ generate_text).
    assert model.generate_text(tokenizer, PROMPT, max_new_tokens=64, temperature=0, stop="(n)") == full[
        : full.index("(n)")]
    assert model.generate_text(tokenizer, PROMPT, max_new_tokens=64, temperature=0, stop=["zzz", "Return"]) == full[
        : full.index("Return")]


def test_max_new_tokens_zero_gives_nothing(model, tokenizer):
    assert model.generate_text(tokenizer, PROMPT, max_new_tokens=0) == ""


def test_top_k_1_sampling_is_greedy(model, tokenizer, meta):
    # With one candidate left after top-k, every draw must pick the argmax, whatever the
    # temperature and seed.
    text = model.generate_text(tokenizer, PROMPT, max_new_tokens=64, temperature=0.7, top_k=1, seed=123,
                               ignore_eos=True)
    assert text == meta["generation"]["continuation"]


def test_sampling_is_reproducible_by_seed(model, tokenizer):
    def run(seed):
        return model.generate_text(tokenizer, PROMPT, max_new_tokens=48, temperature=1.5, seed=seed, ignore_eos=True)

    a, b = run(1), run(1)
    assert a == b
    assert any(run(s) != a for s in (2, 3, 4))  # 48 tokens at T=1.5: another seed differs


def test_bad_generation_options_raise(model, tokenizer):
    with pytest.raises(tessera.Error, match="temperature must be >= 0"):
        model.generate_text(tokenizer, PROMPT, temperature=-0.5)
    with pytest.raises(tessera.Error, match="max_new_tokens must be >= 0"):
        model.generate_text(tokenizer, PROMPT, max_new_tokens=-1)
    with pytest.raises(tessera.Error, match="stop must be a string or a list of strings, found int"):
        model.generate_text(tokenizer, PROMPT, stop=3)


def test_gil_is_released_while_computing(model):
    # While one thread is inside tessera, another Python thread must keep running. A held GIL
    # would freeze it from the moment the call starts until it returns.
    # Greedy generation through forward_named (little memory whatever the length), sized for
    # ~0.5 s on this machine from a short run.
    def generate(n):
        return model.forward_named({"prompt_ids": np.array([[1]])}, generate_tokens=n)

    t0 = time.perf_counter()
    generate(64)
    per_token = max((time.perf_counter() - t0) / 64, 1e-5)
    n = int(min(4096, max(128, 0.5 / per_token)))
    stamps, done = [], threading.Event()

    def ticker():
        while not done.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        time.sleep(0.02)
        start = time.perf_counter()
        generate(n)
        end = time.perf_counter()
    finally:
        done.set()
        t.join()
    assert end - start > 0.1, f"{n} tokens took {end - start:.3f} s: too quick to tell"
    inside = [s for s in stamps if start + 0.03 < s < end]
    assert len(inside) >= 5, f"the other thread ran {len(inside)} times during {end - start:.3f} s in tessera"


def test_one_model_serves_several_threads(model, tokenizer, meta):
    # Each call has its own session, so concurrent calls on one Model must each give the
    # single-threaded answer.
    results = [None] * 4

    def run(i):
        results[i] = model.generate_text(tokenizer, PROMPT, max_new_tokens=64, temperature=0, ignore_eos=True)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [meta["generation"]["continuation"]] * len(results)
