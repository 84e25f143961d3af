"""Encoder-only families: bert, roberta, xlm-roberta, distilbert, modernbert, vit, dinov2_with_registers."""
import torch

from common import W, act_fn, eager_attention, layer_norm, linear, padding_mask


def _bert_layer(lw, h, mask, nh, eps, act):
    B, L, H = h.shape
    hd = H // nh
    a = lw.sub("attention.")
    q = linear(h, a("self.query.weight"), a("self.query.bias")).view(B, L, nh, hd).transpose(1, 2)
    k = linear(h, a("self.key.weight"), a("self.key.bias")).view(B, L, nh, hd).transpose(1, 2)
    v = linear(h, a("self.value.weight"), a("self.value.bias")).view(B, L, nh, hd).transpose(1, 2)
    o = eager_attention(q, k, v, hd ** -0.5, mask).transpose(1, 2).reshape(B, L, H)
    h = layer_norm(linear(o, a("output.dense.weight"), a("output.dense.bias")) + h,
                   a("output.LayerNorm.weight"), a("output.LayerNorm.bias"), eps)
    x = act(linear(h, lw("intermediate.dense.weight"), lw("intermediate.dense.bias")))
    return layer_norm(linear(x, lw("output.dense.weight"), lw("output.dense.bias")) + h,
                      lw("output.LayerNorm.weight"), lw("output.LayerNorm.bias"), eps)


def bert_forward(cfg, wd, inputs):
    """BertModel / RobertaModel: returns last_hidden_state and pooler_output (tanh(dense(h[:,0])))."""
    mt = cfg["model_type"]
    w = W(wd)
    pre = ""
    for p in ("bert.", "roberta.", ""):
        if w.has(p + "embeddings.word_embeddings.weight"):
            pre = p
            break
    w = w.sub(pre)
    ids = inputs["input_ids"]
    B, L = ids.shape
    am = inputs.get("attention_mask")
    if am is None:
        am = torch.ones_like(ids)
    tt = inputs.get("token_type_ids")
    if tt is None:
        tt = torch.zeros_like(ids)
    pt = cfg.get("position_embedding_type", "absolute")
    if pt not in (None, "absolute"):
        raise ValueError("position_embedding_type %r not supported" % pt)
    if mt in ("roberta", "xlm-roberta", "camembert"):
        pad = cfg.get("pad_token_id", 1)
        m = ids.ne(pad).int()
        pos = (torch.cumsum(m, dim=1).type_as(m) * m).long() + pad    # create_position_ids_from_input_ids
    else:
        pos = torch.arange(L)[None].expand(B, L)
    e = w.sub("embeddings.")
    h = e("word_embeddings.weight")[ids] + e("token_type_embeddings.weight")[tt] + e("position_embeddings.weight")[pos]
    eps = cfg.get("layer_norm_eps", 1e-12)
    h = layer_norm(h, e("LayerNorm.weight"), e("LayerNorm.bias"), eps)
    mask = padding_mask(am)
    act = act_fn(cfg.get("hidden_act", "gelu"))
    for i in range(cfg["num_hidden_layers"]):
        h = _bert_layer(w.sub("encoder.layer.%d." % i), h, mask, cfg["num_attention_heads"], eps, act)
    out = {"last_hidden_state": h}
    if w.has("pooler.dense.weight"):
        out["pooler_output"] = torch.tanh(linear(h[:, 0], w("pooler.dense.weight"), w("pooler.dense.bias")))
    return out


def _vit_attention(a, x, nh):
    """ViTAttention / Dinov2WithRegistersAttention: bidirectional MHA (query/key/value, optional biases) + output.dense."""
    B, L, H = x.shape
    hd = H // nh
    q = linear(x, a("attention.query.weight"), a("attention.query.bias", None)).view(B, L, nh, hd).transpose(1, 2)
    k = linear(x, a("attention.key.weight"), a("attention.key.bias", None)).view(B, L, nh, hd).transpose(1, 2)
    v = linear(x, a("attention.value.weight"), a("attention.value.bias", None)).view(B, L, nh, hd).transpose(1, 2)
    o = eager_attention(q, k, v, hd ** -0.5).transpose(1, 2).reshape(B, L, H)
    return linear(o, a("output.dense.weight"), a("output.dense.bias"))


