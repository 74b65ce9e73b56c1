// The Doge forward pass, llama2.c style: DogeModel::Run is one straight-line pass, a comment before
// each step, a shape comment on each buffer; the embedding, RoPE-table, attention and CDMoE steps
// are the helpers right above it (their selections are kernels: topk_mask, moe_route). Numerics
// follow doge-architecture.md §4/§6 (fp32 everywhere, separate multiply/add, RMSNorm in fp32, q/k
// norm before RoPE, rotate-half RoPE with the dynamic NTK base per call, value-derived mask bias,
// top-k window, fp32 softmax, residual scales).
//
// Threads: a prefill splits each step across threads (kernels and ForRows); a decode step with
// threads runs all its layers in one parallel region, the projections split by rows (Team).
//
// CDMoE note: routing is per token (router row t's first half are token t's x-scores, its second
// half its y-scores). The reference instead reshapes the [N, 2K] router output with
// .view(2, N, K), so in a multi-token call token t's scores come from other tokens' rows; for N = 1
// (decode) both agree. We implement the per-token (decode) semantics for every call, so a prefill
// here equals step-by-step decoding of the reference, not its multi-token prefill (the b-moe
// fixture's quirk.* tensors record that quirk; they are documentation, not targets).
#include "engine/model.h"

#include <cstdio>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/base/error.h"
#include "engine/base/hub_cache.h"
#include "engine/kernels/parallel_thresholds.h"

