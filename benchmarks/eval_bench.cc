#include "benchmarks/eval_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/base/fingerprint.h"
#include "engine/base/json_writer.h"

namespace doge {

namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Num(double v) {
  std::string s;
  AppendJsonNumber(s, v);
  return s;
}

}  // namespace

std::vector<ScoreRequest> MakeMcRequests(const McWorkload& w, int32_t vocab_size,
                                         int32_t bos_id) {
  std::vector<ScoreRequest> out(static_cast<size_t>(std::max(0, w.n_tasks)));
  const uint64_t span = vocab_size > 3 ? static_cast<uint64_t>(vocab_size - 3) : 1;
  for (int t = 0; t < w.n_tasks; ++t) {
    uint64_t state = w.seed * 0x100000001B3ull + static_cast<uint64_t>(t);
    auto next = [&] { return static_cast<int32_t>(3 + SplitMix64(state) % span); };
    ScoreRequest& r = out[static_cast<size_t>(t)];
    for (int i = 0; i < w.n_ctx; ++i) r.context.push_back(i == 0 ? bos_id : next());
    r.continuations.resize(static_cast<size_t>(w.n_choices));
    for (auto& c : r.continuations) {
      for (int i = 0; i < w.n_cont; ++i) c.push_back(next());
    }
  }
  return out;
}