def vit_forward(cfg, wd, inputs):
    w = W(wd)
    px = inputs["pixel_values"]
    B = px.shape[0]
    nh = cfg["num_attention_heads"]
    p = cfg["patch_size"]
    eps = cfg.get("layer_norm_eps", 1e-12)
    act = act_fn(cfg.get("hidden_act", "gelu"))
    v = w.sub("vit.") if w.has("vit.embeddings.cls_token") else w
    e = v.sub("embeddings.")
    x = torch.nn.functional.conv2d(px, e("patch_embeddings.projection.weight"), e("patch_embeddings.projection.bias"),
                                   stride=p)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([e("cls_token").expand(B, -1, -1), x], dim=1)
    h = x + e("position_embeddings")
    for i in range(cfg["num_hidden_layers"]):
        lw = v.sub("encoder.layer.%d." % i)
        a = lw.sub("attention.")
        x = layer_norm(h, lw("layernorm_before.weight"), lw("layernorm_before.bias"), eps)
        h = _vit_attention(a, x, nh) + h
        x = layer_norm(h, lw("layernorm_after.weight"), lw("layernorm_after.bias"), eps)
        x = act(linear(x, lw("intermediate.dense.weight"), lw("intermediate.dense.bias")))
        h = linear(x, lw("output.dense.weight"), lw("output.dense.bias")) + h
    h = layer_norm(h, v("layernorm.weight"), v("layernorm.bias"), eps)
    out = {"last_hidden_state": h}
    if w.has("classifier.weight"):
        out["logits"] = linear(h[:, 0, :], w("classifier.weight"), w("classifier.bias"))
    if v.has("pooler.dense.weight"):
        out["pooler_output"] = torch.tanh(linear(h[:, 0], v("pooler.dense.weight"), v("pooler.dense.bias")))
    return out


def distilbert_forward(cfg, wd, inputs):
    """DistilBertModel (modeling_distilbert.py): word + position embeddings, LayerNorm (eps 1e-12 everywhere),
    post-norm blocks (sa_layer_norm, output_layer_norm), scores of padded keys filled with finfo.min; no pooler."""
    w = W(wd)
    if w.has("distilbert.embeddings.word_embeddings.weight"):
        w = w.sub("distilbert.")
    ids = inputs["input_ids"]
    B, L = ids.shape
    am = inputs.get("attention_mask")
    if am is None:
        am = torch.ones_like(ids)
    e = w.sub("embeddings.")
    h = e("word_embeddings.weight")[ids] + e("position_embeddings.weight")[torch.arange(L)][None]
    eps = 1e-12
    h = layer_norm(h, e("LayerNorm.weight"), e("LayerNorm.bias"), eps)
    H, nh = cfg["dim"], cfg["n_heads"]
    hd = H // nh
    act = act_fn(cfg.get("activation", "gelu"))
    for i in range(cfg["n_layers"]):
        lw = w.sub("transformer.layer.%d." % i)
        a = lw.sub("attention.")
        q = linear(h, a("q_lin.weight"), a("q_lin.bias")).view(B, L, nh, hd).transpose(1, 2) / hd ** 0.5
        k = linear(h, a("k_lin.weight"), a("k_lin.bias")).view(B, L, nh, hd).transpose(1, 2)
        v = linear(h, a("v_lin.weight"), a("v_lin.bias")).view(B, L, nh, hd).transpose(1, 2)
        s = torch.matmul(q, k.transpose(2, 3))
        s = s.masked_fill((am == 0).view(B, 1, 1, L).expand_as(s), torch.finfo(s.dtype).min)
        o = torch.matmul(torch.softmax(s, dim=-1), v).transpose(1, 2).reshape(B, L, H)
        h = layer_norm(linear(o, a("out_lin.weight"), a("out_lin.bias")) + h,
                       lw("sa_layer_norm.weight"), lw("sa_layer_norm.bias"), eps)
        x = linear(act(linear(h, lw("ffn.lin1.weight"), lw("ffn.lin1.bias"))), lw("ffn.lin2.weight"), lw("ffn.lin2.bias"))
        h = layer_norm(x + h, lw("output_layer_norm.weight"), lw("output_layer_norm.bias"), eps)
    return {"last_hidden_state": h}


