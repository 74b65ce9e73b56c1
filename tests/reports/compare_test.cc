// `doge report compare`: the markdown for two small hand-made Google Benchmark files against
// expected text, and behaviour on generated runs: a planted 10% slowdown with repetitions is a
// REGRESSION (exit 1), two noisy runs of the same build stay quiet (exit 0), different machines
// are refused unless --force, mismatched or unknown inputs are clear errors (exit 3).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "engine/base/error.h"
#include "engine/base/json_writer.h"
#include "reports/src/compare.h"
#include "tests/reports/report_test_util.h"

namespace doge::reports {
namespace {

using testing::ReportsData;
using testing::RunDoge;
using testing::Slurp;
using testing::Spit;
using testing::TempDir;

// Deterministic noise independent of the standard library's distributions (whose output is
// implementation-defined): a 64-bit LCG (Knuth MMIX constants), top 53 bits -> [0, 1).
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed * 2654435761u + 1) {}
  double Uniform() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state_ >> 11) / 9007199254740992.0;
  }

 private:
  uint64_t state_;
};

struct Machine {
  std::string cpu = "AMD EPYC 7B13";
  std::string flags = "-O3 -DNDEBUG -fopenmp";
  std::string git = "abc123def456";
};

std::string FingerprintJson(const Machine& m) {
  JsonWriter w;
  w.BeginObject();
  w.Field("cpu_model", m.cpu);
  w.Field("n_cores", 2);
  w.Key("isa").BeginArray().String("avx2").String("fma").EndArray();
  w.Key("isa_compiled").BeginArray().String("sse2").EndArray();
  w.Field("memory_bytes", int64_t{8589934592});
  w.Field("compiler", std::string("g++ 12.2.0"));
  w.Field("build_type", std::string("Release"));
  w.Field("flags", m.flags);
  w.Field("git_revision", m.git);
  w.Field("hostname", std::string("ci-1"));
  w.Field("os", std::string("Linux 6.1.0"));
  w.EndObject();
  return w.str();
}

