"""Generate new random-weight fixtures into tests/data/torch/<family>-<variant>/ with the same layout as tests/data/hf:
config.json, generation_config.json (generative models), model.safetensors, reference.safetensors, meta.json.

References come from this directory's re-implementation (decoders.py / encoders.py / seq2seq.py), which is verified
against the Hugging Face fixtures by verify.py. Deterministic: every variant has a fixed seed.

Usage: /usr/bin/python3 tools/reference/make_fixtures.py [variant-name-substring ...]
"""
import json
import math
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402
import decoders  # noqa: E402
import encoders  # noqa: E402
import seq2seq  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "torch")
NEW_TOKENS = 12
MIN_MARGIN = 1e-3
INIT = ("weights N(0,0.08) (Gemma/Gemma 2 embed_tokens N(0,0.03)); norm scales 1+N(0,0.1) (Gemma/Gemma 2: N(0,0.1), it adds 1); biases N(0,0.05); "
        "T5 shared embedding N(0,1) unless the variant says otherwise; fixed tables (Whisper encoder sinusoids) computed")


# ----------------------------------------------------------------------------------------------------------------------
# weight specs: name -> (shape, kind)
# ----------------------------------------------------------------------------------------------------------------------
def spec_llama(c):
    mt = c["model_type"]
    H, nh = c["hidden_size"], c["num_attention_heads"]
    nkv = c.get("num_key_value_heads") or nh
    hd = c.get("head_dim") or H // nh
    I, V = c["intermediate_size"], c["vocab_size"]
    ab = c.get("attention_bias", False)
    qkv_bias = ab or mt == "qwen2" or (mt == "qwen2_moe" and c.get("qkv_bias", True))
    o_bias = ab and mt not in ("qwen2", "qwen2_moe")
    mb = c.get("mlp_bias", False)
    s = {"model.embed_tokens.weight": ([V, H], "w"), "model.norm.weight": ([H], "norm")}
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        s[p + "input_layernorm.weight"] = ([H], "norm")
        s[p + "post_attention_layernorm.weight"] = ([H], "norm")
        for n, o in (("q", nh * hd), ("k", nkv * hd), ("v", nkv * hd)):
            s[p + "self_attn.%s_proj.weight" % n] = ([o, H], "w")
            if qkv_bias:
                s[p + "self_attn.%s_proj.bias" % n] = ([o], "bias")
        s[p + "self_attn.o_proj.weight"] = ([H, nh * hd], "w")
        if o_bias:
            s[p + "self_attn.o_proj.bias"] = ([H], "bias")
        if mt == "qwen3":
            s[p + "self_attn.q_norm.weight"] = ([hd], "norm")
            s[p + "self_attn.k_norm.weight"] = ([hd], "norm")
        if mt == "qwen2_moe" and decoders.qwen2_moe_sparse(c, i):
            E, Im, Is = c["num_experts"], c["moe_intermediate_size"], c.get("shared_expert_intermediate_size", 0)
            s[p + "mlp.gate.weight"] = ([E, H], "w")
            experts = ["mlp.experts.%d." % e for e in range(E)]
            for q, n in [(q, Im) for q in experts] + ([("mlp.shared_expert.", Is)] if Is else []):
                s[p + q + "gate_proj.weight"] = ([n, H], "w")
                s[p + q + "up_proj.weight"] = ([n, H], "w")
                s[p + q + "down_proj.weight"] = ([H, n], "w")
            if Is:
                s[p + "mlp.shared_expert_gate.weight"] = ([1, H], "w")
        elif mt == "mixtral":
            E = c["num_local_experts"]
            s[p + "block_sparse_moe.gate.weight"] = ([E, H], "w")
            for e in range(E):
                q = p + "block_sparse_moe.experts.%d." % e
                s[q + "w1.weight"] = ([I, H], "w")
                s[q + "w2.weight"] = ([H, I], "w")
                s[q + "w3.weight"] = ([I, H], "w")
        else:
            for n, shp in (("gate", [I, H]), ("up", [I, H]), ("down", [H, I])):
                s[p + "mlp.%s_proj.weight" % n] = (shp, "w")
                if mb:
                    s[p + "mlp.%s_proj.bias" % n] = ([shp[0]], "bias")
    if not c.get("tie_word_embeddings", False):
        s["lm_head.weight"] = ([V, H], "w")
    return s


def spec_gpt2(c):
    H, V = c["n_embd"], c["vocab_size"]
    I = c.get("n_inner") or 4 * H
    s = {"transformer.wte.weight": ([V, H], "w"), "transformer.wpe.weight": ([c["n_positions"], H], "w"),
         "transformer.ln_f.weight": ([H], "norm"), "transformer.ln_f.bias": ([H], "bias")}
    for i in range(c["n_layer"]):
        p = "transformer.h.%d." % i
        for ln in ("ln_1", "ln_2"):
            s[p + ln + ".weight"] = ([H], "norm")
            s[p + ln + ".bias"] = ([H], "bias")
        s[p + "attn.c_attn.weight"] = ([H, 3 * H], "w")
        s[p + "attn.c_attn.bias"] = ([3 * H], "bias")
        s[p + "attn.c_proj.weight"] = ([H, H], "w")
        s[p + "attn.c_proj.bias"] = ([H], "bias")
        s[p + "mlp.c_fc.weight"] = ([H, I], "w")
        s[p + "mlp.c_fc.bias"] = ([I], "bias")
        s[p + "mlp.c_proj.weight"] = ([I, H], "w")
        s[p + "mlp.c_proj.bias"] = ([H], "bias")
    return s


def spec_gpt_neox(c):
    H, V, I = c["hidden_size"], c["vocab_size"], c["intermediate_size"]
    s = {"gpt_neox.embed_in.weight": ([V, H], "w"), "gpt_neox.final_layer_norm.weight": ([H], "norm"),
         "gpt_neox.final_layer_norm.bias": ([H], "bias"), "embed_out.weight": ([V, H], "w")}
    for i in range(c["num_hidden_layers"]):
        p = "gpt_neox.layers.%d." % i
        for ln in ("input_layernorm", "post_attention_layernorm"):
            s[p + ln + ".weight"] = ([H], "norm")
            s[p + ln + ".bias"] = ([H], "bias")
        for n, shp in (("attention.query_key_value", [3 * H, H]), ("attention.dense", [H, H]),
                       ("mlp.dense_h_to_4h", [I, H]), ("mlp.dense_4h_to_h", [H, I])):
            s[p + n + ".weight"] = (shp, "w")
            s[p + n + ".bias"] = ([shp[0]], "bias")
    return s


def spec_bert(c):
    H, V, I = c["hidden_size"], c["vocab_size"], c["intermediate_size"]
    s = {"embeddings.word_embeddings.weight": ([V, H], "w"),
         "embeddings.position_embeddings.weight": ([c["max_position_embeddings"], H], "w"),
         "embeddings.token_type_embeddings.weight": ([c["type_vocab_size"], H], "w"),
         "embeddings.LayerNorm.weight": ([H], "norm"), "embeddings.LayerNorm.bias": ([H], "bias"),
         "pooler.dense.weight": ([H, H], "w"), "pooler.dense.bias": ([H], "bias")}
    for i in range(c["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        for n, shp in (("attention.self.query", [H, H]), ("attention.self.key", [H, H]),
                       ("attention.self.value", [H, H]), ("attention.output.dense", [H, H]),
                       ("intermediate.dense", [I, H]), ("output.dense", [H, I])):
            s[p + n + ".weight"] = (shp, "w")
            s[p + n + ".bias"] = ([shp[0]], "bias")
        for n in ("attention.output.LayerNorm", "output.LayerNorm"):
            s[p + n + ".weight"] = ([H], "norm")
            s[p + n + ".bias"] = ([H], "bias")
    return s


def spec_vit(c):
    H, I, P, C = c["hidden_size"], c["intermediate_size"], c["patch_size"], c["num_channels"]
    N = (c["image_size"] // P) ** 2
    s = {"vit.embeddings.cls_token": ([1, 1, H], "w"), "vit.embeddings.position_embeddings": ([1, N + 1, H], "w"),
         "vit.embeddings.patch_embeddings.projection.weight": ([H, C, P, P], "w"),
         "vit.embeddings.patch_embeddings.projection.bias": ([H], "bias"),
         "vit.layernorm.weight": ([H], "norm"), "vit.layernorm.bias": ([H], "bias"),
         "classifier.weight": ([len(c["id2label"]), H], "w"), "classifier.bias": ([len(c["id2label"])], "bias")}
    for i in range(c["num_hidden_layers"]):
        p = "vit.encoder.layer.%d." % i
        for n in ("query", "key", "value"):
            s[p + "attention.attention.%s.weight" % n] = ([H, H], "w")
            if c.get("qkv_bias", True):
                s[p + "attention.attention.%s.bias" % n] = ([H], "bias")
        for n, shp in (("attention.output.dense", [H, H]), ("intermediate.dense", [I, H]), ("output.dense", [H, I])):
            s[p + n + ".weight"] = (shp, "w")
            s[p + n + ".bias"] = ([shp[0]], "bias")
        for n in ("layernorm_before", "layernorm_after"):
            s[p + n + ".weight"] = ([H], "norm")
            s[p + n + ".bias"] = ([H], "bias")
    return s


def spec_distilbert(c):
    H, V, I = c["dim"], c["vocab_size"], c["hidden_dim"]
    P = c["max_position_embeddings"]
    s = {"distilbert.embeddings.word_embeddings.weight": ([V, H], "w"),
         "distilbert.embeddings.position_embeddings.weight": ([P, H], "distilbert_sinusoids" if c.get("sinusoidal_pos_embds") else "w"),
         "distilbert.embeddings.LayerNorm.weight": ([H], "norm"), "distilbert.embeddings.LayerNorm.bias": ([H], "bias")}
    for i in range(c["n_layers"]):
        p = "distilbert.transformer.layer.%d." % i
        for n, shp in (("attention.q_lin", [H, H]), ("attention.k_lin", [H, H]), ("attention.v_lin", [H, H]),
                       ("attention.out_lin", [H, H]), ("ffn.lin1", [I, H]), ("ffn.lin2", [H, I])):
            s[p + n + ".weight"] = (shp, "w")
            s[p + n + ".bias"] = ([shp[0]], "bias")
        for n in ("sa_layer_norm", "output_layer_norm"):
            s[p + n + ".weight"] = ([H], "norm")
            s[p + n + ".bias"] = ([H], "bias")
    return s


def distilbert_sinusoids(n_pos, dim):
    """create_sinusoidal_embeddings: even columns sin(pos / 10000^(2(j//2)/dim)), odd columns cos."""
    j = torch.arange(dim, dtype=torch.float64)
    pe = torch.arange(n_pos, dtype=torch.float64)[:, None] / torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode="floor") / dim)
    out = torch.empty(n_pos, dim, dtype=torch.float64)
    out[:, 0::2] = torch.sin(pe[:, 0::2])
    out[:, 1::2] = torch.cos(pe[:, 1::2])
    return out.float()


def spec_modernbert(c):
    """ModernBertModel saved bare, or ModernBertForMaskedLM: base names under 'model.' plus the MLM head (head.dense,
    head.norm, decoder.bias; decoder.weight tied to the embeddings), which tessera ignores."""
    H, V, I = c["hidden_size"], c["vocab_size"], c["intermediate_size"]
    nb, ab, mb = c.get("norm_bias", False), c.get("attention_bias", False), c.get("mlp_bias", False)
    mlm = c["architectures"][0] == "ModernBertForMaskedLM"
    m = "model." if mlm else ""
    s = {m + "embeddings.tok_embeddings.weight": ([V, H], "w")}

    def norm(n):
        s[n + ".weight"] = ([H], "norm")
        if nb:
            s[n + ".bias"] = ([H], "bias")

    def lin(n, o, i, bias):
        s[n + ".weight"] = ([o, i], "w")
        if bias:
            s[n + ".bias"] = ([o], "bias")

    norm(m + "embeddings.norm")
    norm(m + "final_norm")
    if mlm:
        lin("head.dense", H, H, c.get("classifier_bias", False))
        norm("head.norm")
        s["decoder.bias"] = ([V], "bias")
    for i in range(c["num_hidden_layers"]):
        p = m + "layers.%d." % i
        if i > 0:
            norm(p + "attn_norm")
        norm(p + "mlp_norm")
        lin(p + "attn.Wqkv", 3 * H, H, ab)
        lin(p + "attn.Wo", H, H, ab)
        lin(p + "mlp.Wi", 2 * I, H, mb)
        lin(p + "mlp.Wo", H, I, mb)
    return s


def dinov2_swiglu_hidden(c):
    h = int(c["hidden_size"] * c.get("mlp_ratio", 4))
    return (int(h * 2 / 3) + 7) // 8 * 8


