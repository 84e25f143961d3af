"""tessera: transformer models on the CPU.

Python bindings of the tessera C++ library::

    import tessera
    model = tessera.load("models/pycode-6m")            # a Hugging Face directory or a .gguf file
    tok = tessera.Tokenizer.from_file("models/pycode-6m")
    logits = model.forward(tok.encode("def f(x):"))     # numpy [tokens, vocab]
    print(model.generate_text(tok, "def f(x):", max_new_tokens=32, temperature=0))
    for piece in model.stream_text(tok, "def f(x):", max_new_tokens=32):
        print(piece, end="", flush=True)

Errors from the library raise tessera.Error (a RuntimeError) with tessera's message.
"""

import queue as _queue
import threading as _threading

from ._tessera import (  # noqa: F401  (re-exported)
    Error,
    Model,
    ModelInfo,
    Tokenizer,
    __version__,
    load,
    num_threads,
    set_num_threads,
)

__all__ = ["Error", "Model", "ModelInfo", "Tokenizer", "load", "num_threads", "set_num_threads", "__version__"]

_DONE = object()


class _Failure:
    def __init__(self, error):
        self.error = error


def _stream_text(self, tokenizer, prompt, **options):
    """Model.stream_text(tokenizer, prompt, **options): an iterator over the pieces of text
    Model.generate_text(tokenizer, prompt, **options) would return, each yielded as soon as
    it is decoded (the pieces concatenate to that text). Stopping the iteration early (break,
    or closing the iterator) stops the generation after the token in progress."""
    if "on_text" in options:
        raise TypeError("stream_text() takes no on_text: iterate over it instead")
    pieces = _queue.Queue()
    cancelled = _threading.Event()

    def on_text(piece):
        pieces.put(piece)
        return not cancelled.is_set()

    # generate_text runs without the GIL in a worker thread and calls on_text (with the GIL)
    # for each piece; this generator hands them over as they come.
    def run():
        try:
            self.generate_text(tokenizer, prompt, on_text=on_text, **options)
        except BaseException as e:  # noqa: B902  (re-raised in the consumer's thread)
            pieces.put(_Failure(e))
        finally:
            pieces.put(_DONE)

    worker = _threading.Thread(target=run, name="tessera.stream_text", daemon=True)
    worker.start()
    try:
        while True:
            item = pieces.get()
            if item is _DONE:
                break
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        cancelled.set()
        worker.join()


Model.stream_text = _stream_text