// Google Benchmark 1.7 JSON with `reps` repetitions per benchmark: true time `base_ns[i] *
// factor[i]` times a uniform noise factor in [1 - noise, 1 + noise]; aggregates appended as
// the library does (they must be ignored).
std::string KernelJson(const Machine& m, const std::vector<double>& base_ns,
                       const std::vector<double>& factor, int reps, double noise, uint64_t seed,
                       const std::string& schema = "doge.bench.kernels/1") {
  Lcg rng(seed);
  JsonWriter w(true);
  w.BeginObject();
  w.Key("context").BeginObject();
  w.Field("date", std::string("2026-12-01T20:00:00+00:00"));
  w.Field("num_cpus", 2);
  w.Field("library_build_type", std::string("release"));
  w.Field("doge_schema", schema);
  w.Field("doge_fingerprint", FingerprintJson(m));
  w.EndObject();
  w.Key("benchmarks").BeginArray();
  for (size_t b = 0; b < base_ns.size(); ++b) {
    std::string name = "kernel/k" + std::to_string(b) + "/n=1024/optimized/real_time";
    double sum = 0;
    for (int r = 0; r < reps; ++r) {
      double t = base_ns[b] * factor[b] * (1 + noise * (2 * rng.Uniform() - 1));
      sum += t;
      w.BeginObject();
      w.Field("name", name).Field("family_index", static_cast<int64_t>(b));
      w.Field("per_family_instance_index", 0).Field("run_name", name);
      w.Field("run_type", std::string("iteration")).Field("repetitions", reps);
      w.Field("repetition_index", r).Field("threads", 1).Field("iterations", 1000);
      w.Field("real_time", t).Field("cpu_time", t).Field("time_unit", std::string("ns"));
      w.EndObject();
    }
    for (const char* agg : {"mean", "median", "stddev"}) {
      w.BeginObject();
      w.Field("name", name + "_" + agg).Field("run_name", name);
      w.Field("run_type", std::string("aggregate")).Field("aggregate_name", std::string(agg));
      w.Field("real_time", sum / reps).Field("cpu_time", sum / reps);
      w.Field("time_unit", std::string("ns"));
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

// doge bench e2e rows: pp512 and tg128 for one model, `reps` samples of tokens/s each.
std::string E2eJson(const Machine& m, double pp_ts, double tg_ts, int reps, double noise,
                    uint64_t seed) {
  Lcg rng(seed);
  JsonWriter w(true);
  w.BeginArray();
  for (auto [test, ts] : {std::pair<std::string, double>{"pp512", pp_ts}, {"tg128", tg_ts}}) {
    std::vector<double> samples;
    double sum = 0;
    for (int r = 0; r < reps; ++r) {
      samples.push_back(ts * (1 + noise * (2 * rng.Uniform() - 1)));
      sum += samples.back();
    }
    w.BeginObject();
    w.Field("schema", std::string("doge.bench.e2e/1"));
    w.Key("fingerprint").Raw(FingerprintJson(m));
    w.Field("build_commit", m.git).Field("model", std::string("/models/Doge-20M"));
    w.Field("model_type", std::string("doge-20m")).Field("n_params", 13118728);
    w.Field("model_size", 52474912).Field("test", test);
    w.Field("n_prompt", test == "pp512" ? 512 : 0).Field("n_gen", test == "pp512" ? 0 : 128);
    w.Field("n_threads", 2).Field("n_reps", reps);
    w.Field("avg_ns", 1.0).Field("stddev_ns", 0.0);
    w.Key("samples_ns").BeginArray().EndArray();
    w.Field("avg_ts", sum / reps).Field("stddev_ts", 1.0);
    w.Key("samples_ts").BeginArray();
    for (double s : samples) w.Double(s);
    w.EndArray();
    w.Field("test_time", std::string("2026-12-01T21:00:00Z"));
    w.EndObject();
  }
  w.EndArray();
  return w.Take();
}

const std::vector<double> kBaseNs = {120.0, 5300.0, 870000.0};

std::string Verdict(const CompareReport& r, size_t i) { return r.rows.at(i).verdict; }

TEST(CompareTest, MarkdownMatchesHandWrittenExpectation) {
  CompareOptions o;
  o.base_file = ReportsData() + "/compare/base-kernels.json";
  o.new_file = ReportsData() + "/compare/new-kernels.json";
  CompareReport r = CompareRuns(o);
  EXPECT_EQ(testing::Relativize(RenderCompareMarkdown(r)),
            Slurp(ReportsData() + "/compare/expected-compare.md"));
  auto cli = RunDoge("report compare " + o.base_file + " " + o.new_file);
  EXPECT_EQ(cli.exit_code, 1) << cli.err;
  EXPECT_EQ(testing::Relativize(cli.out), Slurp(ReportsData() + "/compare/expected-compare.md"));
}

TEST(CompareTest, PlantedTenPercentSlowdownIsARegression) {
  TempDir dir;
  Machine m;
  // 10 repetitions, +-2% uniform noise; benchmark 1 is 10% slower in NEW.
  Spit(dir.File("base.json"), KernelJson(m, kBaseNs, {1, 1, 1}, 10, 0.02, 1));
  m.git = "fedcba654321";  // a new commit on the same machine and build settings
  Spit(dir.File("new.json"), KernelJson(m, kBaseNs, {1, 1.10, 1}, 10, 0.02, 2));
  CompareOptions o{dir.File("base.json"), dir.File("new.json")};
  CompareReport r = CompareRuns(o);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(Verdict(r, 1), "REGRESSION");
  EXPECT_NEAR(r.rows[1].change_pct, 10, 4.5);
  EXPECT_LT(r.rows[1].p_value, 0.001);
  EXPECT_EQ(Verdict(r, 0), "noise");
  EXPECT_EQ(Verdict(r, 2), "noise");
  EXPECT_EQ(r.n_regressions, 1);
  auto cli = RunDoge("report compare " + o.base_file + " " + o.new_file);
  EXPECT_EQ(cli.exit_code, 1) << cli.err;
  EXPECT_NE(cli.out.find("| REGRESSION |"), std::string::npos) << cli.out;
  // A threshold above the slowdown lets it pass (exit 0) while still reporting the change.
  cli = RunDoge("report compare " + o.base_file + " " + o.new_file + " --threshold 20");
  EXPECT_EQ(cli.exit_code, 0) << cli.out;
  EXPECT_EQ(cli.out.find("REGRESSION"), std::string::npos);
}

TEST(CompareTest, SameBuildWithNoiseStaysQuiet) {
  TempDir dir;
  Machine m;
  // Several noise seeds: the verdict must be "noise" for every benchmark (exit 0).
  for (uint64_t seed = 10; seed < 16; ++seed) {
    Spit(dir.File("a.json"), KernelJson(m, kBaseNs, {1, 1, 1}, 10, 0.02, seed));
    Spit(dir.File("b.json"), KernelJson(m, kBaseNs, {1, 1, 1}, 10, 0.02, seed + 100));
    CompareReport r = CompareRuns({dir.File("a.json"), dir.File("b.json")});
    for (size_t i = 0; i < r.rows.size(); ++i) EXPECT_EQ(Verdict(r, i), "noise") << seed;
    EXPECT_EQ(r.n_regressions, 0);
  }
  auto cli = RunDoge("report compare " + dir.File("a.json") + " " + dir.File("b.json"));
  EXPECT_EQ(cli.exit_code, 0) << cli.err << cli.out;
}

TEST(CompareTest, ImprovementAndSmallSignificantChange) {
  TempDir dir;
  Machine m;
  Spit(dir.File("base.json"), KernelJson(m, kBaseNs, {1, 1, 1}, 10, 0.005, 3));
  // k0 10% faster; k2 3% slower: significant with 0.5% noise, but inside the 5% threshold.
  Spit(dir.File("new.json"), KernelJson(m, kBaseNs, {0.9, 1, 1.03}, 10, 0.005, 4));
  CompareReport r = CompareRuns({dir.File("base.json"), dir.File("new.json")});
  EXPECT_EQ(Verdict(r, 0), "improvement");
  EXPECT_EQ(Verdict(r, 2), "noise");
  EXPECT_LT(r.rows[2].p_value, 0.05);
  EXPECT_EQ(r.n_regressions, 0);
  auto cli = RunDoge("report compare " + dir.File("base.json") + " " + dir.File("new.json") +
                     " --threshold 2");
  EXPECT_EQ(cli.exit_code, 1);  // 3% > 2%
  EXPECT_NE(cli.out.find("k2/n=1024/optimized/real_time"), std::string::npos);
}

TEST(CompareTest, TooFewRepetitionsCannotBeSignificant) {
  TempDir dir;
  Machine m;
  Spit(dir.File("base.json"), KernelJson(m, kBaseNs, {1, 1, 1}, 3, 0.01, 5));
  Spit(dir.File("new.json"), KernelJson(m, kBaseNs, {1.5, 1.5, 1.5}, 3, 0.01, 6));
  CompareReport r = CompareRuns({dir.File("base.json"), dir.File("new.json")});
  for (const auto& row : r.rows) {
    EXPECT_EQ(row.verdict, "noise");
    EXPECT_FALSE(row.testable);
    EXPECT_NEAR(row.p_value, 0.1, 1e-12);  // the smallest p of 3 vs 3
  }
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find("cannot reach p < alpha"), std::string::npos);
}

TEST(CompareTest, EndToEndTokensPerSecond) {
  TempDir dir;
  Machine m;
  Spit(dir.File("base.json"), E2eJson(m, 900, 150, 8, 0.01, 7));
  Spit(dir.File("new.json"), E2eJson(m, 900, 150 / 1.1, 8, 0.01, 8));  // decode 10% slower
  CompareReport r = CompareRuns({dir.File("base.json"), dir.File("new.json")});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].name, "e2e/doge-20m/pp512/t2");
  EXPECT_EQ(r.rows[0].verdict, "noise");
  EXPECT_EQ(r.rows[1].name, "e2e/doge-20m/tg128/t2");
  EXPECT_TRUE(r.rows[1].higher_is_better);
  EXPECT_LT(r.rows[1].change_pct, -5);  // tokens/s went down ~9%
  EXPECT_EQ(r.rows[1].verdict, "REGRESSION");
  auto cli = RunDoge("report compare " + dir.File("base.json") + " " + dir.File("new.json") +
                     " --format json");
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_NE(cli.out.find("\"schema\": \"doge.report.compare/1\""), std::string::npos);
  // Faster decode is an improvement, exit 0.
  Spit(dir.File("faster.json"), E2eJson(m, 900, 165, 8, 0.01, 9));
  cli = RunDoge("report compare " + dir.File("base.json") + " " + dir.File("faster.json"));
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("| improvement |"), std::string::npos) << cli.out;
}