def spec_dinov2_registers(c):
    H, P, C, R = c["hidden_size"], c["patch_size"], c["num_channels"], c.get("num_register_tokens", 4)
    N = (c["image_size"] // P) ** 2
    cls = c["architectures"][0].endswith("ForImageClassification")
    m = "dinov2_with_registers." if cls else ""
    e = m + "embeddings."
    s = {e + "cls_token": ([1, 1, H], "w"), e + "mask_token": ([1, H], "w"), e + "register_tokens": ([1, R, H], "w"),
         e + "position_embeddings": ([1, N + 1, H], "w"), e + "patch_embeddings.projection.weight": ([H, C, P, P], "w"),
         e + "patch_embeddings.projection.bias": ([H], "bias"), m + "layernorm.weight": ([H], "norm"),
         m + "layernorm.bias": ([H], "bias")}
    if cls:
        s["classifier.weight"] = ([len(c["id2label"]), 2 * H], "w")
        s["classifier.bias"] = ([len(c["id2label"])], "bias")
    for i in range(c["num_hidden_layers"]):
        p = m + "encoder.layer.%d." % i
        for n in ("query", "key", "value"):
            s[p + "attention.attention.%s.weight" % n] = ([H, H], "w")
            if c.get("qkv_bias", True):
                s[p + "attention.attention.%s.bias" % n] = ([H], "bias")
        s[p + "attention.output.dense.weight"] = ([H, H], "w")
        s[p + "attention.output.dense.bias"] = ([H], "bias")
        if c.get("use_swiglu_ffn", False):
            I = dinov2_swiglu_hidden(c)
            mlp = (("mlp.weights_in", [2 * I, H]), ("mlp.weights_out", [H, I]))
        else:
            I = int(H * c.get("mlp_ratio", 4))
            mlp = (("mlp.fc1", [I, H]), ("mlp.fc2", [H, I]))
        for n, shp in mlp:
            s[p + n + ".weight"] = (shp, "w")
            s[p + n + ".bias"] = ([shp[0]], "bias")
        for n in ("norm1", "norm2"):
            s[p + n + ".weight"] = ([H], "norm")
            s[p + n + ".bias"] = ([H], "bias")
        for n in ("layer_scale1", "layer_scale2"):
            s[p + n + ".lambda1"] = ([H], "norm")
    return s


def spec_t5(c):
    d, V, ff, nh, dkv = c["d_model"], c["vocab_size"], c["d_ff"], c["num_heads"], c["d_kv"]
    inner = nh * dkv
    gated = c.get("feed_forward_proj", "relu").startswith("gated-")
    nb = c.get("relative_attention_num_buckets", 32)
    s = {"shared.weight": ([V, d], "emb1"), "encoder.final_layer_norm.weight": ([d], "norm"),
         "decoder.final_layer_norm.weight": ([d], "norm")}

    def attn(p):
        for n in ("q", "k", "v"):
            s[p + n + ".weight"] = ([inner, d], "w")
        s[p + "o.weight"] = ([d, inner], "w")

    def ff_(p):
        if gated:
            s[p + "wi_0.weight"] = ([ff, d], "w")
            s[p + "wi_1.weight"] = ([ff, d], "w")
        else:
            s[p + "wi.weight"] = ([ff, d], "w")
        s[p + "wo.weight"] = ([d, ff], "w")

    for side, n_layers in (("encoder", c["num_layers"]), ("decoder", c.get("num_decoder_layers") or c["num_layers"])):
        for i in range(n_layers):
            p = "%s.block.%d.layer." % (side, i)
            attn(p + "0.SelfAttention.")
            if i == 0:
                s[p + "0.SelfAttention.relative_attention_bias.weight"] = ([nb, nh], "w")
            s[p + "0.layer_norm.weight"] = ([d], "norm")
            if side == "decoder":
                attn(p + "1.EncDecAttention.")
                s[p + "1.layer_norm.weight"] = ([d], "norm")
                ff_(p + "2.DenseReluDense.")
                s[p + "2.layer_norm.weight"] = ([d], "norm")
            else:
                ff_(p + "1.DenseReluDense.")
                s[p + "1.layer_norm.weight"] = ([d], "norm")
    if c.get("tie_word_embeddings", True) is False:
        s["lm_head.weight"] = ([V, d], "w")
    return s


def spec_bartlike(c):
    mt = c["model_type"]
    d, V = c["d_model"], c["vocab_size"]
    s = {}
    if mt == "whisper":
        mel = c["num_mel_bins"]
        s["model.encoder.conv1.weight"] = ([d, mel, 3], "w")
        s["model.encoder.conv1.bias"] = ([d], "bias")
        s["model.encoder.conv2.weight"] = ([d, d, 3], "w")
        s["model.encoder.conv2.bias"] = ([d], "bias")
        s["model.encoder.embed_positions.weight"] = ([c["max_source_positions"], d], "whisper_sinusoids")
        s["model.decoder.embed_positions.weight"] = ([c["max_target_positions"], d], "w")
        s["model.decoder.embed_tokens.weight"] = ([V, d], "w")
        for side in ("encoder", "decoder"):
            s["model.%s.layer_norm.weight" % side] = ([d], "norm")
            s["model.%s.layer_norm.bias" % side] = ([d], "bias")
    else:
        s["model.shared.weight"] = ([V, d], "w")
        s["final_logits_bias"] = ([1, V], "bias")
        if mt in ("bart", "mbart"):
            for side in ("encoder", "decoder"):
                s["model.%s.embed_positions.weight" % side] = ([c["max_position_embeddings"] + 2, d], "w")
                s["model.%s.layernorm_embedding.weight" % side] = ([d], "norm")
                s["model.%s.layernorm_embedding.bias" % side] = ([d], "bias")
        if mt in ("mbart", "pegasus"):      # pre-LN stacks end in a layer_norm
            for side in ("encoder", "decoder"):
                s["model.%s.layer_norm.weight" % side] = ([d], "norm")
                s["model.%s.layer_norm.bias" % side] = ([d], "bias")

    def attn(p):
        for n in ("q", "k", "v", "out"):
            s[p + n + "_proj.weight"] = ([d, d], "w")
            if not (mt == "whisper" and n == "k"):
                s[p + n + "_proj.bias"] = ([d], "bias")

    for side in ("encoder", "decoder"):
        ffd = c["%s_ffn_dim" % side]
        for i in range(c["%s_layers" % side]):
            p = "model.%s.layers.%d." % (side, i)
            attn(p + "self_attn.")
            lns = ["self_attn_layer_norm", "final_layer_norm"]
            if side == "decoder":
                attn(p + "encoder_attn.")
                lns.append("encoder_attn_layer_norm")
            for ln in lns:
                s[p + ln + ".weight"] = ([d], "norm")
                s[p + ln + ".bias"] = ([d], "bias")
            s[p + "fc1.weight"] = ([ffd, d], "w")
            s[p + "fc1.bias"] = ([ffd], "bias")
            s[p + "fc2.weight"] = ([d, ffd], "w")
            s[p + "fc2.bias"] = ([d], "bias")
    return s


def spec_sandwich(c):
    """gemma2 (four (1 + w) norms a layer), olmo2 (two post-norms, q/k norms over the projection width) and phi3
    (fused qkv_proj / gate_up_proj)."""
    mt = c["model_type"]
    H, nh = c["hidden_size"], c["num_attention_heads"]
    nkv = c.get("num_key_value_heads") or nh
    hd = c.get("head_dim") or H // nh
    I, V = c["intermediate_size"], c["vocab_size"]
    s = {"model.embed_tokens.weight": ([V, H], "w"), "model.norm.weight": ([H], "norm")}
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        norms = {"gemma2": ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                            "post_feedforward_layernorm"),
                 "olmo2": ("post_attention_layernorm", "post_feedforward_layernorm"),
                 "phi3": ("input_layernorm", "post_attention_layernorm")}[mt]
        for n in norms:
            s[p + n + ".weight"] = ([H], "norm")
        if mt == "phi3":
            s[p + "self_attn.qkv_proj.weight"] = ([(nh + 2 * nkv) * hd, H], "w")
            s[p + "mlp.gate_up_proj.weight"] = ([2 * I, H], "w")
        else:
            for n, o in (("q", nh * hd), ("k", nkv * hd), ("v", nkv * hd)):
                s[p + "self_attn.%s_proj.weight" % n] = ([o, H], "w")
            s[p + "mlp.gate_proj.weight"] = ([I, H], "w")
            s[p + "mlp.up_proj.weight"] = ([I, H], "w")
        if mt == "olmo2":
            s[p + "self_attn.q_norm.weight"] = ([nh * hd], "norm")
            s[p + "self_attn.k_norm.weight"] = ([nkv * hd], "norm")
        s[p + "self_attn.o_proj.weight"] = ([H, nh * hd], "w")
        s[p + "mlp.down_proj.weight"] = ([H, I], "w")
    if not c.get("tie_word_embeddings", mt == "gemma2"):
        s["lm_head.weight"] = ([V, H], "w")
    return s


def spec_opt(c):
    H, V, I, we = c["hidden_size"], c["vocab_size"], c["ffn_dim"], c.get("word_embed_proj_dim") or c["hidden_size"]
    p = "model.decoder."
    s = {p + "embed_tokens.weight": ([V, we], "w"), p + "embed_positions.weight": ([c["max_position_embeddings"] + 2, H], "w")}
    if we != H:
        s[p + "project_in.weight"] = ([H, we], "w")
        s[p + "project_out.weight"] = ([we, H], "w")
    if c.get("do_layer_norm_before", True) and not c.get("_remove_final_layer_norm", False):
        s[p + "final_layer_norm.weight"] = ([H], "norm")
        s[p + "final_layer_norm.bias"] = ([H], "bias")
    for i in range(c["num_hidden_layers"]):
        q = p + "layers.%d." % i
        for ln in ("self_attn_layer_norm", "final_layer_norm"):
            s[q + ln + ".weight"] = ([H], "norm")
            s[q + ln + ".bias"] = ([H], "bias")
        for n, shp in (("self_attn.q_proj", [H, H]), ("self_attn.k_proj", [H, H]), ("self_attn.v_proj", [H, H]),
                       ("self_attn.out_proj", [H, H]), ("fc1", [I, H]), ("fc2", [H, I])):
            s[q + n + ".weight"] = (shp, "w")
            if c.get("enable_bias", True):
                s[q + n + ".bias"] = ([shp[0]], "bias")
    return s


def spec_gptj(c):
    H, V = c["n_embd"], c["vocab_size"]
    I = c.get("n_inner") or 4 * H
    s = {"transformer.wte.weight": ([V, H], "w"), "transformer.ln_f.weight": ([H], "norm"),
         "transformer.ln_f.bias": ([H], "bias"), "lm_head.weight": ([V, H], "w"), "lm_head.bias": ([V], "bias")}
    for i in range(c["n_layer"]):
        p = "transformer.h.%d." % i
        s[p + "ln_1.weight"] = ([H], "norm")
        s[p + "ln_1.bias"] = ([H], "bias")
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            s[p + "attn.%s.weight" % n] = ([H, H], "w")
        s[p + "mlp.fc_in.weight"] = ([I, H], "w")
        s[p + "mlp.fc_in.bias"] = ([I], "bias")
        s[p + "mlp.fc_out.weight"] = ([H, I], "w")
        s[p + "mlp.fc_out.bias"] = ([H], "bias")
    return s


def spec_falcon(c):
    H, V = c["hidden_size"], c["vocab_size"]
    nh = c.get("num_attention_heads") or c["n_head"]
    hd = H // nh
    new = c.get("new_decoder_architecture", False)
    nkv = c.get("num_kv_heads") or nh
    qkv = (2 * nkv + nh) * hd if new else (H + 2 * hd if c.get("multi_query", True) else 3 * H)
    I = c.get("ffn_hidden_size") or 4 * H
    bias = c.get("bias", False)
    nln = c.get("num_ln_in_parallel_attn") or (2 if new else 1)
    p = "transformer."
    s = {p + "word_embeddings.weight": ([V, H], "w"), p + "ln_f.weight": ([H], "norm"), p + "ln_f.bias": ([H], "bias")}
    if not c.get("tie_word_embeddings", True):
        s["lm_head.weight"] = ([V, H], "w")
    for i in range(c.get("num_hidden_layers") or c["n_layer"]):
        q = p + "h.%d." % i
        norms = ["input_layernorm", "post_attention_layernorm"] if not c.get("parallel_attn", True) else \
            (["ln_attn", "ln_mlp"] if new and nln == 2 else ["input_layernorm"])
        for n in norms:
            s[q + n + ".weight"] = ([H], "norm")
            s[q + n + ".bias"] = ([H], "bias")
        for n, shp in (("self_attention.query_key_value", [qkv, H]), ("self_attention.dense", [H, H]),
                       ("mlp.dense_h_to_4h", [I, H]), ("mlp.dense_4h_to_h", [H, I])):
            s[q + n + ".weight"] = (shp, "w")
            if bias:
                s[q + n + ".bias"] = ([shp[0]], "bias")
    return s