std::vector<EvalRow> RunEvalBench(
    const std::function<const LanguageModel&(int n_threads)>& model_for_threads,
    const E2eModelInfo& info, const McWorkload& w, const std::vector<int>& threads, int reps) {
  using Clock = std::chrono::steady_clock;
  reps = std::max(1, reps);
  const int batch = std::max(1, w.batch);
  // Built before any timing: the workload is token ids already (no tokenizer in the loop).
  const std::vector<ScoreRequest> requests =
      MakeMcRequests(w, static_cast<int32_t>(info.vocab_size), info.bos_id);
  std::vector<std::vector<ScoreRequest>> batches;
  for (size_t i = 0; i < requests.size(); i += static_cast<size_t>(batch)) {
    size_t end = std::min(requests.size(), i + static_cast<size_t>(batch));
    batches.emplace_back(requests.begin() + static_cast<long>(i),
                         requests.begin() + static_cast<long>(end));
  }
  auto pass = [&](const LanguageModel& lm) {
    double sum = 0;
    for (const auto& b : batches) {
      for (const auto& task : lm.Score(b)) {
        for (const auto& s : task) sum += s.logprob;
      }
    }
    return sum;
  };
  std::vector<EvalRow> rows;
  for (int n : threads) {
    const LanguageModel& lm = model_for_threads(n);
    EvalRow r;
    r.info = info;
    r.workload = w;
    r.n_threads = n;
    r.n_reps = reps;
    r.test_time = UtcNowIso8601();
    r.logprob_sum = pass(lm);  // warm-up, untimed
    const CpuSnapshot load0 = TakeCpuSnapshot();
    for (int rep = 0; rep < reps; ++rep) {
      auto t0 = Clock::now();
      pass(lm);
      double s = std::chrono::duration<double>(Clock::now() - t0).count();
      r.samples.push_back(static_cast<double>(w.n_tasks) / s);
    }
    r.load = LoadBetween(load0, TakeCpuSnapshot());
    r.tasks_per_s = Mean(r.samples);
    r.stddev = StdDev(r.samples);
    r.processed_tokens_per_s = r.tasks_per_s * static_cast<double>(w.ProcessedTokensPerTask());
    r.naive_tokens_per_s = r.tasks_per_s * static_cast<double>(w.NaiveTokensPerTask());
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string FormatEvalMarkdown(const std::vector<EvalRow>& rows) {
  std::string out =
      "| model | threads | test | tasks | batch | tasks/s | processed tok/s | naive-equiv tok/s | machine |\n"
      "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |\n";
  for (const auto& r : rows) {
    const auto& w = r.workload;
    out += "| " + r.info.model_type + " | " + std::to_string(r.n_threads) + " | " + w.test + " (" +
           std::to_string(w.n_ctx) + "+" + std::to_string(w.n_choices) + "x" +
           std::to_string(w.n_cont) + ") | " + std::to_string(w.n_tasks) + " | " +
           std::to_string(w.batch) + " | " + Fixed(r.tasks_per_s, 2) + " ± " +
           Fixed(r.stddev, 2) + " | " + Fixed(r.processed_tokens_per_s, 0) + " | " +
           Fixed(r.naive_tokens_per_s, 0) + " | " + DescribeLoad(r.load) + " |\n";
  }
  std::vector<MachineLoad> loads;
  for (const auto& r : rows) loads.push_back(r.load);
  return out + LoadFootnote(loads);
}

std::string FormatEvalJson(const std::vector<EvalRow>& rows) {
  JsonWriter j(/*pretty=*/true);
  const MachineFingerprint& f = GetMachineFingerprint();
  j.BeginArray();
  for (const auto& r : rows) {
    const auto& w = r.workload;
    j.BeginObject();
    j.Field("schema", "doge.bench.eval/1");
    j.Key("fingerprint");
    WriteFingerprintJson(j, f);
    j.Field("build_commit", f.git_revision);
    j.Field("model", r.info.model);
    j.Field("model_type", r.info.model_type);
    j.Field("n_params", r.info.n_params);
    j.Field("model_size", r.info.model_size);
    j.Field("test", w.test);
    j.Field("n_threads", r.n_threads);
    j.Field("n_reps", r.n_reps);
    j.Field("n_tasks", w.n_tasks);
    j.Field("n_ctx", w.n_ctx);
    j.Field("n_choices", w.n_choices);
    j.Field("n_cont", w.n_cont);
    j.Field("batch", w.batch);
    j.Field("seed", static_cast<int64_t>(w.seed));
    j.Field("tasks_per_s", r.tasks_per_s);
    j.Field("stddev", r.stddev);
    j.Key("samples");
    j.BeginArray();
    for (double v : r.samples) j.Double(v);
    j.EndArray();
    j.Field("processed_tokens_per_s", r.processed_tokens_per_s);
    j.Field("naive_tokens_per_s", r.naive_tokens_per_s);
    j.Field("processed_tokens_per_task", w.ProcessedTokensPerTask());
    j.Field("naive_tokens_per_task", w.NaiveTokensPerTask());
    j.Field("logprob_sum", r.logprob_sum);
    j.Field("test_time", r.test_time);
    j.Key("machine_load");
    WriteMachineLoadJson(j, r.load);
    j.EndObject();
  }
  j.EndArray();
  return j.Take() + "\n";
}

std::string FormatEvalCsv(const std::vector<EvalRow>& rows) {
  std::string out =
      "build_commit,model,model_type,test,n_threads,n_reps,n_tasks,n_ctx,n_choices,n_cont,batch,"
      "tasks_per_s,stddev,processed_tokens_per_s,naive_tokens_per_s,logprob_sum,test_time\n";
  const MachineFingerprint& f = GetMachineFingerprint();
  for (const auto& r : rows) {
    const auto& w = r.workload;
    out += "\"" + f.git_revision + "\",\"" + r.info.model + "\",\"" + r.info.model_type +
           "\",\"" + w.test + "\"," + std::to_string(r.n_threads) + "," +
           std::to_string(r.n_reps) + "," + std::to_string(w.n_tasks) + "," +
           std::to_string(w.n_ctx) + "," + std::to_string(w.n_choices) + "," +
           std::to_string(w.n_cont) + "," + std::to_string(w.batch) + "," +
           Num(r.tasks_per_s) + "," + Num(r.stddev) + "," + Num(r.processed_tokens_per_s) +
           "," + Num(r.naive_tokens_per_s) + "," + Num(r.logprob_sum) + ",\"" + r.test_time +
           "\"\n";
  }
  return out;
}

}  // namespace doge
