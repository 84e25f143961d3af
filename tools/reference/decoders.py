"""Decoder-only families: llama, mistral, qwen2, qwen3, mixtral, gemma, gemma2, phi3, olmo2, opt, gptj, gpt2,
gpt_neox, falcon, bloom.

forward(d_or_model, input_ids, attention_mask) -> logits [B,L,V] (float32).
generate(model, prompt_ids, n) -> prompt + n greedy tokens (full recompute each step).
"""
import math

import torch

import rope
from common import (W, act_fn, causal_mask, combine_masks, eager_attention, first, layer_norm, linear,
                    load_config, load_weights, padding_mask, repeat_kv, rms_norm)

LLAMA_LIKE = ("llama", "mistral", "qwen2", "qwen3", "mixtral", "gemma", "qwen2_moe")


class Model:
    def __init__(self, cfg, weights):
        self.cfg = cfg
        self.w = weights
        self.mt = cfg["model_type"]

    @classmethod
    def load(cls, d):
        return cls(load_config(d), load_weights(d))


def layer_windows(cfg, n_layers):
    """Per-layer sliding window (None = full causal), following each family's config logic."""
    mt = cfg["model_type"]
    sw = cfg.get("sliding_window")
    if mt in ("mistral", "mixtral"):
        return [sw] * n_layers
    if mt in ("qwen2", "qwen3", "qwen2_moe"):
        lt = cfg.get("layer_types")
        if lt is None:
            use = cfg.get("use_sliding_window", False)
            mwl = cfg.get("max_window_layers", 28)
            lt = ["sliding_attention" if (use and sw is not None and i >= mwl) else "full_attention"
                  for i in range(n_layers)]
        return [sw if t == "sliding_attention" else None for t in lt]
    return [None] * n_layers


def _positions(attention_mask, L):
    B = attention_mask.shape[0] if attention_mask is not None else 1
    return torch.arange(L)[None].expand(B, L)


