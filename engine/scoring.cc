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

#include "engine/base/error.h"
#include "engine/prefix_cache.h"

namespace doge {
namespace {

// Per-thread state: one KV cache, forward scratch and row buffers, reused across the requests
// that thread handles.
struct Session {
  KvCache cache;
  ForwardScratch scratch;
  std::vector<float> hidden;  // [rows, H] final-norm rows of one forward call
  std::vector<float> logits;  // [V] one row of logits (generation, next-token log-probs)
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
  lm->SetPrefixCacheBytes(DefaultPrefixCacheBytes());
  return lm;
}

void DogeLanguageModel::SetPrefixCacheBytes(int64_t bytes) {
  std::lock_guard<std::mutex> lock(score_mu_);
  const DogeConfig& c = model_->config();
  // Budget 0 keeps an empty cache that only counts the tokens scored (hit rate 0).
  prefix_cache_ = std::make_unique<PrefixCache>(c.num_hidden_layers,
                                                c.num_key_value_heads * c.head_dim(),
                                                model_->weights().n_bias_heads, bytes);
}

int64_t DogeLanguageModel::prefix_cache_bytes() const { return prefix_cache_->budget_bytes(); }

PrefixCacheStats DogeLanguageModel::prefix_cache_stats() const {
  return prefix_cache_->stats();
}

void DogeLanguageModel::CheckIds(const std::vector<int32_t>& ids, const char* what) const {
  const int64_t v = model_->config().vocab_size;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= v) {
      throw Error(ErrorKind::kUsage, "", std::string(what) + "[" + std::to_string(i) + "]",
                  "token id " + std::to_string(ids[i]) + " outside [0, " + std::to_string(v) +
                      "): the model (config.json vocab_size " + std::to_string(v) +
                      ") has no embedding row for it");
    }
  }
}

