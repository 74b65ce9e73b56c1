// `doge bench card` (issue 13 §3) from outside: the shape table's document counts against
// datasets-manifest/, the projection recomputed from each JSON row's own numbers and by hand for
// MMLU, the markdown totals, and usage errors.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "benchmarks/card_bench.h"
#include "engine/base/file_util.h"

namespace doge {
namespace {

const std::string kTiny = std::string(DOGE_TEST_DATA) + "/tiny-model";

struct Result {
  int code = -1;
  std::string out;
};

Result Doge(const std::string& args) {
  const std::string path = testing::TempDir() + "/card_bench_" + std::to_string(getpid());
  const int status = std::system((std::string(DOGE_BINARY) + " " + args + " > " + path + " 2>/dev/null").c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = FileExists(path) ? ReadFileToString(path) : "";
  std::remove(path.c_str());
  return r;
}

TEST(CardBenchTest, DocumentCountsAreTheManifestsEvaluatedSplits) {
  // The evaluated split of each task (tasks/specs), counted in datasets-manifest/<dataset>.json.
  const std::map<std::string, std::pair<std::string, std::string>> split = {
      {"mmlu", {"mmlu", "test"}},           {"triviaqa", {"triviaqa", "validation"}},
      {"arc_easy", {"arc_easy", "test"}},   {"arc_challenge", {"arc_challenge", "test"}},
      {"piqa", {"piqa", "validation"}},     {"hellaswag", {"hellaswag", "validation"}},
      {"openbookqa", {"openbookqa", "test"}}, {"winogrande", {"winogrande", "validation"}}};
  for (const char* protocol : {"card-a", "card-b"}) {
    const auto& shapes = CardTaskShapes(protocol);
    ASSERT_EQ(shapes.size(), 8u);
    for (const CardTaskShape& s : shapes) {
      const auto& [dataset, want_split] = split.at(s.task);
      simdjson::dom::parser p;
      simdjson::dom::element m =
          p.load(std::string(DOGE_SOURCE_DIR) + "/datasets-manifest/" + dataset + ".json");
      int64_t count = -1;
      for (simdjson::dom::element sp : m["splits"].get_array()) {
        if (std::string_view(sp["split"].get_string()) == want_split) count = int64_t(sp["count"]);
      }
      EXPECT_EQ(s.n_docs, count) << protocol << " " << s.task;
      EXPECT_LE(s.shared_tokens, s.ctx_tokens) << s.task;
      EXPECT_GE(s.n_groups, 1);
    }
  }
}

TEST(CardBenchTest, JsonProjectionFollowsFromTheMeasuredRates) {
  const Result r = Doge("bench card --model " + kTiny + " -t 1 --docs 2 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  simdjson::dom::parser p;
  simdjson::dom::element root = p.parse(r.out);
  EXPECT_EQ(std::string_view(root["schema"].get_string()), "doge.bench.card/1");
  EXPECT_EQ(std::string_view(root["shapes_version"].get_string()), kCardShapesVersion);
  EXPECT_EQ(std::string_view(root["protocol"].get_string()), "card-a");
  double off_sum = 0, on_sum = 0;
  int n = 0;
  for (simdjson::dom::element row : root["rows"].get_array()) {
    ++n;
    const double docs = double(int64_t(row["n_docs"])), groups = double(int64_t(row["n_groups"]));
    const double off = row["docs_per_s_off"], shared = row["docs_per_s_shared"];
    ASSERT_GT(off, 0);
    ASSERT_GT(shared, 0);
    EXPECT_NEAR(double(row["projected_s_off"]), docs / off, 1e-9 * docs / off);
    const double on = groups / off + (docs - groups) / shared;
    EXPECT_NEAR(double(row["projected_s_on"]), on, 1e-9 * on);
    off_sum += double(row["projected_s_off"]);
    on_sum += double(row["projected_s_on"]);
    EXPECT_FALSE(row["machine_load"]["busy"].error());
    if (std::string_view(row["task"].get_string()) == "mmlu") {
      // By hand: 57 subject groups lead, the other 13985 questions reuse 713 of 827 tokens.
      EXPECT_NEAR(double(row["hit_rate"]), (14042.0 - 57) * 713 / (14042.0 * 827), 1e-12);
      EXPECT_EQ(std::string_view(row["kind"].get_string()), "single_token");
    }
  }
  EXPECT_EQ(n, 8);
  simdjson::dom::element total = root["totals"].at(0);
  EXPECT_EQ(int64_t(total["n_threads"]), 1);
  EXPECT_NEAR(double(total["projected_s_off"]), off_sum, 1e-9 * off_sum);
  EXPECT_NEAR(double(total["projected_s_on"]), on_sum, 1e-9 * on_sum);
}

TEST(CardBenchTest, MarkdownHasEveryTaskAndTheWholeCardPerThreadCount) {
  const Result r = Doge("bench card --model " + kTiny + " --protocol card-b -t 1,2 --docs 1");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* task : {"| mmlu |", "| triviaqa |", "| arc_easy |", "| arc_challenge |", "| piqa |",
                           "| hellaswag |", "| openbookqa |", "| winogrande |"}) {
    EXPECT_NE(r.out.find(task), std::string::npos) << task << "\n" << r.out;
  }
  size_t totals = 0;
  for (size_t at = r.out.find("whole card (card-b)"); at != std::string::npos;
       at = r.out.find("whole card (card-b)", at + 1)) {
    ++totals;
  }
  EXPECT_EQ(totals, 2u) << r.out;
  EXPECT_NE(r.out.find(kCardShapesVersion), std::string::npos);
}

TEST(CardBenchTest, BenchEvalTakesACardTasksShape) {
  // bench eval --task: the multiple-choice workload gets the task's five-shot shape from the
  // table (the tiny model's 48 positions are too few for it: a generated doge-20m checkpoint).
  const Result r = Doge("bench eval --shape doge-20m --task winogrande --protocol card-b -t 1 -r 1 "
                        "--docs 2 --batch 2 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  simdjson::dom::parser p;
  simdjson::dom::element row = p.parse(r.out).at(0);
  EXPECT_EQ(std::string_view(row["test"].get_string()), "card-b/winogrande");
  EXPECT_EQ(int64_t(row["n_ctx"]), 138);
  EXPECT_EQ(int64_t(row["n_choices"]), 2);
  EXPECT_EQ(int64_t(row["n_cont"]), 7);
  EXPECT_GT(double(row["tasks_per_s"]), 0);
  // Shapes that Score() does not run, explicit shapes next to --task, unknown names.
  EXPECT_EQ(Doge("bench eval --model " + kTiny + " --task mmlu").code, 2);
  EXPECT_EQ(Doge("bench eval --model " + kTiny + " --task triviaqa").code, 2);
  EXPECT_EQ(Doge("bench eval --model " + kTiny + " --task piqa --cont 3").code, 2);
  EXPECT_EQ(Doge("bench eval --model " + kTiny + " --task pica").code, 2);
  EXPECT_EQ(Doge("bench eval --model " + kTiny + " --protocol card-b").code, 2);
}

TEST(CardBenchTest, UsageErrors) {
  EXPECT_EQ(Doge("bench card --model " + kTiny + " --protocol card-c").code, 2);
  EXPECT_EQ(Doge("bench card --model " + kTiny + " --docs 0").code, 2);
  EXPECT_EQ(Doge("bench card --model " + kTiny + " --format csv").code, 2);
  EXPECT_EQ(Doge("bench card --shape doge-21m").code, 2);
  const Result help = Doge("bench card --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--protocol"), std::string::npos);
}

}  // namespace
}  // namespace doge