TEST(CompareTest, EvalThroughputRows) {
  TempDir dir;
  Machine m;
  auto eval_json = [&](double tasks_per_s, uint64_t seed) {
    Lcg rng(seed);
    JsonWriter w(true);
    w.BeginArray();
    for (int batch : {1, 16}) {
      w.BeginObject();
      w.Field("schema", std::string("doge.bench.eval/1"));
      w.Key("fingerprint").Raw(FingerprintJson(m));
      w.Field("build_commit", m.git).Field("model", std::string("doge-20m"));
      w.Field("model_type", std::string("doge-20m")).Field("n_params", 13118728);
      w.Field("test", std::string("mc-hellaswag")).Field("n_threads", 2).Field("batch", batch);
      w.Field("tasks_per_s", tasks_per_s).Field("stddev", 0.1);
      w.Key("samples").BeginArray();
      for (int r = 0; r < 6; ++r) w.Double(tasks_per_s * batch * (1 + 0.01 * (2 * rng.Uniform() - 1)));
      w.EndArray();
      w.Field("processed_tokens_per_s", 1000.0).Field("naive_tokens_per_s", 3000.0);
      w.EndObject();
    }
    w.EndArray();
    return w.Take();
  };
  Spit(dir.File("base.json"), eval_json(10, 1));
  Spit(dir.File("new.json"), eval_json(8, 2));  // 20% fewer tasks/s
  CompareReport r = CompareRuns({dir.File("base.json"), dir.File("new.json")});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].name, "eval/doge-20m/mc-hellaswag/t2/b1");
  EXPECT_EQ(r.rows[1].name, "eval/doge-20m/mc-hellaswag/t2/b16");
  EXPECT_EQ(r.rows[0].unit, "tasks/s");
  EXPECT_EQ(r.rows[0].verdict, "REGRESSION");
  EXPECT_EQ(r.rows[1].verdict, "REGRESSION");
}

