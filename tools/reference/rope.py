"""Rotary position embeddings as in transformers.modeling_rope_utils (5.x), reading both config styles.

4.x config: rope_theta (+ rope_scaling {type|rope_type, factor, ...}), partial_rotary_factor, gpt_neox rotary_pct /
rotary_emb_base. 5.x config: rope_parameters {rope_type, rope_theta, partial_rotary_factor, factor, ...}.
"""
import math

import torch

DEFAULT_PARTIAL = {"gpt_neox": 0.25}
DEFAULT_THETA = {}


def rope_spec(cfg, head_dim):
    """Normalised rope parameters: dict(rope_type, theta, dim, params, max_pos)."""
    mt = cfg.get("model_type")
    rp = cfg.get("rope_parameters")
    if not rp:
        rp = cfg.get("rope_scaling")
    rp = dict(rp or {})
    layer_types = cfg.get("layer_types")
    if layer_types and rp and set(rp.keys()).issubset(set(layer_types)):
        rp = dict(rp.get("full_attention", next(iter(rp.values()))))
    theta = rp.get("rope_theta")
    if theta is None:
        theta = cfg.get("rope_theta")
    if theta is None:
        theta = cfg.get("rotary_emb_base")
    if theta is None:
        theta = DEFAULT_THETA.get(mt, 10000.0)
    rtype = rp.get("rope_type", rp.get("type", "default")) or "default"
    # partial_rotary_factor: a top-level config attribute wins (standardize_rope_params copies it in)
    prf = cfg.get("partial_rotary_factor")
    if prf is None and mt == "gpt_neox":
        prf = cfg.get("rotary_pct")
    if prf is None:
        prf = rp.get("partial_rotary_factor")
    if prf is None:
        prf = DEFAULT_PARTIAL.get(mt, 1.0)
    dim = int(head_dim * prf)
    params = dict(rp)
    max_pos = cfg.get("max_position_embeddings")
    if rtype in ("llama3", "yarn", "longrope"):
        if cfg.get("original_max_position_embeddings") is not None:
            params["original_max_position_embeddings"] = cfg["original_max_position_embeddings"]
        params.setdefault("original_max_position_embeddings", max_pos)
    return dict(rope_type=rtype, theta=float(theta), dim=dim, params=params, max_pos=max_pos,
                yarn_head_dim=head_dim)


def _base_inv_freq(base, dim):
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype=torch.float) / dim))


def inv_freq(spec, seq_len=None):
    """Returns (inv_freq float32 [dim/2], attention_scaling). seq_len only matters for dynamic / longrope."""
    t = spec["rope_type"]
    base, dim, p = spec["theta"], spec["dim"], spec["params"]
    if t == "default":
        return _base_inv_freq(base, dim), 1.0
    if t == "linear":
        return _base_inv_freq(base, dim) / p["factor"], 1.0
    if t == "dynamic":
        mpe = spec["max_pos"]
        factor = p["factor"]
        if seq_len is None:
            base2 = base * ((factor * mpe / mpe) - (factor - 1)) ** (dim / (dim - 2))
        else:
            # HF passes seq_len = torch.max(position_ids) + 1 (an int64 tensor): float32 tensor arithmetic
            sl = torch.maximum(torch.tensor(seq_len, dtype=torch.int64), torch.tensor(mpe, dtype=torch.int64))
            base2 = base * ((factor * sl / mpe) - (factor - 1)) ** (dim / (dim - 2))
        return _base_inv_freq(base2, dim), 1.0
    if t == "llama3":
        inv = _base_inv_freq(base, dim)
        factor = p["factor"]
        lo, hi = p["low_freq_factor"], p["high_freq_factor"]
        old = p["original_max_position_embeddings"]
        low_wl, high_wl = old / lo, old / hi
        wl = 2 * math.pi / inv
        inv_l = torch.where(wl > low_wl, inv / factor, inv)
        smooth = (old / wl - lo) / (hi - lo)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        med = ~(wl < high_wl) * ~(wl > low_wl)
        return torch.where(med, smoothed, inv_l), 1.0
    if t == "yarn":
        factor = p.get("factor")
        omp = p["original_max_position_embeddings"]
        if factor is None:
            factor = spec["max_pos"] / omp
        att = p.get("attention_factor")
        mscale, mscale_all = p.get("mscale"), p.get("mscale_all_dim")

        def get_mscale(scale, m=1):
            return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

        if att is None:
            att = float(get_mscale(factor, mscale) / get_mscale(factor, mscale_all)) if (mscale and mscale_all) \
                else get_mscale(factor)
        beta_fast = p.get("beta_fast") or 32
        beta_slow = p.get("beta_slow") or 1

        def corr_dim(nrot):
            return (dim * math.log(omp / (nrot * 2 * math.pi))) / (2 * math.log(base))

        low, high = corr_dim(beta_fast), corr_dim(beta_slow)
        if p.get("truncate", True):
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, dim - 1)
        if low == high:
            high += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
        pos_freqs = base ** (torch.arange(0, dim, 2).to(dtype=torch.float) / dim)
        extra = 1.0 / pos_freqs
        inter = 1.0 / (factor * pos_freqs)
        ef = 1 - ramp
        return inter * (1 - ef) + extra * ef, att
    if t == "longrope":
        omp = p["original_max_position_embeddings"]
        factor = p.get("factor")
        if factor is None:
            factor = spec["max_pos"] / omp
        att = p.get("attention_factor")
        if att is None:
            att = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(omp))
        ext = p["long_factor"] if (seq_len and seq_len > omp) else p["short_factor"]
        ext = torch.tensor(ext, dtype=torch.float32)
        shape = torch.arange(0, dim, 2, dtype=torch.int64).float() / dim
        return 1.0 / (ext * base ** shape), att
    raise ValueError("unsupported rope_type %r" % t)


def cos_sin(inv, scaling, positions, dtype=torch.float32):
    """positions [B,L] int -> cos, sin [B,L,dim] (HF: float32 matmul, cat(freqs,freqs), * attention_scaling)."""
    inv_e = inv[None, :, None].float().expand(positions.shape[0], -1, 1)
    pos_e = positions[:, None, :].float()
    freqs = (inv_e @ pos_e).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return (emb.cos() * scaling).to(dtype), (emb.sin() * scaling).to(dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply(q, k, cos, sin):
    """q,k [B,H,L,D]; cos/sin [B,L,D]; rotates the first cos.shape[-1] dims (GPT-NeoX partial rotary)."""
    cos = cos.unsqueeze(1)
    sin = sin.unsqueeze(1)
    rd = cos.shape[-1]
    if rd == q.shape[-1]:
        return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)
    q_rot, q_pass = q[..., :rd], q[..., rd:]
    k_rot, k_pass = k[..., :rd], k[..., rd:]
    q_e = (q_rot * cos) + (rotate_half(q_rot) * sin)
    k_e = (k_rot * cos) + (rotate_half(k_rot) * sin)
    return torch.cat([q_e, q_pass], dim=-1), torch.cat([k_e, k_pass], dim=-1)