def spec_bloom(c):
    H, V = c.get("n_embed") or c["hidden_size"], c["vocab_size"]
    p = "transformer."
    s = {p + "word_embeddings.weight": ([V, H], "w")}
    if not c.get("tie_word_embeddings", True):
        s["lm_head.weight"] = ([V, H], "w")
    for n in ("word_embeddings_layernorm", "ln_f"):
        s[p + n + ".weight"] = ([H], "norm")
        s[p + n + ".bias"] = ([H], "bias")
    for i in range(c["n_layer"]):
        q = p + "h.%d." % i
        for n in ("input_layernorm", "post_attention_layernorm"):
            s[q + n + ".weight"] = ([H], "norm")
            s[q + n + ".bias"] = ([H], "bias")
        for n, shp in (("self_attention.query_key_value", [3 * H, H]), ("self_attention.dense", [H, H]),
                       ("mlp.dense_h_to_4h", [4 * H, H]), ("mlp.dense_4h_to_h", [H, 4 * H])):
            s[q + n + ".weight"] = (shp, "w")
            s[q + n + ".bias"] = ([shp[0]], "bias")
    return s


SPECS = {"falcon": spec_falcon, "bloom": spec_bloom, "gptj": spec_gptj, "opt": spec_opt, "gemma2": spec_sandwich, "olmo2": spec_sandwich, "phi3": spec_sandwich, "llama": spec_llama, "mistral": spec_llama, "qwen2": spec_llama, "qwen3": spec_llama, "mixtral": spec_llama, "qwen2_moe": spec_llama,
         "gemma": spec_llama, "gpt2": spec_gpt2, "gpt_neox": spec_gpt_neox, "bert": spec_bert, "roberta": spec_bert,
         "xlm-roberta": spec_bert, "distilbert": spec_distilbert, "modernbert": spec_modernbert, "vit": spec_vit,
         "dinov2_with_registers": spec_dinov2_registers, "t5": spec_t5, "mt5": spec_t5, "bart": spec_bartlike,
         "marian": spec_bartlike, "mbart": spec_bartlike, "pegasus": spec_bartlike, "whisper": spec_bartlike}


def init_weights(cfg, seed, emb1_std=1.0, std_overrides=None, w_std=0.08):
    g = torch.Generator().manual_seed(seed)
    gemma = cfg["model_type"] in ("gemma", "gemma2")
    out = {}
    for name, (shape, kind) in sorted(SPECS[cfg["model_type"]](cfg).items()):
        if kind == "w":
            std = 0.03 if (gemma and name == "model.embed_tokens.weight") else w_std
            std = (std_overrides or {}).get(name, std)
            t = torch.randn(shape, generator=g) * std
        elif kind == "emb1":
            t = torch.randn(shape, generator=g) * emb1_std
        elif kind == "norm":
            t = torch.randn(shape, generator=g) * 0.1 + (0.0 if gemma else 1.0)
        elif kind == "bias":
            t = torch.randn(shape, generator=g) * 0.05
        elif kind == "whisper_sinusoids":
            t = seq2seq.whisper_sinusoids(shape[0], shape[1])
        elif kind == "distilbert_sinusoids":
            t = distilbert_sinusoids(shape[0], shape[1])
        else:
            raise ValueError(kind)
        out[name] = t.contiguous()
    return out


# ----------------------------------------------------------------------------------------------------------------------
# variants
# ----------------------------------------------------------------------------------------------------------------------
def llama_cfg(**kw):
    c = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 384, "hidden_size": 64,
         "intermediate_size": 112, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
         "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "bos_token_id": 1,
         "eos_token_id": 2, "pad_token_id": None, "tie_word_embeddings": False, "attention_bias": False,
         "mlp_bias": False, "attention_dropout": 0.0, "initializer_range": 0.02, "pretraining_tp": 1,
         "use_cache": True}
    c.update(kw)
    return c


DROP = object()
V = []  # (name, family, seed, cfg, options, covers)


def add(name, seed, cfg, covers, **opts):
    V.append(dict(name=name, seed=seed, cfg=cfg, covers=covers, opts=opts))


# --- llama ---
add("llama-llama3-tied-v4cfg", 101, llama_cfg(
    rope_theta=500000.0, torch_dtype="float32", tie_word_embeddings=True, max_position_embeddings=128,
    rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 32}),
    "4.x config keys (rope_theta + rope_scaling{rope_type: llama3}, torch_dtype); llama3 smoothing (head_dim 16, "
    "theta 5e5: wavelengths straddle [8, 32]); tie_word_embeddings (no lm_head.weight stored)",
    ablate={"rope_scaling": DROP})
add("llama-linear-v4cfg", 102, llama_cfg(
    rope_theta=10000.0, torch_dtype="float32", rope_scaling={"type": "linear", "factor": 4.0}),
    "4.x rope_scaling with the legacy 'type' key: linear scaling (inv_freq / factor)",
    ablate={"rope_scaling": DROP})
add("llama-dynamic-v4cfg", 103, llama_cfg(
    rope_theta=10000.0, torch_dtype="float32", max_position_embeddings=12,
    rope_scaling={"type": "dynamic", "factor": 2.0}),
    "dynamic NTK: max_position_embeddings 12 < sequence length 17, so inv_freq is recomputed with seq_len=L "
    "(base' = base*((f*L/mpe)-(f-1))^(d/(d-2))); generation crosses mpe (see meta.generation)",
    dynamic=True,
    ablate={"rope_scaling": DROP})