TEST(CompareTest, FailedBenchmarksAreSkippedAndAggregateOnlyFilesRefused) {
  TempDir dir;
  Machine m;
  Spit(dir.File("base.json"), KernelJson(m, kBaseNs, {1, 1, 1}, 5, 0.01, 21));
  // Google Benchmark marks a SkipWithError run with error_occurred/error_message.
  std::string bad = testing::ReplaceAll(
      KernelJson(m, kBaseNs, {1, 1, 1}, 5, 0.01, 22),
      "\"run_name\": \"kernel/k2/n=1024/optimized/real_time\",",
      "\"run_name\": \"kernel/k2/n=1024/optimized/real_time\", \"error_occurred\": true, "
      "\"error_message\": \"model not found\",");
  Spit(dir.File("new.json"), bad);
  CompareReport r = CompareRuns({dir.File("base.json"), dir.File("new.json")});
  EXPECT_EQ(r.rows.size(), 2u);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings.back().find("k2/n=1024/optimized/real_time: skipped (benchmark error: "
                                   "model not found)"),
            std::string::npos)
      << r.warnings.back();
  // --benchmark_report_aggregates_only drops the repetitions the U test needs: 0 iteration
  // entries, only the mean/median/stddev aggregates.
  Spit(dir.File("agg.json"), KernelJson(m, {100}, {1}, 0, 0.01, 23));
  auto cli = RunDoge("report compare " + dir.File("agg.json") + " " + dir.File("agg.json"));
  EXPECT_EQ(cli.exit_code, 3);
  EXPECT_NE(cli.err.find("only aggregate entries"), std::string::npos) << cli.err;
}

TEST(CompareTest, DifferentMachinesAreRefusedUnlessForced) {
  TempDir dir;
  Machine a, b;
  b.cpu = "Intel(R) Xeon(R) Platinum 8375C";
  b.flags = "-O3 -DNDEBUG -march=native -fopenmp";
  Spit(dir.File("a.json"), KernelJson(a, kBaseNs, {1, 1, 1}, 10, 0.01, 11));
  Spit(dir.File("b.json"), KernelJson(b, kBaseNs, {1, 1.2, 1}, 10, 0.01, 12));
  auto cli = RunDoge("report compare " + dir.File("a.json") + " " + dir.File("b.json"));
  EXPECT_EQ(cli.exit_code, 3);
  EXPECT_NE(cli.err.find("different machines/builds"), std::string::npos) << cli.err;
  EXPECT_NE(cli.err.find("cpu_model: 'AMD EPYC 7B13' vs 'Intel(R) Xeon(R) Platinum 8375C'"),
            std::string::npos)
      << cli.err;
  EXPECT_NE(cli.err.find("flags: '-O3 -DNDEBUG -fopenmp' vs"), std::string::npos) << cli.err;
  EXPECT_NE(cli.err.find("--force"), std::string::npos);
  cli = RunDoge("report compare " + dir.File("a.json") + " " + dir.File("b.json") + " --force");
  EXPECT_EQ(cli.exit_code, 1);  // the 20% slowdown
  EXPECT_NE(cli.out.find("machine/build difference: cpu_model"), std::string::npos) << cli.out;
  EXPECT_NE(cli.err.find("warning: machine/build difference: cpu_model"), std::string::npos);
}

