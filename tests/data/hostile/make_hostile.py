#!/usr/bin/python3
"""Writes the hostile-input corpus next to this script (run: /usr/bin/python3 make_hostile.py).

Every file is small and made by hand from the rules below, with no randomness that is not
seeded, so running the script twice gives the same bytes. tests/hostile_test.cpp says, for
each file, which tessera::Error (message fragment) it must produce.

  safetensors/  single safetensors files with broken headers
  models/       model directories (config.json + a tiny Llama checkpoint) broken one way each
  tokenizers/   tokenizer.json files broken one way each
  text/         byte strings that are not UTF-8 (encoded with models/pycode-6m's tokenizer)
  inputs/       tessera-forward input files for models/ok
  wav/ images/  audio and image files
"""
import json
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)


def path(*parts):
    p = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def write(rel, data):
    with open(path(rel), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---------------------------------------------------------------- safetensors

DSIZE = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1, "F64": 8}


def raw_safetensors(header, data=b"", length=None):
    h = header if isinstance(header, bytes) else header.encode()
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


class Lcg:
    """Deterministic small floats without numpy."""

    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return ((self.s >> 40) / float(1 << 24) - 0.5) * 0.2


def pack(dtype, values):
    fmt = {"F32": "f", "I64": "q", "I32": "i", "I8": "b", "U8": "B", "F64": "d"}[dtype]
    return struct.pack("<%d%s" % (len(values), fmt), *values)


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, bytes) in file order (names may repeat)."""
    parts, off, data = [], 0, b""
    if metadata is not None:
        parts.append('"__metadata__":' + json.dumps(metadata, sort_keys=True))
    for name, dtype, shape, blob in tensors:
        parts.append('%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}'
                     % (json.dumps(name), dtype, json.dumps(shape), off, off + len(blob)))
        off += len(blob)
        data += blob
    header = "{" + ",".join(parts) + "}"
    header += " " * ((-(8 + len(header))) % 8)
    return raw_safetensors(header, data)


F32x2 = pack("F32", [1.0, 2.0])

write("safetensors/header_past_end.safetensors", raw_safetensors("{}", length=1000))
write("safetensors/header_length_huge.safetensors", raw_safetensors("{}", length=1 << 63))
write("safetensors/short_file.safetensors", b"abc")
write("safetensors/empty_file.safetensors", b"")
write("safetensors/not_json.safetensors", raw_safetensors("{not json"))
write("safetensors/deep_nesting.safetensors", raw_safetensors("[" * 5000 + "]" * 5000))
write("safetensors/not_object.safetensors", raw_safetensors("[1, 2]"))
write("safetensors/entry_not_object.safetensors", raw_safetensors('{"t": 5}'))
write("safetensors/offsets_past_end.safetensors",
      raw_safetensors('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}', F32x2))
write("safetensors/offsets_reversed.safetensors",
      raw_safetensors('{"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', F32x2))
write("safetensors/offsets_not_integers.safetensors",
      raw_safetensors('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0.0,8.0]}}', F32x2))
write("safetensors/offsets_huge.safetensors",
      raw_safetensors('{"t":{"dtype":"U8","shape":[8],"data_offsets":[18446744073709551608,0]}}', F32x2))
write("safetensors/overlap.safetensors",
      raw_safetensors('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                      '"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', F32x2))
write("safetensors/shape_overflow.safetensors",
      raw_safetensors('{"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}', F32x2))
write("safetensors/shape_wraps_to_size.safetensors",  # 2^62 F32 elements: 2^64 bytes wraps to 0
      raw_safetensors('{"t":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}', F32x2))
write("safetensors/dim_too_large.safetensors",
      raw_safetensors('{"t":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8]}}', F32x2))
write("safetensors/dim_negative.safetensors",
      raw_safetensors('{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', F32x2))
write("safetensors/shape_not_array.safetensors",
      raw_safetensors('{"t":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}', F32x2))
write("safetensors/dtype_size_mismatch.safetensors",
      raw_safetensors('{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', F32x2))
write("safetensors/dtype_unknown.safetensors",
      raw_safetensors('{"t":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,8]}}', F32x2))
write("safetensors/metadata_not_string.safetensors",
      raw_safetensors('{"__metadata__":{"format":1},"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', F32x2))
# Two entries named "t": nlohmann keeps the last one silently; the reader must refuse.
write("safetensors/duplicate_names.safetensors",
      safetensors([("t", "F32", [2], F32x2), ("t", "F32", [1], pack("F32", [3.0]))]))
# Valid files that must load: an F32 tensor at an offset that is not 4-aligned (copied),
# an empty tensor, and a header with no tensors.
write("safetensors/ok_unaligned.safetensors",
      safetensors([("pad", "U8", [2], bytes([7, 9])), ("t", "F32", [3], pack("F32", [1.5, -2.0, 3.25]))]))
write("safetensors/ok_empty_tensor.safetensors", safetensors([("e", "F32", [0, 4], b""), ("t", "F32", [2], F32x2)]))
write("safetensors/ok_no_tensors.safetensors", safetensors([]))

# ---------------------------------------------------------------- model directories

TINY = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8, "intermediate_size": 16,
    "num_attention_heads": 2, "num_key_value_heads": 1, "num_hidden_layers": 2, "vocab_size": 32,
    "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
    "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
}


def tiny_tensors(layers=2, skip=(), override=None):
    d, f, v, kv = 8, 16, 32, 4
    shapes = [("model.embed_tokens.weight", [v, d]), ("model.norm.weight", [d]), ("lm_head.weight", [v, d])]
    for l in range(layers):
        p = "model.layers.%d." % l
        shapes += [(p + "input_layernorm.weight", [d]), (p + "post_attention_layernorm.weight", [d]),
                   (p + "self_attn.q_proj.weight", [d, d]), (p + "self_attn.k_proj.weight", [kv, d]),
                   (p + "self_attn.v_proj.weight", [kv, d]), (p + "self_attn.o_proj.weight", [d, d]),
                   (p + "mlp.gate_proj.weight", [f, d]), (p + "mlp.up_proj.weight", [f, d]),
                   (p + "mlp.down_proj.weight", [d, f])]
    out = []
    for i, (name, shape) in enumerate(sorted(shapes)):
        if name in skip:
            continue
        if override and name in override:
            out.append(override[name])
            continue
        rng = Lcg(i + 1)
        n = 1
        for s in shape:
            n *= s
        vals = [1.0] * n if len(shape) == 1 else [rng.next() for _ in range(n)]
        out.append((name, "F32", shape, pack("F32", vals)))
    return out


def model_dir(name, config=None, tensors=None, raw_config=None, files=None):
    if os.path.isdir(os.path.join(HERE, "models", name)):
        shutil.rmtree(os.path.join(HERE, "models", name))
    if raw_config is not None:
        write("models/%s/config.json" % name, raw_config)
    elif config is not None:
        write("models/%s/config.json" % name, json.dumps(config, indent=1, sort_keys=True) + "\n")
    if tensors is not None:
        write("models/%s/model.safetensors" % name, safetensors(tensors, {"format": "pt"}))
    for rel, data in (files or {}).items():
        write("models/%s/%s" % (name, rel), data)


def cfg(**changes):
    c = dict(TINY)
    for k, v in changes.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


T = tiny_tensors()
model_dir("ok", TINY, T)
model_dir("config_not_json", raw_config='{"model_type": "llama", ', tensors=T)
model_dir("config_array", raw_config="[1, 2, 3]\n", tensors=T)
model_dir("config_no_model_type", cfg(model_type=None), T)
model_dir("config_unknown_model_type", cfg(model_type="llama9"), T)
model_dir("config_hidden_size_string", cfg(hidden_size="8"), T)
model_dir("config_hidden_size_zero", cfg(hidden_size=0), T)
model_dir("config_layers_negative", cfg(num_hidden_layers=-2), T)
model_dir("config_heads_do_not_divide", cfg(num_attention_heads=3), T)
model_dir("config_kv_heads_do_not_divide", cfg(num_key_value_heads=3), T)
model_dir("config_vocab_absurd", cfg(vocab_size=1 << 40), T)
# Found by fuzz_load_config: a float too large for int64 was cast before its range check (UB).
model_dir("config_vocab_float_huge", cfg(vocab_size=3.8e57), T)
model_dir("config_vocab_uint64_max", cfg(vocab_size=18446744073709551615), T)
# Sizes that pass the range checks but would allocate gigabytes: the tensor shapes refuse.
model_dir("config_vocab_mismatch", cfg(vocab_size=1 << 30), T)
model_dir("config_intermediate_absurd", cfg(intermediate_size=(1 << 31) - 1), T)
model_dir("config_head_dim_absurd", cfg(head_dim=65536), T)
model_dir("config_layers_absurd", cfg(num_hidden_layers=100000), T)
# Fewer layers than the checkpoint holds: would silently run a different model.
model_dir("config_layers_fewer_than_checkpoint", cfg(num_hidden_layers=1), T)
model_dir("config_max_positions_negative", cfg(max_position_embeddings=-5), T)
model_dir("config_eps_string", cfg(rms_norm_eps="1e-5"), T)
model_dir("config_rope_unknown", cfg(rope_scaling={"rope_type": "longrope2", "factor": 2.0}), T)
model_dir("config_activation_unknown", cfg(hidden_act="swiglu9"), T)
model_dir("config_sliding_window_negative", cfg(model_type="mistral", sliding_window=-1), T)
# New families: config errors found before any tensor is read (head_dim 4: 2 longrope factors).
model_dir("config_longrope_factors_short", cfg(model_type="phi3", original_max_position_embeddings=16, rope_scaling={
    "type": "longrope", "short_factor": [1.0], "long_factor": [1.0, 2.0]}), T)
model_dir("config_longrope_factor_negative", cfg(model_type="phi3", original_max_position_embeddings=16, rope_scaling={
    "type": "longrope", "short_factor": [1.0, 1.0], "long_factor": [1.0, -2.0]}), T)
model_dir("config_gemma2_softcap_negative", cfg(model_type="gemma2", head_dim=4, attn_logit_softcapping=-50.0), T)
model_dir("config_gemma2_layer_type_unknown", cfg(model_type="gemma2", head_dim=4, sliding_window=4,
                                                  layer_types=["sliding_attention", "chunked_attention"]), T)
model_dir("config_gemma2_layer_types_short", cfg(model_type="gemma2", head_dim=4, layer_types=["full_attention"]), T)
model_dir("config_gptj_rotary_dim_null", {"model_type": "gptj", "n_embd": 8, "n_head": 2, "n_layer": 1,
                                          "n_positions": 16, "vocab_size": 32, "rotary_dim": None}, T)
model_dir("config_gptj_rotary_dim_odd", {"model_type": "gptj", "n_embd": 8, "n_head": 2, "n_layer": 1,
                                         "n_positions": 16, "vocab_size": 32, "rotary_dim": 3}, T)
model_dir("config_opt_no_affine_norms", {"model_type": "opt", "hidden_size": 8, "num_attention_heads": 2,
                                         "num_hidden_layers": 1, "ffn_dim": 16, "max_position_embeddings": 16,
                                         "vocab_size": 32, "layer_norm_elementwise_affine": False}, T)
model_dir("config_gpt2_heads_do_not_divide",
          {"model_type": "gpt2", "n_embd": 8, "n_head": 3, "n_layer": 1, "n_positions": 16, "vocab_size": 32}, T)
# Encoder-decoder families: config errors found before any tensor is read.
model_dir("config_pegasus_d_model_odd", {"model_type": "pegasus", "d_model": 7, "vocab_size": 32, "encoder_layers": 1,
                                         "decoder_layers": 1, "max_position_embeddings": 16, "pad_token_id": 0}, T)
model_dir("config_mt5_feed_forward_proj_bad", {"model_type": "mt5", "d_model": 8, "d_kv": 4, "d_ff": 16,
                                               "num_heads": 2, "num_layers": 1, "vocab_size": 32,
                                               "feed_forward_proj": "gated-gelu-new"}, T)
model_dir("config_mbart_activation_unknown", {"model_type": "mbart", "d_model": 8, "vocab_size": 32,
                                              "encoder_layers": 1, "decoder_layers": 1,
                                              "max_position_embeddings": 16, "activation_function": "geglu9"}, T)
model_dir("config_falcon_new_arch_sequential", {"model_type": "falcon", "hidden_size": 8, "num_attention_heads": 2,
                                               "num_hidden_layers": 1, "vocab_size": 32,
                                               "new_decoder_architecture": True, "parallel_attn": False}, T)
model_dir("config_falcon_kv_heads_not_heads", {"model_type": "falcon", "hidden_size": 8, "num_attention_heads": 2,
                                               "num_kv_heads": 1, "num_hidden_layers": 1, "vocab_size": 32,
                                               "multi_query": False}, T)
model_dir("config_falcon_kv_heads_do_not_divide", {"model_type": "falcon", "hidden_size": 12, "num_attention_heads": 3,
                                                   "num_kv_heads": 2, "num_hidden_layers": 1, "vocab_size": 32,
                                                   "new_decoder_architecture": True}, T)
model_dir("config_bloom_residual_after_norm", {"model_type": "bloom", "hidden_size": 8, "n_head": 2, "n_layer": 1,
                                               "vocab_size": 32, "apply_residual_connection_post_layernorm": True}, T)
model_dir("config_qwen2_moe_top_k_above_experts", cfg(model_type="qwen2_moe", qkv_bias=False, num_experts=4,
                                                      num_experts_per_tok=9, moe_intermediate_size=8), T)
model_dir("weights_falcon_qkv_wrong_shape", {"model_type": "falcon", "hidden_size": 8, "num_attention_heads": 2,
                                             "num_hidden_layers": 1, "vocab_size": 32}, [
    ("transformer.word_embeddings.weight", "F32", [32, 8], pack("F32", [0.0] * 256)),
    ("transformer.h.0.input_layernorm.weight", "F32", [8], pack("F32", [1.0] * 8)),
    ("transformer.h.0.input_layernorm.bias", "F32", [8], pack("F32", [0.0] * 8)),
    # multi-query with 2 heads of 4: [2 q + k + v] x 4 = 16 rows, not 24
    ("transformer.h.0.self_attention.query_key_value.weight", "F32", [24, 8], pack("F32", [0.0] * 192))])
model_dir("weights_missing_tensor", TINY, tiny_tensors(skip={"model.norm.weight"}))
model_dir("weights_wrong_shape", TINY, tiny_tensors(override={
    "model.layers.1.self_attn.k_proj.weight": ("model.layers.1.self_attn.k_proj.weight", "F32", [8, 8],
                                               pack("F32", [0.0] * 64))}))
model_dir("weights_integer_dtype", TINY, tiny_tensors(override={
    "model.layers.0.mlp.up_proj.weight": ("model.layers.0.mlp.up_proj.weight", "I32", [16, 8], pack("I32", [1] * 128))}))
model_dir("weights_norm_u8", TINY, tiny_tensors(override={
    "model.norm.weight": ("model.norm.weight", "U8", [8], pack("U8", [1] * 8))}))
model_dir("weights_none", TINY)
# Sharded checkpoints whose index is wrong.
half = len(T) // 2
shard1, shard2 = safetensors(T[:half]), safetensors(T[half:])
wmap = {t[0]: "model-00001-of-00002.safetensors" for t in T[:half]}
wmap.update({t[0]: "model-00002-of-00002.safetensors" for t in T[half:]})
model_dir("index_ok", TINY, files={
    "model.safetensors.index.json": json.dumps({"metadata": {}, "weight_map": wmap}, indent=1, sort_keys=True),
    "model-00001-of-00002.safetensors": shard1, "model-00002-of-00002.safetensors": shard2})
model_dir("index_missing_shard", TINY, files={
    "model.safetensors.index.json": json.dumps({"metadata": {}, "weight_map": wmap}, indent=1, sort_keys=True),
    "model-00001-of-00002.safetensors": shard1})
wrong = dict(wmap)
wrong[T[0][0]] = "model-00002-of-00002.safetensors"
model_dir("index_tensor_not_in_shard", TINY, files={
    "model.safetensors.index.json": json.dumps({"weight_map": wrong}, indent=1, sort_keys=True),
    "model-00001-of-00002.safetensors": shard1, "model-00002-of-00002.safetensors": shard2})
trav = dict(wmap)
trav[T[0][0]] = "../ok/model.safetensors"
model_dir("index_path_traversal", TINY, files={
    "model.safetensors.index.json": json.dumps({"weight_map": trav}, indent=1, sort_keys=True),
    "model-00001-of-00002.safetensors": shard1, "model-00002-of-00002.safetensors": shard2})
# The same tensor listed twice in weight_map (to both shards): which one is meant?
dup = '{"weight_map": {' + ",".join(
    ['%s: %s' % (json.dumps(k), json.dumps(v)) for k, v in sorted(wmap.items())] +
    ['%s: "model-00001-of-00002.safetensors"' % json.dumps(T[-1][0])]) + "}}"
model_dir("index_duplicate_entry", TINY, files={
    "model.safetensors.index.json": dup,
    "model-00001-of-00002.safetensors": shard1, "model-00002-of-00002.safetensors": shard2})
model_dir("index_no_weight_map", TINY, files={"model.safetensors.index.json": '{"metadata": {}}'})

# ---------------------------------------------------------------- tokenizer.json

BPE = {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}


def tok(**fields):
    t = {"version": "1.0", "model": BPE}
    t.update(fields)
    return json.dumps(t, sort_keys=True)


write("tokenizers/ok.json", tok())
write("tokenizers/not_json.json", '{"model": {"type": "BPE", ')
write("tokenizers/deep_nesting.json", '{"model": ' + "[" * 5000 + "]" * 5000 + "}")
write("tokenizers/no_model.json", json.dumps({"version": "1.0"}))
write("tokenizers/unknown_model_type.json", tok(model={"type": "SentencePieceX", "vocab": {}}))
write("tokenizers/merge_one_token.json", tok(model=dict(BPE, merges=["ab"])))
write("tokenizers/merge_unknown_token.json", tok(model=dict(BPE, merges=["a c"])))
write("tokenizers/merge_not_string.json", tok(model=dict(BPE, merges=[5])))
write("tokenizers/vocab_id_not_integer.json", tok(model=dict(BPE, vocab={"a": "zero"})))
write("tokenizers/vocab_id_negative.json", tok(model=dict(BPE, vocab={"a": -1, "b": 1})))
write("tokenizers/vocab_id_huge.json", tok(model=dict(BPE, vocab={"a": 0, "b": 4000000000})))
# Found by fuzz_tokenizer_json: one id of 2e9 made the reader size its id -> token table by
# the largest id (64 GB of strings) instead of refusing a vocabulary that sparse.
write("tokenizers/vocab_id_sparse_huge.json", tok(model=dict(BPE, vocab={"a": 0, "b": 2000000000})))
write("tokenizers/unknown_pre_tokenizer.json", tok(pre_tokenizer={"type": "Nope"}))
write("tokenizers/unknown_normalizer.json", tok(normalizer={"type": "Nope"}))
write("tokenizers/unknown_decoder.json", tok(decoder={"type": "Nope"}))
write("tokenizers/unknown_post_processor.json", tok(post_processor={"type": "Nope"}))
write("tokenizers/added_token_no_content.json", tok(added_tokens=[{"id": 5}]))
write("tokenizers/wordpiece_unk_missing.json",
      tok(model={"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                 "max_input_chars_per_word": 100}))
write("tokenizers/unigram_bad_piece.json", tok(model={"type": "Unigram", "vocab": [["a", "x"]], "unk_id": 0}))
write("tokenizers/unigram_unk_out_of_range.json", tok(model={"type": "Unigram", "vocab": [["a", -1.0]], "unk_id": 7}))
write("tokenizers/split_bad_regex.json",
      tok(pre_tokenizer={"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated", "invert": False}))


# Small valid tokenizers with every pipeline the test data has (vocabularies cut to their
# first 100 entries): they must load and encode; the fuzzer starts from them.
def trimmed(src):
    with open(src, encoding="utf-8") as f:
        t = json.load(f)
    m = t["model"]
    if isinstance(m.get("vocab"), dict):
        keep = sorted(m["vocab"].items(), key=lambda kv: kv[1])[:100]
        specials = [m.get("unk_token")] + [a["content"] for a in t.get("added_tokens", [])]
        keep += [(k, m["vocab"][k]) for k in specials if k in m["vocab"] and (k, m["vocab"][k]) not in keep]
        m["vocab"] = dict(keep)
        if "merges" in m:
            def parts(mg):
                return mg.split(" ", 1) if isinstance(mg, str) else mg
            ok = []
            for mg in m["merges"]:
                a = parts(mg)
                if len(a) == 2 and a[0] in m["vocab"] and a[1] in m["vocab"] and a[0] + a[1] in m["vocab"]:
                    ok.append(mg)
            m["merges"] = ok
    elif isinstance(m.get("vocab"), list):
        m["vocab"] = m["vocab"][:100]
        if m.get("unk_id") is not None and m["unk_id"] >= 100:
            m["unk_id"] = 0
    return json.dumps(t, ensure_ascii=False, sort_keys=True)


TOKDIR = os.path.join(DATA, "tokenizers")
for name in sorted(os.listdir(TOKDIR)):
    src = os.path.join(TOKDIR, name, "tokenizer.json")
    if os.path.exists(src):
        write("tokenizers/ok_%s.json" % name, trimmed(src))

# Text that is not UTF-8: (bytes, offset of the first bad byte).
write("text/lone_continuation.bin", b"def f():\x80")
write("text/truncated_two_byte.bin", b"ok \xc3(")
write("text/overlong_slash.bin", b"a\xc0\xaf")
write("text/surrogate.bin", b"xy\xed\xa0\x80")
write("text/above_max_code_point.bin", b"\xf4\x90\x80\x80")
write("text/truncated_at_end.bin", b"abc\xf0\x9f\x98")
write("text/invalid_byte_ff.bin", b"\xff")

# ---------------------------------------------------------------- tessera-forward inputs (for models/ok)


def ids(name, dtype, shape, values, extra=()):
    write("inputs/%s.safetensors" % name, safetensors([("input_ids", dtype, shape, pack(dtype, values))] + list(extra)))


ids("ok", "I64", [1, 3], [1, 5, 7])
ids("id_out_of_vocab", "I64", [1, 3], [1, 32, 7])
ids("id_negative", "I64", [1, 2], [1, -1])
ids("id_huge", "I64", [1, 1], [1 << 40])
ids("ids_float", "F32", [1, 2], [1.0, 2.0])
ids("ids_rank1", "I64", [3], [1, 2, 3])
ids("ids_rank3", "I64", [1, 1, 2], [1, 2])
ids("mask_shape_mismatch", "I64", [1, 3], [1, 2, 3], [("attention_mask", "I64", [1, 2], pack("I64", [1, 1]))])
ids("mask_left_padded", "I64", [1, 3], [1, 2, 3], [("attention_mask", "I64", [1, 3], pack("I64", [0, 1, 1]))])
write("inputs/no_input_ids.safetensors", safetensors([("input_id", "I64", [1, 2], pack("I64", [1, 2]))]))
write("inputs/prompt_two_rows.safetensors",
      safetensors([("prompt_ids", "I64", [2, 1], pack("I64", [1, 2]))]))

# ---------------------------------------------------------------- WAV


def wav(fmt_fields=None, data=b"\x00\x00" * 4, fmt_size=None, data_size=None, riff=b"RIFF", wave=b"WAVE",
        fmt_bytes=None, order="fd"):
    tag, ch, rate, bits = fmt_fields or (1, 1, 16000, 16)
    fmt = fmt_bytes if fmt_bytes is not None else struct.pack("<HHIIHH", tag, ch, rate, (rate * ch * bits // 8) & 0xFFFFFFFF,
                                                               (ch * bits // 8) & 0xFFFF, bits)
    fmt_chunk = b"fmt " + struct.pack("<I", len(fmt) if fmt_size is None else fmt_size) + fmt
    data_chunk = b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data
    body = wave + (fmt_chunk + data_chunk if order == "fd" else data_chunk + fmt_chunk)
    return riff + struct.pack("<I", len(body)) + body


write("wav/ok.wav", wav())
write("wav/not_riff.wav", wav(riff=b"RIFX"))
write("wav/short.wav", b"RIFF\x04\x00\x00\x00WAV")
write("wav/no_fmt.wav", b"RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00")
write("wav/data_before_fmt.wav", wav(order="df"))
write("wav/fmt_size_past_end.wav", wav(fmt_size=0x7FFFFFF0, data=b""))
write("wav/fmt_too_small.wav", wav(fmt_bytes=b"\x01\x00\x01\x00"))
write("wav/zero_channels.wav", wav((1, 0, 16000, 16)))
write("wav/zero_rate.wav", wav((1, 1, 0, 16)))
write("wav/bits_12.wav", wav((1, 1, 16000, 12)))
write("wav/bits_zero.wav", wav((1, 1, 16000, 0)))
write("wav/float_16.wav", wav((3, 1, 16000, 16)))
write("wav/compressed_mulaw.wav", wav((7, 1, 8000, 8)))
write("wav/extensible_short.wav", wav((0xFFFE, 1, 16000, 16)))
write("wav/float_nan.wav", wav((3, 1, 16000, 32), data=struct.pack("<2f", 0.5, float("nan"))))
# Claims 4 GB of samples: the reader must take what the file holds, not allocate 4 GB.
write("wav/data_size_huge.wav", wav(data_size=0xFFFFFFF0, data=b"\x01\x00" * 3))
write("wav/channels_65535.wav", wav((1, 65535, 16000, 16), data=b"\x00" * 10))

# ---------------------------------------------------------------- images


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, depth=8, color=2, rows=None, crc_ok=True):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    raw = rows if rows is not None else b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    idat = zlib.compress(raw, 9)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    if not crc_ok:
        out = out[:29] + bytes([out[29] ^ 0xFF]) + out[30:]
    return out


with open(os.path.join(DATA, "images", "rgb.png"), "rb") as f:
    good_png = f.read()
with open(os.path.join(DATA, "images", "rgb.jpg"), "rb") as f:
    good_jpg = f.read()
write("images/ok.png", png(2, 2))
write("images/not_an_image.png", b"GIF89a\x01\x00\x01\x00")
write("images/png_truncated.png", good_png[: len(good_png) // 2])
write("images/png_signature_only.png", good_png[:8])
write("images/png_bad_crc.png", png(2, 2, crc_ok=False))
write("images/png_huge_dimensions.png", png(100000, 100000, rows=b"\x00" * 16))
write("images/png_zero_width.png", png(0, 4, rows=b""))
write("images/png_short_rows.png", png(4, 4, rows=b"\x00\x01\x02"))
write("images/png_bad_depth.png", png(2, 2, depth=7))
write("images/jpeg_truncated.jpg", good_jpg[: len(good_jpg) // 2])
write("images/jpeg_soi_only.jpg", b"\xff\xd8\xff")
# SOF0 that declares 65500 x 65500 pixels (4.3 G): refused before any allocation.
sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, 65500, 65500, 3) + b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
i = good_jpg.find(b"\xff\xc0")
write("images/jpeg_huge_dimensions.jpg", good_jpg[:i] + sof + good_jpg[i + len(sof):])
write("images/jpeg_garbage_after_soi.jpg", b"\xff\xd8\xff" + bytes(range(256)) * 4)

print("hostile corpus written to", HERE)
