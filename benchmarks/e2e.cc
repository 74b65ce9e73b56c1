#include "benchmarks/e2e.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

#include <simdjson.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "engine/base/fingerprint.h"
#include "engine/base/json_writer.h"

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

std::string E2eTestName(int n_prompt, int n_gen) {
  if (n_gen == 0) return "pp" + std::to_string(n_prompt);
  if (n_prompt == 0) return "tg" + std::to_string(n_gen);
  return "pp" + std::to_string(n_prompt) + "+tg" + std::to_string(n_gen);
}

namespace {

double ElapsedNs(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

// The prompt as the calls that feed it: n_batch tokens each, cut before timing.
std::vector<std::vector<int32_t>> ChunksOf(const std::vector<int32_t>& prompt, int n_batch) {
  std::vector<std::vector<int32_t>> chunks;
  for (size_t i = 0; i < prompt.size(); i += static_cast<size_t>(n_batch)) {
    const size_t end = std::min(prompt.size(), i + static_cast<size_t>(n_batch));
    chunks.emplace_back(prompt.begin() + static_cast<std::ptrdiff_t>(i),
                        prompt.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return chunks;
}

double PeakWith(const ProbeResult& first, const std::vector<double>& adjacent) {
  std::vector<double> all = first.samples;
  all.insert(all.end(), adjacent.begin(), adjacent.end());
  return Median(all);
}

// The tests of one (threads, n_batch) pair: pp, tg and pp+tg rows timed the same way.
struct E2eTests {
  E2eTarget& target;
  const E2eModelInfo& info;
  const E2eOptions& options;
  int threads, n_batch, reps;
  int64_t decode_bytes;
  // Peaks at this thread count, measured when the thread count starts (not at start-up of the
  // process) so that they see the same machine state as the rows that follow; each row then adds
  // one short probe right before each of its timed repetitions and uses the median of all of
  // them, so a neighbour that slows the machine down for a few seconds moves the bound along
  // with the samples.
  ProbeResult bw0, fma0;
  ProbeOptions quick;

  E2eRow NewRow(int n_prompt, int n_gen) const {
    E2eRow r;
    r.info = info;
    r.test = E2eTestName(n_prompt, n_gen);
    r.n_prompt = n_prompt;
    r.n_gen = n_gen;
    r.n_batch = n_batch;
    r.n_threads = threads;
    r.n_reps = reps;
    r.test_time = UtcNowIso8601();
    return r;
  }

  // Prompt processing: the n tokens from an empty cache in calls of n_batch tokens, each
  // computing the last token's logits only.
  E2eRow Prompt(int n) {
    E2eRow r = NewRow(n, 0);
    std::vector<double> adjacent;
    // Token ids are drawn before timing; tokenization is not part of the benchmark.
    const auto chunks = ChunksOf(RandomTokens(n, info, options.seed), n_batch);
    target.Reset();
    for (const auto& c : chunks) target.Prefill(c);  // warm-up, untimed
    const CpuSnapshot load0 = TakeCpuSnapshot();
    for (int rep = 0; rep < reps; ++rep) {
      target.Reset();
      adjacent.push_back(MeasureFmaPeak(threads, quick).median);
      auto t0 = Clock::now();
      for (const auto& c : chunks) target.Prefill(c);
      r.samples_ns.push_back(ElapsedNs(t0));
    }
    r.load = LoadBetween(load0, TakeCpuSnapshot());
    r.peak = PeakWith(fma0, adjacent);
    r.bound_ts = r.peak * 1e9 / info.cost.PrefillFlopsPerToken(n);
    FinishStats(r, n);
    return r;
  }

  // Text generation, as llama-bench's tg test: an empty prompt, then n single-token forward
  // calls at positions 0..n-1; the first token is BOS, the others are pre-drawn random ids
  // (no sampling: choosing the next token is not engine work, and random ids make the run
  // independent of the weights). Every step computes the full-vocabulary logits.
  E2eRow Generate(int n) {
    E2eRow r = NewRow(0, n);
    std::vector<double> adjacent;
    const std::vector<int32_t> tokens = RandomTokens(n, info, options.seed + 1);
    target.Reset();
    for (int32_t t : tokens) target.Decode(t);  // warm-up, untimed
    const CpuSnapshot load0 = TakeCpuSnapshot();
    for (int rep = 0; rep < reps; ++rep) {
      target.Reset();  // outside the timed region
      adjacent.push_back(MeasureReadBandwidth(decode_bytes, threads, quick).median);
      auto t0 = Clock::now();
      for (int32_t t : tokens) target.Decode(t);
      r.samples_ns.push_back(ElapsedNs(t0));
    }
    r.load = LoadBetween(load0, TakeCpuSnapshot());
    r.peak = PeakWith(bw0, adjacent);
    r.bound_ts = r.peak * 1e9 / info.cost.DecodeBytesPerToken();
    FinishStats(r, n);
    return r;
  }

  // Prompt then generation (llama-bench -pg): the prompt from an empty cache as above, then
  // n_gen single-token steps continuing at positions n_prompt.., all in one timed region.
  // The bound adds the two parts' times at their own peaks: n_prompt / pp bound + n_gen /
  // tg bound.
  E2eRow PromptThenGenerate(int np, int ng) {
    E2eRow r = NewRow(np, ng);
    std::vector<double> adjacent_fma, adjacent_bw;
    const auto chunks = ChunksOf(RandomTokens(np, info, options.seed), n_batch);
    std::vector<int32_t> gen = RandomTokens(ng + 1, info, options.seed + 2);
    gen.erase(gen.begin());  // the prompt already starts with BOS
    auto run = [&] {
      for (const auto& c : chunks) target.Prefill(c);
      for (int32_t t : gen) target.Decode(t);
    };
    target.Reset();
    run();  // warm-up, untimed
    const CpuSnapshot load0 = TakeCpuSnapshot();
    for (int rep = 0; rep < reps; ++rep) {
      target.Reset();
      adjacent_fma.push_back(MeasureFmaPeak(threads, quick).median);
      adjacent_bw.push_back(MeasureReadBandwidth(decode_bytes, threads, quick).median);
      auto t0 = Clock::now();
      run();
      r.samples_ns.push_back(ElapsedNs(t0));
    }
    r.load = LoadBetween(load0, TakeCpuSnapshot());
    r.peak = PeakWith(fma0, adjacent_fma);
    r.peak_read = PeakWith(bw0, adjacent_bw);
    const double seconds = (np > 0 ? np * info.cost.PrefillFlopsPerToken(np) / (r.peak * 1e9) : 0) +
                           ng * info.cost.DecodeBytesPerToken() / (r.peak_read * 1e9);
    r.bound_ts = (np + ng) / seconds;
    FinishStats(r, np + ng);
    return r;
  }
};

}  // namespace

std::vector<E2eRow> RunE2e(E2eTarget& target, const E2eModelInfo& info,
                           const E2eOptions& options) {
  std::vector<E2eRow> rows;
  const int reps = options.reps > 0 ? options.reps : 1;
  size_t n_per_batch = 0;
  for (int n : options.n_prompt) n_per_batch += n > 0;
  for (int n : options.n_gen) n_per_batch += n > 0;
  for (const auto& [p, g] : options.n_pg) n_per_batch += p > 0 || g > 0;
  const size_t n_rows = n_per_batch * options.n_batch.size() * options.threads.size();
  auto finish = [&](E2eRow&& r) {
    rows.push_back(std::move(r));
    if (options.on_row) options.on_row(rows.back(), rows.size(), n_rows);
  };
  for (int threads : options.threads) {
    target.SetThreads(threads);
    const int64_t decode_bytes = static_cast<int64_t>(info.cost.DecodeBytesPerToken());
    const ProbeResult bw0 = MeasureReadBandwidth(decode_bytes, threads, options.probe);
    const ProbeResult fma0 = MeasureFmaPeak(threads, options.probe);
    ProbeOptions quick = options.probe;
    quick.repetitions = 1;
    for (const int n_batch : options.n_batch) {
      E2eTests tests{target, info, options, threads, n_batch, reps, decode_bytes, bw0, fma0, quick};
      for (int n : options.n_prompt) {
        if (n > 0) finish(tests.Prompt(n));
      }
      for (int n : options.n_gen) {
        if (n > 0) finish(tests.Generate(n));
      }
      for (const auto& [np, ng] : options.n_pg) {
        if (np > 0 || ng > 0) finish(tests.PromptThenGenerate(np, ng));
      }
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
  // n_batch only matters for prompts longer than it; shown when a row's prompt was split.
  bool show_batch = false;
  for (const auto& r : rows) show_batch |= r.n_prompt > r.n_batch && r.n_batch > 0;
  std::string out = std::string("| model | size | params | threads | ") + (show_batch ? "n_batch | " : "") +
                    "test | t/s | bound t/s | % of bound | peak | machine |\n" +
                    "| --- | ---: | ---: | ---: | " + (show_batch ? "---: | " : "") +
                    "---: | ---: | ---: | ---: | ---: | --- |\n";
  for (const auto& r : rows) {
    std::string peak;
    if (r.n_gen == 0) {
      peak = Fixed(r.peak, 1) + " GFLOP/s FMA";
    } else if (r.n_prompt == 0) {
      peak = Fixed(r.peak, 1) + " GB/s read";
    } else {
      peak = Fixed(r.peak, 1) + " GFLOP/s FMA, " + Fixed(r.peak_read, 1) + " GB/s read";
    }
    out += "| " + r.info.model_type + " | " + HumanSize(static_cast<double>(r.info.model_size)) +
           " | " + HumanParams(static_cast<double>(r.info.n_params)) + " | " +
           std::to_string(r.n_threads) + " | " + (show_batch ? std::to_string(r.n_batch) + " | " : "") +
           r.test + " | " + Fixed(r.avg_ts, 2) + " ± " + Fixed(r.stddev_ts, 2) + " | " +
           Fixed(r.bound_ts, 2) + " | " + Fixed(100 * r.bound_fraction, 1) + "% | " + peak + " | " +
           DescribeLoad(r.load) + " |\n";
  }
  std::vector<MachineLoad> loads;
  for (const auto& r : rows) loads.push_back(r.load);
  return out + LoadFootnote(loads);
}

namespace {

void WriteE2eRowJson(JsonWriter& w, const E2eRow& r, const MachineFingerprint& f, const std::string& cpu_info) {
  w.BeginObject();
  w.Field("schema", "doge.bench.e2e/1");
  w.Key("fingerprint");
  WriteFingerprintJson(w, f);
  w.Field("build_commit", f.git_revision);
  w.Field("cpu_info", cpu_info);
  w.Field("model", r.info.model);
  w.Field("model_type", r.info.model_type);
  w.Field("n_params", r.info.n_params);
  w.Field("model_size", r.info.model_size);
  w.Field("test", r.test);
  w.Field("n_prompt", r.n_prompt);
  w.Field("n_gen", r.n_gen);
  w.Field("n_batch", r.n_batch);
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
  // Which peak the bound divides by, so a reader can recompute it (pp+tg rows use both).
  if (r.n_prompt > 0) w.Field("peak_fma_gflops", r.peak);
  if (r.n_prompt == 0) w.Field("peak_read_gbs", r.peak);
  if (r.n_prompt > 0 && r.n_gen > 0) w.Field("peak_read_gbs", r.peak_read);
  w.Field("test_time", r.test_time);
  w.Key("machine_load");
  WriteMachineLoadJson(w, r.load);
  w.EndObject();
}

// One CSV cell from a JSON value: strings quoted (quotes doubled), arrays space-separated,
// numbers and booleans as JSON writes them.
std::string CsvCell(simdjson::dom::element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::STRING: {
      std::string q = "\"";
      for (char c : std::string_view(v)) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    }
    case simdjson::dom::element_type::ARRAY: {
      std::string items;
      for (simdjson::dom::element x : v.get_array()) {
        std::string cell = CsvCell(x);
        if (x.is_string()) cell = cell.substr(1, cell.size() - 2);
        items += (items.empty() ? "" : " ") + cell;
      }
      return "\"" + items + "\"";
    }
    case simdjson::dom::element_type::INT64:
      return std::to_string(int64_t(v));
    case simdjson::dom::element_type::UINT64:
      return std::to_string(uint64_t(v));
    case simdjson::dom::element_type::DOUBLE: {
      std::string s;
      AppendJsonNumber(s, double(v));
      return s;
    }
    case simdjson::dom::element_type::BOOL:
      return bool(v) ? "true" : "false";
    default:
      return "";
  }
}

// (column, cell) of one JSON row, objects flattened as "parent.key".
void FlattenRow(simdjson::dom::object o, const std::string& prefix,
                std::vector<std::pair<std::string, std::string>>& out) {
  for (auto [k, v] : o) {
    const std::string name = prefix + std::string(k);
    if (v.is_object()) {
      FlattenRow(v.get_object(), name + ".", out);
    } else {
      out.emplace_back(name, CsvCell(v));
    }
  }
}

}  // namespace

std::string FormatE2eJson(const std::vector<E2eRow>& rows) {
  JsonWriter w(/*pretty=*/true);
  const MachineFingerprint& f = GetMachineFingerprint();
  const std::string cpu_info = CpuInfo();
  w.BeginArray();
  for (const auto& r : rows) WriteE2eRowJson(w, r, f, cpu_info);
  w.EndArray();
  return w.Take() + "\n";
}

std::string FormatE2eJsonl(const std::vector<E2eRow>& rows) {
  const MachineFingerprint& f = GetMachineFingerprint();
  const std::string cpu_info = CpuInfo();
  std::string out;
  for (const auto& r : rows) {
    JsonWriter w(/*pretty=*/false);
    WriteE2eRowJson(w, r, f, cpu_info);
    out += w.Take() + "\n";
  }
  return out;
}

std::string FormatE2eCsv(const std::vector<E2eRow>& rows) {
  // From the JSON rows themselves: the columns are the union of their (flattened) fields in
  // first-seen order; a field a row lacks (pp rows have no peak_read_gbs) is an empty cell.
  const std::string json = FormatE2eJson(rows);
  simdjson::dom::parser parser;
  std::vector<std::string> columns;
  std::vector<std::map<std::string, std::string>> cells;
  for (simdjson::dom::element row : parser.parse(json).get_array()) {
    std::vector<std::pair<std::string, std::string>> flat;
    FlattenRow(row.get_object(), "", flat);
    std::map<std::string, std::string> by_name;
    for (auto& [name, cell] : flat) {
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
      by_name[name] = cell;
    }
    cells.push_back(std::move(by_name));
  }
  std::string out;
  for (size_t c = 0; c < columns.size(); ++c) out += (c ? "," : "") + columns[c];
  out += "\n";
  for (const auto& row : cells) {
    for (size_t c = 0; c < columns.size(); ++c) {
      auto it = row.find(columns[c]);
      out += (c ? "," : "") + (it == row.end() ? std::string() : it->second);
    }
    out += "\n";
  }
  return out;
}

std::string CpuInfo() {
  std::string name;
#if defined(__x86_64__) || defined(__i386__)
  unsigned regs[12] = {};
  unsigned max_ext = __get_cpuid_max(0x80000000u, nullptr);
  if (max_ext >= 0x80000004u) {
    for (unsigned i = 0; i < 3; ++i) {
      __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    }
    name.assign(reinterpret_cast<const char*>(regs), sizeof regs);
    name = name.substr(0, name.find('\0'));
  }
#endif
  if (name.find_first_not_of(' ') == std::string::npos) name = GetMachineFingerprint().cpu_model;
  // Trim the padding some brand strings carry.
  const size_t a = name.find_first_not_of(' '), b = name.find_last_not_of(' ');
  name = a == std::string::npos ? "" : name.substr(a, b - a + 1);
#if defined(__x86_64__) || defined(__i386__)
  // A name without a model number ("AMD EPYC", what many hypervisors pass through) does not
  // tell CPU generations apart; CPUID leaf 1's display family/model/stepping do.
  if (name.find_first_of("0123456789") == std::string::npos) {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
      const unsigned base_family = (eax >> 8) & 0xF, base_model = (eax >> 4) & 0xF;
      const unsigned family = base_family == 0xF ? base_family + ((eax >> 20) & 0xFF) : base_family;
      const unsigned model =
          base_family == 0xF || base_family == 0x6 ? base_model + (((eax >> 16) & 0xF) << 4) : base_model;
      name += (name.empty() ? "" : " ") + std::string("(family ") + std::to_string(family) + ", model " +
              std::to_string(model) + ", stepping " + std::to_string(eax & 0xF) + ")";
    }
  }
#endif
  return name.empty() ? "unknown" : name;
}

}  // namespace doge