// Issue 15: two files with nothing in common used to print an empty table, "0 regression(s)",
// and exit 0, with or without --force.
TEST(CompareTest, NothingInCommonIsAnErrorEvenWithForce) {
  TempDir dir;
  Machine a, b;
  b.cpu = "Intel(R) Xeon(R) Platinum 8375C";
  Spit(dir.File("a.json"), KernelJson(a, kBaseNs, {1, 1, 1}, 5, 0.01, 31));
  Spit(dir.File("b.json"), testing::ReplaceAll(KernelJson(b, kBaseNs, {1, 1, 1}, 5, 0.01, 32),
                                               "kernel/", "other/"));
  auto cli = RunDoge("report compare " + dir.File("a.json") + " " + dir.File("b.json") + " --force");
  EXPECT_EQ(cli.exit_code, 3) << cli.out;
  EXPECT_NE(cli.err.find("nothing compared: no benchmark of BASE"), std::string::npos) << cli.err;
  EXPECT_EQ(cli.out.find("0 regression(s)"), std::string::npos) << cli.out;
  // Same machine, every shared benchmark failed: nothing compared either.
  Spit(dir.File("c.json"), testing::ReplaceAll(KernelJson(a, kBaseNs, {1, 1, 1}, 5, 0.01, 33),
                                               "\"run_name\": \"kernel/",
                                               "\"error_occurred\": true, \"run_name\": \"kernel/"));
  cli = RunDoge("report compare " + dir.File("a.json") + " " + dir.File("c.json"));
  EXPECT_EQ(cli.exit_code, 3) << cli.out << cli.err;
  EXPECT_NE(cli.err.find("nothing compared"), std::string::npos) << cli.err;
}

TEST(CompareTest, MismatchedOrUnknownInputsAreErrors) {
  TempDir dir;
  Machine m;
  Spit(dir.File("kernels.json"), KernelJson(m, kBaseNs, {1, 1, 1}, 5, 0.01, 1));
  Spit(dir.File("e2e.json"), E2eJson(m, 900, 150, 5, 0.01, 2));
  Spit(dir.File("v2.json"), KernelJson(m, kBaseNs, {1, 1, 1}, 5, 0.01, 1, "doge.bench.kernels/2"));
  auto cli = RunDoge("report compare " + dir.File("kernels.json") + " " + dir.File("e2e.json"));
  EXPECT_EQ(cli.exit_code, 3);
  EXPECT_NE(cli.err.find("is a doge.bench.e2e/1 file but BASE"), std::string::npos) << cli.err;
  cli = RunDoge("report compare " + dir.File("kernels.json") + " " + dir.File("v2.json"));
  EXPECT_EQ(cli.exit_code, 3);
  EXPECT_NE(cli.err.find(dir.File("v2.json") + ": context.doge_schema: unsupported schema "
                                                "version 'doge.bench.kernels/2'"),
            std::string::npos)
      << cli.err;
  cli = RunDoge("report compare " + dir.File("kernels.json") + " " + ReportsData() +
                "/card/doge-20m.json");
  EXPECT_EQ(cli.exit_code, 3);
  EXPECT_NE(cli.err.find("found schema 'doge.results/1'"), std::string::npos) << cli.err;
  cli = RunDoge("report compare " + dir.File("kernels.json"));
  EXPECT_EQ(cli.exit_code, 2);
  EXPECT_NE(cli.err.find("expected BASE and NEW"), std::string::npos) << cli.err;
  cli = RunDoge("report compare " + dir.File("kernels.json") + " " + dir.File("kernels.json") +
                " --threshold=-1");
  EXPECT_EQ(cli.exit_code, 2);
}

}  // namespace
}  // namespace doge::reports
