"""Encoder-only families: bert, roberta, vit."""
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


def vit_forward(cfg, wd, inputs):
    w = W(wd)
    px = inputs["pixel_values"]
    B = px.shape[0]
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    hd = H // nh
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
    L = h.shape[1]
    for i in range(cfg["num_hidden_layers"]):
        lw = v.sub("encoder.layer.%d." % i)
        a = lw.sub("attention.")
        x = layer_norm(h, lw("layernorm_before.weight"), lw("layernorm_before.bias"), eps)
        q = linear(x, a("attention.query.weight"), a("attention.query.bias", None)).view(B, L, nh, hd).transpose(1, 2)
        k = linear(x, a("attention.key.weight"), a("attention.key.bias", None)).view(B, L, nh, hd).transpose(1, 2)
        vv = linear(x, a("attention.value.weight"), a("attention.value.bias", None)).view(B, L, nh, hd).transpose(1, 2)
        o = eager_attention(q, k, vv, hd ** -0.5).transpose(1, 2).reshape(B, L, H)
        h = linear(o, a("output.dense.weight"), a("output.dense.bias")) + h
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


FORWARD = {"bert": bert_forward, "roberta": bert_forward, "vit": vit_forward}


def forward(cfg, w, inputs):
    with torch.no_grad():
        return FORWARD[cfg["model_type"]](cfg, w, inputs)
