// Feed-forward blocks: dense (fc1 → act → fc2), gated (down(act(gate·x) ⊙ up·x): SwiGLU,
// GeGLU) and a mixture of gated experts with top-k softmax routing (Mixtral), optionally with
// a shared expert behind a sigmoid gate (Qwen2-MoE).
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <vector>

#include "tessera/blocks/linear.hpp"
#include "tessera/core/parallel.hpp"

namespace tessera {

using kernels::Activation;

class MLP {
 public:
  enum class Kind { Dense, Gated, MoE };
  struct Expert {
    Linear gate, up, down;
  };

  MLP() = default;
  // fc1 [ffn, hidden] → act → fc2 [hidden, ffn].
  static MLP dense(Activation act, Linear up, Linear down) {
    MLP m = sized(Kind::Dense, act, up, down);
    m.up = std::move(up);
    m.down = std::move(down);
    return m;
  }
  // down(act(gate·x) ⊙ up·x): gate and up [ffn, hidden], down [hidden, ffn]. gate and up are
  // fused into one weight where they can share a packing (see fuse_projections).
  static MLP gated(Activation act, Linear gate, Linear up, Linear down) {
    MLP m = sized(Kind::Gated, act, up, down);
    TESSERA_CHECK(gate.out_features() == m.ffn && gate.in_features() == m.hidden,
                  "MLP: the gate projection is [{}, {}], expected [{}, {}]", gate.out_features(), gate.in_features(), m.ffn,
                  m.hidden);
    m.gate = std::move(gate);
    m.up = std::move(up);
    m.down = std::move(down);
    m.fuse_projections();
    return m;
  }
  // The same with gate and up in one weight [2·ffn, hidden], rows [gate | up] (Phi-3's gate_up_proj).
  static MLP gated_fused(Activation act, Linear gate_up, Linear down) {
    MLP m;
    m.kind = Kind::Gated;
    m.act = act;
    m.hidden = down.out_features();
    m.ffn = down.in_features();
    TESSERA_CHECK(gate_up.out_features() == 2 * m.ffn && gate_up.in_features() == m.hidden,
                  "MLP: the gate/up projection is [{}, {}], expected [{}, {}]", gate_up.out_features(),
                  gate_up.in_features(), 2 * m.ffn, m.hidden);
    m.gate_up = std::move(gate_up);
    m.down = std::move(down);
    return m;
  }
  // A mixture of gated experts: router [experts, hidden], each token's top_k experts by
  // softmax weight (renormalised to sum to 1 when normalize).
  static MLP mixture(Activation act, Linear router, std::vector<Expert> experts, int64_t top_k, bool normalize = true) {
    TESSERA_CHECK(!experts.empty(), "MLP: a mixture of experts needs at least one expert");
    MLP m = sized(Kind::MoE, act, experts[0].up, experts[0].down);
    TESSERA_CHECK(router.out_features() == int64_t(experts.size()) && router.in_features() == m.hidden,
                  "MLP: the router is [{}, {}], expected [{}, {}]", router.out_features(), router.in_features(),
                  experts.size(), m.hidden);
    TESSERA_CHECK(top_k >= 1 && top_k <= int64_t(experts.size()), "MLP: top_k {} outside [1, {}]", top_k, experts.size());
    m.router = std::move(router);
    m.experts = std::move(experts);
    m.top_k = top_k;
    m.normalize_top_k = normalize;
    return m;
  }

  Kind kind = Kind::Gated;
  Activation act = Activation::Silu;
  int64_t hidden = 0, ffn = 0;
  Linear up, down, gate;  // dense uses up (fc1) and down (fc2)
  std::optional<Linear> gate_up;  // gated: [gate | up] in one weight (fuse_projections)

  Linear router;  // [experts, hidden]
  std::vector<Expert> experts;
  int64_t top_k = 0;
  bool normalize_top_k = true;  // renormalise the chosen experts' weights to sum to 1
  // Qwen2-MoE: an expert of shared_ffn units every token goes through, its output scaled by
  // sigmoid(shared_gate·x) (shared_gate [1, hidden]) and added to the routed experts' mixture.
  std::optional<Expert> shared;
  Linear shared_gate;
  int64_t shared_ffn = 0;

  // Gated: gate and up become one fused projection when they can share a packing
  // (Linear::fuse): one weight stream per token instead of two, X packed once.
  void fuse_projections() {
    if (kind != Kind::Gated || gate_up) return;
    if (auto f = Linear::fuse({&gate, &up})) {
      gate_up = std::move(f);
      gate = up = Linear();
    }
  }