namespace {

// One request between its forward passes and its vocabulary step: the final-norm rows it needs
// scored and, per (row, target) pair, the continuation it belongs to.
struct PendingRows {
  std::vector<float> rows;         // [n_rows, H]
  std::vector<int64_t> pair_row;   // [n_pairs] row index
  std::vector<int32_t> pair_tok;   // [n_pairs] target token
  std::vector<int32_t> pair_cont;  // [n_pairs] continuation index
  std::vector<ContinuationScore> out;
};

// Rows of several requests per fused vocabulary call: the [V, H] head is streamed once for all of
// them (once per batch instead of once per request) while the rows stay a few MiB.
constexpr int64_t kMaxRowsPerVocabCall = 2048;

// The vocabulary step's buffers, reused across calls.
struct VocabBuffers {
  std::vector<float> rows;       // [n_rows, H] the requests' rows, concatenated
  std::vector<int64_t> off;      // [n_rows + 1] each row's targets in tok
  std::vector<int32_t> tok;      // targets grouped by row
  std::vector<double> logprob;   // per target
  std::vector<int32_t> argmax;   // per row
  std::vector<std::vector<int64_t>> where;  // per request and pair: its target's index in tok
};

// Scores the pending pairs of requests [first, last) through the fused vocabulary kernel
// (kernel_set.h vocab_logprob: the [n, V] logits are never stored) and adds each pair's log-prob
// to its continuation in pair order (per continuation: its tokens in order, as one reference call
// sums them). Every row's result depends on that row alone, so a request scores the same bits
// alone or in any batch, on any thread count.
void ScorePending(const DogeModel& m, PendingRows* first, PendingRows* last, VocabBuffers* b) {
  const int64_t H = m.config().hidden_size, V = m.config().vocab_size;
  std::vector<float>& rows = b->rows;
  std::vector<int64_t>& off = b->off;
  std::vector<int32_t>& tok = b->tok;
  std::vector<std::vector<int64_t>>& where = b->where;
  rows.clear();
  off.assign(1, 0);
  tok.clear();
  where.clear();
  for (PendingRows* r = first; r != last; ++r) {
    const int64_t n = static_cast<int64_t>(r->rows.size()) / H;
    rows.insert(rows.end(), r->rows.begin(), r->rows.end());
    // Targets grouped by row, each row's in pair order (a counting sort): row i's offsets follow
    // the previous rows', and pair p lands at its row's next free slot.
    const size_t row0 = off.size() - 1, n_pairs = r->pair_row.size();
    off.resize(row0 + static_cast<size_t>(n) + 1, 0);
    for (int64_t row : r->pair_row) ++off[row0 + static_cast<size_t>(row) + 1];
    for (size_t i = row0 + 1; i < off.size(); ++i) off[i] += off[i - 1];
    std::vector<int64_t> next(off.begin() + row0, off.end() - 1);
    tok.resize(static_cast<size_t>(off.back()));
    where.emplace_back(n_pairs);
    for (size_t p = 0; p < n_pairs; ++p) {
      const int64_t at = next[static_cast<size_t>(r->pair_row[p])]++;
      where.back()[p] = at;
      tok[static_cast<size_t>(at)] = r->pair_tok[p];
    }
  }
  const int64_t n_rows = static_cast<int64_t>(off.size()) - 1;
  std::vector<double>& logprob = b->logprob;
  std::vector<int32_t>& argmax = b->argmax;
  logprob.resize(tok.size());
  argmax.resize(static_cast<size_t>(n_rows));
  OptimizedKernels().vocab_logprob(m.weights().lm_head, m.weights().lm_head_packed, rows.data(),
                                   n_rows, V, H, off.data(), tok.data(), logprob.data(),
                                   argmax.data());
  int64_t row0 = 0;
  size_t ri = 0;
  for (PendingRows* r = first; r != last; ++r, ++ri) {
    for (size_t p = 0; p < r->pair_row.size(); ++p) {
      ContinuationScore& res = r->out[static_cast<size_t>(r->pair_cont[p])];
      res.logprob += logprob[static_cast<size_t>(where[ri][p])];
      res.is_greedy = res.is_greedy &&
                      argmax[static_cast<size_t>(row0 + r->pair_row[p])] == r->pair_tok[p];
    }
    row0 += static_cast<int64_t>(r->rows.size()) / H;
  }
}

// Appends `n` final-norm rows to the request's pending rows; returns the index of the first.
int64_t AddRows(PendingRows* p, const float* hidden, int64_t n, int64_t H) {
  const int64_t first = static_cast<int64_t>(p->rows.size()) / H;
  p->rows.insert(p->rows.end(), hidden, hidden + n * H);
  return first;
}

void AddPair(PendingRows* p, int64_t row, int32_t token, int32_t cont) {
  p->pair_row.push_back(row);
  p->pair_tok.push_back(token);
  p->pair_cont.push_back(cont);
}

// Tokens per ForwardBranches call: enough for full GEMM panels, few enough that the queries'
// masked-out keys of other branches stay a small share of the attention work.
constexpr int64_t kMaxBranchTokens = 256;

// Step 2 of ForwardOne for one branch group: all its choices' cont[:-1] in one ForwardBranches
// call over the cached context (each branch sees the context and itself only), after rolling the
// cache back to the context; their rows and pairs go to `pending`.
void ScoreBranchGroup(const DogeModel& m, const ScoreRequest& r, const std::vector<size_t>& g,
                      Session* s, PendingRows* pending) {
  const int64_t H = m.config().hidden_size;
  const int64_t n_ctx = static_cast<int64_t>(r.context.size());
  std::vector<int32_t> tokens;
  std::vector<int64_t> lens;
  for (size_t ci : g) {
    const auto& cont = r.continuations[ci];
    tokens.insert(tokens.end(), cont.begin(), cont.end() - 1);
    lens.push_back(static_cast<int64_t>(cont.size()) - 1);
  }
  const int64_t T = static_cast<int64_t>(tokens.size());
  s->hidden.resize(static_cast<size_t>(T * H));
  s->cache.Truncate(n_ctx);
  if (n_ctx + *std::max_element(lens.begin(), lens.end()) <= m.window()) {
    m.ForwardBranches(tokens.data(), lens.data(), static_cast<int64_t>(lens.size()), &s->cache,
                      &s->scratch, s->hidden.data());
  } else {
    // A top-k window shorter than the input: the branches would count each other's keys;
    // one Forward per choice instead.
    int64_t off = 0;
    for (int64_t len : lens) {
      s->cache.Truncate(n_ctx);
      std::vector<int64_t> rows(static_cast<size_t>(len));
      std::iota(rows.begin(), rows.end(), int64_t{0});
      m.Forward(tokens.data() + off, len, &s->cache, &s->scratch, rows,
                s->hidden.data() + off * H);
      off += len;
    }
  }
  const int64_t first = AddRows(pending, s->hidden.data(), T, H);
  int64_t off = 0;
  for (size_t ci : g) {
    const auto& cont = r.continuations[ci];
    for (size_t i = 1; i < cont.size(); ++i, ++off) {
      AddPair(pending, first + off, cont[i], static_cast<int32_t>(ci));
    }
  }
}

// Step 3 of ForwardOne for choice `ci`: one forward over (context + continuation)[:-1],
// left-truncated to max_len, from an empty cache.
void ScoreFullForward(const DogeModel& m, int64_t max_len, const ScoreRequest& r, size_t ci,
                      Session* s, PrefixCache* prefix_cache, PendingRows* pending) {
  const int64_t H = m.config().hidden_size;
  const std::vector<int32_t>& cont = r.continuations[ci];
  const int64_t n_cont = static_cast<int64_t>(cont.size());
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
  if (prefix_cache) prefix_cache->CountUncached(n);
  s->hidden.resize(static_cast<size_t>(n_score * H));
  m.Forward(input.data(), n, &s->cache, &s->scratch, rows, s->hidden.data());
  const int64_t first = AddRows(pending, s->hidden.data(), n_score, H);
  for (int64_t i = 0; i < n_score; ++i) {
    AddPair(pending, first + i, cont[n_cont - n_score + i], static_cast<int32_t>(ci));
  }
  pending->out[ci].is_greedy = true;
  pending->out[ci].n_tokens = static_cast<int32_t>(n_score);
}

// The forward passes of one request (see scoring.h for the semantics): fills `pending` with the
// rows and pairs its vocabulary step needs.
void ForwardOne(const DogeModel& m, int64_t max_len, const ScoreRequest& r, Session* s,
                PrefixCache* prefix_cache, PendingRows* pending) {
  const DogeConfig& c = m.config();
  const int64_t H = c.hidden_size;
  const int64_t n_ctx = static_cast<int64_t>(r.context.size());
  // Above this input length the shared-prefix shortcut is not the reference call: dynamic NTK
  // makes the RoPE base depend on the whole call's length.
  const int64_t ntk_limit =
      c.rope_scaling_type == "dynamic" ? c.max_position_embeddings : INT64_MAX;
  const int64_t shortcut_limit = std::min<int64_t>(max_len, ntk_limit);
  const size_t n_choices = r.continuations.size();
  pending->out.assign(n_choices, ContinuationScore{});
  std::vector<ContinuationScore>& out = pending->out;
  auto n_in = [&](size_t ci) {  // length of (context + continuation)[:-1]
    return n_ctx + static_cast<int64_t>(r.continuations[ci].size()) - 1;
  };

  // 1. Shared prefix: prefill the context once; the first token of every shortcut choice is
  //    scored off its last row (one pending row for all of them).
  std::vector<size_t> shortcut, full;
  for (size_t ci = 0; ci < n_choices; ++ci) (n_in(ci) <= shortcut_limit ? shortcut : full).push_back(ci);
  if (!shortcut.empty()) {
    // Branch groups: consecutive shortcut choices with more than one token, up to
    // kMaxBranchTokens tokens per group (a longer choice is a group of its own).
    std::vector<std::vector<size_t>> groups;
    int64_t group_tokens = 0, cap = n_ctx;
    for (size_t ci : shortcut) {
      const int64_t len = static_cast<int64_t>(r.continuations[ci].size()) - 1;
      if (len == 0) continue;
      if (groups.empty() || group_tokens + len > kMaxBranchTokens) {
        groups.emplace_back();
        group_tokens = 0;
      }
      groups.back().push_back(ci);
      group_tokens += len;
      cap = std::max(cap, n_ctx + group_tokens);
    }
    std::vector<float> ctx_last(static_cast<size_t>(H));
    m.ResetCache(&s->cache, cap);
    // The context's rows come from the prefix cache where it holds a prefix of them (all but the
    // last token, whose hidden row is needed); the rest is one forward call. Every position of
    // this call is below shortcut_limit: no truncation, no dynamic-NTK base (prefix_cache.h).
    int64_t P = 0;
    if (prefix_cache) {
      int64_t n_logical = n_ctx;
      for (size_t ci : shortcut) n_logical += static_cast<int64_t>(r.continuations[ci].size()) - 1;
      P = prefix_cache->Restore(r.context.data(), n_ctx - 1, n_logical, &s->cache);
    }
    m.Forward(r.context.data() + P, n_ctx - P, &s->cache, &s->scratch, {n_ctx - P - 1},
              ctx_last.data());
    if (prefix_cache) prefix_cache->Store(r.context.data(), n_ctx, &s->cache);
    const int64_t ctx_row = AddRows(pending, ctx_last.data(), 1, H);
    for (size_t ci : shortcut) {
      out[ci].is_greedy = true;
      out[ci].n_tokens = static_cast<int32_t>(r.continuations[ci].size());
      AddPair(pending, ctx_row, r.continuations[ci][0], static_cast<int32_t>(ci));
    }
    // 2. Each group: all its choices' cont[:-1] in one ForwardBranches call over the cached
    //    context (each branch sees the context and itself only), then roll the cache back.
    for (const auto& g : groups) ScoreBranchGroup(m, r, g, s, pending);
  }
  // 3. Full forward over (context + continuation)[:-1], left-truncated to max_len, for the
  //    choices the shortcut would not reproduce.
  for (size_t ci : full) ScoreFullForward(m, max_len, r, ci, s, prefix_cache, pending);
}

// The order a batch runs in, in two phases. Its inputs sorted by token ids, so requests that share
// a prefix are neighbours; phase 1 holds the first request of each sharing run whose shared
// blocks are not cached yet, phase 2 the rest, so with several threads the followers find the
// prefix in the cache instead of all computing it at once. Results do not depend on the order
// (every request is computed on its own).
struct SharingPlan {
  std::vector<size_t> order;  // [n] request indices: phase 1 then phase 2
  int64_t n_first = 0;        // requests in phase 1
};

template <typename T, typename Ids>
SharingPlan PlanSharing(const std::vector<T>& items, Ids ids, const PrefixCache* cache) {
  const size_t n = items.size();
  std::vector<size_t> sorted(n);
  std::iota(sorted.begin(), sorted.end(), size_t{0});
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](size_t a, size_t b) { return ids(items[a]) < ids(items[b]); });
  auto lcp = [&](size_t a, size_t b) {
    const std::vector<int32_t>& x = ids(items[a]);
    const std::vector<int32_t>& y = ids(items[b]);
    const size_t m = std::min(x.size(), y.size());
    return static_cast<int64_t>(std::mismatch(x.begin(), x.begin() + m, y.begin()).first - x.begin());
  };
  constexpr int64_t kB = PrefixCache::kBlockTokens;
  SharingPlan plan;
  std::vector<size_t> second;
  for (size_t j = 0; j < n; ++j) {
    const bool run_start = j == 0 || lcp(sorted[j - 1], sorted[j]) < kB;
    const int64_t shared = j + 1 < n ? lcp(sorted[j], sorted[j + 1]) / kB * kB : 0;
    const std::vector<int32_t>& x = ids(items[sorted[j]]);
    const bool leads = run_start && shared >= kB &&
                       (cache == nullptr || cache->CachedPrefix(x.data(), shared) < shared);
    (leads ? plan.order : second).push_back(sorted[j]);
  }
  plan.n_first = static_cast<int64_t>(plan.order.size());
  plan.order.insert(plan.order.end(), second.begin(), second.end());
  return plan;
}

