// DogeLanguageModel: batched scoring, next-token log-probs and greedy generation over DogeModel.
#include "engine/scoring.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/error.h"

namespace doge {
namespace {

// Per-thread state: one KV cache, forward scratch and row buffers, reused across the requests
// that thread handles.
struct Session {
  KvCache cache;
  ForwardScratch scratch;
  std::vector<float> hidden;  // [rows, H] final-norm rows of one forward call
  std::vector<float> logits;  // [V] (or [kRowsPerGemm, V] when projecting rows in chunks)
  // The scored rows of the current request, all continuations together: final-norm hidden rows
  // and, per (row, target) pair, the continuation it belongs to.
  std::vector<float> rows;         // [n_rows, H]
  std::vector<int64_t> pair_row;   // [n_pairs] row index
  std::vector<int32_t> pair_tok;   // [n_pairs] target token
  std::vector<int32_t> pair_cont;  // [n_pairs] continuation index
  std::vector<size_t> pair_order;  // pairs sorted by row (scratch)
};

void SetThreads(int n) {
#ifdef _OPENMP
  // Sets this thread's nthreads ICV: the kernels of a lone request fork this many threads.
  if (!omp_in_parallel()) omp_set_num_threads(n);
#endif
}

}  // namespace

TokenScore ScoreLogitsRow(const float* logits, int64_t vocab, int32_t token) {
  // The fused log-softmax + gather kernel (float64 log-sum-exp; kernel_set.h).
  double logprob = 0;
  int32_t best = -1;
  OptimizedKernels().logprob_gather(logits, vocab, token, &logprob, &best);
  TokenScore s;
  s.logprob = logprob;
  s.is_argmax = best == token;
  return s;
}

std::unique_ptr<DogeLanguageModel> DogeLanguageModel::Load(const std::string& model_dir,
                                                           int n_threads) {
  auto lm = std::unique_ptr<DogeLanguageModel>(new DogeLanguageModel());
  lm->model_ = DogeModel::Load(model_dir);
  if (n_threads <= 0) {
    const unsigned hc = std::thread::hardware_concurrency();
    n_threads = hc == 0 ? 1 : static_cast<int>(hc);
  }
  lm->n_threads_ = n_threads;
  return lm;
}

void DogeLanguageModel::CheckIds(const std::vector<int32_t>& ids, const char* what) const {
  const int64_t v = model_->config().vocab_size;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= v) {
      throw Error(ErrorKind::kUsage, "", std::string(what) + "[" + std::to_string(i) + "]",
                  "token id " + std::to_string(ids[i]) + " outside [0, " + std::to_string(v) + ")");
    }
  }
}