def modernbert_layer_types(cfg):
    """(attention window per layer: None = global, else local_attention // 2 each side; RoPE theta per layer).
    As modeling_modernbert.py: the window follows layer_id % global_attn_every_n_layers (default 3) and the RoPE
    theta follows layer_types (default from the same rule); 4.x configs give global_rope_theta / local_rope_theta,
    5.x ones rope_parameters[full_attention | sliding_attention].rope_theta."""
    n = cfg["num_hidden_layers"]
    every = cfg.get("global_attn_every_n_layers", 3)
    types = cfg.get("layer_types") or ["sliding_attention" if i % every else "full_attention" for i in range(n)]
    rp = cfg.get("rope_parameters") or {}
    theta = {"full_attention": (rp.get("full_attention") or {}).get("rope_theta", cfg.get("global_rope_theta", 160000.0)),
             "sliding_attention": (rp.get("sliding_attention") or {}).get("rope_theta",
                                                                          cfg.get("local_rope_theta", 10000.0))}
    for t in ("full_attention", "sliding_attention"):
        if (rp.get(t) or {}).get("rope_type", "default") != "default":
            raise ValueError("rope_type %r" % rp[t]["rope_type"])
    windows = [None if i % every == 0 else cfg.get("local_attention", 128) // 2 for i in range(n)]
    return windows, [theta[types[i]] for i in range(n)]


def _rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def modernbert_forward(cfg, wd, inputs):
    """ModernBertModel (sdpa/eager path): tok_embeddings -> LayerNorm (no bias unless norm_bias), layers
    x += Wo(attn(attn_norm(x))) (layer 0 has no attn_norm), x += Wo(act(in) * gate) with [in | gate] = Wi(mlp_norm(x)),
    final_norm. Local layers see keys with |i - j| <= local_attention // 2."""
    w = W(wd)
    if w.has("model.embeddings.tok_embeddings.weight"):
        w = w.sub("model.")
    ids = inputs["input_ids"]
    B, L = ids.shape
    am = inputs.get("attention_mask")
    if am is None:
        am = torch.ones_like(ids)
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = H // nh
    eps = cfg.get("norm_eps", 1e-5)
    act = act_fn(cfg.get("hidden_activation", "gelu"))

    def ln(x, name):
        return layer_norm(x, w(name + ".weight"), w(name + ".bias", None), eps)

    h = ln(w("embeddings.tok_embeddings.weight")[ids], "embeddings.norm")
    pad = padding_mask(am)
    pos = torch.arange(L)
    dist = (pos[:, None] - pos[None, :]).abs()
    windows, thetas = modernbert_layer_types(cfg)
    for i in range(cfg["num_hidden_layers"]):
        p = "layers.%d." % i
        x = ln(h, p + "attn_norm") if i > 0 else h
        qkv = linear(x, w(p + "attn.Wqkv.weight"), w(p + "attn.Wqkv.bias", None)).view(B, L, 3, nh, hd)
        q, k, v = qkv.transpose(3, 1).unbind(dim=2)
        inv = 1.0 / (thetas[i] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
        f = pos[:, None].float() * inv[None, :]
        emb = torch.cat((f, f), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        mask = pad
        if windows[i] is not None:
            mask = pad.masked_fill((dist > windows[i])[None, None], torch.finfo(torch.float32).min)
        o = eager_attention(q, k, v, hd ** -0.5, mask).transpose(1, 2).reshape(B, L, H)
        h = h + linear(o, w(p + "attn.Wo.weight"), w(p + "attn.Wo.bias", None))
        y = linear(ln(h, p + "mlp_norm"), w(p + "mlp.Wi.weight"), w(p + "mlp.Wi.bias", None))
        a, g = y.chunk(2, dim=-1)
        h = h + linear(act(a) * g, w(p + "mlp.Wo.weight"), w(p + "mlp.Wo.bias", None))
    return {"last_hidden_state": ln(h, "final_norm")}


def dinov2_registers_forward(cfg, wd, inputs):
    """Dinov2WithRegistersModel / ...ForImageClassification: conv patches, CLS, learned positions (interpolated with
    bicubic, align_corners False, antialias True to the input's patch grid unless it has the stored number of
    patches and is square), register tokens inserted after CLS (after the positions), pre-norm layers whose
    sublayer outputs are scaled by layer_scale lambda1, MLP or SwiGLU (weights_in / weights_out), final layernorm;
    pooler_output = the normed CLS row; logits = classifier([CLS, mean of the patch rows (registers excluded)])."""
    w = W(wd)
    v = w.sub("dinov2_with_registers.") if w.has("dinov2_with_registers.embeddings.cls_token") else w
    px = inputs["pixel_values"]
    B, _, Hh, Ww = px.shape
    H, nh, p = cfg["hidden_size"], cfg["num_attention_heads"], cfg["patch_size"]
    eps = cfg.get("layer_norm_eps", 1e-6)
    act = act_fn(cfg.get("hidden_act", "gelu"))
    e = v.sub("embeddings.")
    x = torch.nn.functional.conv2d(px, e("patch_embeddings.projection.weight"), e("patch_embeddings.projection.bias"),
                                   stride=p).flatten(2).transpose(1, 2)
    x = torch.cat([e("cls_token").expand(B, -1, -1), x], dim=1)
    pos = e("position_embeddings")
    n, npos = x.shape[1] - 1, pos.shape[1] - 1
    if not (n == npos and Hh == Ww):
        g = int(npos ** 0.5)
        grid = pos[:, 1:].reshape(1, g, g, H).permute(0, 3, 1, 2)
        grid = torch.nn.functional.interpolate(grid, size=(Hh // p, Ww // p), mode="bicubic", align_corners=False,
                                               antialias=True)
        pos = torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, -1, H)], dim=1)
    x = x + pos
    R = cfg.get("num_register_tokens", 4)
    h = torch.cat([x[:, :1], e("register_tokens").expand(B, -1, -1), x[:, 1:]], dim=1)
    for i in range(cfg["num_hidden_layers"]):
        lw = v.sub("encoder.layer.%d." % i)
        a = lw.sub("attention.")
        y = layer_norm(h, lw("norm1.weight"), lw("norm1.bias"), eps)
        h = _vit_attention(a, y, nh) * lw("layer_scale1.lambda1") + h
        y = layer_norm(h, lw("norm2.weight"), lw("norm2.bias"), eps)
        if cfg.get("use_swiglu_ffn", False):
            x1, x2 = linear(y, lw("mlp.weights_in.weight"), lw("mlp.weights_in.bias")).chunk(2, dim=-1)
            y = linear(torch.nn.functional.silu(x1) * x2, lw("mlp.weights_out.weight"), lw("mlp.weights_out.bias"))
        else:
            y = linear(act(linear(y, lw("mlp.fc1.weight"), lw("mlp.fc1.bias"))), lw("mlp.fc2.weight"), lw("mlp.fc2.bias"))
        h = y * lw("layer_scale2.lambda1") + h
    h = layer_norm(h, v("layernorm.weight"), v("layernorm.bias"), eps)
    out = {"last_hidden_state": h, "pooler_output": h[:, 0]}
    if w.has("classifier.weight"):
        out["logits"] = linear(torch.cat([h[:, 0], h[:, 1 + R:].mean(dim=1)], dim=1), w("classifier.weight"),
                               w("classifier.bias"))
    return out


FORWARD = {"bert": bert_forward, "roberta": bert_forward, "xlm-roberta": bert_forward, "vit": vit_forward,
           "distilbert": distilbert_forward, "modernbert": modernbert_forward,
           "dinov2_with_registers": dinov2_registers_forward}


def forward(cfg, w, inputs):
    with torch.no_grad():
        return FORWARD[cfg["model_type"]](cfg, w, inputs)
