#include "benchmarks/e2e.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "engine/fingerprint.h"
#include "engine/json_writer.h"

namespace doge {

namespace {

using Clock = std::chrono::steady_clock;

// splitmix64: a fixed, library-independent stream of token ids for the prompts.
uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// BOS first, then uniform ids in [3, V) (0..2 are BOS/EOS/PAD in Doge's vocabulary).
std::vector<int32_t> RandomTokens(int n, const E2eModelInfo& info, uint64_t seed) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint64_t state = seed;
  const uint64_t span = info.vocab_size > 3 ? static_cast<uint64_t>(info.vocab_size - 3) : 1;
  for (int i = 0; i < n; ++i) {
    t[static_cast<size_t>(i)] =
        i == 0 ? info.bos_id : static_cast<int32_t>(3 + SplitMix64(state) % span);
  }
  return t;
}

void FinishStats(E2eRow& r, int n_tokens) {
  for (double ns : r.samples_ns) r.samples_ts.push_back(1e9 * n_tokens / ns);
  r.avg_ns = Mean(r.samples_ns);
  r.stddev_ns = StdDev(r.samples_ns);
  r.avg_ts = Mean(r.samples_ts);
  r.stddev_ts = StdDev(r.samples_ts);
  r.bound_fraction = r.bound_ts > 0 ? r.avg_ts / r.bound_ts : 0;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string HumanSize(double bytes) {
  char buf[64];
  if (bytes >= 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f MiB", bytes / (1024.0 * 1024));
  }
  return buf;
}

std::string HumanParams(double n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f M", n / 1e6);
  return buf;
}

void DoubleArray(JsonWriter& w, const std::vector<double>& v) {
  w.BeginArray();
  for (double x : v) w.Double(x);
  w.EndArray();
}

}  // namespace

std::string UtcNowIso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<E2eRow> RunE2e(E2eTarget& target, const E2eModelInfo& info,
                           const E2eOptions& options) {
  std::vector<E2eRow> rows;
  const int reps = options.reps > 0 ? options.reps : 1;
  for (int threads : options.threads) {
    target.SetThreads(threads);
    // Peaks at this thread count, measured now (not at start-up of the process) so that they see
    // the same machine state as the rows that follow; each row then adds one short probe right
    // before each of its timed repetitions and uses the median of all of them, so a neighbour
    // that slows the machine down for a few seconds moves the bound along with the samples.
    const int64_t decode_bytes = static_cast<int64_t>(info.cost.DecodeBytesPerToken());
    const ProbeResult bw0 = MeasureReadBandwidth(decode_bytes, threads, options.probe);
    const ProbeResult fma0 = MeasureFmaPeak(threads, options.probe);
    ProbeOptions quick = options.probe;
    quick.repetitions = 1;
    auto peak_with = [](const ProbeResult& first, const std::vector<double>& adjacent) {
      std::vector<double> all = first.samples;
      all.insert(all.end(), adjacent.begin(), adjacent.end());
      return Median(all);
    };

    // Prompt processing: one forward over n tokens from an empty cache, last-token logits only.
    for (int n : options.n_prompt) {
      if (n <= 0) continue;
      E2eRow r;
      r.info = info;
      r.test = "pp" + std::to_string(n);
      r.n_prompt = n;
      r.n_threads = threads;
      r.n_reps = reps;
      r.test_time = UtcNowIso8601();
      std::vector<double> adjacent;
      // Token ids are drawn before timing; tokenization is not part of the benchmark.
      const std::vector<int32_t> prompt = RandomTokens(n, info, options.seed);
      target.Reset();
      target.Prefill(prompt);  // warm-up, untimed
      const CpuSnapshot load0 = TakeCpuSnapshot();
      for (int rep = 0; rep < reps; ++rep) {
        target.Reset();
        adjacent.push_back(MeasureFmaPeak(threads, quick).median);
        auto t0 = Clock::now();
        target.Prefill(prompt);
        r.samples_ns.push_back(
            std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
      }
      r.load = LoadBetween(load0, TakeCpuSnapshot());
      r.peak = peak_with(fma0, adjacent);
      r.bound_ts = r.peak * 1e9 / info.cost.PrefillFlopsPerToken(n);
      FinishStats(r, n);
      rows.push_back(std::move(r));
    }

    // Text generation, as llama-bench's tg test: an empty prompt, then n single-token forward
    // calls at positions 0..n-1; the first token is BOS, the others are pre-drawn random ids
    // (no sampling: choosing the next token is not engine work, and random ids make the run
    // independent of the weights). Every step computes the full-vocabulary logits.
    for (int n : options.n_gen) {
      if (n <= 0) continue;
      E2eRow r;
      r.info = info;
      r.test = "tg" + std::to_string(n);
      r.n_gen = n;
      r.n_threads = threads;
      r.n_reps = reps;
      r.test_time = UtcNowIso8601();
      std::vector<double> adjacent;
      const std::vector<int32_t> tokens = RandomTokens(n, info, options.seed + 1);
      auto run = [&] {
        target.Reset();
        for (int32_t t : tokens) target.Decode(t);
      };
      run();  // warm-up, untimed
      const CpuSnapshot load0 = TakeCpuSnapshot();
      for (int rep = 0; rep < reps; ++rep) {
        target.Reset();  // outside the timed region
        adjacent.push_back(MeasureReadBandwidth(decode_bytes, threads, quick).median);
        auto t0 = Clock::now();
        for (int32_t t : tokens) target.Decode(t);
        r.samples_ns.push_back(
            std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
      }
      r.load = LoadBetween(load0, TakeCpuSnapshot());
      r.peak = peak_with(bw0, adjacent);
      r.bound_ts = r.peak * 1e9 / info.cost.DecodeBytesPerToken();
      FinishStats(r, n);
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

void WriteMachineLoadJson(JsonWriter& w, const MachineLoad& load) {
  w.BeginObject();
  w.Field("known", load.known);
  w.Field("busy", load.busy);
  w.Field("other_cores", load.other_cores);
  w.Field("steal_fraction", load.steal_fraction);
  w.Field("loadavg_1m", load.loadavg_1m);
  w.Field("n_cpus", static_cast<int64_t>(load.n_cpus));
  w.Field("omp_wait", load.omp_wait);
  w.EndObject();
}

std::string LoadFootnote(const std::vector<MachineLoad>& loads) {
  double worst = 0;
  int n_busy = 0;
  for (const MachineLoad& l : loads) {
    if (!l.busy) continue;
    ++n_busy;
    worst = std::max(worst, l.other_cores);
  }
  if (n_busy == 0) return "";
  return "\nWARNING: the machine was busy during " + std::to_string(n_busy) + " of " +
         std::to_string(loads.size()) + " rows (other processes used up to " + Fixed(worst, 2) +
         " CPUs on average): these numbers are not comparable with other machines' runs.\n";
}

std::string FormatE2eMarkdown(const std::vector<E2eRow>& rows) {
  std::string out =
      "| model | size | params | threads | test | t/s | bound t/s | % of bound | peak | machine |\n"
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";
  for (const auto& r : rows) {
    const bool pp = r.n_prompt > 0;
    out += "| " + r.info.model_type + " | " + HumanSize(static_cast<double>(r.info.model_size)) +
           " | " + HumanParams(static_cast<double>(r.info.n_params)) + " | " +
           std::to_string(r.n_threads) + " | " + r.test + " | " + Fixed(r.avg_ts, 2) + " ± " +
           Fixed(r.stddev_ts, 2) + " | " + Fixed(r.bound_ts, 2) + " | " +
           Fixed(100 * r.bound_fraction, 1) + "% | " + Fixed(r.peak, 1) +
           (pp ? " GFLOP/s FMA" : " GB/s read") + " | " + DescribeLoad(r.load) + " |\n";
  }
  std::vector<MachineLoad> loads;
  for (const auto& r : rows) loads.push_back(r.load);
  return out + LoadFootnote(loads);
}

std::string FormatE2eJson(const std::vector<E2eRow>& rows) {
  JsonWriter w(/*pretty=*/true);
  const MachineFingerprint& f = GetMachineFingerprint();
  w.BeginArray();
  for (const auto& r : rows) {
    w.BeginObject();
    w.Field("schema", "doge.bench.e2e/1");
    w.Key("fingerprint");
    WriteFingerprintJson(w, f);
    w.Field("build_commit", f.git_revision);
    w.Field("model", r.info.model);
    w.Field("model_type", r.info.model_type);
    w.Field("n_params", r.info.n_params);
    w.Field("model_size", r.info.model_size);
    w.Field("test", r.test);
    w.Field("n_prompt", r.n_prompt);
    w.Field("n_gen", r.n_gen);
    w.Field("n_threads", r.n_threads);
    w.Field("n_reps", r.n_reps);
    w.Field("avg_ns", r.avg_ns);
    w.Field("stddev_ns", r.stddev_ns);
    w.Key("samples_ns");
    DoubleArray(w, r.samples_ns);
    w.Field("avg_ts", r.avg_ts);
    w.Field("stddev_ts", r.stddev_ts);
    w.Key("samples_ts");
    DoubleArray(w, r.samples_ts);
    w.Field("bound_ts", r.bound_ts);
    w.Field("bound_fraction", r.bound_fraction);
    // Which peak the bound divides by, so a reader can recompute it.
    w.Field(r.n_prompt > 0 ? "peak_fma_gflops" : "peak_read_gbs", r.peak);
    w.Field("test_time", r.test_time);
    w.Key("machine_load");
    WriteMachineLoadJson(w, r.load);
    w.EndObject();
  }
  w.EndArray();
  return w.Take() + "\n";
}

std::string FormatE2eCsv(const std::vector<E2eRow>& rows) {
  std::string out =
      "build_commit,model,model_type,n_params,model_size,test,n_prompt,n_gen,n_threads,n_reps,"
      "avg_ns,stddev_ns,avg_ts,stddev_ts,bound_ts,bound_fraction,samples_ts,cpu_model,"
      "test_time\n";
  const MachineFingerprint& f = GetMachineFingerprint();
  auto quoted = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  auto num = [](double v) {
    std::string s;
    AppendJsonNumber(s, v);
    return s;
  };
  for (const auto& r : rows) {
    std::string samples;
    for (double v : r.samples_ts) samples += (samples.empty() ? "" : " ") + num(v);
    out += quoted(f.git_revision) + "," + quoted(r.info.model) + "," + quoted(r.info.model_type) +
           "," + std::to_string(r.info.n_params) + "," + std::to_string(r.info.model_size) + "," +
           quoted(r.test) + "," + std::to_string(r.n_prompt) + "," + std::to_string(r.n_gen) +
           "," + std::to_string(r.n_threads) + "," + std::to_string(r.n_reps) + "," +
           num(r.avg_ns) + "," + num(r.stddev_ns) + "," + num(r.avg_ts) + "," +
           num(r.stddev_ts) + "," + num(r.bound_ts) + "," + num(r.bound_fraction) + "," +
           quoted(samples) + "," + quoted(f.cpu_model) + "," + quoted(r.test_time) + "\n";
  }
  return out;
}

}  // namespace doge