namespace {

// Appends `n` final-norm rows to the request's pending rows; returns the index of the first.
int64_t AddRows(Session* s, const float* hidden, int64_t n, int64_t H) {
  const int64_t first = static_cast<int64_t>(s->rows.size()) / H;
  s->rows.insert(s->rows.end(), hidden, hidden + n * H);
  return first;
}

void AddPair(Session* s, int64_t row, int32_t token, int32_t cont) {
  s->pair_row.push_back(row);
  s->pair_tok.push_back(token);
  s->pair_cont.push_back(cont);
}

// Projects every pending row of the request through the vocabulary head and adds each (row,
// target) pair's log-prob to its continuation, in pair order (per continuation: its tokens in
// order, as one reference call sums them). The rows of all continuations go through one GEMM per
// chunk of rows, so the [V, H] head is streamed once per chunk rather than once per
// continuation, and full 16-row panels keep the GEMM busy. Chunking depends only on this
// request's rows, so a request scores the same alone or in any batch.
void ScorePendingRows(const DogeModel& m, Session* s, std::vector<ContinuationScore>* out) {
  // At most kMaxRowsPerGemm rows per GEMM (the logits buffer is rows·V floats), in equal chunks
  // rounded up to the GEMM's 16-row panels, so a remainder chunk of a few rows (a partly empty
  // panel, or a GEMV streaming the whole head for one row) is avoided where it can be.
  constexpr int64_t kMaxRowsPerGemm = 96;
  const int64_t H = m.config().hidden_size, V = m.config().vocab_size;
  const int64_t n = static_cast<int64_t>(s->rows.size()) / H;
  const int64_t n_chunks = (n + kMaxRowsPerGemm - 1) / kMaxRowsPerGemm;
  const int64_t per = n_chunks == 0 ? 0 : (n + n_chunks - 1) / n_chunks;
  const int64_t kRowsPerGemm = n_chunks <= 1 ? n : std::min(kMaxRowsPerGemm, (per + 15) / 16 * 16);
  const size_t need = static_cast<size_t>(std::min(n, kRowsPerGemm) * V);
  if (s->logits.size() < need) s->logits.resize(need);
  // Pairs by row; stable, so each continuation keeps its own (increasing-row) order.
  std::vector<size_t>& order = s->pair_order;
  order.resize(s->pair_row.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return s->pair_row[a] < s->pair_row[b]; });
  size_t k = 0;
  for (int64_t r0 = 0; r0 < n; r0 += kRowsPerGemm) {
    const int64_t rc = std::min(kRowsPerGemm, n - r0);
    OptimizedKernels().matmul(m.weights().lm_head, s->rows.data() + r0 * H, rc, V, H,
                              s->logits.data());
    for (; k < order.size() && s->pair_row[order[k]] < r0 + rc; ++k) {
      const size_t pair = order[k];
      const float* row = s->logits.data() + (s->pair_row[pair] - r0) * V;
      TokenScore t = ScoreLogitsRow(row, V, s->pair_tok[pair]);
      ContinuationScore& res = (*out)[static_cast<size_t>(s->pair_cont[pair])];
      res.logprob += t.logprob;
      res.is_greedy = res.is_greedy && t.is_argmax;
    }
  }
  s->rows.clear();
  s->pair_row.clear();
  s->pair_tok.clear();
  s->pair_cont.clear();
}

// Scores one request (see scoring.h for the semantics).
std::vector<ContinuationScore> ScoreOne(const DogeModel& m, int64_t max_len, const ScoreRequest& r,
                                        Session* s) {
  const DogeConfig& c = m.config();
  const int64_t H = c.hidden_size;
  const int64_t n_ctx = static_cast<int64_t>(r.context.size());
  // Above this input length the shared-prefix shortcut is not the reference call: dynamic NTK
  // makes the RoPE base depend on the whole call's length.
  const int64_t ntk_limit =
      c.rope_scaling_type == "dynamic" ? c.max_position_embeddings : INT64_MAX;
  const int64_t shortcut_limit = std::min<int64_t>(max_len, ntk_limit);

  std::vector<ContinuationScore> out(r.continuations.size());
  bool ctx_ready = false;
  int64_t ctx_row = -1;  // pending row holding the final-norm hidden at position n_ctx-1
  std::vector<float> ctx_last(static_cast<size_t>(H));
  for (size_t ci = 0; ci < r.continuations.size(); ++ci) {
    const std::vector<int32_t>& cont = r.continuations[ci];
    const int32_t cix = static_cast<int32_t>(ci);
    const int64_t n_cont = static_cast<int64_t>(cont.size());
    const int64_t n_in = n_ctx + n_cont - 1;  // (context + continuation)[:-1]
    ContinuationScore& res = out[ci];
    res.is_greedy = true;
    if (n_in <= shortcut_limit) {
      // Shared prefix: prefill the context once, then extend by cont[:-1] and roll back.
      if (!ctx_ready) {
        // Capacity for the longest continuation that takes this path (<= max_len).
        int64_t cap = n_in;
        for (const auto& other : r.continuations) {
          const int64_t o = n_ctx + static_cast<int64_t>(other.size()) - 1;
          if (o <= shortcut_limit) cap = std::max(cap, o);
        }
        m.ResetCache(&s->cache, cap);
        m.Forward(r.context.data(), n_ctx, &s->cache, &s->scratch, {n_ctx - 1}, ctx_last.data());
        ctx_ready = true;
      }
      // The first token of every choice is scored off the same row: one pending row for all.
      if (ctx_row < 0) ctx_row = AddRows(s, ctx_last.data(), 1, H);
      s->cache.Truncate(n_ctx);
      AddPair(s, ctx_row, cont[0], cix);
      res.n_tokens = 1;
      if (n_cont > 1) {
        std::vector<int64_t> rows(static_cast<size_t>(n_cont - 1));
        for (int64_t i = 0; i < n_cont - 1; ++i) rows[i] = i;
        s->hidden.resize(static_cast<size_t>((n_cont - 1) * H));
        m.Forward(cont.data(), n_cont - 1, &s->cache, &s->scratch, rows, s->hidden.data());
        const int64_t first = AddRows(s, s->hidden.data(), n_cont - 1, H);
        for (int64_t i = 0; i < n_cont - 1; ++i) AddPair(s, first + i, cont[i + 1], cix);
        res.n_tokens = static_cast<int32_t>(n_cont);
      }
      continue;
    }
    // Full forward over (context + continuation)[:-1], left-truncated to max_len.
    std::vector<int32_t> input(r.context);
    input.insert(input.end(), cont.begin(), cont.end() - 1);
    if (static_cast<int64_t>(input.size()) > max_len) {
      input.erase(input.begin(), input.end() - max_len);
    }
    const int64_t n = static_cast<int64_t>(input.size());
    // Continuation tokens whose predicting position survived truncation (all but pathological
    // continuations longer than max_len).
    const int64_t n_score = std::min(n_cont, n);
    std::vector<int64_t> rows(static_cast<size_t>(n_score));
    for (int64_t i = 0; i < n_score; ++i) rows[i] = n - n_score + i;
    m.ResetCache(&s->cache, n);
    ctx_ready = false;  // the cache no longer holds the context (ctx_row stays valid)
    s->hidden.resize(static_cast<size_t>(n_score * H));
    m.Forward(input.data(), n, &s->cache, &s->scratch, rows, s->hidden.data());
    const int64_t first = AddRows(s, s->hidden.data(), n_score, H);
    for (int64_t i = 0; i < n_score; ++i) AddPair(s, first + i, cont[n_cont - n_score + i], cix);
    res.n_tokens = static_cast<int32_t>(n_score);
  }
  ScorePendingRows(m, s, &out);
  return out;
}

}  // namespace