add("llama-yarn-bias-v5cfg", 104, llama_cfg(
    dtype="float32", attention_bias=True, mlp_bias=True, max_position_embeddings=128,
    rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                     "original_max_position_embeddings": 32}),
    "5.x rope_parameters with yarn (attention_factor default 0.1*ln(4)+1 multiplies cos/sin, truncate default); "
    "attention_bias (q,k,v,o biases) and mlp_bias (gate/up/down biases)",
    ablate={"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}})
add("llama-bf16-weights", 105, llama_cfg(
    dtype="bfloat16", rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
    "weights stored as BF16 (config dtype bfloat16); references computed in float32 from the upcast weights",
    store_dtype=torch.bfloat16)
add("llama-f16-mqa", 106, llama_cfg(
    torch_dtype="float16", rope_theta=10000.0, num_key_value_heads=1, num_attention_heads=4, head_dim=16),
    "weights stored as F16 (4.x torch_dtype float16); MQA: one key/value head shared by 4 query heads; "
    "references computed in float32 from the upcast weights",
    store_dtype=torch.float16)

# --- mistral / qwen2 / qwen3 / gemma / mixtral ---
add("mistral-sliding4", 201, {
    "architectures": ["MistralForCausalLM"], "model_type": "mistral", "vocab_size": 384, "hidden_size": 64,
    "intermediate_size": 112, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1,
    "head_dim": 16, "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "bos_token_id": 1,
    "eos_token_id": 2, "pad_token_id": None, "tie_word_embeddings": False, "sliding_window": 4,
    "rope_theta": 10000.0, "torch_dtype": "float32", "attention_dropout": 0.0, "use_cache": True},
    "sliding_window 4 with sequences of 17 (logits) and 9+12 (generation): query i sees keys i-3..i; MQA",
    L=17, P=9,
    ablate={"sliding_window": None})
add("qwen2-tied-v4cfg", 202, {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 400, "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "bos_token_id": 398,
    "eos_token_id": 399, "tie_word_embeddings": True, "rope_theta": 1000000.0, "use_sliding_window": False,
    "sliding_window": 32, "max_window_layers": 28, "torch_dtype": "float32", "attention_dropout": 0.0,
    "use_cache": True},
    "qwen2 with tie_word_embeddings (no lm_head.weight), 4.x keys (rope_theta, use_sliding_window false, no "
    "layer_types); q/k/v biases, no o bias")
add("qwen3-headdim24-bias", 203, {
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 384, "hidden_size": 64,
    "intermediate_size": 112, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 24, "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
    "bos_token_id": 382, "eos_token_id": 383, "tie_word_embeddings": False, "attention_bias": True,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}, "use_sliding_window": False,
    "sliding_window": None, "max_window_layers": 28, "layer_types": ["full_attention", "full_attention"],
    "dtype": "float32", "attention_dropout": 0.0, "use_cache": True},
    "qwen3 with head_dim 24 != hidden/heads (16): q_proj 96x64, o_proj 64x96; q_norm/k_norm over head_dim; "
    "attention_bias true (q,k,v,o biases)")
add("gemma-headdim32-v4cfg", 204, {
    "architectures": ["GemmaForCausalLM"], "model_type": "gemma", "vocab_size": 384, "hidden_size": 64,
    "intermediate_size": 112, "num_hidden_layers": 2, "num_attention_heads": 3, "num_key_value_heads": 3,
    "head_dim": 32, "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
    "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0,
    "tie_word_embeddings": True, "rope_theta": 10000.0, "attention_bias": False, "torch_dtype": "float32",
    "attention_dropout": 0.0, "use_cache": True},
    "gemma: head_dim 32 with 3 heads (96 != hidden 64), MHA (kv heads = heads), gelu_pytorch_tanh, "
    "embeddings * sqrt(64) (as a float32 tensor), (1+w) RMSNorm, tied head; 4.x keys",
    ablate={"hidden_act": "gelu", "hidden_activation": "gelu"})
add("mixtral-top1", 205, {
    "architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "vocab_size": 320, "hidden_size": 64,
    "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "bos_token_id": 1,
    "eos_token_id": 2, "tie_word_embeddings": False, "num_local_experts": 4, "num_experts_per_tok": 1,
    "output_router_logits": False, "router_aux_loss_coef": 0.001, "router_jitter_noise": 0.0,
    "sliding_window": None, "rope_theta": 1000000.0, "torch_dtype": "float32", "attention_dropout": 0.0,
    "use_cache": True},
    "mixtral num_experts_per_tok 1 (renormalised weight is exactly 1), 4 experts; legacy block_sparse_moe keys",
    moe=True)
add("mixtral-top3", 206, {
    "architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "vocab_size": 320, "hidden_size": 64,
    "intermediate_size": 80, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
    "head_dim": 16, "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-5,
    "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": False, "num_local_experts": 4,
    "num_experts_per_tok": 3, "output_router_logits": False, "router_aux_loss_coef": 0.001,
    "router_jitter_noise": 0.0, "sliding_window": None,
    "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}, "dtype": "float32",
    "attention_dropout": 0.0, "use_cache": True},
    "mixtral num_experts_per_tok 3 of 4 experts (softmax over all, top-3, renormalise); 5.x keys", moe=True)

# --- gemma2 / phi3 / olmo2 ---
GEMMA2_BASE = {
    "architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "vocab_size": 384, "hidden_size": 64,
    "intermediate_size": 112, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 16, "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
    "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0, "tie_word_embeddings": True, "attention_bias": False,
    "attention_dropout": 0.0, "use_cache": True, "sliding_window": 4, "query_pre_attn_scalar": 24,
    "attn_logit_softcapping": 0.5, "final_logit_softcapping": 2.0}
add("gemma2-softcap-sliding-v5cfg", 501, dict(
    GEMMA2_BASE, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, dtype="float32",
    layer_types=["sliding_attention", "full_attention", "full_attention"]),
    "gemma2 5.x keys: layer_types (layer 0 slides over 4 keys, 1-2 global), attention scores soft-capped at 0.5 "
    "and final logits at 2.0 (small caps so that tanh bends them), query_pre_attn_scalar 24 (scale 24^-1/2, not "
    "head_dim^-1/2), sandwich (1 + w) norms, GQA 4/2, tied head; row 1 right-padded by 5",
    pad=5, ablate={"attn_logit_softcapping": None, "final_logit_softcapping": None})
add("gemma2-nocap-alternating-v4cfg", 502, dict(
    GEMMA2_BASE, num_hidden_layers=4, head_dim=32, num_attention_heads=3, num_key_value_heads=3,
    query_pre_attn_scalar=32, attn_logit_softcapping=None, final_logit_softcapping=None, rope_theta=10000.0,
    torch_dtype="float32", tie_word_embeddings=False),
    "gemma2 4.x keys without layer_types: Gemma2Config's default alternation (layers 0 and 2 slide over 4 keys, "
    "1 and 3 global), soft-capping off (null), head_dim 32 with 3 heads (96 != hidden 64), untied lm_head; "
    "row 1 right-padded by 3", pad=3, ablate={"sliding_window": None})
PHI3_BASE = {
    "architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "vocab_size": 384, "hidden_size": 64,
    "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "hidden_act": "silu", "rms_norm_eps": 1e-5, "bos_token_id": 1, "eos_token_id": 32000, "pad_token_id": 32000,
    "tie_word_embeddings": False, "attention_dropout": 0.0, "embd_pdrop": 0.0, "resid_pdrop": 0.0,
    "use_cache": True, "sliding_window": None}
add("phi3-longrope-partial-v5cfg", 511, dict(
    PHI3_BASE, eos_token_id=383, pad_token_id=382, max_position_embeddings=64, original_max_position_embeddings=16,
    rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0, "partial_rotary_factor": 0.75,
                     "short_factor": [1.0, 1.1, 1.3, 1.8, 2.5, 3.0],
                     "long_factor": [1.0, 1.5, 2.5, 4.0, 7.0, 11.0]}, dtype="float32"),
    "phi3 5.x keys: fused qkv_proj / gate_up_proj; longrope over 12 of 16 head dims (partial_rotary_factor "
    "0.75), original_max_position_embeddings 16 of 64 (attention factor sqrt(1 + ln 4 / ln 16)): the logits "
    "(length 21, padded row 18) take the long factors, generation (at most 16 positions) the short ones; "
    "row 1 right-padded by 3", L=21, pad=3, ablate={"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                                                         "partial_rotary_factor": 0.75}})
add("phi3-longrope-sliding-v4cfg", 512, dict(
    PHI3_BASE, eos_token_id=383, pad_token_id=382, num_key_value_heads=1, max_position_embeddings=32,
    original_max_position_embeddings=8, sliding_window=6, rope_theta=10000.0,
    rope_scaling={"type": "longrope", "short_factor": [1.0, 1.2, 1.5, 2.0, 2.0, 3.0, 4.0, 5.0],
                  "long_factor": [1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 16.0, 24.0]}, torch_dtype="float32"),
    "phi3 4.x keys (rope_scaling{type: longrope}, rope_theta, original_max_position_embeddings 8 of 32): long "
    "factors everywhere (prompt 9, logits 17 and padded row 13 > 8), full rotary, MQA, sliding_window 6 on every "
    "layer; row 1 right-padded by 4", P=9, pad=4, ablate={"sliding_window": None})
add("olmo2-default-v5cfg", 521, {
    "architectures": ["Olmo2ForCausalLM"], "model_type": "olmo2", "vocab_size": 384, "hidden_size": 64,
    "intermediate_size": 112, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
    "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "bos_token_id": None,
    "eos_token_id": 383, "pad_token_id": 382, "tie_word_embeddings": False, "attention_bias": False,
    "attention_dropout": 0.0, "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0},
    "dtype": "float32", "use_cache": True},
    "olmo2 5.x keys: no pre-norms, RMSNorm after attention and after the MLP inside the residual, q_norm over "
    "all 64 q dims and k_norm over all 32 k dims (not per head), GQA 4/2; row 1 right-padded by 5", pad=5)

OPT_BASE = {
    "architectures": ["OPTForCausalLM"], "model_type": "opt", "vocab_size": 384, "hidden_size": 64, "ffn_dim": 128,
    "num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 40, "activation_function": "relu",
    "do_layer_norm_before": True, "word_embed_proj_dim": 64, "enable_bias": True,
    "layer_norm_elementwise_affine": True, "bos_token_id": 2, "eos_token_id": 2, "pad_token_id": 1,
    "tie_word_embeddings": True, "dropout": 0.0, "attention_dropout": 0.0, "layerdrop": 0.0, "init_std": 0.02,
    "use_cache": True}
add("opt-prenorm-v5cfg", 531, dict(OPT_BASE, dtype="float32"),
    "opt (125m layout) 5.x keys: learned positions read at position + 2 (table of max_position_embeddings + 2 "
    "rows), pre-LayerNorm with the final LayerNorm, ReLU, biases everywhere, head tied to embed_tokens; row 1 "
    "right-padded by 5", pad=5)
add("opt-postnorm-projdim-v4cfg", 532, dict(OPT_BASE, do_layer_norm_before=False, word_embed_proj_dim=48,
                                             torch_dtype="float32"),
    "opt (350m layout) 4.x keys: do_layer_norm_before false (LayerNorm after each residual add, no final "
    "LayerNorm), word_embed_proj_dim 48 != hidden 64 (project_in 64x48 before the positions are added, "
    "project_out 48x64 before the tied 384x48 head); row 1 right-padded by 3", pad=3)

GPTJ_BASE = {
    "architectures": ["GPTJForCausalLM"], "model_type": "gptj", "vocab_size": 384, "n_embd": 64, "n_head": 4,
    "n_layer": 2, "n_inner": None, "n_positions": 64, "rotary_dim": 8, "activation_function": "gelu_new",
    "layer_norm_epsilon": 1e-5, "bos_token_id": 383, "eos_token_id": 383, "tie_word_embeddings": False,
    "attn_pdrop": 0.0, "embd_pdrop": 0.0, "resid_pdrop": 0.0, "use_cache": True}
add("gptj-rot8-v5cfg", 541, dict(GPTJ_BASE, dtype="float32"),
    "gptj 5.x keys: parallel residual from one ln_1, rotary on the first 8 of 16 head dims in the interleaved "
    "(rotate_every_two) layout, n_inner null (4 x 64), gelu_new, lm_head with a bias; row 1 right-padded by 5",
    pad=5, ablate={"rotary_dim": 16})
add("gptj-rotfull-inner-v4cfg", 542, dict(GPTJ_BASE, rotary_dim=16, n_inner=96, n_layer=3, torch_dtype="float32"),
    "gptj 4.x keys: rotary over the whole head (rotary_dim 16 = head size), n_inner 96, 3 layers; row 1 "
    "right-padded by 3", pad=3)

FALCON_BASE = {
    "architectures": ["FalconForCausalLM"], "model_type": "falcon", "vocab_size": 384, "hidden_size": 64,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_kv_heads": None, "num_ln_in_parallel_attn": None,
    "new_decoder_architecture": False, "multi_query": True, "parallel_attn": True, "alibi": False, "bias": False,
    "ffn_hidden_size": None, "activation": "gelu", "layer_norm_epsilon": 1e-5, "max_position_embeddings": 128,
    "bos_token_id": 11, "eos_token_id": 11, "tie_word_embeddings": True, "attention_dropout": 0.0,
    "hidden_dropout": 0.0, "initializer_range": 0.02, "use_cache": True}
add("falcon-newarch-gqa-v5cfg", 551, dict(FALCON_BASE, new_decoder_architecture=True, num_kv_heads=2,
                                          ffn_hidden_size=96, rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                                          dtype="float32"),
    "falcon new_decoder_architecture (40B/180B layout) 5.x keys: attention from ln_attn and MLP from ln_mlp in "
    "parallel, 4 query heads over 2 kv heads, query_key_value stored per kv group [2][2 q + k + v][16], "
    "ffn_hidden_size 96, rotary, tied head; row 1 right-padded by 5", pad=5)
add("falcon-mqa-parallel-v4cfg", 552, dict(FALCON_BASE, rope_theta=500.0, tie_word_embeddings=False,
                                           torch_dtype="float32"),
    "falcon-7b layout 4.x keys: multi_query (one kv head, query_key_value [4 q | k | v] x 16), parallel attention "
    "and MLP from one input_layernorm, rope_theta 500, ffn 4 x 64, untied lm_head; row 1 right-padded by 3", pad=3)
add("falcon-sequential-bias-v5cfg", 553, dict(FALCON_BASE, multi_query=False, num_kv_heads=4, parallel_attn=False,
                                              bias=True, num_hidden_layers=3,
                                              rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                                              dtype="float32"),
    "falcon with multi_query false (query_key_value interleaved per head [4][q, k, v][16]) and parallel_attn false "
    "(a = h + attn(input_layernorm h), a + mlp(post_attention_layernorm a)), biases on every linear, 3 layers; "
    "row 1 right-padded by 5", pad=5, ablate={"parallel_attn": True})
add("falcon-alibi-12heads-v4cfg", 554, dict(FALCON_BASE, hidden_size=72, num_attention_heads=12, num_kv_heads=12,
                                            multi_query=False, parallel_attn=False, bias=True, alibi=True,
                                            rope_theta=10000.0, torch_dtype="float32"),
    "falcon-rw layout 4.x keys: alibi (12 heads: slopes 2^-1..2^-8 and 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5 rounded to "
    "bf16, slope x position rounded to bf16, / sqrt(6) through sdpa's mask), no rotary, multi_query false, "
    "sequential layers with biases; row 1 right-padded by 5", pad=5, ablate={"alibi": False})

BLOOM_BASE = {
    "architectures": ["BloomForCausalLM"], "model_type": "bloom", "vocab_size": 384, "hidden_size": 48,
    "n_layer": 2, "n_head": 6, "layer_norm_epsilon": 1e-5, "apply_residual_connection_post_layernorm": False,
    "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 3, "pretraining_tp": 1, "slow_but_exact": False,
    "attention_dropout": 0.0, "hidden_dropout": 0.0, "initializer_range": 0.02, "use_cache": True}
BLOOM6 = dict(BLOOM_BASE, torch_dtype="float32")
add("bloom-6heads-v4cfg", 561, BLOOM6,
    "bloom 4.x keys: LayerNorm on the embeddings, ALiBi with 6 heads (4 slopes 2^-2k plus 2 of the 8-head sequence, "
    "2^-1 and 2^-3), query_key_value interleaved per head [6][q, k, v][8], tanh-GELU 4 x 48 MLP with biases, head "
    "tied to word_embeddings (layer weights N(0,0.25): with 0.08 the tied head only repeats the last token); row 1 "
    "right-padded by 5", pad=5,
    std_overrides={k: 0.25 for k, (_, kind) in spec_bloom(BLOOM6).items() if kind == "w" and ".h." in k})
add("bloom-4heads-3layers-untied-v5cfg", 562, dict(BLOOM_BASE, hidden_size=64, n_head=4, n_layer=3,
                                                   tie_word_embeddings=False, dtype="float32"),
    "bloom 5.x keys: 4 heads of 16 (slopes 2^-2, 2^-4, 2^-6, 2^-8), 3 layers, untied lm_head, a 24-token batch; "
    "row 1 right-padded by 7", pad=7, L=24)

QWEN2_MOE_BASE = {
    "architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "vocab_size": 384, "hidden_size": 64,
    "intermediate_size": 96, "moe_intermediate_size": 48, "shared_expert_intermediate_size": 80,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
    "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "num_experts": 6, "num_experts_per_tok": 2,
    "norm_topk_prob": False, "decoder_sparse_step": 1, "mlp_only_layers": [], "use_sliding_window": False,
    "sliding_window": None, "max_window_layers": 28, "bos_token_id": 380, "eos_token_id": 381,
    "tie_word_embeddings": False, "output_router_logits": False, "router_aux_loss_coef": 0.001,
    "attention_dropout": 0.0, "initializer_range": 0.02, "use_cache": True}
add("qwen2_moe-top2-shared-v4cfg", 571, dict(QWEN2_MOE_BASE, rope_theta=1000000.0, torch_dtype="float32"),
    "qwen2_moe 4.x keys: 6 experts of 48, top-2 without renormalisation (norm_topk_prob false), shared expert of "
    "80 behind sigmoid(shared_expert_gate x), q/k/v biases, GQA 4/2, every layer sparse; row 1 right-padded by 5",
    pad=5, moe=True, ablate={"norm_topk_prob": True})
add("qwen2_moe-normtopk-sparsestep-v5cfg", 572, dict(
    QWEN2_MOE_BASE, num_hidden_layers=4, num_experts_per_tok=3, norm_topk_prob=True, decoder_sparse_step=2,
    mlp_only_layers=[3], rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
    layer_types=["full_attention"] * 4, dtype="float32"),
    "qwen2_moe 5.x keys: top-3 of 6 renormalised (norm_topk_prob true), decoder_sparse_step 2 and mlp_only_layers "
    "[3] (layer 1 has experts; layers 0, 2, 3 a dense MLP of 96), shared expert, 4 layers; row 1 right-padded by 3",
    pad=3, moe=True, ablate={"norm_topk_prob": False})

# --- gpt2 / gpt_neox ---
add("gpt2-gelu-inner-invlayer", 301, {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 384, "n_embd": 64, "n_head": 4,
    "n_layer": 3, "n_inner": 96, "n_positions": 40, "activation_function": "gelu", "layer_norm_epsilon": 1e-5,
    "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": True, "reorder_and_upcast_attn": False,
    "bos_token_id": 383, "eos_token_id": 383, "tie_word_embeddings": True, "attn_pdrop": 0.0, "embd_pdrop": 0.0,
    "resid_pdrop": 0.0, "torch_dtype": "float32", "use_cache": True},
    "gpt2 with n_inner 96 (not 4*n_embd), exact erf 'gelu', scale_attn_by_inverse_layer_idx (scores / (layer+1)), "
    "3 layers",
    ablate={"scale_attn_by_inverse_layer_idx": False})
add("gpt2-relu-defaultinner", 302, {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 384, "n_embd": 48, "n_head": 3,
    "n_layer": 2, "n_inner": None, "n_positions": 32, "activation_function": "relu", "layer_norm_epsilon": 1e-5,
    "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
    "bos_token_id": 383, "eos_token_id": 383, "tie_word_embeddings": True, "attn_pdrop": 0.0, "embd_pdrop": 0.0,
    "resid_pdrop": 0.0, "torch_dtype": "float32", "use_cache": True},
    "gpt2 with activation relu and n_inner null (-> 4*n_embd = 192), 3 heads of 16")
add("gpt_neox-rot25-sequential-v4cfg", 303, {
    "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "vocab_size": 384, "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "rotary_pct": 0.25,
    "rotary_emb_base": 10000, "max_position_embeddings": 128, "layer_norm_eps": 1e-5, "hidden_act": "gelu",
    "use_parallel_residual": False, "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0,
    "torch_dtype": "float32", "use_cache": True, "attention_dropout": 0.0, "hidden_dropout": 0.0},
    "gpt_neox 4.x keys rotary_pct 0.25 / rotary_emb_base: rope on the first 4 of 16 head dims; "
    "use_parallel_residual false (x = a + mlp(ln2(a)), a = x + attn(ln1(x)))",
    ablate={"use_parallel_residual": True})
add("gpt_neox-rot50-parallel-v5cfg", 304, {
    "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "vocab_size": 384, "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1000.0, "partial_rotary_factor": 0.5},
    "max_position_embeddings": 128, "layer_norm_eps": 1e-5, "hidden_act": "gelu_new",
    "use_parallel_residual": True, "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0,
    "dtype": "float32", "use_cache": True, "attention_dropout": 0.0, "hidden_dropout": 0.0},
    "gpt_neox 5.x rope_parameters partial_rotary_factor 0.5 (16 of 32 head dims), rope_theta 1000, "
    "parallel residual, gelu_new")

# --- encoders ---
add("bert-3rows-padded-tokentypes", 401, {
    "architectures": ["BertModel"], "model_type": "bert", "vocab_size": 320, "hidden_size": 48,
    "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 96, "hidden_act": "gelu_new",
    "max_position_embeddings": 24, "type_vocab_size": 3, "layer_norm_eps": 1e-12, "pad_token_id": 0,
    "position_embedding_type": "absolute", "torch_dtype": "float32", "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0},
    "bert with absolute positions, token_type_ids in {0,1,2} (type_vocab_size 3), batch of 3 with rows padded by "
    "0/3/6 tokens, gelu_new, 3 layers", B=3, L=11, pads=[0, 3, 6])
add("roberta-3rows-padded", 402, {
    "architectures": ["RobertaModel"], "model_type": "roberta", "vocab_size": 320, "hidden_size": 48,
    "num_hidden_layers": 2, "num_attention_heads": 3, "intermediate_size": 96, "hidden_act": "gelu",
    "max_position_embeddings": 14, "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1,
    "bos_token_id": 0, "eos_token_id": 2, "torch_dtype": "float32", "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0},
    "roberta: position ids = cumsum(ids != pad) * mask + pad_token_id (padding_idx 1, positions start at 2; "
    "max_position_embeddings = L + 2 exactly), batch of 3 with 0/2/5 padding tokens", B=3, L=12, pads=[0, 2, 5])
add("vit-gray-img32-patch8-noqkvbias", 403, {
    "architectures": ["ViTForImageClassification"], "model_type": "vit", "hidden_size": 48, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 96, "hidden_act": "gelu", "image_size": 32, "patch_size": 8,
    "num_channels": 1, "qkv_bias": False, "layer_norm_eps": 1e-12, "encoder_stride": 8,
    "id2label": {"0": "a", "1": "b", "2": "c"}, "label2id": {"a": 0, "b": 1, "c": 2}, "torch_dtype": "float32",
    "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
    "vit with 1 channel, 32x32 image, 8x8 patches (16 patches + CLS), qkv_bias false, 3 labels")
add("vit-rgb-img20-patch4", 404, {
    "architectures": ["ViTForImageClassification"], "model_type": "vit", "hidden_size": 40, "num_hidden_layers": 3,
    "num_attention_heads": 5, "intermediate_size": 72, "hidden_act": "gelu", "image_size": 20, "patch_size": 4,
    "num_channels": 3, "qkv_bias": True, "layer_norm_eps": 1e-6,
    "id2label": {str(i): "c%d" % i for i in range(7)}, "label2id": {"c%d" % i: i for i in range(7)},
    "dtype": "float32", "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
    "vit with 20x20 RGB image, 4x4 patches (25 patches + CLS), 5 heads of 8, layer_norm_eps 1e-6, 7 labels, "
    "batch 3", B=3)

# --- more text encoders: xlm-roberta, distilbert, modernbert ---
def st_files(H, normalize):
    """sentence-transformers' files beside the model: mean pooling (1_Pooling/config.json) and modules.json."""
    mods = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        mods.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    pool = {"word_embedding_dimension": H, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}
    return {"modules.json": mods, "1_Pooling/config.json": pool}


def special(content, i):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
            "special": True}


# XLM-RoBERTa's tokenizer.json shape (Metaspace + Unigram + TemplateProcessing <s> A </s>) over a tiny vocabulary in
# which every sentence below has exactly one segmentation (the ids are worked out by hand).
XLMR_TOKENIZER = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [special("<s>", 0), special("<pad>", 1), special("</s>", 2), special("<unk>", 3)],
    "normalizer": None,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    "post_processor": {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                           "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    "model": {"type": "Unigram", "unk_id": 3, "byte_fallback": False,
              "vocab": [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["\u2581hello", -3.0],
                        ["\u2581world", -3.5], ["\u2581the", -2.0], ["\u2581cat", -4.0], ["s", -2.5],
                        ["\u2581sat", -4.5], ["\u2581on", -3.0], ["\u2581mat", -5.0], [".", -2.0],
                        ["\u2581\u00fcber", -6.0], ["\u2581", -1.0]]}}

# BERT's WordPiece tokenizer.json shape, as DistilBERT checkpoints ship it (lowercasing BertNormalizer).
DISTILBERT_TOKENIZER = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [special("[PAD]", 0), special("[UNK]", 1), special("[CLS]", 2), special("[SEP]", 3)],
    "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None,
                   "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100,
              "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "the": 6, "cat": 7,
                        "##s": 8, "sat": 9, ".": 10, "a": 11}}}

