// `doge bench` from outside, as users and the outside checks call it: help text, usage errors
// (exit 2, clear message), and the e2e/eval JSON contracts on the tiny checkpoint and on a
// generated --shape checkpoint (whose temporary folder must be gone afterwards).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

const std::string kTiny = std::string(DOGE_TEST_DATA) + "/tiny-model";

struct Result {
  int code = -1;
  std::string out;  // stdout + stderr
};

Result RunDoge(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + std::string(DOGE_BINARY) + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(BenchCliTest, HelpTeachesTheThreeSubcommands) {
  Result r = RunDoge("bench --help");
  EXPECT_EQ(r.code, 0);
  for (const char* s : {"doge bench kernels", "doge bench e2e", "doge bench eval", "--shape",
                        "-p 512", "bound"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
  Result e = RunDoge("bench e2e --help");
  EXPECT_EQ(e.code, 0);
  EXPECT_NE(e.out.find("--n-prompt"), std::string::npos) << e.out;
}

TEST(BenchCliTest, UsageErrorsAreClear) {
  Result r = RunDoge("bench e2e --model " + kTiny + " -t 0");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--threads"), std::string::npos) << r.out;
  r = RunDoge("bench e2e --shape doge-21m");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("did you mean doge-20m"), std::string::npos) << r.out;
  r = RunDoge("bench e2e");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--model"), std::string::npos) << r.out;
  r = RunDoge("bench e2e --model " + kTiny + " --format xml");
  EXPECT_EQ(r.code, 2) << r.out;
  r = RunDoge("bench e2x");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("did you mean e2e"), std::string::npos) << r.out;
  r = RunDoge("bench e2e --model /nonexistent/model");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/model"), std::string::npos) << r.out;
}

TEST(BenchCliTest, E2eJsonOnTinyModel) {
  const std::string out = std::string(::testing::TempDir()) + "/bench_e2e_tiny.json";
  Result r = RunDoge("bench e2e --model " + kTiny + " -p 8,16 -n 4 -t 1,2 -r 2 --probe-reps 1 --format json -o " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::array rows = parser.load(out).get_array();
  ASSERT_EQ(rows.size(), 6u);  // (pp8, pp16, tg4) x (1, 2 threads)
  for (simdjson::dom::element row : rows) {
    EXPECT_EQ(std::string_view(row["schema"]), "doge.bench.e2e/1");
    EXPECT_EQ(std::string_view(row["model"]), kTiny);
    EXPECT_GT(double(row["avg_ts"]), 0);
    EXPECT_GT(double(row["bound_ts"]), 0);
    EXPECT_EQ(simdjson::dom::array(row["samples_ts"]).size(), 2u);
    EXPECT_EQ(int64_t(row["n_params"]), int64_t(row["model_size"]) / 4);
  }
  EXPECT_EQ(std::string_view(rows.at(2)["test"]), "tg4");
  EXPECT_EQ(int64_t(rows.at(3)["n_threads"]), 2);
}

TEST(BenchCliTest, E2eOnGeneratedShapeCleansUp) {
  const std::string tmp = std::string(::testing::TempDir()) + "/bench_shape_tmp";
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  Result r = RunDoge("bench e2e --shape doge-20m -p 4 -n 2 -t 1 -r 1 --probe-reps 1 --format csv",
                 "TMPDIR=" + tmp);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"doge-20m\",\"doge-20m\",13118728,"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::is_empty(tmp)) << "temporary checkpoint left behind";
}

// --dtype bf16 on a generated shape: the kernels read 2 bytes per weight, so model_size is
// n_params * 2 and the decode bound counts those bytes; --dtype without --shape is refused.
TEST(BenchCliTest, E2eBf16ShapeCountsTwoBytesPerWeight) {
  Result r = RunDoge("bench e2e --shape doge-20m --dtype bf16 -p 0 -n 2 -t 1 -r 1 --probe-reps 1 --format csv");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"doge-20m-bf16\",\"doge-20m\",13118728,26237456,"), std::string::npos)
      << r.out;
  r = RunDoge("bench e2e --model " + kTiny + " --dtype bf16");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--dtype: only with --shape"), std::string::npos) << r.out;
  r = RunDoge("bench e2e --shape doge-20m --dtype fp8");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("expected f32, bf16 or f16, found 'fp8'"), std::string::npos) << r.out;
}