  // out[m, hidden] += mlp(x[m, hidden]) when accumulate (the residual add fused into down's
  // GEMM), out = mlp(x) otherwise. x and out may be the same rows.
  void forward(const float* x, int64_t m, float* out, std::vector<float>& scratch, bool accumulate = true) const {
    if (kind == Kind::MoE) return forward_moe(x, m, out, scratch, accumulate);
    scratch.resize(size_t(2 * m * ffn));
    float* a = scratch.data();
    float* b = a + m * ffn;
    if (gate_up) {
      // Rows of [gate | up]; act(gate)·up goes into the gate half, which down reads with
      // a row stride of 2·ffn.
      gate_up->forward(x, m, a);
      parallel_for(m, [&](int64_t r0, int64_t r1) {
        for (int64_t i = r0; i < r1; ++i) kernels::activate_mul(act, a + i * 2 * ffn, a + i * 2 * ffn + ffn, ffn);
      }, 8);
      down.forward(a, m, out, 2 * ffn, -1, accumulate);
      return;
    }
    if (kind == Kind::Dense) {
      up.forward(x, m, a);
      parallel_for(m, [&](int64_t r0, int64_t r1) { kernels::activate(act, a + r0 * ffn, (r1 - r0) * ffn); }, 8);
    } else {
      gate.forward(x, m, a);
      up.forward(x, m, b);
      parallel_for(m, [&](int64_t r0, int64_t r1) {
        kernels::activate_mul(act, a + r0 * ffn, b + r0 * ffn, (r1 - r0) * ffn);
      }, 8);
    }
    down.forward(a, m, out, -1, -1, accumulate);
  }

 private:
  static MLP sized(Kind kind, Activation act, const Linear& up, const Linear& down) {
    MLP m;
    m.kind = kind;
    m.act = act;
    m.hidden = up.in_features();
    m.ffn = up.out_features();
    TESSERA_CHECK(down.in_features() == m.ffn && down.out_features() == m.hidden,
                  "MLP: the down projection is [{}, {}], expected [{}, {}]", down.out_features(), down.in_features(),
                  m.hidden, m.ffn);
    return m;
  }

  // Routing per token (softmax over all experts, top-k in torch.topk's order, optional
  // renormalisation), then each expert once over the rows that chose it (one GEMM per projection
  // instead of one GEMV per token), its weighted outputs added per row in expert order as
  // Hugging Face's index_add_ does; then the shared expert over all rows.
  void forward_moe(const float* x, int64_t m, float* out, std::vector<float>& scratch, bool accumulate) const {
    const int64_t e_count = int64_t(experts.size()), f = std::max(ffn, shared_ffn);
    scratch.resize(size_t(m * (e_count + 3 * hidden + 2 * f + 1)));
    float* logits = scratch.data();     // [m, experts]
    float* acc = logits + m * e_count;  // [m, hidden]: the mixture, added at the end so x and out may alias
    float* xs = acc + m * hidden;       // [rows, hidden]: one expert's rows, gathered
    float* y = xs + m * hidden;         // [rows, hidden]
    float* a = y + m * hidden;          // [rows, f]
    float* b = a + m * f;               // [rows, f]
    float* g = b + m * f;               // [m]: the shared expert's gate
    router.forward(x, m, logits);
    std::vector<int64_t> chosen(static_cast<size_t>(m * top_k)), order(static_cast<size_t>(e_count));
    std::vector<float> weight(size_t(m * top_k));
    for (int64_t t = 0; t < m; ++t) {
      float* lt = logits + t * e_count;
      kernels::softmax(lt, e_count);
      std::iota(order.begin(), order.end(), 0);
      // torch.topk order: larger weight first, ties to the lower index.
      std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) { return lt[i] > lt[j]; });
      float sum = 0;
      for (int64_t r = 0; r < top_k; ++r) sum += lt[order[size_t(r)]];
      for (int64_t r = 0; r < top_k; ++r) {
        chosen[size_t(t * top_k + r)] = order[size_t(r)];
        weight[size_t(t * top_k + r)] = normalize_top_k ? lt[order[size_t(r)]] / sum : lt[order[size_t(r)]];
      }
    }
    std::fill(acc, acc + m * hidden, 0.0f);
    std::vector<int64_t> rows;
    std::vector<float> row_weight;
    for (int64_t e = 0; e < e_count; ++e) {
      rows.clear();
      row_weight.clear();
      for (int64_t i = 0; i < m * top_k; ++i)
        if (chosen[size_t(i)] == e) {
          rows.push_back(i / top_k);
          row_weight.push_back(weight[size_t(i)]);
        }
      if (rows.empty()) continue;
      const int64_t n = int64_t(rows.size());
      for (int64_t r = 0; r < n; ++r) std::copy_n(x + rows[size_t(r)] * hidden, hidden, xs + r * hidden);
      run_expert(experts[size_t(e)], ffn, xs, n, a, b, y);
      for (int64_t r = 0; r < n; ++r) kernels::axpy(row_weight[size_t(r)], y + r * hidden, acc + rows[size_t(r)] * hidden, hidden);
    }
    if (shared) {
      run_expert(*shared, shared_ffn, x, m, a, b, y);
      shared_gate.forward(x, m, g);
      for (int64_t t = 0; t < m; ++t)
        kernels::axpy(float(1.0 / (1.0 + std::exp(-double(g[t])))), y + t * hidden, acc + t * hidden, hidden);
    }
    if (accumulate) kernels::axpy(1.0f, acc, out, m * hidden);
    else std::copy(acc, acc + m * hidden, out);
  }

  // y[n, hidden] = down(act(gate·x) ⊙ up·x) of n rows (a, b: [n, units] scratch).
  void run_expert(const Expert& ex, int64_t units, const float* x, int64_t n, float* a, float* b, float* y) const {
    ex.gate.forward(x, n, a);
    ex.up.forward(x, n, b);
    kernels::activate_mul(act, a, b, n * units);
    ex.down.forward(a, n, y);
  }
};

}  // namespace tessera