std::vector<std::vector<ContinuationScore>> DogeLanguageModel::Score(
    const std::vector<ScoreRequest>& requests) const {
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string where = "requests[" + std::to_string(i) + "]";
    if (requests[i].context.empty()) {
      throw Error(ErrorKind::kUsage, "", where + ".context", "empty context (put BOS/EOS first)");
    }
    CheckIds(requests[i].context, "context");
    for (size_t k = 0; k < requests[i].continuations.size(); ++k) {
      if (requests[i].continuations[k].empty()) {
        throw Error(ErrorKind::kUsage, "", where + ".continuations[" + std::to_string(k) + "]",
                    "empty continuation");
      }
      CheckIds(requests[i].continuations[k], "continuation");
    }
  }
  SetThreads(n_threads_);
  std::vector<std::vector<ContinuationScore>> out(requests.size());
  const int64_t n = static_cast<int64_t>(requests.size());
  const int64_t max_len = max_length();
#pragma omp parallel num_threads(n_threads_) if (n > 1 && n_threads_ > 1)
  {
    Session s;
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) out[i] = ScoreOne(*model_, max_len, requests[i], &s);
  }
  return out;
}

std::vector<std::vector<double>> DogeLanguageModel::NextTokenLogprobs(
    const std::vector<std::vector<int32_t>>& contexts, const std::vector<int32_t>& token_ids) const {
  for (size_t i = 0; i < contexts.size(); ++i) {
    if (contexts[i].empty()) {
      throw Error(ErrorKind::kUsage, "", "contexts[" + std::to_string(i) + "]", "empty context");
    }
    CheckIds(contexts[i], "context");
  }
  CheckIds(token_ids, "token_ids");
  SetThreads(n_threads_);
  const DogeModel& m = *model_;
  const int64_t V = m.config().vocab_size, H = m.config().hidden_size;
  const int64_t n = static_cast<int64_t>(contexts.size());
  std::vector<std::vector<double>> out(static_cast<size_t>(n));
#pragma omp parallel num_threads(n_threads_) if (n > 1 && n_threads_ > 1)
  {
    Session s;
    s.logits.resize(static_cast<size_t>(V));
    s.hidden.resize(static_cast<size_t>(H));
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) {
      const std::vector<int32_t>& ctx = contexts[i];
      const int64_t len = std::min<int64_t>(static_cast<int64_t>(ctx.size()), max_length());
      const int32_t* ids = ctx.data() + (ctx.size() - len);
      m.ResetCache(&s.cache, len);
      m.Forward(ids, len, &s.cache, &s.scratch, {len - 1}, s.hidden.data());
      m.Logits(s.hidden.data(), s.logits.data());
      double mx = s.logits[0];
      for (int64_t v = 1; v < V; ++v) mx = std::max<double>(mx, s.logits[v]);
      double sum = 0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(s.logits[v]) - mx);
      const double lse = mx + std::log(sum);
      out[i].resize(token_ids.size());
      for (size_t k = 0; k < token_ids.size(); ++k) out[i][k] = s.logits[token_ids[k]] - lse;
    }
  }
  return out;
}

