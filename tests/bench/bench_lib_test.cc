// Tests of the benchmark library that need no model: statistics, the in-run peak probes, the
// per-token cost model (against the parameter counts of doge-architecture.md §2.5, computed there
// independently), and the e2e runner/formatters driven by a fake target.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "benchmarks/e2e.h"
#include "benchmarks/model_cost.h"
#include "benchmarks/peak_probe.h"
#include "engine/config.h"
#include "engine/model.h"

namespace doge {
namespace {

TEST(BenchStatsTest, MedianMeanStdDev) {
  EXPECT_DOUBLE_EQ(Median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(Median({}), 0);
  EXPECT_DOUBLE_EQ(Mean({1, 2, 3, 4}), 2.5);
  // Sample sd of {2, 4, 4, 4, 5, 5, 7, 9}: sum of squares 32, n - 1 = 7.
  EXPECT_NEAR(StdDev({2, 4, 4, 4, 5, 5, 7, 9}), std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_DOUBLE_EQ(StdDev({5}), 0);
}

TEST(PeakProbeTest, FmaPeakIsPlausible) {
  ProbeOptions o;
  o.repetitions = 3;
  o.seconds_per_run = 0.005;
  ProbeResult one = MeasureFmaPeak(1, o);
  ASSERT_EQ(one.samples.size(), 3u);
  // Only an upper bound on the rate: on a shared, oversubscribed machine a 5 ms probe can be
  // descheduled for most of its run (CI once measured 0.22 GFLOP/s at 2 threads), so a lower
  // bound would be a timed test. Noise can only lower the rate; an absurdly high one means the
  // compiler removed the work.
  EXPECT_GT(one.median, 0.0);
  // Upper bound per thread: 2 FMA pipes x 16 lanes x 2 flops at 6 GHz = 384 GFLOP/s. A probe
  // whose work the compiler removed reports absurd rates (this caught one while writing it).
  EXPECT_LT(one.median, 400.0);
  ProbeResult two = MeasureFmaPeak(2, o);
  EXPECT_GT(two.median, 0.0);
  EXPECT_LT(two.median, 2 * 400.0);
}

TEST(PeakProbeTest, ReadBandwidthIsPlausible) {
  ProbeOptions o;
  o.repetitions = 3;
  o.seconds_per_run = 0.005;
  for (int64_t ws : {int64_t{64} << 10, int64_t{8} << 20}) {
    for (int threads : {1, 2}) {
      ProbeResult r = MeasureReadBandwidth(ws, threads, o);
      ASSERT_EQ(r.samples.size(), 3u);
      EXPECT_GT(r.median, 0.0) << ws << " " << threads;  // no lower bound: see FmaPeakIsPlausible
      // L1 read bandwidth of any current core is < 2 loads x 64 B x 6 GHz = 768 GB/s.
      EXPECT_LT(r.median, 800.0 * threads) << ws << " " << threads;
    }
  }
}

TEST(PeakProbeTest, BucketsArePowersOfTwoAtOrAbove) {
  EXPECT_EQ(PeakCache::Bucket(1), 4096);
  EXPECT_EQ(PeakCache::Bucket(4096), 4096);
  EXPECT_EQ(PeakCache::Bucket(4097), 8192);
  EXPECT_EQ(PeakCache::Bucket(52470848), int64_t{64} << 20);
  PeakCache cache(ProbeOptions{1, 0.002});
  double a = cache.ReadGBs(5000, 1);
  EXPECT_EQ(cache.ReadGBs(8000, 1), a);  // same bucket: memoized, not re-measured
}

DogeConfig Shape(int64_t H, int64_t I, int64_t L, int64_t nh, int64_t nkv) {
  DogeConfig c;
  c.vocab_size = 32768;
  c.hidden_size = H;
  c.intermediate_size = I;
  c.num_hidden_layers = L;
  c.num_attention_heads = nh;
  c.num_key_value_heads = nkv;
  return c;
}

TEST(ModelCostTest, ParameterCountsMatchTheArchitectureTable) {
  // doge-architecture.md §2.5, variant B and variant A columns.
  struct Row {
    DogeConfig c;
    const char* name;
    int64_t params_b, params_a;
  };
  const Row rows[] = {{Shape(256, 512, 8, 2, 1), "doge-20m", 13118728, 13117712},
                      {Shape(512, 1024, 16, 4, 2), "doge-60m", 54571552, 54575680},
                      {Shape(768, 1536, 24, 6, 3), "doge-160m", 152676168, 152697744},
                      {Shape(1024, 2048, 32, 8, 4), "doge-320m", 335750272, 335807744}};
  for (const auto& r : rows) {
    EXPECT_EQ(CostFromConfig(r.c, Layout::kB).StoredParams(), r.params_b) << r.name;
    EXPECT_EQ(CostFromConfig(r.c, Layout::kALate).StoredParams(), r.params_a) << r.name;
    EXPECT_EQ(ShapeNameOf(r.c), r.name);
  }
  EXPECT_EQ(ShapeNameOf(Shape(64, 128, 2, 4, 2)), "doge-custom");
}

// The counts come from the tensor table, so they equal what loading counts for each fixture and
// layout (b-moe includes its router and expert tables).
TEST(ModelCostTest, StoredParamsEqualLoadedParams) {
  for (const char* name :
       {"a-early-dense", "a-late-dense", "b-dense", "b-dense-bf16", "b-moe", "b-untied"}) {
    auto m = DogeModel::Load(std::string(DOGE_TEST_DATA) + "/doge-tiny/" + name);
    const DogeWeights& w = m->weights();
    EXPECT_EQ(CostFromConfig(m->config(), w.layout, w.tied).StoredParams(),
              w.n_params)
        << name;
  }
}

TEST(ModelCostTest, DecodeBytesAndPrefillFlopsByHand) {
  DogeCost k = CostFromConfig(Shape(256, 512, 8, 2, 1));
  // Tied fp32 Doge-20M: all stored parameters (13,118,728, the embedding doubling as the
  // vocabulary projection) plus the one embedding row looked up: (13118728 + 256) * 4 bytes.
  EXPECT_DOUBLE_EQ(k.DecodeBytesPerToken(), (13118728.0 + 256) * 4);
  // Prefill, n = 3, one layer of a toy shape: H = 4, I = 6, nh = 2, nkv = 1, D = 2, V = 10.
  DogeCost t;
  t.vocab_size = 10;
  t.hidden_size = 4;
  t.intermediate_size = 6;
  t.n_layers = 1;
  t.n_heads = 2;
  t.n_kv_heads = 1;
  t.head_dim = 2;
  t.n_bias_heads = 1;
  // q 4x4, k 2x4, v 2x4 -> 2*32 = 64; dt_proj 1x2 -> 4; o 4x4 -> 32; gate/up/down 3*24 -> 144;
  // attention: 4 * nh * D * (n + 1) / 2 = 4 * 2 * 2 * 2 = 32; head: 2 * 10 * 4 / 3.
  EXPECT_DOUBLE_EQ(t.PrefillFlopsPerToken(3), 64 + 4 + 32 + 144 + 32 + 80.0 / 3);
}

// Records what the runner asks for; each call burns a little time so samples are non-zero.
class FakeTarget : public E2eTarget {
 public:
  void SetThreads(int n) override { threads.push_back(n); }
  void Reset() override { pos = 0; }
  void Prefill(const std::vector<int32_t>& t) override {
    prefill_lengths.push_back(static_cast<int>(t.size()));
    first_tokens.push_back(t.empty() ? -1 : t[0]);
    for (int32_t id : t) max_id = std::max(max_id, id);
    pos += static_cast<int>(t.size());
    Burn(t.size());
  }
  void Decode(int32_t token) override {
    if (pos == 0) first_tokens.push_back(token);
    max_id = std::max(max_id, token);
    ++decodes;
    ++pos;
    Burn(1);
  }
  void Burn(size_t n) {
    volatile double x = 0;
    for (size_t i = 0; i < 2000 * n; ++i) x = x + 1.0;
  }
  std::vector<int> threads, prefill_lengths;
  std::vector<int32_t> first_tokens;
  int32_t max_id = 0;
  int decodes = 0, pos = 0;
};

E2eModelInfo TinyInfo() {
  E2eModelInfo info;
  info.model = "fake";
  info.model_type = "doge-custom";
  info.vocab_size = 100;
  info.bos_id = 0;
  info.cost = CostFromConfig(Shape(64, 128, 2, 4, 2));
  info.cost.vocab_size = 100;
  info.n_params = info.cost.StoredParams();
  info.model_size = info.n_params * 4;
  return info;
}

TEST(E2eRunnerTest, ExpandsEveryCombinationInLlamaBenchOrder) {
  FakeTarget t;
  E2eOptions o;
  o.n_prompt = {0, 16, 8};
  o.n_gen = {4};
  o.threads = {1, 2};
  o.reps = 3;
  o.probe = ProbeOptions{1, 0.001};
  auto rows = RunE2e(t, TinyInfo(), o);
  ASSERT_EQ(rows.size(), 6u);  // (pp16, pp8, tg4) x 2 thread counts; -p 0 is skipped
  const char* tests[] = {"pp16", "pp8", "tg4", "pp16", "pp8", "tg4"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const E2eRow& r = rows[i];
    EXPECT_EQ(r.test, tests[i]);
    EXPECT_EQ(r.n_threads, i < 3 ? 1 : 2);
    EXPECT_EQ(r.n_reps, 3);
    ASSERT_EQ(r.samples_ns.size(), 3u);
    ASSERT_EQ(r.samples_ts.size(), 3u);
    const int n = r.n_prompt + r.n_gen;
    EXPECT_TRUE((r.n_prompt == 0) != (r.n_gen == 0));
    for (size_t k = 0; k < 3; ++k) {
      EXPECT_GT(r.samples_ns[k], 0);
      EXPECT_NEAR(r.samples_ts[k], 1e9 * n / r.samples_ns[k], 1e-9 * r.samples_ts[k]);
    }
    EXPECT_NEAR(r.avg_ts, Mean(r.samples_ts), 1e-9 * r.avg_ts);
    EXPECT_NEAR(r.stddev_ts, StdDev(r.samples_ts), 1e-9 * r.avg_ts + 1e-12);
    EXPECT_GT(r.bound_ts, 0);
    EXPECT_NEAR(r.bound_fraction, r.avg_ts / r.bound_ts, 1e-12);
    // The bound is the peak divided by the per-token work of the test.
    const double work = r.n_prompt ? r.info.cost.PrefillFlopsPerToken(r.n_prompt)
                                   : r.info.cost.DecodeBytesPerToken();
    EXPECT_NEAR(r.bound_ts, r.peak * 1e9 / work, 1e-9 * r.bound_ts);
  }
  EXPECT_EQ(t.threads, (std::vector<int>{1, 2}));
  // Each test: one warm-up and three timed runs.
  EXPECT_EQ(t.prefill_lengths, (std::vector<int>{16, 16, 16, 16, 8, 8, 8, 8, 16, 16, 16, 16, 8,
                                                 8, 8, 8}));
  EXPECT_EQ(t.decodes, 2 * 4 * 4);
  for (int32_t id : t.first_tokens) EXPECT_EQ(id, 0);  // every prompt starts with BOS
  EXPECT_LT(t.max_id, 100);
}

TEST(E2eFormatTest, JsonRowsCarryTheContractFields) {
  FakeTarget t;
  E2eOptions o;
  o.n_prompt = {8};
  o.n_gen = {3};
  o.threads = {1};
  o.reps = 2;
  o.probe = ProbeOptions{1, 0.001};
  auto rows = RunE2e(t, TinyInfo(), o);
  const std::string json = FormatE2eJson(rows);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  simdjson::dom::array arr = doc.get_array();
  ASSERT_EQ(arr.size(), 2u);
  int i = 0;
  for (simdjson::dom::element row : arr) {
    EXPECT_EQ(std::string_view(row["schema"]), "doge.bench.e2e/1");
    EXPECT_TRUE(row["fingerprint"].is_object());
    for (const char* f : {"build_commit", "model", "model_type", "test", "test_time"}) {
      EXPECT_TRUE(row[f].is_string()) << f;
    }
    for (const char* f : {"n_params", "model_size", "n_prompt", "n_gen", "n_threads", "n_reps"}) {
      EXPECT_TRUE(row[f].is_int64()) << f;
    }
    for (const char* f : {"avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "bound_ts",
                          "bound_fraction"}) {
      EXPECT_TRUE(row[f].is_number()) << f;
    }
    EXPECT_EQ(simdjson::dom::array(row["samples_ns"]).size(), 2u);
    EXPECT_EQ(simdjson::dom::array(row["samples_ts"]).size(), 2u);
    if (i == 0) {
      EXPECT_EQ(std::string_view(row["test"]), "pp8");
      EXPECT_EQ(int64_t(row["n_prompt"]), 8);
      EXPECT_EQ(int64_t(row["n_gen"]), 0);
    } else {
      EXPECT_EQ(std::string_view(row["test"]), "tg3");
      EXPECT_EQ(int64_t(row["n_prompt"]), 0);
      EXPECT_EQ(int64_t(row["n_gen"]), 3);
    }
    EXPECT_DOUBLE_EQ(double(row["avg_ts"]), rows[i].avg_ts);
    ++i;
  }
  const std::string csv = FormatE2eCsv(rows);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  EXPECT_EQ(csv.rfind("schema,fingerprint.cpu_model,", 0), 0u);  // the JSON's columns, in its order
  const std::string md = FormatE2eMarkdown(rows);
  EXPECT_NE(md.find("| pp8 |"), std::string::npos);
  EXPECT_NE(md.find("| tg3 |"), std::string::npos);
  EXPECT_NE(md.find(" ± "), std::string::npos);
}

// llama-bench's -pg and -b: a pp N+tg M row times the prompt (in calls of n_batch tokens) and
// then M decode steps continuing the same cache, at (N + M) / time; its bound adds the two parts'
// times at their own peaks. Every test repeats per batch size; on_row sees each row once.
TEST(E2eRunnerTest, PromptThenGenerationAndBatchSize) {
  FakeTarget t;
  E2eOptions o;
  o.n_prompt = {10};
  o.n_gen = {};
  o.n_pg = {{10, 3}};
  o.n_batch = {4, 16};
  o.threads = {1};
  o.reps = 2;
  o.probe = ProbeOptions{1, 0.001};
  std::vector<std::string> seen;
  o.on_row = [&](const E2eRow& r, size_t i, size_t n) {
    seen.push_back(std::to_string(i) + "/" + std::to_string(n) + " " + r.test + " b" + std::to_string(r.n_batch));
  };
  auto rows = RunE2e(t, TinyInfo(), o);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(seen, (std::vector<std::string>{"1/4 pp10 b4", "2/4 pp10+tg3 b4", "3/4 pp10 b16", "4/4 pp10+tg3 b16"}));
  // n_batch 4: calls of 4, 4, 2 tokens (warm-up + 2 reps, for pp10 and then pp10+tg3); 16: one call.
  std::vector<int> want;
  for (int k = 0; k < 6; ++k) want.insert(want.end(), {4, 4, 2});
  for (int k = 0; k < 6; ++k) want.push_back(10);
  EXPECT_EQ(t.prefill_lengths, want);
  EXPECT_EQ(t.decodes, 2 * 3 * 3);  // pp10+tg3 at two batch sizes, warm-up + 2 reps, 3 steps
  const E2eRow& pg = rows[1];
  EXPECT_EQ(pg.test, "pp10+tg3");
  EXPECT_EQ(pg.n_prompt, 10);
  EXPECT_EQ(pg.n_gen, 3);
  EXPECT_EQ(pg.n_batch, 4);
  ASSERT_EQ(pg.samples_ns.size(), 2u);
  for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(pg.samples_ts[k], 1e9 * 13 / pg.samples_ns[k], 1e-9 * pg.samples_ts[k]);
  ASSERT_GT(pg.peak, 0);
  ASSERT_GT(pg.peak_read, 0);
  const DogeCost& c = pg.info.cost;
  const double seconds = 10 * c.PrefillFlopsPerToken(10) / (pg.peak * 1e9) + 3 * c.DecodeBytesPerToken() / (pg.peak_read * 1e9);
  EXPECT_NEAR(pg.bound_ts, 13 / seconds, 1e-9 * pg.bound_ts);
  EXPECT_EQ(E2eTestName(512, 0), "pp512");
  EXPECT_EQ(E2eTestName(0, 128), "tg128");
  EXPECT_EQ(E2eTestName(512, 128), "pp512+tg128");
}

// Flattens one JSON value as the CSV must show it (independent of the formatter's own code).
void Flatten(simdjson::dom::element v, const std::string& name, std::vector<std::pair<std::string, std::string>>& out) {
  if (v.is_object()) {
    for (auto [k, x] : v.get_object()) Flatten(x, (name.empty() ? "" : name + ".") + std::string(k), out);
    return;
  }
  std::ostringstream s;
  if (v.is_string()) {
    s << '"' << std::string_view(v) << '"';
  } else if (v.is_array()) {
    s << '"';
    bool first = true;
    for (simdjson::dom::element x : v.get_array()) {
      s << (first ? "" : " ");
      if (x.is_string()) s << std::string_view(x); else s << simdjson::minify(x);
      first = false;
    }
    s << '"';
  } else {
    s << simdjson::minify(v);
  }
  out.emplace_back(name, s.str());
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  bool quoted = false;
  for (char ch : line) {
    if (ch == '"') quoted = !quoted;
    if (ch == ',' && !quoted) {
      cells.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  cells.push_back(cur);
  return cells;
}

// The CSV has exactly the JSON's columns (nested objects flattened), row by row the same values;
// JSONL holds the JSON's objects, one per line; every row names the CPU and the batch size.
TEST(E2eFormatTest, CsvAndJsonlCarryTheJsonColumns) {
  FakeTarget t;
  E2eOptions o;
  o.n_prompt = {8};
  o.n_gen = {3};
  o.n_pg = {{4, 2}};
  o.threads = {1};
  o.reps = 2;
  o.probe = ProbeOptions{1, 0.001};
  auto rows = RunE2e(t, TinyInfo(), o);
  ASSERT_EQ(rows.size(), 3u);
  simdjson::dom::parser parser;
  const std::string json = FormatE2eJson(rows);
  simdjson::dom::array arr = parser.parse(json).get_array();
  std::vector<std::vector<std::pair<std::string, std::string>>> flat;
  std::vector<std::string> columns;
  for (simdjson::dom::element row : arr) {
    EXPECT_FALSE(std::string_view(row["cpu_info"]).empty());
    EXPECT_EQ(int64_t(row["n_batch"]), 2048);
    flat.emplace_back();
    Flatten(row, "", flat.back());
    for (const auto& [k, v] : flat.back()) {
      if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
    }
  }
  // pp rows name their FMA peak, tg rows their read bandwidth, pp+tg rows both.
  EXPECT_TRUE(arr.at(0)["peak_fma_gflops"].is_number());
  EXPECT_TRUE(arr.at(1)["peak_read_gbs"].is_number());
  EXPECT_TRUE(arr.at(2)["peak_fma_gflops"].is_number() && arr.at(2)["peak_read_gbs"].is_number());
  EXPECT_EQ(std::string_view(arr.at(2)["test"]), "pp4+tg2");

  const std::string csv = FormatE2eCsv(rows);
  std::istringstream lines(csv);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(SplitCsvLine(line), columns);
  for (size_t r = 0; r < flat.size(); ++r) {
    ASSERT_TRUE(std::getline(lines, line));
    const std::vector<std::string> cells = SplitCsvLine(line);
    ASSERT_EQ(cells.size(), columns.size());
    for (size_t c = 0; c < columns.size(); ++c) {
      std::string want;
      for (const auto& [k, v] : flat[r]) if (k == columns[c]) want = v;
      // Numbers may print differently (both are shortest round-trip forms); compare as numbers.
      if (!want.empty() && want[0] != '"' && want != "true" && want != "false") {
        EXPECT_DOUBLE_EQ(std::stod(cells[c]), std::stod(want)) << columns[c];
      } else {
        EXPECT_EQ(cells[c], want) << columns[c];
      }
    }
  }
  EXPECT_FALSE(std::getline(lines, line));

  const std::string jsonl = FormatE2eJsonl(rows);
  std::istringstream jl(jsonl);
  size_t i = 0;
  while (std::getline(jl, line)) {
    ASSERT_LT(i, arr.size());
    simdjson::dom::parser p2;
    EXPECT_EQ(simdjson::minify(p2.parse(line)), simdjson::minify(arr.at(i)));
    ++i;
  }
  EXPECT_EQ(i, arr.size());
}

// cpu_info is the CPU's name; a bare vendor/family name gets CPUID's family/model/stepping.
TEST(E2eFormatTest, CpuInfoNamesTheCpu) {
  const std::string info = CpuInfo();
  ASSERT_FALSE(info.empty());
  EXPECT_NE(info, "unknown");
  EXPECT_NE(info.find_first_of("0123456789"), std::string::npos) << info;
#if defined(__x86_64__)
  // Independent reading: /proc/cpuinfo's model name starts the brand on x86 Linux (both come
  // from CPUID leaves 0x80000002..4).
  std::ifstream in("/proc/cpuinfo");
  std::string l;
  while (std::getline(in, l)) {
    if (l.rfind("model name", 0) == 0) {
      std::string name = l.substr(l.find(':') + 2);
      EXPECT_EQ(info.rfind(name, 0), 0u) << info << " vs " << name;
      break;
    }
  }
#endif
}

}  // namespace
}  // namespace doge