# ----------------------------------------------------------------------------------------------------------------------
# llama-like (llama, mistral, qwen2, qwen3, mixtral, gemma)
# ----------------------------------------------------------------------------------------------------------------------
def llama_forward(m, input_ids, attention_mask=None, rope_seq_lens=None, return_hidden=False):
    """rope_seq_lens: optional [L] per-position 'seq_len' used by dynamic RoPE (emulates HF's KV-cache path:
    a token's q/k are rotated with the inv_freq in force when it was processed). Default: max position + 1."""
    cfg, wd, mt = m.cfg, m.w, m.mt
    w = W(wd)
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    nkv = first(cfg, "num_key_value_heads", default=nh)
    hd = first(cfg, "head_dim", default=H // nh)
    nl = cfg["num_hidden_layers"]
    eps = first(cfg, "rms_norm_eps", default=1e-6)
    gemma = mt == "gemma"
    if gemma:
        act = act_fn(first(cfg, "hidden_act", "hidden_activation", default="gelu_pytorch_tanh"))
    else:
        act = act_fn(first(cfg, "hidden_act", default="silu"))
    B, L = input_ids.shape
    pos = _positions(attention_mask, L)
    spec = rope.rope_spec(cfg, hd)
    if spec["rope_type"] == "dynamic" and rope_seq_lens is not None:
        cos = torch.zeros(B, L, spec["dim"])
        sin = torch.zeros(B, L, spec["dim"])
        for p in range(L):
            inv, sc = rope.inv_freq(spec, int(rope_seq_lens[p]))
            c, s = rope.cos_sin(inv, sc, pos[:, p:p + 1])
            cos[:, p:p + 1], sin[:, p:p + 1] = c, s
    else:
        seq_len = int(pos.max()) + 1
        inv, sc = rope.inv_freq(spec, seq_len if spec["rope_type"] in ("dynamic", "longrope") else None)
        cos, sin = rope.cos_sin(inv, sc, pos)
    windows = layer_windows(cfg, nl)
    pad = padding_mask(attention_mask) if attention_mask is not None and (attention_mask == 0).any() else None
    scaling = hd ** -0.5
    h = w("model.embed_tokens.weight")[input_ids]
    if gemma:
        h = h * torch.tensor(H ** 0.5, dtype=h.dtype)
    for i in range(nl):
        lw = w.sub("model.layers.%d." % i)
        a = lw.sub("self_attn.")
        x = rms_norm(h, lw("input_layernorm.weight"), eps, gemma)
        q = linear(x, a("q_proj.weight"), a("q_proj.bias", None)).view(B, L, -1, hd)
        k = linear(x, a("k_proj.weight"), a("k_proj.bias", None)).view(B, L, -1, hd)
        v = linear(x, a("v_proj.weight"), a("v_proj.bias", None)).view(B, L, -1, hd)
        if a.has("q_norm.weight"):  # qwen3
            q = rms_norm(q, a("q_norm.weight"), eps)
            k = rms_norm(k, a("k_norm.weight"), eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q, k = rope.apply(q, k, cos, sin)
        mask = combine_masks(causal_mask(L, L, windows[i]), pad)
        o = eager_attention(q, repeat_kv(k, nh // nkv), repeat_kv(v, nh // nkv), scaling, mask)
        o = o.transpose(1, 2).reshape(B, L, -1)
        h = h + linear(o, a("o_proj.weight"), a("o_proj.bias", None))
        x = rms_norm(h, lw("post_attention_layernorm.weight"), eps, gemma)
        if mt == "mixtral":
            h = h + mixtral_moe(cfg, lw, x, act)
        elif mt == "qwen2_moe" and qwen2_moe_sparse(cfg, i):
            h = h + qwen2_moe_block(cfg, lw, x, act)
        else:
            mp = lw.sub("mlp.")
            g = linear(x, mp("gate_proj.weight"), mp("gate_proj.bias", None))
            u = linear(x, mp("up_proj.weight"), mp("up_proj.bias", None))
            h = h + linear(act(g) * u, mp("down_proj.weight"), mp("down_proj.bias", None))
    h = rms_norm(h, w("model.norm.weight"), eps, gemma)
    if return_hidden:
        return h
    head = w("lm_head.weight", None)
    if head is None:
        head = w("model.embed_tokens.weight")
    return linear(h, head)


def mixtral_moe(cfg, lw, x, act):
    """softmax over all experts (float32) -> top-k -> renormalise the k weights -> weighted sum of SwiGLU experts."""
    B, L, H = x.shape
    E = cfg["num_local_experts"]
    k = cfg["num_experts_per_tok"]
    flat = x.reshape(-1, H)
    if lw.has("block_sparse_moe.gate.weight"):
        gate = lw("block_sparse_moe.gate.weight")
        experts = [(lw("block_sparse_moe.experts.%d.w1.weight" % e), lw("block_sparse_moe.experts.%d.w3.weight" % e),
                    lw("block_sparse_moe.experts.%d.w2.weight" % e)) for e in range(E)]
    else:  # 5.x fused layout: mlp.gate.weight, mlp.experts.gate_up_proj [E,2I,H], mlp.experts.down_proj [E,H,I]
        gate = lw("mlp.gate.weight")
        gu = lw("mlp.experts.gate_up_proj")
        dn = lw("mlp.experts.down_proj")
        I = gu.shape[1] // 2
        experts = [(gu[e, :I], gu[e, I:], dn[e]) for e in range(E)]
    logits = linear(flat, gate)
    rw = torch.softmax(logits, dim=1, dtype=torch.float)
    rw, sel = torch.topk(rw, k, dim=-1)
    rw = rw / rw.sum(dim=-1, keepdim=True)
    rw = rw.to(flat.dtype)
    out = torch.zeros_like(flat)
    for e in range(E):
        w1, w3, w2 = experts[e]
        idx, slot = torch.where(sel == e)
        if idx.numel() == 0:
            continue
        xe = flat[idx]
        ye = linear(act(linear(xe, w1)) * linear(xe, w3), w2) * rw[idx, slot, None]
        out.index_add_(0, idx, ye)
    return out.reshape(B, L, H)


def qwen2_moe_sparse(cfg, i):
    """Qwen2MoeDecoderLayer: experts when the layer is not in mlp_only_layers, num_experts > 0 and
    (i + 1) % decoder_sparse_step == 0; a dense MLP of intermediate_size otherwise."""
    return (i not in (cfg.get("mlp_only_layers") or []) and cfg.get("num_experts", 60) > 0
            and (i + 1) % cfg.get("decoder_sparse_step", 1) == 0)


def qwen2_moe_block(cfg, lw, x, act):
    """Qwen2MoeSparseMoeBlock: softmax over all experts (float32), top-k, renormalised only when norm_topk_prob,
    experts summed in expert order (index_add_), plus sigmoid(shared_expert_gate x) * shared_expert(x)."""
    B, L, H = x.shape
    E, k = cfg.get("num_experts", 60), cfg.get("num_experts_per_tok", 4)
    flat = x.reshape(-1, H)
    mp = lw.sub("mlp.")

    def mlp(q, t):
        return linear(act(linear(t, mp(q + "gate_proj.weight"))) * linear(t, mp(q + "up_proj.weight")),
                      mp(q + "down_proj.weight"))

    rw = torch.softmax(linear(flat, mp("gate.weight")), dim=1, dtype=torch.float)
    rw, sel = torch.topk(rw, k, dim=-1)
    if cfg.get("norm_topk_prob", False):
        rw = rw / rw.sum(dim=-1, keepdim=True)
    out = torch.zeros_like(flat)
    for e in range(E):
        idx, slot = torch.where(sel == e)
        if idx.numel():
            out.index_add_(0, idx, mlp("experts.%d." % e, flat[idx]) * rw[idx, slot, None])
    if cfg.get("shared_expert_intermediate_size", 0):
        out = out + torch.sigmoid(linear(flat, mp("shared_expert_gate.weight"))) * mlp("shared_expert.", flat)
    return out.reshape(B, L, H)


# ----------------------------------------------------------------------------------------------------------------------
# gpt2
# ----------------------------------------------------------------------------------------------------------------------
def gpt2_forward(m, input_ids, attention_mask=None, **_):
    cfg = m.cfg
    w = W(m.w)
    H = cfg["n_embd"]
    nh = cfg["n_head"]
    hd = H // nh
    nl = cfg["n_layer"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = act_fn(cfg.get("activation_function", "gelu_new"))
    B, L = input_ids.shape
    pos = _positions(attention_mask, L)
    pre = "transformer." if w.has("transformer.wte.weight") else ""
    t = w.sub(pre)
    h = t("wte.weight")[input_ids] + t("wpe.weight")[pos]
    pad = padding_mask(attention_mask) if attention_mask is not None and (attention_mask == 0).any() else None
    for i in range(nl):
        lw = t.sub("h.%d." % i)
        x = layer_norm(h, lw("ln_1.weight"), lw("ln_1.bias"), eps)
        qkv = x @ lw("attn.c_attn.weight") + lw("attn.c_attn.bias")       # Conv1D: weight [in, out]
        q, k, v = qkv.split(H, dim=2)
        q = q.view(B, L, nh, hd).transpose(1, 2)
        k = k.view(B, L, nh, hd).transpose(1, 2)
        v = v.view(B, L, nh, hd).transpose(1, 2)
        s = torch.matmul(q, k.transpose(-1, -2))
        if cfg.get("scale_attn_weights", True):
            s = s / torch.full([], v.size(-1) ** 0.5, dtype=s.dtype)
        if cfg.get("scale_attn_by_inverse_layer_idx", False):
            s = s / float(i + 1)
        s = s + combine_masks(causal_mask(L, L), pad)
        p = torch.softmax(s, dim=-1)
        o = torch.matmul(p, v).transpose(1, 2).reshape(B, L, H)
        h = h + (o @ lw("attn.c_proj.weight") + lw("attn.c_proj.bias"))
        x = layer_norm(h, lw("ln_2.weight"), lw("ln_2.bias"), eps)
        x = act(x @ lw("mlp.c_fc.weight") + lw("mlp.c_fc.bias"))
        h = h + (x @ lw("mlp.c_proj.weight") + lw("mlp.c_proj.bias"))
    h = layer_norm(h, t("ln_f.weight"), t("ln_f.bias"), eps)
    head = w("lm_head.weight", None)
    if head is None:
        head = t("wte.weight")
    return linear(h, head)


# ----------------------------------------------------------------------------------------------------------------------
# gpt_neox
# ----------------------------------------------------------------------------------------------------------------------
def gpt_neox_forward(m, input_ids, attention_mask=None, **_):
    cfg = m.cfg
    w = W(m.w)
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    hd = H // nh
    nl = cfg["num_hidden_layers"]
    eps = cfg.get("layer_norm_eps", 1e-5)
    act = act_fn(cfg.get("hidden_act", "gelu"))
    parallel = cfg.get("use_parallel_residual", True)
    B, L = input_ids.shape
    pos = _positions(attention_mask, L)
    spec = rope.rope_spec(cfg, hd)
    inv, sc = rope.inv_freq(spec, int(pos.max()) + 1 if spec["rope_type"] == "dynamic" else None)
    cos, sin = rope.cos_sin(inv, sc, pos)
    pad = padding_mask(attention_mask) if attention_mask is not None and (attention_mask == 0).any() else None
    mask = combine_masks(causal_mask(L, L), pad)
    g = w.sub("gpt_neox.")
    h = g("embed_in.weight")[input_ids]
    for i in range(nl):
        lw = g.sub("layers.%d." % i)
        x = layer_norm(h, lw("input_layernorm.weight"), lw("input_layernorm.bias"), eps)
        qkv = linear(x, lw("attention.query_key_value.weight"), lw("attention.query_key_value.bias", None))
        qkv = qkv.view(B, L, -1, 3 * hd).transpose(1, 2)           # per-head interleaved [q|k|v]
        q, k, v = qkv.chunk(3, dim=-1)
        q, k = rope.apply(q, k, cos, sin)                             # first rotary_ndims dims only
        o = eager_attention(q, k, v, hd ** -0.5, mask)
        o = o.transpose(1, 2).reshape(B, L, H)
        attn = linear(o, lw("attention.dense.weight"), lw("attention.dense.bias", None))
        if parallel:
            x2 = layer_norm(h, lw("post_attention_layernorm.weight"), lw("post_attention_layernorm.bias"), eps)
            mlp = linear(act(linear(x2, lw("mlp.dense_h_to_4h.weight"), lw("mlp.dense_h_to_4h.bias"))),
                         lw("mlp.dense_4h_to_h.weight"), lw("mlp.dense_4h_to_h.bias"))
            h = mlp + attn + h
        else:
            a = attn + h
            x2 = layer_norm(a, lw("post_attention_layernorm.weight"), lw("post_attention_layernorm.bias"), eps)
            mlp = linear(act(linear(x2, lw("mlp.dense_h_to_4h.weight"), lw("mlp.dense_h_to_4h.bias"))),
                         lw("mlp.dense_4h_to_h.weight"), lw("mlp.dense_4h_to_h.bias"))
            h = mlp + a
    h = layer_norm(h, g("final_layer_norm.weight"), g("final_layer_norm.bias"), eps)
    head = w("embed_out.weight", None)
    if head is None:
        head = g("embed_in.weight")
    return linear(h, head)


# ----------------------------------------------------------------------------------------------------------------------
# gemma2, phi3, olmo2 (modeling_gemma2.py, modeling_phi3.py, modeling_olmo2.py; 5.x, eager attention)
# ----------------------------------------------------------------------------------------------------------------------
def _rope_cos_sin(cfg, hd, attention_mask, L):
    """cos/sin for one forward over positions 0..L-1 (dynamic / longrope pick their frequencies from L)."""
    spec = rope.rope_spec(cfg, hd)
    pos = _positions(attention_mask, L)
    inv, sc = rope.inv_freq(spec, int(pos.max()) + 1 if spec["rope_type"] in ("dynamic", "longrope") else None)
    return rope.cos_sin(inv, sc, pos)


def _attention(q, k, v, nh, nkv, hd, cos, sin, scaling, mask, softcap=None):
    """q [B,L,nh*hd], k/v [B,L,nkv*hd] -> rotated, attended, [B,L,nh*hd] (before o_proj)."""
    B, L = q.shape[:2]
    q = q.view(B, L, nh, hd).transpose(1, 2)
    k = k.view(B, L, nkv, hd).transpose(1, 2)
    v = v.view(B, L, nkv, hd).transpose(1, 2)
    q, k = rope.apply(q, k, cos, sin)
    o = eager_attention(q, repeat_kv(k, nh // nkv), repeat_kv(v, nh // nkv), scaling, mask, softcap=softcap)
    return o.transpose(1, 2).reshape(B, L, -1)


def _llama_dims(cfg):
    """hidden, heads, kv heads, head_dim, layers, rms eps, activation of a Llama-named config (phi3, olmo2)."""
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    return (H, nh, first(cfg, "num_key_value_heads", default=nh), first(cfg, "head_dim", default=H // nh),
            cfg["num_hidden_layers"], first(cfg, "rms_norm_eps", default=1e-5),
            act_fn(first(cfg, "hidden_act", default="silu")))


def _pad(attention_mask):
    return padding_mask(attention_mask) if attention_mask is not None and (attention_mask == 0).any() else None


def _head(w, h):
    head = w("lm_head.weight", None)
    return linear(h, w("model.embed_tokens.weight") if head is None else head)


def gemma2_forward(m, input_ids, attention_mask=None, **_):
    """Gemma 2: sandwich norms ((1 + w) RMSNorm before and after attention and MLP), scores scaled by
    query_pre_attn_scalar^-0.5 and soft-capped, alternating sliding/global layers, soft-capped final logits.
    Gemma2Config defaults: a missing key takes the default, a null one turns the feature off."""
    cfg, w = m.cfg, W(m.w)
    H, nh, nl = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    nkv = first(cfg, "num_key_value_heads", default=nh)
    hd = first(cfg, "head_dim", default=256)
    eps = first(cfg, "rms_norm_eps", default=1e-6)
    act = act_fn(first(cfg, "hidden_activation", "hidden_act", default="gelu_pytorch_tanh"))
    scaling = first(cfg, "query_pre_attn_scalar", default=256) ** -0.5
    attn_cap = cfg.get("attn_logit_softcapping", 50.0)
    final_cap = cfg.get("final_logit_softcapping", 30.0)
    sw = cfg.get("sliding_window", 4096)
    lt = cfg.get("layer_types") or ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(nl)]
    B, L = input_ids.shape
    cos, sin = _rope_cos_sin(cfg, hd, attention_mask, L)
    pad = _pad(attention_mask)
    h = w("model.embed_tokens.weight")[input_ids]
    h = h * torch.tensor(H ** 0.5, dtype=h.dtype)
    for i in range(nl):
        lw = w.sub("model.layers.%d." % i)
        a, mp = lw.sub("self_attn."), lw.sub("mlp.")
        mask = combine_masks(causal_mask(L, L, sw if lt[i] == "sliding_attention" else None), pad)
        x = rms_norm(h, lw("input_layernorm.weight"), eps, True)
        o = _attention(linear(x, a("q_proj.weight"), a("q_proj.bias", None)),
                       linear(x, a("k_proj.weight"), a("k_proj.bias", None)),
                       linear(x, a("v_proj.weight"), a("v_proj.bias", None)), nh, nkv, hd, cos, sin, scaling, mask,
                       softcap=attn_cap)
        o = linear(o, a("o_proj.weight"), a("o_proj.bias", None))
        h = h + rms_norm(o, lw("post_attention_layernorm.weight"), eps, True)
        x = rms_norm(h, lw("pre_feedforward_layernorm.weight"), eps, True)
        y = linear(act(linear(x, mp("gate_proj.weight"))) * linear(x, mp("up_proj.weight")), mp("down_proj.weight"))
        h = h + rms_norm(y, lw("post_feedforward_layernorm.weight"), eps, True)
    h = rms_norm(h, w("model.norm.weight"), eps, True)
    logits = _head(w, h)
    if final_cap is not None:
        logits = torch.tanh(logits / final_cap) * final_cap
    return logits


def phi3_forward(m, input_ids, attention_mask=None, **_):
    """Phi-3: Llama layout with fused qkv_proj ([q | k | v] rows) and gate_up_proj ([gate | up] rows), partial
    rotary, longrope (short factors up to original_max_position_embeddings, long past it), sliding window on every
    layer when set."""
    cfg, w = m.cfg, W(m.w)
    H, nh, nkv, hd, nl, eps, act = _llama_dims(cfg)
    B, L = input_ids.shape
    cos, sin = _rope_cos_sin(cfg, hd, attention_mask, L)
    mask = combine_masks(causal_mask(L, L, cfg.get("sliding_window")), _pad(attention_mask))
    h = w("model.embed_tokens.weight")[input_ids]
    for i in range(nl):
        lw = w.sub("model.layers.%d." % i)
        x = rms_norm(h, lw("input_layernorm.weight"), eps)
        qkv = linear(x, lw("self_attn.qkv_proj.weight"))
        q, k, v = qkv.split([nh * hd, nkv * hd, nkv * hd], dim=-1)
        o = _attention(q, k, v, nh, nkv, hd, cos, sin, hd ** -0.5, mask)
        h = h + linear(o, lw("self_attn.o_proj.weight"))
        x = rms_norm(h, lw("post_attention_layernorm.weight"), eps)
        gate, up = linear(x, lw("mlp.gate_up_proj.weight")).chunk(2, dim=-1)
        h = h + linear(up * act(gate), lw("mlp.down_proj.weight"))
    return _head(w, rms_norm(h, w("model.norm.weight"), eps))


def olmo2_forward(m, input_ids, attention_mask=None, **_):
    """OLMo 2: no pre-norms; RMSNorm after attention and after the MLP, inside the residual; q/k RMSNorm over the
    whole projection width before the heads are split."""
    cfg, w = m.cfg, W(m.w)
    H, nh, nkv, hd, nl, eps, act = _llama_dims(cfg)
    B, L = input_ids.shape
    cos, sin = _rope_cos_sin(cfg, hd, attention_mask, L)
    mask = combine_masks(causal_mask(L, L), _pad(attention_mask))
    h = w("model.embed_tokens.weight")[input_ids]
    for i in range(nl):
        lw = w.sub("model.layers.%d." % i)
        a, mp = lw.sub("self_attn."), lw.sub("mlp.")
        q = rms_norm(linear(h, a("q_proj.weight"), a("q_proj.bias", None)), a("q_norm.weight"), eps)
        k = rms_norm(linear(h, a("k_proj.weight"), a("k_proj.bias", None)), a("k_norm.weight"), eps)
        v = linear(h, a("v_proj.weight"), a("v_proj.bias", None))
        o = linear(_attention(q, k, v, nh, nkv, hd, cos, sin, hd ** -0.5, mask), a("o_proj.weight"),
                   a("o_proj.bias", None))
        h = h + rms_norm(o, lw("post_attention_layernorm.weight"), eps)
        y = linear(act(linear(h, mp("gate_proj.weight"))) * linear(h, mp("up_proj.weight")), mp("down_proj.weight"))
        h = h + rms_norm(y, lw("post_feedforward_layernorm.weight"), eps)
    return _head(w, rms_norm(h, w("model.norm.weight"), eps))


def opt_forward(m, input_ids, attention_mask=None, **_):
    """OPT (modeling_opt.py): positions cumsum(mask) * mask - 1 read at +2; LayerNorm before the sublayers
    (do_layer_norm_before, final LayerNorm unless _remove_final_layer_norm) or after them; q scaled before q.k;
    project_in / project_out when word_embed_proj_dim != hidden_size; head tied to embed_tokens."""
    cfg, w = m.cfg, W(m.w)
    H, nh, nl = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    hd = H // nh
    act = act_fn(cfg.get("activation_function", "relu"))
    pre = cfg.get("do_layer_norm_before", True)
    B, L = input_ids.shape
    am = attention_mask if attention_mask is not None else torch.ones(B, L, dtype=torch.int64)
    pos = (torch.cumsum(am, dim=1) * am - 1).long()
    mask = combine_masks(causal_mask(L, L), _pad(attention_mask))
    p = w.sub("model.decoder." if w.has("model.decoder.embed_tokens.weight") else "decoder.")
    h = p("embed_tokens.weight")[input_ids]
    if p.has("project_in.weight"):
        h = linear(h, p("project_in.weight"))
    h = h + p("embed_positions.weight")[pos + 2]

    def ln(x, name):
        return layer_norm(x, p(name + ".weight"), p(name + ".bias"), 1e-5)

    for i in range(nl):
        q = "layers.%d." % i
        r = h
        x = ln(h, q + "self_attn_layer_norm") if pre else h
        a = lambda n: linear(x, p(q + "self_attn.%s.weight" % n), p(q + "self_attn.%s.bias" % n, None))  # noqa: E731
        qs = (a("q_proj") * hd ** -0.5).view(B, L, nh, hd).transpose(1, 2)
        ks = a("k_proj").view(B, L, nh, hd).transpose(1, 2)
        vs = a("v_proj").view(B, L, nh, hd).transpose(1, 2)
        o = eager_attention(qs, ks, vs, 1.0, mask).transpose(1, 2).reshape(B, L, H)
        h = r + linear(o, p(q + "self_attn.out_proj.weight"), p(q + "self_attn.out_proj.bias", None))
        if not pre:
            h = ln(h, q + "self_attn_layer_norm")
        r = h
        x = ln(h, q + "final_layer_norm") if pre else h
        x = linear(act(linear(x, p(q + "fc1.weight"), p(q + "fc1.bias", None))), p(q + "fc2.weight"),
                   p(q + "fc2.bias", None))
        h = r + x
        if not pre:
            h = ln(h, q + "final_layer_norm")
    if pre and not cfg.get("_remove_final_layer_norm", False):
        h = ln(h, "final_layer_norm")
    if p.has("project_out.weight"):
        h = linear(h, p("project_out.weight"))
    head = w("lm_head.weight", None)
    return linear(h, p("embed_tokens.weight") if head is None else head)


def gptj_forward(m, input_ids, attention_mask=None, **_):
    """GPT-J (modeling_gptj.py): h += attn(ln_1 h) + mlp(ln_1 h); rotary on the first rotary_dim dims of each head
    with interleaved pairs (rotate_every_two, sin/cos repeat_interleave'd), a fixed table from base 10000; scores
    computed in float32, divided by sqrt(head_dim) after the mask; lm_head with a bias."""
    cfg, w = m.cfg, W(m.w)
    H, nh, nl = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    hd = H // nh
    rd = cfg.get("rotary_dim")
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = act_fn(cfg.get("activation_function", "gelu_new"))
    B, L = input_ids.shape
    dim = rd or H
    inv = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.int64) / dim))
    sinusoid = torch.einsum("i , j -> i j", torch.arange(cfg["n_positions"], dtype=torch.int64).float(), inv).float()
    table = torch.cat((torch.sin(sinusoid), torch.cos(sinusoid)), dim=1)
    sincos = table[_positions(attention_mask, L)]
    sin, cos = torch.split(sincos, dim // 2, dim=-1)
    sin = torch.repeat_interleave(sin[:, :, None, :], 2, 3)
    cos = torch.repeat_interleave(cos[:, :, None, :], 2, 3)

    def rotate(t):  # t [B,L,nh,hd]
        r = t[..., :rd] if rd else t
        x1, x2 = r[..., ::2], r[..., 1::2]
        r = r * cos + torch.stack((-x2, x1), dim=-1).flatten(-2) * sin
        return torch.cat([r, t[..., rd:]], dim=-1) if rd else r

    mask = combine_masks(causal_mask(L, L), _pad(attention_mask))
    t = w.sub("transformer.")
    h = t("wte.weight")[input_ids]
    for i in range(nl):
        lw = t.sub("h.%d." % i)
        x = layer_norm(h, lw("ln_1.weight"), lw("ln_1.bias"), eps)
        q = rotate(linear(x, lw("attn.q_proj.weight")).view(B, L, nh, hd)).transpose(1, 2).float()
        k = rotate(linear(x, lw("attn.k_proj.weight")).view(B, L, nh, hd)).transpose(1, 2).float()
        v = linear(x, lw("attn.v_proj.weight")).view(B, L, nh, hd).transpose(1, 2)
        s = torch.matmul(q, k.transpose(-1, -2)) + mask
        s = s / torch.sqrt(torch.tensor(hd, dtype=torch.float32))
        o = torch.matmul(torch.softmax(s, dim=-1), v).transpose(1, 2).reshape(B, L, H)
        attn = linear(o, lw("attn.out_proj.weight"))
        mlp = linear(act(linear(x, lw("mlp.fc_in.weight"), lw("mlp.fc_in.bias"))), lw("mlp.fc_out.weight"),
                     lw("mlp.fc_out.bias"))
        h = attn + mlp + h
    h = layer_norm(h, t("ln_f.weight"), t("ln_f.bias"), eps)
    return linear(h, w("lm_head.weight"), w("lm_head.bias", None))


# ----------------------------------------------------------------------------------------------------------------------
# falcon, bloom (modeling_falcon.py, modeling_bloom.py): fused query_key_value, ALiBi
# ----------------------------------------------------------------------------------------------------------------------
def alibi_slopes(nh):
    """build_alibi_tensor's slopes: float32 base^1..p for p the largest power of two <= nh, then every other power
    of the 2p-head base for the remaining heads."""
    cp = 2 ** math.floor(math.log2(nh))
    base = torch.tensor(2 ** (-(2 ** -(math.log2(cp) - 3))), dtype=torch.float32)
    slopes = torch.pow(base, torch.arange(1, 1 + cp, dtype=torch.int32))
    if cp != nh:
        extra = torch.tensor(2 ** (-(2 ** -(math.log2(2 * cp) - 3))), dtype=torch.float32)
        nr = min(cp, nh - cp)
        slopes = torch.cat([slopes, torch.pow(extra, torch.arange(1, 1 + 2 * nr, 2, dtype=torch.int32))], dim=0)
    return slopes


def alibi_tensor(attention_mask, nh, falcon=False):
    """[B,nh,1,L]: slope * key position, positions (cumsum(mask) - 1) * mask. Falcon multiplies bfloat16 slopes by
    the int64 positions, so the product is rounded to bfloat16 too."""
    B, L = attention_mask.shape
    slopes = alibi_slopes(nh)[..., None]
    pos = ((attention_mask.cumsum(dim=-1) - 1) * attention_mask)[:, None, :]
    a = (slopes.bfloat16() if falcon else slopes) * pos
    return a.to(torch.float32).reshape(B, nh, 1, L)


def bloom_gelu(x):
    return x * 0.5 * (1.0 + torch.tanh(0.79788456 * x * (1 + 0.044715 * x * x)))


def bloom_forward(m, input_ids, attention_mask=None, **_):
    """BLOOM: LayerNorm on the embeddings; pre-LayerNorm layers; query_key_value viewed [B,L,heads,3*hd] and split
    into q, k, v per head; scores = alibi + q.k / sqrt(hd) (baddbmm), masked, softmax in float32; 4H bloom_gelu
    MLP; ln_f; head tied to word_embeddings."""
    cfg, w = m.cfg, W(m.w)
    H = first(cfg, "n_embed", "hidden_size")
    nh, nl = first(cfg, "n_head", "num_attention_heads"), first(cfg, "n_layer", "num_hidden_layers")
    hd = H // nh
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    B, L = input_ids.shape
    am = attention_mask if attention_mask is not None else torch.ones(B, L, dtype=torch.int64)
    t = w.sub("transformer." if w.has("transformer.word_embeddings.weight") else "")

    def ln(x, lw, name):
        return layer_norm(x, lw(name + ".weight"), lw(name + ".bias"), eps)

    h = ln(t("word_embeddings.weight")[input_ids], t, "word_embeddings_layernorm")
    alibi = alibi_tensor(am, nh)
    mask = combine_masks(causal_mask(L, L), _pad(attention_mask))
    for i in range(nl):
        lw = t.sub("h.%d." % i)
        x = ln(h, lw, "input_layernorm")
        fused = linear(x, lw("self_attention.query_key_value.weight"), lw("self_attention.query_key_value.bias"))
        q, k, v = torch.split(fused.reshape(B, L, nh, 3 * hd), hd, dim=-1)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        o = eager_attention(q, k, v, 1.0 / math.sqrt(hd), mask, bias=alibi).transpose(1, 2).reshape(B, L, H)
        h = h + linear(o, lw("self_attention.dense.weight"), lw("self_attention.dense.bias"))
        x = ln(h, lw, "post_attention_layernorm")
        h = h + linear(bloom_gelu(linear(x, lw("mlp.dense_h_to_4h.weight"), lw("mlp.dense_h_to_4h.bias"))),
                       lw("mlp.dense_4h_to_h.weight"), lw("mlp.dense_4h_to_h.bias"))
    h = ln(h, t, "ln_f")
    head = w("lm_head.weight", None)
    return linear(h, t("word_embeddings.weight") if head is None or cfg.get("tie_word_embeddings", True) else head)


def falcon_forward(m, input_ids, attention_mask=None, **_):
    """Falcon with transformers' default (sdpa) attention: softmax(q.k / sqrt(hd) + mask), where with alibi the
    mask is alibi / sqrt(hd) (bfloat16 alibi, see alibi_tensor) filled with finfo.min where masked; otherwise rotary
    (rotate_half). query_key_value: new_decoder_architecture [kv][group + 2][hd] (k, v broadcast to their group),
    multi_query [heads + 2][hd], else [heads][3][hd]. Layers: new arch attn(ln_attn) + mlp(ln_mlp) + h (one
    input_layernorm when num_ln_in_parallel_attn is 1); parallel_attn attn(ln) + mlp(ln) + h; otherwise
    a = h + attn(input_layernorm h), a + mlp(post_attention_layernorm a). (The eager path would add alibi twice:
    once itself, once through that mask; the default sdpa path, followed here, adds it once.)"""
    cfg, w = m.cfg, W(m.w)
    H = cfg["hidden_size"]
    nh, nl = first(cfg, "num_attention_heads", "n_head"), first(cfg, "num_hidden_layers", "n_layer")
    hd = H // nh
    new = cfg.get("new_decoder_architecture", False)
    mq = cfg.get("multi_query", True)
    par = cfg.get("parallel_attn", True)
    use_alibi = cfg.get("alibi", False)
    nkv = first(cfg, "num_kv_heads", default=nh)
    nln = first(cfg, "num_ln_in_parallel_attn", default=2 if new else None)
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = act_fn(cfg.get("activation", "gelu"))
    B, L = input_ids.shape
    am = attention_mask if attention_mask is not None else torch.ones(B, L, dtype=torch.int64)
    mask = combine_masks(causal_mask(L, L), _pad(attention_mask)).expand(B, 1, L, L)
    if use_alibi:
        mn = torch.finfo(torch.float32).min
        mask = torch.masked_fill(alibi_tensor(am, nh, falcon=True) / math.sqrt(hd), mask < -1, mn)
    else:
        cos, sin = _rope_cos_sin(cfg, hd, attention_mask, L)
    t = w.sub("transformer.")
    h = t("word_embeddings.weight")[input_ids]
    for i in range(nl):
        lw = t.sub("h.%d." % i)

        def ln(x, name):
            return layer_norm(x, lw(name + ".weight"), lw(name + ".bias"), eps)

        if new and nln == 2:
            xa, xm = ln(h, "ln_attn"), ln(h, "ln_mlp")
        else:
            xa = ln(h, "input_layernorm")
        fused = linear(xa, lw("self_attention.query_key_value.weight"), lw("self_attention.query_key_value.bias", None))
        if new:
            qkv = fused.view(B, L, -1, nh // nkv + 2, hd)
            q, k, v = qkv[:, :, :, :-2], qkv[:, :, :, [-2]], qkv[:, :, :, [-1]]
            k, v = torch.broadcast_to(k, q.shape), torch.broadcast_to(v, q.shape)
            q, k, v = (z.flatten(2, 3) for z in (q, k, v))
        elif not mq:
            qkv = fused.view(B, L, nh, 3, hd)
            q, k, v = qkv[..., 0, :], qkv[..., 1, :], qkv[..., 2, :]
        else:
            qkv = fused.view(B, L, nh + 2, hd)
            q, k, v = qkv[..., :-2, :], qkv[..., [-2], :], qkv[..., [-1], :]
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        if not use_alibi:
            q, k = rope.apply(q, k, cos, sin)
        k, v = repeat_kv(k, nh // k.shape[1]), repeat_kv(v, nh // v.shape[1])
        o = eager_attention(q, k, v, 1.0 / math.sqrt(hd), mask).transpose(1, 2).reshape(B, L, H)
        ao = linear(o, lw("self_attention.dense.weight"), lw("self_attention.dense.bias", None))
        r = h
        if not new:
            if par:
                xm = xa
            else:
                r = h + ao
                xm = ln(r, "post_attention_layernorm")
        if new and par and nln == 1:
            xm = xa
        mo = linear(act(linear(xm, lw("mlp.dense_h_to_4h.weight"), lw("mlp.dense_h_to_4h.bias", None))),
                    lw("mlp.dense_4h_to_h.weight"), lw("mlp.dense_4h_to_h.bias", None))
        if new or par:
            mo = mo + ao
        h = mo + r
    h = layer_norm(h, t("ln_f.weight"), t("ln_f.bias"), eps)
    head = w("lm_head.weight", None)
    return linear(h, t("word_embeddings.weight") if head is None or cfg.get("tie_word_embeddings", True) else head)


FORWARD = {mt: llama_forward for mt in LLAMA_LIKE}
FORWARD.update(gpt2=gpt2_forward, gpt_neox=gpt_neox_forward, gemma2=gemma2_forward, phi3=phi3_forward,
               olmo2=olmo2_forward, opt=opt_forward,
               gptj=gptj_forward, falcon=falcon_forward, bloom=bloom_forward)


def forward(m, input_ids, attention_mask=None, **kw):
    with torch.no_grad():
        return FORWARD[m.mt](m, input_ids, attention_mask, **kw)


def generate(m, prompt_ids, n, special=(), cached_dynamic=False):
    """Greedy, full recompute each step. Returns (ids [1,P+n], margins list, any_special).
    cached_dynamic: for dynamic RoPE emulate HF's KV-cache generate (per-position inv_freq)."""
    ids = prompt_ids.clone()
    P = prompt_ids.shape[1]
    margins, hit = [], False
    for _ in range(n):
        kw = {}
        if cached_dynamic:
            Lc = ids.shape[1]
            kw["rope_seq_lens"] = [max(P, p + 1) for p in range(Lc)]
        lg = forward(m, ids, torch.ones_like(ids), **kw)[0, -1]
        top = torch.topk(lg, 2)
        tok = int(top.indices[0])
        margins.append(float(top.values[0] - top.values[1]))
        hit = hit or tok in special
        ids = torch.cat([ids, torch.tensor([[tok]])], dim=1)
    return ids, margins, hit
