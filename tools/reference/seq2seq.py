"""Encoder-decoder families: t5, mt5, bart, marian, mbart, pegasus, whisper.

forward(model, inputs) -> {"logits", "encoder_last_hidden_state"}; generate(model, inputs, n) -> greedy ids
starting from decoder_start_token_id (full recompute each step; encoder input = row 0), with forced_bos_token_id
forced as the first new token where the config sets it (HF's ForcedBOSTokenLogitsProcessor).
"""
import math

import numpy as np
import torch

from common import (W, act_fn, causal_mask, combine_masks, eager_attention, first, layer_norm, linear,
                    padding_mask, rms_norm)


class Model:
    def __init__(self, cfg, weights):
        self.cfg = cfg
        self.w = weights
        self.mt = cfg["model_type"]


def _heads(x, nh):
    B, L, H = x.shape
    return x.view(B, L, nh, -1).transpose(1, 2)


def _merge(x):
    B, nh, L, d = x.shape
    return x.transpose(1, 2).reshape(B, L, nh * d)


# ----------------------------------------------------------------------------------------------------------------------
# T5
# ----------------------------------------------------------------------------------------------------------------------
def t5_bucket(rel, bidirectional, num_buckets, max_distance):
    buckets = 0
    if bidirectional:
        num_buckets //= 2
        buckets += (rel > 0).to(torch.long) * num_buckets
        rel = torch.abs(rel)
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    is_small = rel < max_exact
    large = max_exact + (torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(is_small, rel, large)


def t5_position_bias(cfg, table, lq, lk, bidirectional, offset=0):
    ctx = torch.arange(lq, dtype=torch.long)[:, None] + offset
    mem = torch.arange(lk, dtype=torch.long)[None, :]
    b = t5_bucket(mem - ctx, bidirectional, cfg.get("relative_attention_num_buckets", 32),
                  cfg.get("relative_attention_max_distance", 128))
    return table[b].permute([2, 0, 1]).unsqueeze(0)       # [1, nh, lq, lk]


def _t5_attn(aw, x, kv, nh, bias):
    q = _heads(linear(x, aw("q.weight")), nh)
    k = _heads(linear(kv, aw("k.weight")), nh)
    v = _heads(linear(kv, aw("v.weight")), nh)
    return linear(_merge(eager_attention(q, k, v, 1.0, None, bias)), aw("o.weight"))   # no 1/sqrt(d) in T5


def _t5_ff(cfg, fw, x):
    # MT5Config's default is gated-gelu, T5Config's relu
    ffp = cfg.get("feed_forward_proj", "gated-gelu" if cfg["model_type"] == "mt5" else "relu")
    parts = ffp.split("-")
    gated = parts[0] == "gated"
    act_name = "gelu_new" if ffp == "gated-gelu" else parts[-1]
    act = act_fn(act_name)
    if gated:
        hgelu = act(linear(x, fw("wi_0.weight")))
        return linear(hgelu * linear(x, fw("wi_1.weight")), fw("wo.weight"))
    return linear(act(linear(x, fw("wi.weight"))), fw("wo.weight"))


def t5_scale_decoder_outputs(cfg):
    """transformers 5.x T5Config: scale_decoder_outputs = (tie_word_embeddings from config.json is not False),
    unless config.json stores scale_decoder_outputs explicitly (5.x-saved configs). mT5 (5.x): MT5Config forces
    tie_word_embeddings and has no scale_decoder_outputs; MT5ForConditionalGeneration.forward never rescales."""
    if cfg["model_type"] == "mt5":
        return False
    if cfg.get("scale_decoder_outputs") is not None:
        return bool(cfg["scale_decoder_outputs"])
    return cfg.get("tie_word_embeddings", None) is not False


def t5_encode(m, ids, am):
    cfg = m.cfg
    w = W(m.w)
    nh = cfg["num_heads"]
    eps = cfg.get("layer_norm_epsilon", 1e-6)
    emb = w("encoder.embed_tokens.weight", None)
    if emb is None:
        emb = w("shared.weight")
    h = emb[ids]
    B, L = ids.shape
    mask = padding_mask(am)
    bias = None
    for i in range(cfg["num_layers"]):
        bw = w.sub("encoder.block.%d." % i)
        if bias is None:
            bias = t5_position_bias(cfg, w("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"),
                                    L, L, True) + mask
        x = rms_norm(h, bw("layer.0.layer_norm.weight"), eps)
        h = h + _t5_attn(bw.sub("layer.0.SelfAttention."), x, x, nh, bias)
        x = rms_norm(h, bw("layer.1.layer_norm.weight"), eps)
        h = h + _t5_ff(cfg, bw.sub("layer.1.DenseReluDense."), x)
    return rms_norm(h, w("encoder.final_layer_norm.weight"), eps)


def t5_decode(m, dec_ids, enc, am):
    cfg = m.cfg
    w = W(m.w)
    nh = cfg["num_heads"]
    eps = cfg.get("layer_norm_epsilon", 1e-6)
    emb = w("decoder.embed_tokens.weight", None)
    if emb is None:
        emb = w("shared.weight")
    h = emb[dec_ids]
    B, L = dec_ids.shape
    Lk = enc.shape[1]
    self_bias = t5_position_bias(cfg, w("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"),
                                 L, L, False) + causal_mask(L, L)
    cross_bias = torch.zeros(1, nh, L, Lk) + padding_mask(am)
    ndl = first(cfg, "num_decoder_layers", default=cfg["num_layers"])
    for i in range(ndl):
        bw = w.sub("decoder.block.%d." % i)
        x = rms_norm(h, bw("layer.0.layer_norm.weight"), eps)
        h = h + _t5_attn(bw.sub("layer.0.SelfAttention."), x, x, nh, self_bias)
        x = rms_norm(h, bw("layer.1.layer_norm.weight"), eps)
        h = h + _t5_attn(bw.sub("layer.1.EncDecAttention."), x, enc, nh, cross_bias)
        x = rms_norm(h, bw("layer.2.layer_norm.weight"), eps)
        h = h + _t5_ff(cfg, bw.sub("layer.2.DenseReluDense."), x)
    h = rms_norm(h, w("decoder.final_layer_norm.weight"), eps)
    if t5_scale_decoder_outputs(cfg):
        h = h * (cfg["d_model"] ** -0.5)
    head = w("lm_head.weight", None)
    if head is None:
        head = w("shared.weight")
    return linear(h, head)


# ----------------------------------------------------------------------------------------------------------------------
# BART / Marian (post-LN), mBART / Pegasus (pre-LN, final layer_norm per stack) and Whisper (pre-LN)
# ----------------------------------------------------------------------------------------------------------------------
def marian_sinusoidal(n_pos, dim):
    """MarianSinusoidalPositionalEmbedding: [sin(even cols) | cos(odd cols)] halves, float64 numpy -> float32."""
    pe = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)])
    out = torch.empty(n_pos, dim)
    sentinel = dim // 2 if dim % 2 == 0 else (dim // 2) + 1
    out[:, 0:sentinel] = torch.FloatTensor(np.sin(pe[:, 0::2]))
    out[:, sentinel:] = torch.FloatTensor(np.cos(pe[:, 1::2]))
    return out