// Prefill of one whole input (a prompt, or a context read at its last position) with the prefix
// cache: restores the longest cached prefix of ids[0, len - 1), computes the rest, stores the
// input's whole blocks. Inputs longer than ntk_limit get no cache (dynamic NTK makes the RoPE
// base depend on the call's length). Writes the last position's final-norm row to `last`.
void PrefillWithCache(const DogeModel& m, const int32_t* ids, int64_t len, int64_t ntk_limit,
                      PrefixCache* prefix_cache, KvCache* cache, ForwardScratch* scratch,
                      float* last) {
  int64_t P = 0;
  const bool use = prefix_cache != nullptr && len <= ntk_limit;
  if (use) {
    P = prefix_cache->Restore(ids, len - 1, len, cache);
  } else if (prefix_cache) {
    prefix_cache->CountUncached(len);
  }
  m.Forward(ids + P, len - P, cache, scratch, {len - P - 1}, last);
  if (use) prefix_cache->Store(ids, len, cache);
}
void PrefillWithCache(const DogeModel& m, const int32_t* ids, int64_t len, int64_t ntk_limit,
                      PrefixCache* prefix_cache, Session* s, float* last) {
  PrefillWithCache(m, ids, len, ntk_limit, prefix_cache, &s->cache, &s->scratch, last);
}