add("xlm-roberta-3rows-padded-embed-v4cfg", 405, {
    "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "vocab_size": 320, "hidden_size": 48,
    "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 96, "hidden_act": "gelu",
    "max_position_embeddings": 16, "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1,
    "bos_token_id": 0, "eos_token_id": 2, "torch_dtype": "float32", "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0, "position_embedding_type": "absolute", "use_cache": True,
    "classifier_dropout": None},
    "xlm-roberta (4.x config, model_type 'xlm-roberta'): RoBERTa positions (cumsum(ids != pad) + pad_token_id, "
    "padding_idx 1), one-row token type table, pooler; rows padded by 0/2/5; 16 positions allow 13 real tokens and "
    "L=13 uses them all; sentence embeddings as multilingual-e5 configures them (mean pooling + Normalize) from a "
    "Unigram tokenizer.json",
    B=3, L=13, pads=[0, 2, 5],
    embed=dict(tokenizer=XLMR_TOKENIZER, normalize=True,
               sentences=["hello world", "the cats sat on the mat.", "\u00fcber hello"],
               ids=[[0, 4, 5, 2], [0, 6, 7, 8, 9, 10, 6, 11, 12, 2], [0, 13, 4, 2]]),
    ablate={"model_type": "bert"})
add("xlm-roberta-bf16-nopooler-v5cfg", 406, {
    "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "vocab_size": 300, "hidden_size": 40,
    "num_hidden_layers": 3, "num_attention_heads": 5, "intermediate_size": 64, "hidden_act": "gelu",
    "max_position_embeddings": 24, "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1,
    "bos_token_id": 0, "eos_token_id": 2, "dtype": "bfloat16", "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0, "use_cache": True},
    "xlm-roberta (5.x config, dtype bfloat16): weights stored as BF16, no pooler (XLMRobertaModel with "
    "add_pooling_layer=False, as sentence-transformers checkpoints are often saved); rows padded by 0/7; "
    "references in float32 from the upcast weights",
    B=2, L=12, pads=[0, 7], store_dtype=torch.bfloat16, drop=["pooler."])
add("distilbert-3rows-padded-embed-v4cfg", 407, {
    "architectures": ["DistilBertModel"], "model_type": "distilbert", "vocab_size": 320, "dim": 48, "n_layers": 3,
    "n_heads": 4, "hidden_dim": 96, "activation": "gelu", "max_position_embeddings": 16,
    "sinusoidal_pos_embds": False, "pad_token_id": 0, "dropout": 0.0, "attention_dropout": 0.0, "qa_dropout": 0.0,
    "seq_classif_dropout": 0.0, "tie_weights_": True, "initializer_range": 0.02, "torch_dtype": "float32"},
    "distilbert (4.x config: dim / n_layers / n_heads / hidden_dim / activation keys, 'distilbert.' prefix as a task "
    "model saves it), LayerNorm eps fixed at 1e-12, rows padded by 0/4/8; sentence embeddings as msmarco-distilbert "
    "configures them (mean pooling, no Normalize) from a WordPiece tokenizer.json",
    B=3, L=14, pads=[0, 4, 8],
    embed=dict(tokenizer=DISTILBERT_TOKENIZER, normalize=False,
               sentences=["Hello world", "the cats sat.", "A cat"],
               ids=[[2, 4, 5, 3], [2, 6, 7, 8, 9, 10, 3], [2, 11, 7, 3]]))
add("distilbert-relu-sinusoidal-v5cfg", 408, {
    "architectures": ["DistilBertModel"], "model_type": "distilbert", "vocab_size": 256, "dim": 36, "n_layers": 2,
    "n_heads": 3, "hidden_dim": 80, "activation": "relu", "max_position_embeddings": 20,
    "sinusoidal_pos_embds": True, "pad_token_id": 0, "dropout": 0.0, "attention_dropout": 0.0, "qa_dropout": 0.0,
    "seq_classif_dropout": 0.0, "tie_weights_": True, "dtype": "float32"},
    "distilbert (5.x config): relu, sinusoidal_pos_embds (the stored table is create_sinusoidal_embeddings'), "
    "rows padded by 3/0",
    B=2, L=11, pads=[3, 0])
add("modernbert-alt2-window4-v4cfg", 409, {
    "architectures": ["ModernBertForMaskedLM"], "model_type": "modernbert", "vocab_size": 320, "hidden_size": 48,
    "intermediate_size": 80, "num_hidden_layers": 4, "num_attention_heads": 4, "hidden_activation": "gelu",
    "max_position_embeddings": 64, "norm_eps": 1e-5, "norm_bias": False, "attention_bias": False,
    "mlp_bias": False, "global_attn_every_n_layers": 2, "local_attention": 4, "global_rope_theta": 160000.0,
    "local_rope_theta": 10000.0, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "cls_token_id": 1,
    "sep_token_id": 2, "torch_dtype": "float32", "attention_dropout": 0.0, "embedding_dropout": 0.0,
    "mlp_dropout": 0.0, "classifier_pooling": "cls", "tie_word_embeddings": True, "reference_compile": None},
    "modernbert (4.x config), saved as ModernBertForMaskedLM ('model.' prefix, MLM head weights to ignore): "
    "global_attn_every_n_layers 2 (layers 0, 2 global with theta 160000; 1, 3 local with "
    "theta 10000 seeing |i-j| <= 2), GeGLU from one fused Wi, no biases, embedding norm, no attn_norm in layer 0, "
    "final norm; 13 tokens with rows padded by 0/3/9",
    B=3, L=13, pads=[0, 3, 9], ablate={"local_rope_theta": 160000.0})
add("modernbert-layertypes-bias-v5cfg", 410, {
    "architectures": ["ModernBertModel"], "model_type": "modernbert", "vocab_size": 300, "hidden_size": 64,
    "intermediate_size": 96, "num_hidden_layers": 3, "num_attention_heads": 2, "hidden_activation": "gelu_new",
    "max_position_embeddings": 64, "norm_eps": 1e-6, "norm_bias": True, "attention_bias": True, "mlp_bias": True,
    "global_attn_every_n_layers": 3, "local_attention": 6,
    "layer_types": ["full_attention", "sliding_attention", "sliding_attention"],
    "rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 80000.0},
                        "sliding_attention": {"rope_type": "default", "rope_theta": 500.0}},
    "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "cls_token_id": 1, "sep_token_id": 2,
    "dtype": "float32", "attention_dropout": 0.0, "embedding_dropout": 0.0, "mlp_dropout": 0.0,
    "classifier_pooling": "mean", "tie_word_embeddings": True},
    "modernbert (5.x config), ModernBertModel saved bare: layer_types + rope_parameters per type (full theta 80000, sliding theta 500), local "
    "window |i-j| <= 3, head_dim 32, norm/attention/mlp biases, gelu_new; 15 tokens with rows padded by 6/0",
    B=2, L=15, pads=[6, 0], ablate={"global_attn_every_n_layers": 1})