def whisper_sinusoids(length, channels, max_timescale=10000):
    """Whisper encoder position table (stored in checkpoints; used here only to create fixtures)."""
    inc = math.log(max_timescale) / (channels // 2 - 1)
    inv = torch.exp(-inc * torch.arange(channels // 2))
    t = torch.arange(length).view(-1, 1) * inv.view(1, -1)
    return torch.cat([t.sin(), t.cos()], dim=1)


def _mha(aw, x, kv, nh, mask):
    hd = x.shape[-1] // nh
    q = _heads(linear(x, aw("q_proj.weight"), aw("q_proj.bias", None)), nh)
    k = _heads(linear(kv, aw("k_proj.weight"), aw("k_proj.bias", None)), nh)
    v = _heads(linear(kv, aw("v_proj.weight"), aw("v_proj.bias", None)), nh)
    return linear(_merge(eager_attention(q, k, v, hd ** -0.5, mask)), aw("out_proj.weight"), aw("out_proj.bias", None))


def _ln(lw, name, x, eps=1e-5):
    return layer_norm(x, lw(name + ".weight"), lw(name + ".bias"), eps)


def _enc_layer(lw, h, nh, mask, act, pre_ln):
    if pre_ln:
        h = h + _mha(lw.sub("self_attn."), _ln(lw, "self_attn_layer_norm", h), _ln(lw, "self_attn_layer_norm", h),
                     nh, mask)
        x = _ln(lw, "final_layer_norm", h)
        return h + linear(act(linear(x, lw("fc1.weight"), lw("fc1.bias"))), lw("fc2.weight"), lw("fc2.bias"))
    h = _ln(lw, "self_attn_layer_norm", h + _mha(lw.sub("self_attn."), h, h, nh, mask))
    x = linear(act(linear(h, lw("fc1.weight"), lw("fc1.bias"))), lw("fc2.weight"), lw("fc2.bias"))
    return _ln(lw, "final_layer_norm", h + x)


def _dec_layer(lw, h, enc, nh, self_mask, cross_mask, act, pre_ln):
    if pre_ln:
        x = _ln(lw, "self_attn_layer_norm", h)
        h = h + _mha(lw.sub("self_attn."), x, x, nh, self_mask)
        x = _ln(lw, "encoder_attn_layer_norm", h)
        h = h + _mha(lw.sub("encoder_attn."), x, enc, nh, cross_mask)
        x = _ln(lw, "final_layer_norm", h)
        return h + linear(act(linear(x, lw("fc1.weight"), lw("fc1.bias"))), lw("fc2.weight"), lw("fc2.bias"))
    h = _ln(lw, "self_attn_layer_norm", h + _mha(lw.sub("self_attn."), h, h, nh, self_mask))
    h = _ln(lw, "encoder_attn_layer_norm", h + _mha(lw.sub("encoder_attn."), h, enc, nh, cross_mask))
    x = linear(act(linear(h, lw("fc1.weight"), lw("fc1.bias"))), lw("fc2.weight"), lw("fc2.bias"))
    return _ln(lw, "final_layer_norm", h + x)


def _embed_scale(cfg):
    return math.sqrt(cfg["d_model"]) if cfg.get("scale_embedding", False) else 1.0


def _tok_emb(w, side):
    e = w("model.%s.embed_tokens.weight" % side, None)
    return e if e is not None else w("model.shared.weight")


def _bart_embed(m, w, side, ids):
    """Token embeddings * embed_scale + positions (+ layernorm_embedding) of one stack."""
    cfg, mt = m.cfg, m.mt
    L = ids.shape[1]
    h = _tok_emb(w, side)[ids] * _embed_scale(cfg)
    if mt in ("marian", "pegasus"):
        # Marian/PegasusSinusoidalPositionalEmbedding (Pegasus's is "Copied from" Marian's): no offset
        h = h + marian_sinusoidal(cfg["max_position_embeddings"], cfg["d_model"])[:L]
    else:
        # BartLearnedPositionalEmbedding / MBartLearnedPositionalEmbedding: row position + 2
        h = h + w("model.%s.embed_positions.weight" % side)[torch.arange(L) + 2]
        h = _ln(w, "model.%s.layernorm_embedding" % side, h)
    return h


def _pre_ln(mt):
    return mt in ("mbart", "pegasus")


def bart_encode(m, ids, am):
    cfg, mt = m.cfg, m.mt
    w = W(m.w)
    h = _bart_embed(m, w, "encoder", ids)
    act = act_fn(cfg.get("activation_function", "gelu"))
    mask = padding_mask(am)
    for i in range(cfg["encoder_layers"]):
        h = _enc_layer(w.sub("model.encoder.layers.%d." % i), h, cfg["encoder_attention_heads"], mask, act, _pre_ln(mt))
    if _pre_ln(mt):
        h = _ln(w, "model.encoder.layer_norm", h)
    return h


def bart_decode(m, dec_ids, enc, am):
    cfg, mt = m.cfg, m.mt
    w = W(m.w)
    B, L = dec_ids.shape
    h = _bart_embed(m, w, "decoder", dec_ids)
    act = act_fn(cfg.get("activation_function", "gelu"))
    sm = causal_mask(L, L)
    cm = padding_mask(am)
    for i in range(cfg["decoder_layers"]):
        h = _dec_layer(w.sub("model.decoder.layers.%d." % i), h, enc, cfg["decoder_attention_heads"], sm, cm, act,
                       _pre_ln(mt))
    if _pre_ln(mt):
        h = _ln(w, "model.decoder.layer_norm", h)
    head = w("lm_head.weight", None)
    if head is None:
        head = _tok_emb(w, "decoder")
    lg = linear(h, head)
    fb = w("final_logits_bias", None)
    if fb is not None:
        lg = lg + fb
    return lg


def whisper_encode(m, feats):
    cfg = m.cfg
    w = W(m.w).sub("model.encoder.")
    x = torch.nn.functional.gelu(torch.nn.functional.conv1d(feats, w("conv1.weight"), w("conv1.bias"), padding=1))
    x = torch.nn.functional.gelu(torch.nn.functional.conv1d(x, w("conv2.weight"), w("conv2.bias"), stride=2,
                                                            padding=1))
    h = x.permute(0, 2, 1)
    h = h + w("embed_positions.weight")[: h.shape[1]]
    act = act_fn(cfg.get("activation_function", "gelu"))
    for i in range(cfg["encoder_layers"]):
        h = _enc_layer(w.sub("layers.%d." % i), h, cfg["encoder_attention_heads"], None, act, True)
    return _ln(w, "layer_norm", h)


def whisper_decode(m, dec_ids, enc, am=None):
    cfg = m.cfg
    ww = W(m.w)
    w = ww.sub("model.decoder.")
    B, L = dec_ids.shape
    if cfg.get("scale_embedding", False):
        raise NotImplementedError("whisper scale_embedding=true is not covered by the verified reference")
    h = w("embed_tokens.weight")[dec_ids] + w("embed_positions.weight")[:L]
    act = act_fn(cfg.get("activation_function", "gelu"))
    sm = causal_mask(L, L)
    for i in range(cfg["decoder_layers"]):
        h = _dec_layer(w.sub("layers.%d." % i), h, enc, cfg["decoder_attention_heads"], sm, None, act, True)
    h = _ln(w, "layer_norm", h)
    head = ww("proj_out.weight", None)
    if head is None:
        head = w("embed_tokens.weight")
    return linear(h, head)


# ----------------------------------------------------------------------------------------------------------------------
FORWARD = {"t5": (t5_encode, t5_decode), "mt5": (t5_encode, t5_decode), "bart": (bart_encode, bart_decode),
           "marian": (bart_encode, bart_decode), "mbart": (bart_encode, bart_decode),
           "pegasus": (bart_encode, bart_decode), "whisper": (None, whisper_decode)}


def encode(m, inputs, row=None):
    sl = slice(None) if row is None else slice(row, row + 1)
    if m.mt == "whisper":
        return whisper_encode(m, inputs["input_features"][sl]), None
    ids = inputs["input_ids"][sl]
    am = inputs.get("attention_mask")
    am = torch.ones_like(ids) if am is None else am[sl]
    return FORWARD[m.mt][0](m, ids, am), am


def forward(m, inputs):
    with torch.no_grad():
        enc, am = encode(m, inputs)
        lg = FORWARD[m.mt][1](m, inputs["decoder_input_ids"], enc, am)
    return {"logits": lg, "encoder_last_hidden_state": enc}


def decoder_start(cfg):
    """decoder_start_token_id; when unset, HF generate()'s _get_decoder_start_token_id falls back to bos_token_id
    (mBART, Pegasus: their configs have no decoder start default); the older families here use pad_token_id."""
    s = cfg.get("decoder_start_token_id")
    if s is None:
        s = cfg.get("bos_token_id" if cfg["model_type"] in ("mbart", "pegasus") else "pad_token_id")
    return s


def generate(m, inputs, n, special=(), start=None):
    """Greedy from decoder_start_token_id with row 0 of the encoder input. Returns (ids, margins, hit_special).
    forced_bos_token_id (config), when set, is the first new token whatever the logits say (HF forces it while the
    decoder input has length 1); that step has no margin."""
    forced = m.cfg.get("forced_bos_token_id")
    with torch.no_grad():
        enc, am = encode(m, inputs, row=0)
        ids = torch.tensor([[decoder_start(m.cfg) if start is None else start]])
        margins, hit = [], False
        for _ in range(n):
            lg = FORWARD[m.mt][1](m, ids, enc, am)[0, -1]
            if forced is not None and ids.shape[1] == 1:
                tok = int(forced)
            else:
                top = torch.topk(lg, 2)
                tok = int(top.indices[0])
                margins.append(float(top.values[0] - top.values[1]))
                hit = hit or tok in special
            ids = torch.cat([ids, torch.tensor([[tok]])], dim=1)
    return ids, margins, hit