int64_t NtkLimit(const DogeConfig& c) {
  return c.rope_scaling_type == "dynamic" ? c.max_position_embeddings : INT64_MAX;
}

}  // namespace

struct DogeLanguageModel::ScoreBuffers {
  std::vector<Session> sessions;  // one per OpenMP thread of Score()
  VocabBuffers vocab;
};

DogeLanguageModel::DogeLanguageModel() : score_buffers_(std::make_unique<ScoreBuffers>()) {}
DogeLanguageModel::~DogeLanguageModel() = default;

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
  std::lock_guard<std::mutex> lock(score_mu_);
  SetThreads(n_threads_);
  const int64_t n = static_cast<int64_t>(requests.size());
  const int64_t max_len = max_length();
  const int64_t H = model_->config().hidden_size;
  std::vector<PendingRows> pending(static_cast<size_t>(n));
  ScoreBuffers& buf = *score_buffers_;
  if (static_cast<int>(buf.sessions.size()) < n_threads_) buf.sessions.resize(n_threads_);
  const SharingPlan plan = PlanSharing(
      requests, [](const ScoreRequest& r) -> const std::vector<int32_t>& { return r.context; },
      prefix_cache_.get());
  // 1. Forward passes, requests in parallel (each on one thread; a lone request's kernels use the
  //    team instead).