# --- dinov2_with_registers ---
def dinov2_cfg(**kw):
    c = {"architectures": ["Dinov2WithRegistersForImageClassification"], "model_type": "dinov2_with_registers",
         "hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "mlp_ratio": 2, "hidden_act": "gelu",
         "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "initializer_range": 0.02,
         "layer_norm_eps": 1e-6, "image_size": 16, "patch_size": 4, "num_channels": 3, "qkv_bias": True,
         "layerscale_value": 1.0, "drop_path_rate": 0.0, "use_swiglu_ffn": False, "num_register_tokens": 4,
         "apply_layernorm": True, "reshape_hidden_states": True,
         "id2label": {"0": "tabby", "1": "tiger", "2": "lynx"}, "label2id": {"tabby": 0, "tiger": 1, "lynx": 2}}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not DROP}


add("dinov2_with_registers-img16-v4cfg", 411, dinov2_cfg(torch_dtype="float32"),
    "dinov2_with_registers (4.x config) for image classification at its own size 16x16 (4x4 patches, no "
    "interpolation): CLS + 4 register tokens + 16 patches, layer scale, gelu MLP (mlp_ratio 2), final layernorm, "
    "pooler_output = normed CLS, logits from [CLS, mean of patch rows]", image_hw=(16, 16))
add("dinov2_with_registers-img20x12-interp-v5cfg", 412, dinov2_cfg(
    dtype="float32", num_register_tokens=2, id2label={"0": "a", "1": "b", "2": "c", "3": "d", "4": "e"},
    label2id={"a": 0, "b": 1, "c": 2, "d": 3, "e": 4}),
    "dinov2_with_registers (5.x config) on a 20x12 image although image_size is 16: the 4x4 position grid is "
    "resized to 5x3 (bicubic, align_corners False, antialias True: up in height, down in width; antialias=False "
    "would move last_hidden_state by 0.094); 2 registers, 5 labels", image_hw=(20, 12))
add("dinov2_with_registers-rgbjpg30-v4cfg", 414, dinov2_cfg(torch_dtype="float32", num_register_tokens=1),
    "dinov2_with_registers (4.x config) on tests/data/images/rgb.jpg as ViTImageProcessor makes it (30x30, bilinear, "
    "mean/std 0.5; pixel_values/rgb.jpg of tests/data/images/expected.safetensors): 30 // 4 = 7 patches a side (the "
    "last 2 pixel rows and columns unused, as the stride-4 conv), the 4x4 grid upsampled to 7x7; 1 register; "
    "tessera-classify on rgb.jpg must give softmax(logits)",
    pixels_from=("tests/data/images/expected.safetensors", "pixel_values/rgb.jpg"))
add("dinov2_with_registers-img24-swiglu-base-v5cfg", 413, dinov2_cfg(
    architectures=["Dinov2WithRegistersModel"], dtype="float32", use_swiglu_ffn=True, hidden_size=40,
    num_attention_heads=5, mlp_ratio=4, id2label=DROP, label2id=DROP),
    "dinov2_with_registers (5.x config) base model without prefix or classifier on a square 24x24 image: the 4x4 "
    "grid is upsampled to 6x6; SwiGLU FFN (weights_in -> silu(x1) * x2 -> weights_out, hidden (int(160*2/3)+7)//8*8 = "
    "112)", image_hw=(24, 24))

# --- encoder-decoders ---
add("t5-v1_1-gated-gelu-untied", 501, {
    "architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "vocab_size": 320, "d_model": 64,
    "d_kv": 8, "d_ff": 96, "num_layers": 2, "num_decoder_layers": 3, "num_heads": 4,
    "relative_attention_num_buckets": 32, "relative_attention_max_distance": 20, "feed_forward_proj": "gated-gelu",
    "tie_word_embeddings": False, "layer_norm_epsilon": 1e-6, "pad_token_id": 0, "eos_token_id": 1,
    "decoder_start_token_id": 0, "is_encoder_decoder": True, "torch_dtype": "float32", "dropout_rate": 0.0,
    "use_cache": True},
    "T5 v1.1 style (4.x config): gated-gelu (gelu_new(wi_0 x) * wi_1 x), untied lm_head.weight stored, no "
    "d_model^-0.5 output scaling (tie_word_embeddings false), num_heads*d_kv = 32 != d_model 64, 2 encoder / 3 "
    "decoder layers, 32 buckets / max_distance 20 (bidirectional encoder, causal decoder)", L=13, Ld=11)
add("t5-orig-relu-tied", 502, {
    "architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "vocab_size": 320, "d_model": 48,
    "d_kv": 16, "d_ff": 96, "num_layers": 3, "num_heads": 3, "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 16, "feed_forward_proj": "relu", "tie_word_embeddings": True,
    "layer_norm_epsilon": 1e-6, "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0,
    "is_encoder_decoder": True, "torch_dtype": "float32", "dropout_rate": 0.0, "use_cache": True},
    "original T5 style: relu, tied head (shared.weight only) with decoder output * d_model^-0.5, 8 buckets / "
    "max_distance 16 (many positions in the log buckets), 3+3 layers; shared.weight N(0,0.3) (with N(0,1) the tied "
    "head only echoes the previous token)", L=15, Ld=10, emb1_std=0.3)
add("bart-scale-embedding", 503, {
    "architectures": ["BartForConditionalGeneration"], "model_type": "bart", "vocab_size": 320, "d_model": 48,
    "encoder_layers": 2, "decoder_layers": 3, "encoder_attention_heads": 4, "decoder_attention_heads": 3,
    "encoder_ffn_dim": 96, "decoder_ffn_dim": 80, "activation_function": "gelu", "max_position_embeddings": 32,
    "scale_embedding": True, "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 2,
    "forced_eos_token_id": None, "tie_word_embeddings": True, "is_encoder_decoder": True, "torch_dtype": "float32",
    "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "use_cache": True},
    "bart with scale_embedding (token embeddings * sqrt(48)), learned positions offset 2, different encoder/decoder "
    "heads (4/3), ffn dims and layer counts; final_logits_bias; model.shared.weight N(0,0.015) (larger embeddings "
    "times sqrt(d) make the tied head echo the start token)", L=13, Ld=9,
    std_overrides={"model.shared.weight": 0.015})
add("marian-swish", 504, {
    "architectures": ["MarianMTModel"], "model_type": "marian", "vocab_size": 320, "decoder_vocab_size": 320,
    "d_model": 48, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
    "decoder_attention_heads": 4, "encoder_ffn_dim": 96, "decoder_ffn_dim": 96, "activation_function": "swish",
    "max_position_embeddings": 32, "scale_embedding": True, "pad_token_id": 319, "eos_token_id": 0,
    "decoder_start_token_id": 319, "forced_eos_token_id": 0, "share_encoder_decoder_embeddings": True,
    "tie_word_embeddings": True, "is_encoder_decoder": True, "torch_dtype": "float32", "dropout": 0.0,
    "attention_dropout": 0.0, "activation_dropout": 0.0, "use_cache": True},
    "marian: sinusoidal positions NOT stored (computed: [sin(even) | cos(odd)] halves, no offset), embeddings * "
    "sqrt(48), no layernorm_embedding, post-LN, swish, pad = decoder_start = 319, final_logits_bias; "
    "model.shared.weight N(0,0.015) (avoids the tied head echoing the start token)", L=12, Ld=9,
    std_overrides={"model.shared.weight": 0.015})
add("whisper-mel40-3enc-1dec", 505, {
    "architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper", "vocab_size": 320,
    "num_mel_bins": 40, "d_model": 48, "encoder_layers": 3, "decoder_layers": 1, "encoder_attention_heads": 4,
    "decoder_attention_heads": 3, "encoder_ffn_dim": 96, "decoder_ffn_dim": 64, "activation_function": "gelu",
    "max_source_positions": 12, "max_target_positions": 24, "scale_embedding": False, "bos_token_id": 318,
    "eos_token_id": 318, "pad_token_id": 318, "decoder_start_token_id": 319, "tie_word_embeddings": True,
    "is_encoder_decoder": True, "torch_dtype": "float32", "dropout": 0.0, "attention_dropout": 0.0,
    "activation_dropout": 0.0, "suppress_tokens": None, "begin_suppress_tokens": None, "use_cache": True},
    "whisper with 40 mel bins, 24 frames -> conv stride 2 -> 12 encoder positions (stored sinusoids), 3 encoder / "
    "1 decoder layers, different heads (4/3) and ffn dims, tied proj_out (no proj_out.weight stored); "
    "decoder embed_tokens N(0,0.03)", Ld=9, std_overrides={"model.decoder.embed_tokens.weight": 0.03})

def t5like_cfg(arch, mt, **kw):
    """A T5-layout config (mt5) with the keys transformers writes; kw overrides."""
    c = {"architectures": [arch], "model_type": mt, "vocab_size": 320, "layer_norm_epsilon": 1e-6, "pad_token_id": 0,
         "eos_token_id": 1, "decoder_start_token_id": 0, "is_encoder_decoder": True, "dropout_rate": 0.0,
         "use_cache": True}
    c.update(kw)
    return c


add("mt5-untied-v4cfg", 506, t5like_cfg(
    "MT5ForConditionalGeneration", "mt5", d_model=64, d_kv=12, d_ff=80, num_layers=3, num_decoder_layers=2,
    num_heads=4, relative_attention_num_buckets=16, relative_attention_max_distance=24,
    feed_forward_proj="gated-gelu", tie_word_embeddings=False, torch_dtype="float32", tokenizer_class="T5Tokenizer"),
    "mt5 as google/mt5-* ship it (4.x keys): gated-gelu (gelu_new(wi_0 x) * wi_1 x), tie_word_embeddings false with "
    "lm_head.weight stored, no d_model^-0.5 output scaling, num_heads*d_kv = 48 != d_model 64, 3 encoder / 2 "
    "decoder layers, 16 buckets / max_distance 24; row 1 of the decoder input right-padded by 3", L=14, Ld=10,
    dec_pad=3, ablate={"model_type": "t5", "tie_word_embeddings": True})
add("mt5-tied-noscale-v5cfg", 507, t5like_cfg(
    "MT5ForConditionalGeneration", "mt5", d_model=48, d_kv=16, d_ff=96, num_layers=2, num_heads=3,
    relative_attention_num_buckets=8, relative_attention_max_distance=16, feed_forward_proj="gated-gelu",
    tie_word_embeddings=True, dtype="float32"),
    "mt5 as transformers 5.x saves it: tie_word_embeddings true (MT5Config forces it), no lm_head.weight stored (head = "
    "shared.weight) and still NO d_model^-0.5 output scaling (mT5 has no scale_decoder_outputs; t5 with the same "
    "config would scale: see checks.feature_effect), num_decoder_layers absent (= num_layers), 8 buckets / "
    "max_distance 16; shared.weight N(0,0.3), other matrices N(0,0.2) (with N(0,0.08) greedy repeats one token)",
    L=15, Ld=9, dec_pad=4, emb1_std=0.3, w_std=0.2, ablate={"model_type": "t5"})
def bartlike_cfg(arch, mt, **kw):
    """A BART-layout seq2seq config (mbart, pegasus) with the keys transformers writes; kw overrides."""
    c = {"architectures": [arch], "model_type": mt, "vocab_size": 320, "d_model": 48, "encoder_layers": 2,
         "decoder_layers": 2, "encoder_attention_heads": 4, "decoder_attention_heads": 4, "encoder_ffn_dim": 96,
         "decoder_ffn_dim": 96, "activation_function": "gelu", "max_position_embeddings": 32, "scale_embedding": True,
         "tie_word_embeddings": True, "is_encoder_decoder": True, "dropout": 0.0, "attention_dropout": 0.0,
         "activation_dropout": 0.0, "use_cache": True}
    c.update(kw)
    return c


add("mbart-cc25-langstart-v4cfg", 508, bartlike_cfg(
    "MBartForConditionalGeneration", "mbart", bos_token_id=0, pad_token_id=1, eos_token_id=2,
    decoder_start_token_id=310, forced_eos_token_id=2, torch_dtype="float32", classifier_dropout=0.0, init_std=0.02),
    "mbart (mbart-large-en-ro style, 4.x keys): the decoder starts from a language code (decoder_start_token_id 310); "
    "pre-LN layers with a final layer_norm in encoder and decoder, layernorm_embedding after learned positions "
    "(offset 2), embeddings * sqrt(48), final_logits_bias, tied head; model.shared.weight N(0,0.015) and the other "
    "matrices N(0,0.3) (with N(0,0.08) the pre-LN residual makes the tied head echo the start token); row 1 of the "
    "decoder input right-padded by 2", L=13, Ld=9, dec_pad=2, std_overrides={"model.shared.weight": 0.015}, w_std=0.3,
    ablate={"model_type": "bart"})
add("mbart-50-forcedbos-v5cfg", 509, bartlike_cfg(
    "MBartForConditionalGeneration", "mbart", encoder_layers=3, encoder_attention_heads=3, encoder_ffn_dim=80,
    decoder_ffn_dim=64, activation_function="relu", max_position_embeddings=24, bos_token_id=0, pad_token_id=1,
    eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=305, forced_eos_token_id=2, dtype="float32"),
    "mbart-50 style (5.x keys): decoder_start_token_id = eos (2) and the target language code 305 as "
    "forced_bos_token_id (config.json and generation_config.json), forced as the first new token; relu, different "
    "encoder/decoder heads (3/4), ffn dims and layer counts; pre-LN + final layer_norms, layernorm_embedding, "
    "learned positions offset 2, embeddings * sqrt(48); model.shared.weight N(0,0.05), other matrices N(0,0.3) (so "
    "that greedy does not repeat one token)", L=12, Ld=8, dec_pad=3, std_overrides={"model.shared.weight": 0.05},
    w_std=0.3)
add("pegasus-xsum-relu-v4cfg", 510, bartlike_cfg(
    "PegasusForConditionalGeneration", "pegasus", activation_function="relu", pad_token_id=0, eos_token_id=1,
    decoder_start_token_id=0, forced_eos_token_id=1, torch_dtype="float32"),
    "pegasus (pegasus-xsum style, 4.x keys): sinusoidal positions computed as Marian's ([sin(even) | cos(odd)] "
    "halves, no offset; not stored), pre-LN layers with a final layer_norm in encoder and decoder, no "
    "layernorm_embedding, embeddings * sqrt(48), relu, final_logits_bias, tied head, pad = decoder_start = 0; "
    "model.shared.weight N(0,0.05), other matrices N(0,0.3) (so that greedy does not repeat one token); row 1 of the "
    "decoder input right-padded by 3", L=13, Ld=10, dec_pad=3, std_overrides={"model.shared.weight": 0.05}, w_std=0.3,
    ablate={"model_type": "marian"})
add("pegasus-storedpos-gelunew-v5cfg", 511, bartlike_cfg(
    "PegasusForConditionalGeneration", "pegasus", d_model=64, encoder_layers=3, decoder_attention_heads=2,
    encoder_ffn_dim=112, decoder_ffn_dim=80, activation_function="gelu_new", max_position_embeddings=20,
    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, forced_eos_token_id=1, dtype="float32"),
    "pegasus (5.x keys) with the frozen sinusoid tables stored in the checkpoint as real Pegasus checkpoints have "
    "them (model.{encoder,decoder}.embed_positions.weight, equal to the computed ones), gelu_new, different "
    "encoder/decoder heads (4/2), ffn dims and layer counts, max_position_embeddings 20 (generation reaches "
    "position 12); model.shared.weight N(0,0.05), other matrices N(0,0.3) (so that greedy does not repeat one token)",
    L=16, Ld=9, dec_pad=2, store_positions=True, std_overrides={"model.shared.weight": 0.05}, w_std=0.3)


# ----------------------------------------------------------------------------------------------------------------------
# building
# ----------------------------------------------------------------------------------------------------------------------
def kind_of(mt):
    if mt in decoders.FORWARD:
        return "decoder"
    if mt in ("vit", "dinov2_with_registers"):
        return "vision-encoder"
    if mt in encoders.FORWARD:
        return "encoder"
    return "speech-encoder-decoder" if mt == "whisper" else "encoder-decoder"


def special_ids(cfg):
    s = set()
    for k in ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id"):
        v = cfg.get(k)
        if isinstance(v, list):
            s.update(v)
        elif v is not None:
            s.add(v)
    return sorted(s)


def rand_ids(g, shape, V, special):
    ids = torch.randint(0, V, shape, generator=g)
    for sp in special:
        ids[ids == sp] = (sp + 7) % V
    for sp in special:                      # second pass in case the shift landed on another special id
        ids[ids == sp] = (sp + 13) % V
    return ids


def tensor_meta(name, t, meaning):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "meaning": meaning}