TEST(BenchCliTest, EvalJsonOnTinyModel) {
  Result r = RunDoge("bench eval --model " + kTiny +
                 " -t 1,2 -r 1 --docs 3 --ctx 10 --cont 5 --batch 2 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::array rows = parser.parse(r.out).get_array();
  ASSERT_EQ(rows.size(), 2u);
  double sum0 = 0;
  int i = 0;
  for (simdjson::dom::element row : rows) {
    EXPECT_EQ(std::string_view(row["schema"]), "doge.bench.eval/1");
    EXPECT_EQ(std::string_view(row["test"]), "mc-hellaswag");
    EXPECT_TRUE(row["fingerprint"].is_object());
    EXPECT_EQ(int64_t(row["n_threads"]), i + 1);
    EXPECT_GT(double(row["tasks_per_s"]), 0);
    EXPECT_TRUE(row["stddev"].is_number());
    EXPECT_EQ(simdjson::dom::array(row["samples"]).size(), 1u);
    EXPECT_DOUBLE_EQ(double(row["processed_tokens_per_s"]), double(row["tasks_per_s"]) * (10 + 4 * 4));
    EXPECT_DOUBLE_EQ(double(row["naive_tokens_per_s"]), double(row["tasks_per_s"]) * 4 * 14);
    // Same scores whatever the thread count.
    if (i == 0) sum0 = double(row["logprob_sum"]);
    EXPECT_NEAR(double(row["logprob_sum"]), sum0, 12 * 1e-5);
    ++i;
  }
  Result bad = RunDoge("bench eval --model " + kTiny + " --ctx 40 --cont 20");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("max_position_embeddings"), std::string::npos) << bad.out;
}

}  // namespace

// llama-bench's -pg spelling and -o jsonl's replacement --format jsonl, through the CLI.
TEST(BenchCliTest, E2ePromptThenGenerationAsJsonl) {
  Result r = RunDoge("bench e2e --model " + kTiny + " -p 0 -n 0 -pg 6,3 -b 4 -t 1 -r 1 --probe-reps 1 --format jsonl");
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;  // one row, one line
  simdjson::dom::parser parser;
  simdjson::dom::element row = parser.parse(r.out);
  EXPECT_EQ(std::string_view(row["test"]), "pp6+tg3");
  EXPECT_EQ(int64_t(row["n_prompt"]), 6);
  EXPECT_EQ(int64_t(row["n_gen"]), 3);
  EXPECT_EQ(int64_t(row["n_batch"]), 4);
  EXPECT_FALSE(std::string_view(row["cpu_info"]).empty());
  EXPECT_EQ(RunDoge("bench e2e --model " + kTiny + " -pg 6 -t 1 -r 1").code, 2);
  EXPECT_EQ(RunDoge("bench e2e --model " + kTiny + " -pg 0,0 -t 1 -r 1").code, 2);
  EXPECT_EQ(RunDoge("bench e2e --model " + kTiny + " -b 0 -t 1 -r 1").code, 2);
}

// One progress line per finished test on stderr when stderr is a terminal (run under script(1),
// which gives the command a pseudo-terminal), none into a pipe or file.
TEST(BenchCliTest, E2eProgressLinesOnlyOnATerminal) {
  const std::string args = "bench e2e --model " + kTiny + " -p 4 -n 2 -t 1 -r 1 --probe-reps 1 --format json";
  Result piped = RunDoge(args);
  ASSERT_EQ(piped.code, 0) << piped.out;
  EXPECT_EQ(piped.out.find("doge bench e2e: ["), std::string::npos) << piped.out;
  if (std::system("command -v script > /dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1) for a pseudo-terminal";
  const std::string json = std::string(::testing::TempDir()) + "/bench_progress.json";
  const std::string cmd = "script -qec \"" + std::string(DOGE_BINARY) + " " + args + " -o " + json + "\" /dev/null 2>&1";
  Result tty;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) tty.out.append(buf, n);
  const int status = pclose(p);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << tty.out;
  EXPECT_NE(tty.out.find("doge bench e2e: [1/2] pp4, 1 threads, n_batch 2048: "), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("doge bench e2e: [2/2] tg2, 1 threads, n_batch 2048: "), std::string::npos) << tty.out;
}