#pragma omp parallel num_threads(n_threads_) if (n > 1 && n_threads_ > 1)
  {
#ifdef _OPENMP
    Session& s = buf.sessions[static_cast<size_t>(omp_get_thread_num())];
#else
    Session& s = buf.sessions[0];
#endif
    for (int phase = 0; phase < 2; ++phase) {
      const int64_t lo = phase == 0 ? 0 : plan.n_first, hi = phase == 0 ? plan.n_first : n;
#pragma omp for schedule(dynamic, 1)
      for (int64_t i = lo; i < hi; ++i) {
        const size_t k = plan.order[static_cast<size_t>(i)];
        ForwardOne(*model_, max_len, requests[k], &s, prefix_cache_.get(), &pending[k]);
      }
    }
  }
  // 2. The vocabulary step for consecutive requests together, up to kMaxRowsPerVocabCall rows
  //    per call (the kernel splits the vocabulary across the threads).
  for (int64_t i = 0; i < n;) {
    int64_t j = i, rows = 0;
    do {
      rows += static_cast<int64_t>(pending[j].rows.size()) / H;
      ++j;
    } while (j < n && rows + static_cast<int64_t>(pending[j].rows.size()) / H <= kMaxRowsPerVocabCall);
    ScorePending(*model_, pending.data() + i, pending.data() + j, &buf.vocab);
    i = j;
  }
  std::vector<std::vector<ContinuationScore>> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = std::move(pending[i].out);
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
  const SharingPlan plan = PlanSharing(
      contexts, [](const std::vector<int32_t>& c) -> const std::vector<int32_t>& { return c; },
      prefix_cache_.get());