MEANING = {
    "input_ids": "int64 [B,L] token ids (rows of an encoder input may end in padding where attention_mask is 0)",
    "attention_mask": "int64 [B,L] 1 = real token, 0 = padding",
    "token_type_ids": "int64 [B,L] segment ids",
    "decoder_input_ids": "int64 [B,Ld] decoder input ids, starting with decoder_start_token_id (teacher forcing; "
                         "a row may end in padding where decoder_attention_mask is 0)",
    "decoder_attention_mask": "int64 [B,Ld] 1 = real decoder token, 0 = padding (compare logits only where 1)",
    "pixel_values": "float32 [B,C,H,W] image input",
    "input_features": "float32 [1,mel,frames] log-mel-like input features (random)",
    "prompt_ids": "int64 [1,P] prompt for greedy generation",
    "logits": "float32 output logits",
    "last_hidden_state": "float32 [B,L,H] last hidden state (after the final norm where the model has one); "
                         "values at padded positions are not meaningful",
    "pooler_output": "float32 [B,H] pooler output (tanh(dense(h[:,0])))",
    "encoder_last_hidden_state": "float32 [B,L,H] encoder output; values at padded positions are not meaningful",
    "sentence_embedding": "float32 [S,H] sentence-transformers embedding of each of meta.embedding.sentences "
                          "(tokenized by hand into meta.embedding.ids with the fixture's tokenizer.json): masked "
                          "mean of last_hidden_state, L2-normalised when meta.embedding.normalize",
    "generated_ids": "int64 greedy generation output (prompt or decoder start token + 12 new tokens)",
}


