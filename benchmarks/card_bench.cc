// `doge bench card`: per-task shapes of the model card, measured throughput, projected wall time.
#include "benchmarks/card_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "benchmarks/e2e.h"
#include "engine/base/error.h"
#include "engine/base/fingerprint.h"
#include "engine/base/json_writer.h"
#include "engine/prefix_cache.h"
#include "engine/scoring.h"

namespace doge {
namespace {

// Measured on the samples (see card_bench.h): means of context_tokens and n_tokens of the
// details of `doge eval --tasks card` over tests/data/datasets-canonical with the Doge tokenizer,
// and shared_tokens = the prefix cache's tokens_reused / (documents - sharing groups) of the same
// run. MMLU's groups are its 57 subjects (246 documents each on average); the other tasks draw
// their shots so that what they share is the same for the whole split (one group). TriviaQA generates its
// generation_size of 20 tokens (an upper bound: a trained model often stops earlier at "\n").
const std::vector<CardTaskShape> kCardA = {
    {"mmlu", "single_token", 14042, 827, 4, 1, 713, 57},
    {"triviaqa", "generate", 17944, 133, 1, 20, 117, 1},
    {"arc_easy", "multiple_choice", 2376, 171, 4, 4, 12, 1},
    {"arc_challenge", "multiple_choice", 1172, 232, 4, 6, 17, 1},
    {"piqa", "multiple_choice", 1838, 140, 2, 21, 130, 1},
    {"hellaswag", "multiple_choice", 10042, 303, 4, 11, 49, 1},
    {"openbookqa", "multiple_choice", 500, 119, 4, 3, 107, 1},
    {"winogrande", "multiple_choice", 1267, 138, 2, 7, 8, 1},
};
// card-b: cloze MMLU over `all` (shots shared by subject only in part), ARC with balanced shots
// fixed for the split; the other tasks as card-a.
const std::vector<CardTaskShape> kCardB = {
    {"mmlu", "multiple_choice", 14042, 266, 4, 9, 159, 57},
    {"triviaqa", "generate", 17944, 133, 1, 20, 117, 1},
    {"arc_easy", "multiple_choice", 2376, 226, 4, 4, 204, 1},
    {"arc_challenge", "multiple_choice", 1172, 244, 4, 6, 205, 1},
    {"piqa", "multiple_choice", 1838, 140, 2, 21, 130, 1},
    {"hellaswag", "multiple_choice", 10042, 303, 4, 11, 49, 1},
    {"openbookqa", "multiple_choice", 500, 119, 4, 3, 107, 1},
    {"winogrande", "multiple_choice", 1267, 138, 2, 7, 8, 1},
};

using Clock = std::chrono::steady_clock;

// Synthetic documents of one shape: doc d's context = the shared ids (the same for every doc,
// BOS first) + its own random ids; its continuations random.
struct Docs {
  std::vector<std::vector<int32_t>> contexts;                 // [n][ctx_tokens]
  std::vector<std::vector<std::vector<int32_t>>> conts;       // [n][choices][cont_tokens]
};

Docs MakeDocs(const CardTaskShape& s, int n, const E2eModelInfo& info, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int32_t lo = std::min<int32_t>(3, static_cast<int32_t>(info.vocab_size) - 1);
  std::uniform_int_distribution<int32_t> tok(lo, static_cast<int32_t>(info.vocab_size) - 1);
  std::vector<int32_t> shared = {info.bos_id};
  while (static_cast<int>(shared.size()) < std::max(1, s.shared_tokens)) shared.push_back(tok(rng));
  Docs d;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> c = shared;
    while (static_cast<int>(c.size()) < s.ctx_tokens) c.push_back(tok(rng));
    d.contexts.push_back(std::move(c));
    d.conts.emplace_back();
    for (int k = 0; k < s.n_choices; ++k) {
      std::vector<int32_t> cont;
      for (int t = 0; t < s.cont_tokens; ++t) cont.push_back(tok(rng));
      d.conts.back().push_back(std::move(cont));
    }
  }
  return d;
}

// One engine call over docs [first, last), the way the evaluator calls it for the task's kind.
void Pass(const DogeLanguageModel& lm, const CardTaskShape& s, const Docs& d, int first, int last) {
  const std::string kind = s.kind;
  if (kind == "single_token") {
    std::vector<std::vector<int32_t>> ctx(d.contexts.begin() + first, d.contexts.begin() + last);
    std::vector<int32_t> ids;
    for (int k = 0; k < s.n_choices; ++k) ids.push_back(d.conts[0][static_cast<size_t>(k)][0]);
    lm.NextTokenLogprobs(ctx, ids);
  } else if (kind == "generate") {
    std::vector<std::vector<int32_t>> prompts(d.contexts.begin() + first, d.contexts.begin() + last);
    lm.GenerateGreedy(prompts, s.cont_tokens, nullptr);  // no stop: exactly cont_tokens new tokens
  } else {
    std::vector<ScoreRequest> reqs;
    for (int i = first; i < last; ++i) {
      reqs.push_back(ScoreRequest{d.contexts[static_cast<size_t>(i)], d.conts[static_cast<size_t>(i)]});
    }
    lm.Score(reqs);
  }
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string Duration(double s) {
  const int64_t t = static_cast<int64_t>(std::llround(s));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lldh %02lldm %02llds", static_cast<long long>(t / 3600),
                static_cast<long long>(t / 60 % 60), static_cast<long long>(t % 60));
  return buf;
}

std::string Fmt(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

const std::vector<CardTaskShape>& CardTaskShapes(const std::string& protocol) {
  if (protocol == "card-a") return kCardA;
  if (protocol == "card-b") return kCardB;
  throw Error(ErrorKind::kUsage, "", "--protocol",
              "unknown protocol '" + protocol + "'; available: card-a, card-b");
}

std::vector<CardRow> RunCardBench(const BenchModel& bm, const std::string& protocol,
                                  const std::vector<int>& threads, int docs, uint64_t seed) {
  const std::vector<CardTaskShape>& shapes = CardTaskShapes(protocol);
  std::vector<CardRow> rows;
  for (int n : threads) {
    SetBenchThreads(n);
    std::unique_ptr<DogeLanguageModel> lm = DogeLanguageModel::Load(bm.dir(), n);
    for (size_t ti = 0; ti < shapes.size(); ++ti) {
      const CardTaskShape& s = shapes[ti];
      // Document 0 leads its group (computes the shared part); 1..docs are the measured ones.
      const Docs d = MakeDocs(s, docs + 1, bm.info(), seed + ti);
      CardRow r;
      r.shape = s;
      r.n_threads = n;
      r.n_docs_measured = docs;
      const CpuSnapshot load0 = TakeCpuSnapshot();
      lm->SetPrefixCacheBytes(0);
      Pass(*lm, s, d, 0, 1);  // warm-up, untimed
      auto t0 = Clock::now();
      Pass(*lm, s, d, 1, docs + 1);
      r.docs_per_s_off = docs / Seconds(t0, Clock::now());
      lm->SetPrefixCacheBytes(DefaultPrefixCacheBytes());
      Pass(*lm, s, d, 0, 1);  // the group's leader: fills the cache, untimed
      t0 = Clock::now();
      Pass(*lm, s, d, 1, docs + 1);
      r.docs_per_s_shared = docs / Seconds(t0, Clock::now());
      r.load = LoadBetween(load0, TakeCpuSnapshot());
      const double groups = static_cast<double>(s.n_groups);
      r.projected_s_off = static_cast<double>(s.n_docs) / r.docs_per_s_off;
      r.projected_s_on = groups / r.docs_per_s_off + (static_cast<double>(s.n_docs) - groups) / r.docs_per_s_shared;
      r.hit_rate = (static_cast<double>(s.n_docs) - groups) * s.shared_tokens /
                   (static_cast<double>(s.n_docs) * s.ctx_tokens);
      rows.push_back(r);
    }
  }
  return rows;
}

std::string FormatCardMarkdown(const std::vector<CardRow>& rows, const std::string& protocol) {
  std::string out =
      "| task | kind | docs | ctx tok | choices x tok | shared tok | threads | docs/s no cache | "
      "docs/s shared prefix cached | projected no cache | projected with cache | machine |\n"
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";
  std::vector<int> thread_counts;
  for (const CardRow& r : rows) {
    if (std::find(thread_counts.begin(), thread_counts.end(), r.n_threads) == thread_counts.end()) {
      thread_counts.push_back(r.n_threads);
    }
  }
  for (int n : thread_counts) {
    double off = 0, on = 0;
    int64_t docs = 0;
    for (const CardRow& r : rows) {
      if (r.n_threads != n) continue;
      const CardTaskShape& s = r.shape;
      out += "| " + std::string(s.task) + " | " + s.kind + " | " + std::to_string(s.n_docs) +
             " | " + std::to_string(s.ctx_tokens) + " | " + std::to_string(s.n_choices) + " x " +
             std::to_string(s.cont_tokens) + " | " + std::to_string(s.shared_tokens) + " | " +
             std::to_string(n) + " | " + Fmt(r.docs_per_s_off, 1) + " | " +
             Fmt(r.docs_per_s_shared, 1) + " | " + Duration(r.projected_s_off) + " | " +
             Duration(r.projected_s_on) + " (hit " + Fmt(100 * r.hit_rate, 0) + "%) | " +
             DescribeLoad(r.load) + " |\n";
      off += r.projected_s_off;
      on += r.projected_s_on;
      docs += s.n_docs;
    }
    out += "| **whole card (" + protocol + ")** | | " + std::to_string(docs) + " | | | | " +
           std::to_string(n) + " | | | **" + Duration(off) + "** | **" + Duration(on) +
           "** | |\n";
  }
  std::vector<MachineLoad> loads;
  for (const CardRow& r : rows) loads.push_back(r.load);
  out += "\nShapes: " + std::string(kCardShapesVersion) +
         " (five-shot token counts of the real datasets' samples, Doge tokenizer; document counts "
         "of the full splits). Projection: each sharing group's first document at the no-cache "
         "rate, the rest at the cached-prefix rate.\n";
  return out + LoadFootnote(loads);
}

std::string FormatCardJson(const std::vector<CardRow>& rows, const std::string& protocol) {
  JsonWriter w(/*pretty=*/true);
  const MachineFingerprint& f = GetMachineFingerprint();
  w.BeginObject();
  w.Field("schema", "doge.bench.card/1");
  w.Field("shapes_version", kCardShapesVersion);
  w.Field("protocol", protocol);
  w.Key("fingerprint");
  WriteFingerprintJson(w, f);
  w.Field("build_commit", f.git_revision);
  w.Key("rows").BeginArray();
  for (const CardRow& r : rows) {
    const CardTaskShape& s = r.shape;
    w.BeginObject();
    w.Field("task", s.task);
    w.Field("kind", s.kind);
    w.Field("n_docs", s.n_docs);
    w.Field("ctx_tokens", static_cast<int64_t>(s.ctx_tokens));
    w.Field("n_choices", static_cast<int64_t>(s.n_choices));
    w.Field("cont_tokens", static_cast<int64_t>(s.cont_tokens));
    w.Field("shared_tokens", static_cast<int64_t>(s.shared_tokens));
    w.Field("n_groups", s.n_groups);
    w.Field("n_threads", static_cast<int64_t>(r.n_threads));
    w.Field("n_docs_measured", static_cast<int64_t>(r.n_docs_measured));
    w.Field("docs_per_s_off", r.docs_per_s_off);
    w.Field("docs_per_s_shared", r.docs_per_s_shared);
    w.Field("projected_s_off", r.projected_s_off);
    w.Field("projected_s_on", r.projected_s_on);
    w.Field("hit_rate", r.hit_rate);
    w.Key("machine_load");
    WriteMachineLoadJson(w, r.load);
    w.EndObject();
  }
  w.EndArray();
  w.Key("totals").BeginArray();
  std::vector<int> seen;
  for (const CardRow& r : rows) {
    if (std::find(seen.begin(), seen.end(), r.n_threads) != seen.end()) continue;
    seen.push_back(r.n_threads);
    double off = 0, on = 0;
    for (const CardRow& q : rows) {
      if (q.n_threads != r.n_threads) continue;
      off += q.projected_s_off;
      on += q.projected_s_on;
    }
    w.BeginObject();
    w.Field("n_threads", static_cast<int64_t>(r.n_threads));
    w.Field("projected_s_off", off);
    w.Field("projected_s_on", on);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take() + "\n";
}

}  // namespace doge