#pragma omp parallel num_threads(n_threads_) if (n > 1 && n_threads_ > 1)
  {
    Session s;
    s.logits.resize(static_cast<size_t>(V));
    s.hidden.resize(static_cast<size_t>(H));
    for (int phase = 0; phase < 2; ++phase) {
      const int64_t lo = phase == 0 ? 0 : plan.n_first, hi = phase == 0 ? plan.n_first : n;
#pragma omp for schedule(dynamic, 1)
      for (int64_t oi = lo; oi < hi; ++oi) {
        const size_t i = plan.order[static_cast<size_t>(oi)];
        const std::vector<int32_t>& ctx = contexts[i];
        const int64_t len = std::min<int64_t>(static_cast<int64_t>(ctx.size()), max_length());
        // A left-truncated context is its own input from position 0: the cache is keyed by the
        // ids actually run, so truncation needs no special case here.
        const int32_t* ids = ctx.data() + (ctx.size() - len);
        m.ResetCache(&s.cache, len);
        PrefillWithCache(m, ids, len, NtkLimit(m.config()), prefix_cache_.get(), &s, s.hidden.data());
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
  }
  return out;
}

namespace {

std::vector<int32_t> GenerateOne(const DogeModel& m, int64_t max_len, const std::vector<int32_t>& prompt,
                                 int32_t max_new, PrefixCache* prefix_cache, Sampler* sampler,
                                 const std::function<bool(const std::vector<int32_t>&)>& stop,
                                 const GenerationConfig& gen_config, Session* s,
                                 DogeLanguageModel::GenerateStats* stats = nullptr) {
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
  PrefillWithCache(m, ids, len, NtkLimit(m.config()), prefix_cache, s, s->hidden.data());
  auto t1 = Clock::now();
  int64_t decoded = 0;
  // The prompt as the model saw it (after left truncation), for the generation_config processors.
  const bool process = !gen_config.IsPlain();
  const std::vector<int32_t> seen =
      process ? std::vector<int32_t>(ids, ids + len) : std::vector<int32_t>();
  for (int32_t step = 0; step < max_new; ++step) {
    m.Logits(s->hidden.data(), s->logits.data());
    if (process) ApplyGenerationConfig(gen_config, seen, gen, s->logits.data(), V);
    const int32_t next = sampler->Sample(s->logits.data(), V);
    gen.push_back(next);
    if (step == 0) t1 = Clock::now();  // prefill ends with its logits row and first sample
    if (stop && stop(gen)) break;
    if (step + 1 == max_new) break;
    m.Forward(&next, 1, &s->cache, &s->scratch, {0}, s->hidden.data());
    ++decoded;
    if (prefix_cache) prefix_cache->CountUncached(1);
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

namespace {

// GenerateGreedy's lockstep decoding of plan entries [lo, hi): 1. prefill each prompt (in
// parallel, the group's sharing leaders first), 2. decode all of them one step at a time, one fused
// vocab_logprob argmax pass per step, until each stopped; the tokens go to out[plan.order[i]].
void RunLockstepGroup(const DogeModel& m, const std::vector<std::vector<int32_t>>& prompts,
                      const SharingPlan& plan, int64_t lo, int64_t hi, int64_t max_len,
                      int32_t max_new_tokens, int n_threads, PrefixCache* prefix_cache,
                      const std::function<bool(const std::vector<int32_t>&)>& stop,
                      std::vector<KvCache>* all_caches, std::vector<ForwardScratch>* all_scratch,
                      std::vector<std::vector<int32_t>>* generated) {
  const DogeConfig& c = m.config();
  const int64_t V = c.vocab_size, H = c.hidden_size;
  std::vector<KvCache>& caches = *all_caches;
  std::vector<ForwardScratch>& scratch = *all_scratch;
  std::vector<std::vector<int32_t>>& out = *generated;
  std::vector<float> rows;          // [group, H] each sequence's last final-norm row
  std::vector<float> active_rows;   // [n_active, H]
  std::vector<int32_t> argmax;      // [n_active]
  std::vector<int64_t> no_targets;  // [n_active + 1] zeros: argmax only
  const int64_t g = hi - lo;
  if (static_cast<int64_t>(caches.size()) < g) caches.resize(static_cast<size_t>(g));
  rows.resize(static_cast<size_t>(g * H));
  // 1. Prefill, prompts in parallel; the group's sharing leaders first (PlanSharing).
#pragma omp parallel num_threads(n_threads) if (g > 1 && n_threads > 1)
  {
#ifdef _OPENMP
    ForwardScratch& sc = scratch[static_cast<size_t>(omp_get_thread_num())];
#else
    ForwardScratch& sc = scratch[0];
#endif
    for (int phase = 0; phase < 2; ++phase) {
      const int64_t a = phase == 0 ? lo : std::max(lo, plan.n_first);
      const int64_t b = phase == 0 ? std::min(hi, plan.n_first) : hi;
#pragma omp for schedule(dynamic, 1)
      for (int64_t oi = a; oi < b; ++oi) {
        const std::vector<int32_t>& p = prompts[plan.order[static_cast<size_t>(oi)]];
        const int64_t len = std::min<int64_t>(static_cast<int64_t>(p.size()), max_len);
        KvCache& cache = caches[static_cast<size_t>(oi - lo)];
        m.ResetCache(&cache, len + max_new_tokens);
        PrefillWithCache(m, p.data() + (p.size() - len), len, NtkLimit(c), prefix_cache,
                         &cache, &sc, rows.data() + (oi - lo) * H);
      }
    }
  }
  // 2. Decode in lockstep until every sequence stopped.
  std::vector<int64_t> active(static_cast<size_t>(g));
  std::iota(active.begin(), active.end(), int64_t{0});
  std::vector<int32_t> next(static_cast<size_t>(g));
  while (!active.empty()) {
    const int64_t na = static_cast<int64_t>(active.size());
    active_rows.resize(static_cast<size_t>(na * H));
    for (int64_t k = 0; k < na; ++k) {
      std::copy_n(rows.data() + active[k] * H, H, active_rows.data() + k * H);
    }
    argmax.resize(static_cast<size_t>(na));
    no_targets.assign(static_cast<size_t>(na + 1), 0);
    OptimizedKernels().vocab_logprob(m.weights().lm_head, m.weights().lm_head_packed,
                                     active_rows.data(), na, V, H, no_targets.data(), nullptr,
                                     nullptr, argmax.data());
    std::vector<int64_t> still;
    for (int64_t k = 0; k < na; ++k) {
      const int64_t j = active[k];
      std::vector<int32_t>& gen = out[plan.order[static_cast<size_t>(lo + j)]];
      gen.push_back(argmax[k]);
      next[j] = argmax[k];
      if (stop && stop(gen)) continue;
      if (static_cast<int32_t>(gen.size()) == max_new_tokens) continue;
      still.push_back(j);
    }
    active.swap(still);
    const int64_t ns = static_cast<int64_t>(active.size());
#pragma omp parallel num_threads(n_threads) if (ns > 1 && n_threads > 1)
    {
#ifdef _OPENMP
      ForwardScratch& sc = scratch[static_cast<size_t>(omp_get_thread_num())];
#else
      ForwardScratch& sc = scratch[0];
#endif
#pragma omp for schedule(dynamic, 1)
      for (int64_t k = 0; k < ns; ++k) {
        const int64_t j = active[k];
        m.Forward(&next[j], 1, &caches[static_cast<size_t>(j)], &sc, {0}, rows.data() + j * H);
      }
    }
    if (prefix_cache) prefix_cache->CountUncached(ns);
  }
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
  if (max_new_tokens <= 0) return out;
  if (!generation_config_.IsPlain()) {
    // generation_config.json processors (repetition penalty, suppressed tokens, ...) need every
    // step's full logits row; the lockstep path below reads only the fused argmax. So these
    // prompts run one by one, in parallel, exactly as Generate() runs each (same tokens).
#pragma omp parallel num_threads(n_threads_) if (n > 1 && n_threads_ > 1)
    {
      Session s;
      Sampler greedy(SamplerConfig{});
#pragma omp for schedule(dynamic, 1)
      for (int64_t i = 0; i < n; ++i) {
        out[i] = GenerateOne(*model_, max_length(), prompts[i], max_new_tokens, prefix_cache_.get(),
                             &greedy, stop, generation_config_, &s);
      }
    }
    return out;
  }
  const DogeModel& m = *model_;
  const DogeConfig& c = m.config();
  const int64_t max_len = max_length();
  const SharingPlan plan = PlanSharing(
      prompts, [](const std::vector<int32_t>& p) -> const std::vector<int32_t>& { return p; },
      prefix_cache_.get());
  // Lockstep groups: the prompts of a group are prefilled, then decoded one step at a time
  // together, so each step streams the [V, H] vocabulary matrix once for all of them (one fused
  // vocab_logprob call reading the argmax of every row) instead of once per sequence: with a
  // 32768-token vocabulary that matrix is most of a small model's bytes per decoded token. Each
  // sequence keeps its own KV cache; the group is sized so those caches stay within
  // kLockstepCacheBytes. The argmax is the first maximum of the same logits Logits() gives, so
  // the tokens are those of one Generate() per prompt (tests/engine/prefix_cache_test.cc).
  constexpr int64_t kMaxLockstep = 64;
  constexpr int64_t kLockstepCacheBytes = int64_t{512} << 20;
  const int64_t token_bytes =
      c.num_hidden_layers * (2 * c.num_key_value_heads * c.head_dim() + m.weights().n_bias_heads) * 4;
  std::vector<KvCache> caches;
  std::vector<ForwardScratch> scratch(static_cast<size_t>(n_threads_));
  for (int64_t lo = 0; lo < n;) {
    // The group: plan entries [lo, hi), at most kMaxLockstep and the cache budget (>= 1).
    int64_t hi = lo, bytes = 0;
    while (hi < n && hi - lo < kMaxLockstep) {
      const std::vector<int32_t>& p = prompts[plan.order[static_cast<size_t>(hi)]];
      const int64_t cap = std::min<int64_t>(static_cast<int64_t>(p.size()), max_len) + max_new_tokens;
      if (hi > lo && bytes + cap * token_bytes > kLockstepCacheBytes) break;
      bytes += cap * token_bytes;
      ++hi;
    }
    RunLockstepGroup(m, prompts, plan, lo, hi, max_len, max_new_tokens, n_threads_,
                     prefix_cache_.get(), stop, &caches, &scratch, &out);
    lo = hi;
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
  return GenerateOne(*model_, max_length(), prompt, max_new_tokens, prefix_cache_.get(), &smp, stop,
                     generation_config_, &s, stats);
}

}  // namespace doge