namespace doge {
namespace {

int ThreadsHere() {
#ifdef _OPENMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

// Queries per attention kernel call (they share each key's loads).
constexpr int64_t kQueryBlock = 6;

template <typename T>
void Grow(std::vector<T>* v, int64_t n) {
  if (static_cast<int64_t>(v->size()) < n) v->resize(static_cast<size_t>(n));
}

// row(t) for t in [0, T): split over the threads when `par`, else a plain loop. Not
// `parallel for if (par)`: libgomp enters a region even then (~0.3 µs; 0.6 µs nested in a
// team), five times per layer of a decode step.
template <typename F>
void ForRows(int64_t T, bool par, const F& row) {
  if (!par) {
    for (int64_t t = 0; t < T; ++t) row(t);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) row(t);
}

// A decode step (one token) with threads to spare runs its layers inside one parallel region, a
// team: each projection splits its rows across the team (Project), the steps between them run on
// the first thread while the others wait (One), so a step pays a barrier (~0.25 µs) where it paid
// a fork/join (0.7–1.4 µs) per projection (engine/README "Decode in one parallel region").
// Outside a team (prefill, one thread) both run their work directly.
class Team {
 public:
  explicit Team(bool on) : on_(on) {}
  bool on() const { return on_; }
  // f() on the team's first thread, the one that runs every step outside a team (so the
  // activations stay in its cache); the others wait at its end.
  template <typename F>
  void One(const F& f) const {
    if (!on_) {
      f();
      return;
    }
#pragma omp masked
    f();
#pragma omp barrier
  }
  // Waits until every thread's rows of the projections so far are written.
  void Sync() const {
    if (on_) {
#pragma omp barrier
    }
  }

 private:
  bool on_;
};

// Steps 4, 9, 10: out [T, rows] = x [T, cols] · Wᵀ. In a team (T = 1) this thread writes only its
// own rows: whole 32-row blocks in 2-block chunks, split in contiguous ranges as the kernels'
// parallel GEMV splits them (each thread one stream), matrices under its threshold all on the
// first thread. Each row is the same kernel code on the same input either way, so the bits are
// the whole call's (PackedFromBlock). Callers Sync() before reading out.
void Project(const Team& team, const KernelSet& ks, const float* w /*[rows, cols]*/,
             PackedWeights packed, const float* x, int64_t T, int64_t rows, int64_t cols,
             float* out) {
  if (!team.on()) {
    ks.matmul(w, packed, x, T, rows, cols, out);
    return;
  }
#ifdef _OPENMP
  DOGE_CHECK(T == 1);
  const int64_t n_blocks = (rows + kPackRows - 1) / kPackRows;
  const int t = omp_get_thread_num(), nt = omp_get_num_threads();
  int64_t b0 = 0, b1 = n_blocks;
  if (rows * cols >= kParallelGemvMacs) {
    const int64_t n_chunks = (n_blocks + 1) / 2, per = n_chunks / nt, extra = n_chunks % nt;
    const int64_t c0 = t * per + std::min<int64_t>(t, extra);
    const int64_t c1 = c0 + per + (t < extra ? 1 : 0);
    b0 = std::min(n_blocks, 2 * c0);
    b1 = std::min(n_blocks, 2 * c1);
  } else if (t != 0) {
    return;
  }
  if (b0 >= b1) return;
  const int64_t r0 = b0 * kPackRows, n_rows = std::min(rows, b1 * kPackRows) - r0;
  const float* w_rows = w != nullptr ? w + r0 * cols : nullptr;
  ks.matmul(w_rows, PackedFromBlock(packed, cols, b0), x, 1, n_rows, cols, out + r0);
#endif
}

}  // namespace

std::unique_ptr<DogeModel> DogeModel::Load(const std::string& model) {
  const std::string model_dir = ResolveModelPath(model);  // a folder, or a hub id in the HF cache
  auto m = std::unique_ptr<DogeModel>(new DogeModel());
  m->config_ = LoadConfig(model_dir);
  for (const std::string& w : m->config_.warnings) std::fprintf(stderr, "doge: warning: %s\n", w.c_str());
  m->weights_ = LoadWeights(model_dir, m->config_);
  PackWeightsForKernels(&m->weights_, m->config_);
  // A-early code has no top-k window (dynamic_mask_ratio 0.0); A-late and B use keep_window_size
  // (2048 when absent).
  m->window_ = m->weights_.layout == Layout::kAEarly ? std::numeric_limits<int64_t>::max()
                                                     : m->config_.keep_window_size;
  return m;
}

KvCache DogeModel::NewCache(int64_t capacity) const {
  KvCache c;
  ResetCache(&c, capacity);
  return c;
}

void DogeModel::ResetCache(KvCache* cache, int64_t capacity) const {
  cache->Reset(config_.num_hidden_layers, config_.num_key_value_heads * config_.head_dim(),
               weights_.n_bias_heads, capacity);
}

float DogeModel::RopeBase(int64_t max_position) const {
  const float theta = static_cast<float>(config_.rope_theta);
  const int64_t seq_len = max_position + 1;
  if (config_.rope_scaling_type != "dynamic" || seq_len <= config_.max_position_embeddings) {
    return theta;
  }
  // transformers _compute_dynamic_ntk_parameters, every step a float32 tensor op:
  // base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2))
  const float factor = static_cast<float>(config_.rope_scaling_factor);
  const int64_t dim = config_.head_dim();
  float s = factor * static_cast<float>(seq_len);
  s = s / static_cast<float>(config_.max_position_embeddings);
  s = s - static_cast<float>(config_.rope_scaling_factor - 1.0);
  const float e = static_cast<float>(static_cast<double>(dim) / static_cast<double>(dim - 2));
  return theta * std::pow(s, e);
}

void DogeModel::Logits(const float* h, float* logits, const KernelSet* kernels) const {
  const KernelSet& ks = kernels ? *kernels : OptimizedKernels();
  ks.matvec(weights_.lm_head, weights_.lm_head_packed, h, config_.vocab_size, config_.hidden_size,
            logits);
}

void DogeModel::Forward(const int32_t* tokens, int64_t T, KvCache* cache, ForwardScratch* s,
                        const int64_t* out_rows, int64_t n_out_rows, float* out_hidden,
                        HiddenStates* hidden, const KernelSet* kernels) const {
  // One sequence: positions P.., every token sees the whole cache before it.
  const int64_t P = cache->size();
  Grow(&s->pos, T);
  Grow(&s->branch_start, T);
  for (int64_t t = 0; t < T; ++t) {
    s->pos[t] = P + t;
    s->branch_start[t] = P;
  }
  Run(tokens, T, s->pos.data(), s->branch_start.data(), cache, s, out_rows, n_out_rows,
      out_hidden, hidden, kernels);
}

void DogeModel::ForwardBranches(const int32_t* tokens, const int64_t* branch_len,
                                int64_t n_branches, KvCache* cache, ForwardScratch* s,
                                float* out_hidden, const KernelSet* kernels) const {
  const int64_t P = cache->size();
  int64_t T = 0;
  for (int64_t b = 0; b < n_branches; ++b) {
    const int64_t len = branch_len[b];
    const std::string field = "branch_len[" + std::to_string(b) + "]";
    if (len < 1) throw Error(ErrorKind::kUsage, "", field, "branch of " + std::to_string(len) + " tokens");
    if (P + len > window_) {
      throw Error(ErrorKind::kUsage, "", field,
                  "prefix " + std::to_string(P) + " + branch " + std::to_string(len) +
                      " exceeds the top-k window " + std::to_string(window_));
    }
    if (RopeBase(P + len - 1) != RopeBase(P)) {
      throw Error(ErrorKind::kUsage, "", field, "branch reaches the dynamic-NTK range");
    }
    T += len;
  }
  Grow(&s->pos, T);
  Grow(&s->branch_start, T);
  Grow(&s->all_rows, T);
  for (int64_t b = 0, t = 0; b < n_branches; ++b) {
    const int64_t start = P + t;  // cache row of the branch's first token
    for (int64_t i = 0; i < branch_len[b]; ++i, ++t) {
      s->pos[t] = P + i;
      s->branch_start[t] = start;
      s->all_rows[t] = t;
    }
  }
  Run(tokens, T, s->pos.data(), s->branch_start.data(), cache, s, s->all_rows.data(), T,
      out_hidden, nullptr, kernels);
}

namespace {

// Sizes every buffer of `s` for a call of T tokens (ForwardScratch gives the shapes); the
// per-thread key rows for the cache's capacity, not this call's S, so a growing decode sequence
// never reallocates them.
void GrowScratch(const DogeConfig& c, int64_t nb, int64_t T, int n_threads, int64_t capacity,
                 ForwardScratch* s) {
  const int64_t H = c.hidden_size, D = c.head_dim(), I = c.intermediate_size;
  const int64_t qd = c.num_attention_heads * D, kvd = c.num_key_value_heads * D;
  Grow(&s->x, T * H);
  Grow(&s->xn, T * H);
  Grow(&s->q, T * qd);
  Grow(&s->k, T * kvd);
  Grow(&s->v, T * kvd);
  Grow(&s->u, T * nb);
  Grow(&s->attn, T * qd);
  Grow(&s->o, T * H);
  Grow(&s->gate, T * I);
  Grow(&s->up, T * I);
  Grow(&s->cos, T * D);
  Grow(&s->sin, T * D);
  const int64_t row_cap = static_cast<int64_t>(n_threads) * capacity;
  Grow(&s->row_mask, kQueryBlock * row_cap);
  Grow(&s->row_sel, row_cap);
  Grow(&s->scores, kQueryBlock * row_cap);
}

// Steps 9 and 12: the scaled residual x = r ⊙ x + o, rows split across threads when `par`.
void ScaledResidual(const float* r /*[H]*/, const float* o /*[T, H]*/, int64_t T, int64_t H,
                    bool par, float* x /*[T, H]*/) {
  ForRows(T, par, [&](int64_t t) {
    float* xt = x + t * H;
    const float* ot = o + t * H;
    for (int64_t i = 0; i < H; ++i) xt[i] = r[i] * xt[i] + ot[i];
  });
}

// Step 1: x[t] = E[token_t]. No scaling, no positional embedding. A tied head's row-major pages
// were released after packing (weights.h), so the row is read back from the packed copy (same
// values: row r is lane r % 32 of block r / 32, widened if 16-bit).
void EmbedTokens(const DogeWeights& w, const int32_t* tokens, int64_t T, int64_t H,
                 float* x /*[T, H]*/) {
  for (int64_t t = 0; t < T; ++t) {
    const int64_t r = tokens[t];
    if (w.tied && w.lm_head_packed.data != nullptr) {
      UnpackRow(w.lm_head_packed, H, r, x + t * H);
    } else {
      std::memcpy(x + t * H, w.embed + r * H, H * sizeof(float));
    }
  }
}

// Step 2: RoPE tables for one call. inv_freq[j] = 1 / base^(2j/D) in float32; angle = position *
// inv_freq (one fp32 product); cos/sin halves duplicated.
void RopeTables(float base, const int64_t* pos, int64_t T, int64_t D, float* cos /*[T, D]*/,
                float* sin /*[T, D]*/) {
  for (int64_t j = 0; j < D / 2; ++j) {
    const float expo = static_cast<float>(2 * j) / static_cast<float>(D);
    const float inv_freq = 1.0f / std::pow(base, expo);
    for (int64_t t = 0; t < T; ++t) {
      const float angle = static_cast<float>(pos[t]) * inv_freq;
      const float cs = std::cos(angle), sn = std::sin(angle);
      cos[t * D + j] = cs;
      cos[t * D + j + D / 2] = cs;
      sin[t * D + j] = sn;
      sin[t * D + j + D / 2] = sn;
    }
  }
}

// Step 8 of one layer: attention per (query head h, block of kQueryBlock consecutive queries:
// they share the key loads). Query t sees cache rows [0, P) and [branch_start[t], P + t] (one
// sequence: all of 0..P+t); rows of other branches are masked with -inf. Mask head = kv group
// (layout B) or the attention head itself (A). When more than `window` keys are visible, only the
// `window` keys with the largest bias survive (topk_mask). Writes s->attn [T, nh*D].
void AttendLayer(const KernelSet& ks, const DogeConfig& c, bool mask_per_kv_head, int64_t nb,
                 int64_t window, const float* k_cache /*[S, kvd]*/,
                 const float* v_cache /*[S, kvd]*/, const float* b_cache /*[S, nb]*/, int64_t P,
                 int64_t T, const int64_t* branch_start, int n_threads, const Team& team,
                 ForwardScratch* s) {
  const int64_t D = c.head_dim(), nh = c.num_attention_heads;
  const int64_t qd = nh * D, kvd = c.num_key_value_heads * D, n_rep = nh / c.num_key_value_heads;
  const int64_t S = P + T;
  const float scale = static_cast<float>(std::pow(static_cast<double>(D), -0.5));
  const int64_t n_blocks = (T + kQueryBlock - 1) / kQueryBlock;
  // Fork only when there is enough work: a decode step of a small model (2 heads x 1 query) is
  // cheaper than the fork/join. Each query is computed by one thread either way.
  const bool par_attn = n_threads > 1 && nh * T > 1 && nh * T * S * D >= kParallelAttentionMacs;
  // tid: this split's thread (0 without one, also when the caller runs inside a region of its
  // own: its scratch holds one thread's rows).
  auto attend = [&](int64_t hb, int tid) {
    const int64_t h = hb % nh, t0 = (hb / nh) * kQueryBlock;
    const int64_t nq = std::min(kQueryBlock, T - t0);
    const int64_t g = h / n_rep;                   // kv head
    const int64_t mh = mask_per_kv_head ? g : h;   // mask head
    float* masks = s->row_mask.data() + tid * kQueryBlock * S;  // [nq, S]
    int64_t n_vis[kQueryBlock];
    for (int64_t i = 0; i < nq; ++i) {
      const int64_t t = t0 + i;
      n_vis[i] = P + t + 1;  // key rows 0..P+t, other branches' rows masked
      const int64_t bs = branch_start[t];
      float* mask = masks + i * S;
      for (int64_t j = 0; j < P; ++j) mask[j] = b_cache[j * nb + mh];
      for (int64_t j = P; j < bs; ++j) mask[j] = -std::numeric_limits<float>::infinity();
      for (int64_t j = bs; j < n_vis[i]; ++j) mask[j] = b_cache[j * nb + mh];
      if (P + (n_vis[i] - bs) > window) {
        ks.topk_mask(mask, n_vis[i], window, s->row_sel.data() + tid * S);
      }
    }
    ks.attention(s->q.data() + t0 * qd + h * D, qd, nq, k_cache + g * D, v_cache + g * D, kvd,
                 masks, S, n_vis, D, scale, s->scores.data() + tid * kQueryBlock * S,
                 s->attn.data() + t0 * qd + h * D, qd);
  };
  if (!par_attn) {
    team.One([&] {
      for (int64_t hb = 0; hb < nh * n_blocks; ++hb) attend(hb, 0);
    });
    return;
  }
#ifdef _OPENMP
  // Dynamic chunks: a later query sees more keys, so equal static ranges would give the last
  // thread most of the work. In a team (decode) its threads share the heads out the same way.
  if (team.on()) {
#pragma omp for schedule(dynamic, 1)
    for (int64_t hb = 0; hb < nh * n_blocks; ++hb) attend(hb, omp_get_thread_num());
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t hb = 0; hb < nh * n_blocks; ++hb) attend(hb, omp_get_thread_num());
#endif
}

// Step 11 of one layer (is_moe): adds the routed rank-1 experts to the shared MLP output, per
// token: o[t] += Σ_e (silu(down_embed[e]·y) · w_e) · up_embed[e], y = xn[t], w = softmax of the
// routed scores. The sum is accumulated separately first, then added (reference order).
void AddExperts(const KernelSet& ks, const DogeConfig& c, const LayerWeights& lw,
                const float* xn /*[T, H]*/, int64_t T, ForwardScratch* s) {
  const int64_t H = c.hidden_size, K = c.expert_keys(), top = c.num_experts_per_tok;
  Grow(&s->moe, 2 * K + K * K + top);
  Grow(&s->moe_idx, 2 * K * K + 2 * K + top);
  for (int64_t t = 0; t < T; ++t) {
    const float* y = xn + t * H;
    float* router = s->moe.data();              // [2K]: x-scores then y-scores of token t
    float* scratch = router + 2 * K;            // [K*K]
    float* wts = scratch + K * K;               // [top] routing weights
    int32_t* iscratch = s->moe_idx.data();      // [2K*K + 2K]
    int32_t* experts = iscratch + 2 * K * K + 2 * K;  // [top]
    ks.matvec(lw.router_gate, {}, y, 2 * K, H, router);
    ks.moe_route(router, K, top, scratch, iscratch, experts, wts);
    ks.softmax(wts, top);
    float* ot = s->o.data() + t * H;
    float* acc = s->up.data();  // reuse [H] of the (consumed) up buffer
    std::fill(acc, acc + H, 0.0f);
    for (int64_t e = 0; e < top; ++e) {
      const int64_t expert = experts[e];
      float dw;
      ks.matvec(lw.down_embed + expert * H, {}, y, 1, H, &dw);
      const float coef = (dw / (1.0f + std::exp(-dw))) * wts[e];
      const float* ue = lw.up_embed + expert * H;
      for (int64_t i = 0; i < H; ++i) acc[i] += coef * ue[i];
    }
    for (int64_t i = 0; i < H; ++i) ot[i] = ot[i] + acc[i];
  }
}

}  // namespace

void DogeModel::Run(const int32_t* tokens, int64_t T, const int64_t* pos,
                    const int64_t* branch_start, KvCache* cache, ForwardScratch* s,
                    const int64_t* out_rows, int64_t n_out_rows, float* out_hidden,
                    HiddenStates* hidden, const KernelSet* kernels) const {
  const KernelSet& ks = kernels ? *kernels : OptimizedKernels();
  const DogeConfig& c = config_;
  const DogeWeights& w = weights_;
  const int64_t H = c.hidden_size, D = c.head_dim(), nh = c.num_attention_heads,
                nkv = c.num_key_value_heads, I = c.intermediate_size;
  const int64_t kvd = nkv * D, qd = nh * D, nb = w.n_bias_heads;
  const bool is_b = w.layout == Layout::kB;
  const float eps = static_cast<float>(c.rms_norm_eps);
  const int64_t P = cache->size();  // positions already cached
  const int64_t S = P + T;          // cache rows after this call (keys of the last query)
  DOGE_CHECK(S <= cache->capacity());
  const int n_threads = ThreadsHere();
  // Per-token steps (norms, RoPE, residuals) split across threads when a call has many tokens
  // (prefill): each row is computed by one thread, in the same order as single-threaded.
  const bool par_rows = n_threads > 1 && T >= kParallelRowsTokens;

  GrowScratch(c, nb, T, n_threads, cache->capacity(), s);
  float* x = s->x.data();  // [T, H]
  float* xn = s->xn.data();  // [T, H]

  // 1. Embedding lookup: x [T, H].
  EmbedTokens(w, tokens, T, H, x);
  if (hidden) {
    hidden->layers.assign(static_cast<size_t>(c.num_hidden_layers + 1), {});
    hidden->layers[0].assign(x, x + T * H);
  }

  // 2. RoPE tables cos/sin [T, D]. Dynamic NTK: the base depends on this call's largest position
  //    only (cached keys keep their old rotation).
  RopeTables(RopeBase(*std::max_element(pos, pos + T)), pos, T, D, s->cos.data(), s->sin.data());

  // Steps 3-12 per layer. A decode step with threads to spare runs them in one parallel region
  // (Team): projections split by rows, the rest on the first thread.
  auto layers = [&](const Team& team) {
    for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
      const LayerWeights& lw = w.layers[l];
      float* k_cache = cache->keys(l);    // [cap, kvd]
      float* v_cache = cache->values(l);  // [cap, kvd]
      float* b_cache = cache->bias(l);    // [cap, nb]

      // 3. attn_norm: xn = RMSNorm(x) · input_layernorm.
      team.One([&] {
        ForRows(T, par_rows, [&](int64_t t) {
          ks.rms_norm(x + t * H, lw.input_layernorm, H, eps, xn + t * H);
        });
      });

      // 4. q/k/v projections: q [T, nh*D], k/v [T, nkv*D].
      Project(team, ks, lw.q_proj, lw.q_proj_packed, xn, T, qd, H, s->q.data());
      Project(team, ks, lw.k_proj, lw.k_proj_packed, xn, T, kvd, H, s->k.data());
      Project(team, ks, lw.v_proj, lw.v_proj_packed, xn, T, kvd, H, s->v.data());
      team.Sync();

      team.One([&] {
        // 5. Variant B: per-head RMSNorm of q and k over head_dim, before RoPE.
        if (is_b) {
          ForRows(T, par_rows, [&](int64_t t) {
            for (int64_t h = 0; h < nh; ++h) {
              float* qh = s->q.data() + t * qd + h * D;
              ks.rms_norm(qh, lw.q_norm, D, eps, qh);
            }
            for (int64_t g = 0; g < nkv; ++g) {
              float* kh = s->k.data() + t * kvd + g * D;
              ks.rms_norm(kh, lw.k_norm, D, eps, kh);
            }
          });
        }

        // 6. RoPE on q and k, then append k and raw v to the cache (rows P..S-1).
        ForRows(T, par_rows, [&](int64_t t) {
          ks.rope(s->q.data() + t * qd, nh, D, s->cos.data() + t * D, s->sin.data() + t * D);
          ks.rope(s->k.data() + t * kvd, nkv, D, s->cos.data() + t * D, s->sin.data() + t * D);
        });
        std::memcpy(k_cache + P * kvd, s->k.data(), T * kvd * sizeof(float));
        std::memcpy(v_cache + P * kvd, s->v.data(), T * kvd * sizeof(float));

        // 7. Dynamic mask bias of the new keys: b[j, g] = exp(A_g · softplus(dt_proj(v_j))_g),
        //    cached. u [T, nb].
        ks.matmul(lw.dt_proj, lw.dt_proj_packed, s->v.data(), T, nb, kvd, s->u.data());
        for (int64_t t = 0; t < T; ++t) {
          ks.dt_bias(s->u.data() + t * nb, lw.a, nb, b_cache + (P + t) * nb);
        }
      });

      // 8. Attention with the dynamic mask and the top-k key window: attn [T, nh*D].
      AttendLayer(ks, c, is_b, nb, window_, k_cache, v_cache, b_cache, P, T, branch_start,
                  n_threads, team, s);

      // 9. Output projection and scaled residual: x = r_in ⊙ x + o_proj(attn).
      Project(team, ks, lw.o_proj, lw.o_proj_packed, s->attn.data(), T, H, qd, s->o.data());
      team.Sync();
      team.One([&] {
        ScaledResidual(lw.input_residual, s->o.data(), T, H, par_rows, x);

        // 10. ffn_norm, then the SiLU-gated MLP: o = down(silu(gate(xn)) ⊙ up(xn)),
        //     gate/up [T, I].
        ForRows(T, par_rows, [&](int64_t t) {
          ks.rms_norm(x + t * H, lw.post_attention_layernorm, H, eps, xn + t * H);
        });
      });
      Project(team, ks, lw.gate_proj, lw.gate_proj_packed, xn, T, I, H, s->gate.data());
      Project(team, ks, lw.up_proj, lw.up_proj_packed, xn, T, I, H, s->up.data());
      team.Sync();
      team.One([&] { ks.swiglu(s->gate.data(), s->up.data(), T * I, s->gate.data()); });
      Project(team, ks, lw.down_proj, lw.down_proj_packed, s->gate.data(), T, H, I, s->o.data());
      team.Sync();

      team.One([&] {
        // 11. CDMoE (is_moe): o [T, H] += the routed rank-1 experts, per token.
        if (c.is_moe) AddExperts(ks, c, lw, xn, T, s);

        // 12. Scaled residual: x = r_post ⊙ x + ffn_out.
        ScaledResidual(lw.post_attention_residual, s->o.data(), T, H, par_rows, x);
        if (hidden && l + 1 < c.num_hidden_layers) hidden->layers[l + 1].assign(x, x + T * H);
      });
    }
  };
  if (T == 1 && n_threads > 1) {
#pragma omp parallel num_threads(n_threads)
    layers(Team(true));
  } else {
    layers(Team(false));
  }
  cache->set_size(S);

  // 13. Final RMSNorm, only for the rows the caller needs: out_hidden [n_out_rows, H].
  if (hidden) {
    hidden->layers[c.num_hidden_layers].resize(static_cast<size_t>(T * H));
    for (int64_t t = 0; t < T; ++t) {
      ks.rms_norm(x + t * H, w.final_norm, H, eps, hidden->layers[c.num_hidden_layers].data() + t * H);
    }
  }
  for (int64_t r = 0; r < n_out_rows; ++r) {
    DOGE_CHECK(out_rows[r] >= 0 && out_rows[r] < T);
    ks.rms_norm(x + out_rows[r] * H, w.final_norm, H, eps, out_hidden + r * H);
  }
}

}  // namespace doge