namespace {

std::vector<int32_t> GenerateOne(const DogeModel& m, int64_t max_len, const std::vector<int32_t>& prompt,
                                 int32_t max_new, Sampler* sampler,
                                 const std::function<bool(const std::vector<int32_t>&)>& stop,
                                 Session* s, DogeLanguageModel::GenerateStats* stats = nullptr) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const int64_t V = m.config().vocab_size, H = m.config().hidden_size;
  const int64_t len = std::min<int64_t>(static_cast<int64_t>(prompt.size()), max_len);
  const int32_t* ids = prompt.data() + (prompt.size() - len);
  std::vector<int32_t> gen;
  if (max_new <= 0 || len == 0) return gen;
  gen.reserve(static_cast<size_t>(max_new));
  m.ResetCache(&s->cache, len + max_new);
  s->logits.resize(static_cast<size_t>(V));
  s->hidden.resize(static_cast<size_t>(H));
  m.Forward(ids, len, &s->cache, &s->scratch, {len - 1}, s->hidden.data());
  auto t1 = Clock::now();
  int64_t decoded = 0;
  for (int32_t step = 0; step < max_new; ++step) {
    m.Logits(s->hidden.data(), s->logits.data());
    const int32_t next = sampler->Sample(s->logits.data(), V);
    gen.push_back(next);
    if (step == 0) t1 = Clock::now();  // prefill ends with its logits row and first sample
    if (stop && stop(gen)) break;
    if (step + 1 == max_new) break;
    m.Forward(&next, 1, &s->cache, &s->scratch, {0}, s->hidden.data());
    ++decoded;
  }
  if (stats) {
    const auto t2 = Clock::now();
    stats->prefill_tokens = len;
    stats->decode_tokens = decoded;
    stats->prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
    stats->decode_seconds = std::chrono::duration<double>(t2 - t1).count();
  }
  return gen;
}

}  // namespace

std::vector<std::vector<int32_t>> DogeLanguageModel::GenerateGreedy(
    const std::vector<std::vector<int32_t>>& prompts, int32_t max_new_tokens,
    const std::function<bool(const std::vector<int32_t>&)>& stop) const {
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) {
      throw Error(ErrorKind::kUsage, "", "prompts[" + std::to_string(i) + "]", "empty prompt");
    }
    CheckIds(prompts[i], "prompt");
  }
  SetThreads(n_threads_);
  const int64_t n = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(n));
#pragma omp parallel num_threads(n_threads_) if (n > 1 && n_threads_ > 1)
  {
    Session s;
    Sampler greedy(SamplerConfig{});
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) {
      out[i] = GenerateOne(*model_, max_length(), prompts[i], max_new_tokens, &greedy, stop, &s);
    }
  }
  return out;
}

std::vector<int32_t> DogeLanguageModel::Generate(
    const std::vector<int32_t>& prompt, int32_t max_new_tokens, const SamplerConfig& sampler,
    const std::function<bool(const std::vector<int32_t>&)>& stop, GenerateStats* stats) const {
  if (prompt.empty()) throw Error(ErrorKind::kUsage, "", "prompt", "empty prompt");
  CheckIds(prompt, "prompt");
  SetThreads(n_threads_);
  Session s;
  Sampler smp(sampler);
  return GenerateOne(*model_, max_length(), prompt, max_new_tokens, &smp, stop, &s, stats);
}

}  // namespace doge