def build(v):
    cfg = v["cfg"]
    mt = cfg["model_type"]
    o = v["opts"]
    seed = v["seed"]
    w32 = init_weights(cfg, seed, o.get("emb1_std", 1.0), o.get("std_overrides"), o.get("w_std", 0.08))
    for prefix in o.get("drop", []):
        w32 = {k: t for k, t in w32.items() if not k.startswith(prefix)}
    if o.get("store_positions"):  # real Pegasus checkpoints carry the (computed, frozen) sinusoid tables
        for side in ("encoder", "decoder"):
            w32["model.%s.embed_positions.weight" % side] = seq2seq.marian_sinusoidal(
                cfg["max_position_embeddings"], cfg["d_model"]).contiguous()
    store_dtype = o.get("store_dtype")
    if store_dtype is not None:
        stored = {k: t.to(store_dtype) for k, t in w32.items()}
        w32 = {k: t.float() for k, t in stored.items()}     # references from the upcast stored weights
    else:
        stored = w32
    g = torch.Generator().manual_seed(seed * 1000 + 7)
    special = special_ids(cfg)
    kind = kind_of(mt)
    ref = {}
    gen_meta = None
    extra_checks = {}
    padding = "none"
    if kind == "decoder":
        Vv = cfg["vocab_size"]
        L, P = o.get("L", 17), o.get("P", 5)
        ref["input_ids"] = rand_ids(g, (2, L), Vv, special)
        ref["attention_mask"] = torch.ones(2, L, dtype=torch.int64)
        if o.get("pad"):  # row 1 right-padded: its logits are compared where attention_mask is 1
            ref["attention_mask"][1, L - o["pad"]:] = 0
            padding = "row 1 padded at the end by %d tokens (attention_mask 0); compare logits only where " \
                      "attention_mask is 1" % o["pad"]
        m = decoders.Model(cfg, w32)
        ref["logits"] = decoders.forward(m, ref["input_ids"], ref["attention_mask"])
        cands = []
        for k in range(24):
            gk = torch.Generator().manual_seed(seed * 1000 + 100 + k)
            prompt = rand_ids(gk, (1, P), Vv, special)
            ids, margins, hit = decoders.generate(m, prompt, NEW_TOKENS, special)
            c = {"k": k, "prompt": prompt, "ids": ids, "margins": margins, "hit": hit,
                 "distinct": len(set(ids[0, P:].tolist()))}
            if o.get("dynamic"):
                ids2, margins2, _ = decoders.generate(m, prompt, NEW_TOKENS, special, cached_dynamic=True)
                c["agree_cached"] = bool(torch.equal(ids, ids2))
                c["margins_cached"] = margins2
            cands.append(c)
        ok = [c for c in cands if not c["hit"] and min(c["margins"]) >= MIN_MARGIN and c.get("agree_cached", True)
              and (not o.get("dynamic") or min(c["margins_cached"]) >= MIN_MARGIN)]
        if not ok:
            raise RuntimeError("%s: no prompt candidate passed" % v["name"])
        best = max(ok, key=lambda c: (min(c["distinct"], 4), -c["k"]))
        ref["prompt_ids"] = best["prompt"]
        ref["generated_ids"] = best["ids"]
        gen_meta = {
            "method": "greedy argmax, full recompute of the whole sequence at every step (tools/reference)",
            "max_new_tokens": NEW_TOKENS, "min_new_tokens": NEW_TOKENS, "do_sample": False, "num_beams": 1,
            "input": "prompt_ids", "generated_ids_layout": "prompt + 12 new tokens",
            "eos": "the prompt was chosen (candidate %d) so that plain argmax never picks a special token (%s) in "
                   "the 12 steps and the top-1/top-2 margin is >= %g at every step" % (best["k"], special, MIN_MARGIN),
            "min_top1_top2_margin": min(best["margins"]), "margins": [round(x, 6) for x in best["margins"]],
            "distinct_new_tokens": best["distinct"],
            "candidates_tried": [{"k": c["k"], "special_in_greedy": c["hit"], "min_margin": round(min(c["margins"]), 6),
                                  "distinct": c["distinct"]} for c in cands],
        }
        if o.get("dynamic"):
            mpe = cfg["max_position_embeddings"]
            gen_meta["dynamic_rope_cached_generate"] = {
                "equal_to_full_recompute": best["agree_cached"],
                "min_margin_cached": min(best["margins_cached"]),
                "note": "HF generate() with a KV cache rotates each token's q/k with the inv_freq in force when it "
                        "was processed (seq_len = max(P, position+1), clamped below by max_position_embeddings=%d), "
                        "while a full recompute rotates every position with seq_len = current length. The prompt was "
                        "chosen so that both give the same 12 tokens; the logits tensor is a single forward of "
                        "length %d (inv_freq for seq_len %d)." % (mpe, L, L)}
        if o.get("ablate"):
            extra_checks["feature_effect"] = feature_effect(
                cfg, o["ablate"], ref["logits"],
                lambda c2: decoders.forward(decoders.Model(c2, w32), ref["input_ids"], ref["attention_mask"]))
        if o.get("moe"):
            extra_checks["router"] = moe_router_gap(m, [ref["input_ids"], ref["generated_ids"]])
    elif kind in ("encoder", "vision-encoder"):
        if mt in ("vit", "dinov2_with_registers"):
            B = o.get("B", 2)
            S = cfg["image_size"]
            hh, ww = o.get("image_hw", (S, S))
            ref["pixel_values"] = torch.randn(B, cfg["num_channels"], hh, ww, generator=g)
            if o.get("pixels_from"):  # a real image as an image processor prepared it
                f, key = o["pixels_from"]
                ref["pixel_values"] = st.load(os.path.join(ROOT, f))[0][key]
        else:
            B, L, pads = o["B"], o["L"], o["pads"]
            ids = rand_ids(g, (B, L), cfg["vocab_size"], special)
            am = torch.ones(B, L, dtype=torch.int64)
            for b, np_ in enumerate(pads):
                if np_:
                    am[b, L - np_:] = 0
                    ids[b, L - np_:] = cfg["pad_token_id"]
            ref["input_ids"] = ids
            ref["attention_mask"] = am
            if cfg.get("type_vocab_size", 1) > 1:
                tt = torch.zeros(B, L, dtype=torch.int64)
                for b in range(B):
                    cut = 3 + b
                    tt[b, cut:] = 1
                    if cfg["type_vocab_size"] > 2:
                        tt[b, cut + 3:] = 2
                ref["token_type_ids"] = tt
            padding = "rows padded at the end by %s tokens (attention_mask 0, pad_token_id %d); compare " \
                      "last_hidden_state only where attention_mask is 1" % (pads, cfg["pad_token_id"])
        out = encoders.forward(cfg, w32, ref)
        if o.get("ablate"):
            c2 = {k: v for k, v in cfg.items() if o["ablate"].get(k, v) is not DROP}
            c2.update({k: v for k, v in o["ablate"].items() if v is not DROP})
            h2 = encoders.forward(c2, w32, ref)["last_hidden_state"]
            real = ref["attention_mask"].bool() if "attention_mask" in ref else torch.ones(h2.shape[:2], dtype=torch.bool)
            extra_checks["feature_effect"] = {
                "config_change": {k: (None if v is DROP else v) for k, v in o["ablate"].items()},
                "max_abs_last_hidden_state_change": float((h2 - out["last_hidden_state"]).abs()[real].max()),
                "note": "how much last_hidden_state moves (real positions) when the covered feature is switched off "
                        "(must be >> 1e-4)"}
        ref.update(out)
        if o.get("embed"):
            ref["sentence_embedding"] = sentence_embeddings(cfg, w32, o["embed"])
    else:
        m = seq2seq.Model(cfg, w32)
        start = seq2seq.decoder_start(cfg)
        Ld = o.get("Ld", 9)
        if mt == "whisper":
            frames = 2 * cfg["max_source_positions"]
            base_inputs = {"input_features": torch.randn(1, cfg["num_mel_bins"], frames, generator=g) * 0.6}
            B = 1
        else:
            L = o.get("L", 13)
            ids = rand_ids(g, (2, L), cfg["vocab_size"], special)
            am = torch.ones(2, L, dtype=torch.int64)
            am[1, L - 4:] = 0
            ids[1, L - 4:] = cfg["pad_token_id"]
            base_inputs = {"input_ids": ids, "attention_mask": am}
            B = 2
            padding = "row 1 of the encoder input has 4 padding tokens at the end (attention_mask 0); compare " \
                      "encoder_last_hidden_state only where attention_mask is 1"
        dec = rand_ids(g, (B, Ld), cfg["vocab_size"], special)
        dec[:, 0] = start
        if cfg.get("forced_bos_token_id") is not None:
            dec[:, 1] = cfg["forced_bos_token_id"]     # teacher forcing as generation would start
        base_inputs["decoder_input_ids"] = dec
        if o.get("dec_pad"):  # row 1 of the decoder input right-padded: logits compared where the mask is 1
            dm = torch.ones(B, Ld, dtype=torch.int64)
            dm[1, Ld - o["dec_pad"]:] = 0
            dec[1, Ld - o["dec_pad"]:] = cfg["pad_token_id"]
            base_inputs["decoder_attention_mask"] = dm
            padding += "; row 1 of decoder_input_ids has %d padding tokens at the end (decoder_attention_mask 0); " \
                       "compare logits only where decoder_attention_mask is 1" % o["dec_pad"]
        # generation: candidate k replaces row 0 of the encoder input (k = 0 keeps it)
        cands = []
        for k in range(24):
            inp = dict(base_inputs)
            if k > 0:
                gk = torch.Generator().manual_seed(seed * 1000 + 100 + k)
                if mt == "whisper":
                    inp["input_features"] = torch.randn(base_inputs["input_features"].shape, generator=gk) * 0.6
                else:
                    ids = base_inputs["input_ids"].clone()
                    ids[0] = rand_ids(gk, (L,), cfg["vocab_size"], special)
                    inp["input_ids"] = ids
            gids, margins, hit = seq2seq.generate(m, inp, NEW_TOKENS, special)
            cands.append({"k": k, "inp": inp, "ids": gids, "margins": margins, "hit": hit,
                          "distinct": len(set(gids[0, 1:].tolist()))})
        ok = [c for c in cands if not c["hit"] and min(c["margins"]) >= MIN_MARGIN]
        if not ok:
            raise RuntimeError("%s: no candidate passed" % v["name"])
        best = max(ok, key=lambda c: (min(c["distinct"], 4), -c["k"]))
        ref.update(best["inp"])
        out = seq2seq.forward(m, ref)
        ref["logits"] = out["logits"]
        ref["encoder_last_hidden_state"] = out["encoder_last_hidden_state"]
        ref["generated_ids"] = best["ids"]
        gen_meta = {
            "method": "greedy argmax from decoder_start_token_id, full recompute of the decoder at every step "
                      "(tools/reference)",
            "max_new_tokens": NEW_TOKENS, "min_new_tokens": NEW_TOKENS, "do_sample": False, "num_beams": 1,
            "input": "input_features" if mt == "whisper" else "row 0 of input_ids/attention_mask (no padding)",
            "generated_ids_layout": "decoder_start_token_id + 12 new tokens",
            "eos": "the encoder input was chosen (candidate %d) so that plain argmax never picks a special token (%s) "
                   "in the 12 steps and the top-1/top-2 margin is >= %g at every step" % (best["k"], special,
                                                                                          MIN_MARGIN),
            "min_top1_top2_margin": min(best["margins"]), "margins": [round(x, 6) for x in best["margins"]],
            "distinct_new_tokens": best["distinct"],
            "candidates_tried": [{"k": c["k"], "special_in_greedy": c["hit"], "min_margin": round(min(c["margins"]), 6),
                                  "distinct": c["distinct"]} for c in cands],
        }
        extra_checks["decoder_start_token_id"] = start
        if cfg.get("forced_bos_token_id") is not None:
            extra_checks["forced_bos_token_id"] = cfg["forced_bos_token_id"]
            gen_meta["forced_bos"] = "generated_ids[0, 1] is forced_bos_token_id (HF ForcedBOSTokenLogitsProcessor: " \
                                     "forced while the decoder input has length 1); that step has no margin"
        if mt in ("t5", "mt5"):
            extra_checks["scale_decoder_outputs"] = seq2seq.t5_scale_decoder_outputs(cfg)
        if o.get("ablate"):
            extra_checks["feature_effect"] = feature_effect(
                cfg, o["ablate"], ref["logits"], lambda c2: seq2seq.forward(seq2seq.Model(c2, w32), ref)["logits"])
    return cfg, stored, ref, gen_meta, extra_checks, padding, kind


def sentence_embeddings(cfg, w, e):
    """sentence-transformers: the hand-tokenized sentences as one right-padded batch, masked mean of the token
    vectors (sum(h * mask) / clamp(mask.sum, 1e-9)), then F.normalize when modules.json has Normalize."""
    n = max(len(x) for x in e["ids"])
    ids = torch.full((len(e["ids"]), n), cfg["pad_token_id"], dtype=torch.int64)
    am = torch.zeros_like(ids)
    for r, x in enumerate(e["ids"]):
        ids[r, :len(x)] = torch.tensor(x)
        am[r, :len(x)] = 1
    h = encoders.forward(cfg, w, {"input_ids": ids, "attention_mask": am})["last_hidden_state"]
    m = am[:, :, None].float()
    emb = (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
    if e["normalize"]:
        emb = torch.nn.functional.normalize(emb, p=2, dim=1)
    return emb


def feature_effect(cfg, ablate, logits, forward):
    """How far the logits move when the config keys in `ablate` are changed (DROP removes a key)."""
    c2 = json.loads(json.dumps(cfg))
    for k2, v2 in ablate.items():
        if v2 is DROP:
            c2.pop(k2, None)
        else:
            c2[k2] = v2
    return {"config_change": {k2: (None if v2 is DROP else v2) for k2, v2 in ablate.items()},
            "max_abs_logits_change": float((forward(c2) - logits).abs().max()),
            "note": "how much the logits move when the covered feature is switched off (must be >> 1e-4)"}


def moe_router_gap(m, id_list):
    """Smallest gap between the k-th and (k+1)-th router logit over all tokens/layers (tie-safety check)."""
    cfg = m.cfg
    k = cfg["num_experts_per_tok"]
    gaps = []
    qwen = cfg["model_type"] == "qwen2_moe"
    name = "qwen2_moe_block" if qwen else "mixtral_moe"
    gate = "mlp.gate.weight" if qwen else "block_sparse_moe.gate.weight"
    orig = getattr(decoders, name)

    def spy(cfg_, lw, x, act):
        logits = torch.nn.functional.linear(x.reshape(-1, x.shape[-1]), lw(gate))
        srt = torch.sort(logits, dim=-1, descending=True).values
        gaps.append(float((srt[:, k - 1] - srt[:, k]).min()))
        return orig(cfg_, lw, x, act)

    setattr(decoders, name, spy)
    try:
        for ids in id_list:
            decoders.forward(m, ids, torch.ones_like(ids))
    finally:
        setattr(decoders, name, orig)
    return {"min_gap_between_kth_and_next_router_logit": min(gaps),
            "note": ("HF Qwen2-MoE: softmax over all experts (float32), top-k, renormalised only with norm_topk_prob"
                     if qwen else "HF Mixtral: softmax over all experts (float32), top-k, renormalise the k weights")}


def write(v):
    cfg, stored, ref, gen_meta, extra_checks, padding, kind = build(v)
    d = os.path.join(OUT, v["name"])
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    files = ["config.json"]
    if kind != "encoder" and kind != "vision-encoder":
        gc = {"_from_model_config": True}
        for k in ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id", "forced_bos_token_id"):
            if cfg.get(k) is not None:
                gc[k] = cfg[k]
        gc["use_cache"] = True
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump(gc, f, indent=2, sort_keys=True)
            f.write("\n")
        files.append("generation_config.json")
    st.save(stored, os.path.join(d, "model.safetensors"), {"format": "pt"})
    e = v["opts"].get("embed")
    if e:
        extra = {"tokenizer.json": e["tokenizer"]}
        extra.update(st_files(ref["last_hidden_state"].shape[-1], e["normalize"]))
        for name, obj in extra.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            with open(os.path.join(d, name), "w") as f:
                json.dump(obj, f, indent=2, ensure_ascii=False)
                f.write("\n")
            files.append(name)
    ref = {k: (t.contiguous().float() if t.is_floating_point() else t.contiguous().long()) for k, t in ref.items()}
    st.save(ref, os.path.join(d, "reference.safetensors"), {"format": "pt"})
    files += ["model.safetensors", "reference.safetensors"]
    order = ["input_ids", "attention_mask", "token_type_ids", "pixel_values", "input_features", "decoder_input_ids",
             "decoder_attention_mask", "logits", "last_hidden_state", "pooler_output", "sentence_embedding",
             "encoder_last_hidden_state", "prompt_ids", "generated_ids"]
    meta = {
        "name": v["name"],
        "architecture": cfg["architectures"][0],
        "config_architectures": cfg["architectures"],
        "kind": kind,
        "generated_by": "tools/reference/make_fixtures.py (independent PyTorch re-implementation verified against "
                        "tests/data/hf; see tools/reference/README.md)",
        "torch": torch.__version__,
        "device": "cpu",
        "dtype": "float32",
        "stored_weight_dtype": str(stored[next(iter(stored))].dtype).replace("torch.", ""),
        "seed": v["seed"],
        "init": INIT,
        "covers": v["covers"],
        "config_style": "5.x" if ("dtype" in cfg or "rope_parameters" in cfg) else "4.x",
        "tensors": {k: tensor_meta(k, ref[k], MEANING[k]) for k in order if k in ref},
        "max_abs": {k: float(ref[k].abs().max()) for k in order if k in ref and ref[k].is_floating_point()},
        "padding": padding,
        "generation": gen_meta,
        "checks": extra_checks,
        "files": files,
        "weights": {k: [list(t.shape), {"torch.float32": "F32", "torch.bfloat16": "BF16",
                                        "torch.float16": "F16"}[str(t.dtype)]] for k, t in sorted(stored.items())},
    }
    if e:
        meta["embedding"] = {k: e[k] for k in ("sentences", "ids", "normalize")}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(d, x)) for x in os.listdir(d))
    g = gen_meta["min_top1_top2_margin"] if gen_meta else None
    print("%-40s %8.0f KB  %s" % (v["name"], size / 1024, "" if g is None else "min margin %.4f" % g))
    if size > 1.5 * 1024 * 1024:
        raise RuntimeError("%s is too large (%d bytes)" % (v["name"], size))


def main():
    sel = sys.argv[1:]
    os.makedirs(OUT, exist_ok=True)
    for v in V:
        if sel and not any(s in v["name"] for s in sel):
            continue
        write(v)


if __name__ == "__main__":
    main()
