// `doge report compare` on two `doge eval` runs (issue #17): exact McNemar p-values against
// binomial tails computed by hand; two identical runs of the tiny model pass (exit 0, no drift);
// a copy of a run's details with one prediction flipped and one log-likelihood moved by 1e-3 fails
// (exit 1) and names both documents; a significant accuracy change on hand-made runs fails through
// McNemar alone; runs of another setup are refused (exit 3) naming the difference unless --force.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <simdjson.h>

#include "engine/base/error.h"
#include "engine/base/json_writer.h"
#include "reports/src/eval_compare.h"
#include "tests/reports/report_test_util.h"

namespace doge::reports {
namespace {

namespace fs = std::filesystem;
using testing::RunDoge;
using testing::Slurp;
using testing::Spit;
using testing::TempDir;

TEST(McNemarTest, MatchesHandComputedBinomialTails) {
  // p = min(1, 2 * sum_{k <= min(b, c)} C(b + c, k) / 2^(b + c)).
  EXPECT_DOUBLE_EQ(ExactMcNemar(0, 0).p_value, 1.0);             // no discordant pair
  EXPECT_DOUBLE_EQ(ExactMcNemar(1, 0).p_value, 1.0);             // 2 * 1/2
  EXPECT_DOUBLE_EQ(ExactMcNemar(5, 0).p_value, 0.0625);          // 2 * 1/32
  EXPECT_DOUBLE_EQ(ExactMcNemar(0, 6).p_value, 0.03125);         // 2 * 1/64
  EXPECT_NEAR(ExactMcNemar(8, 0).p_value, 2.0 / 256, 1e-15);
  // n = 13, m = 3: (1 + 13 + 78 + 286) / 8192 = 378 / 8192, doubled.
  EXPECT_NEAR(ExactMcNemar(3, 10).p_value, 756.0 / 8192, 1e-15);
  EXPECT_NEAR(ExactMcNemar(10, 3).p_value, 756.0 / 8192, 1e-15);
  // n = 20, m = 5: (1 + 20 + 190 + 1140 + 4845 + 15504) / 2^20 = 21700 / 1048576, doubled.
  EXPECT_NEAR(ExactMcNemar(5, 15).p_value, 43400.0 / 1048576, 1e-15);
  // Balanced: the doubled tail passes 1 and is capped.
  EXPECT_DOUBLE_EQ(ExactMcNemar(7, 7).p_value, 1.0);
  // Large n: b = 0, c = 1000 -> 2 * 2^-1000, no overflow in the binomial coefficients.
  EXPECT_NEAR(std::log2(ExactMcNemar(0, 1000).p_value), -999, 1e-6);
  // n = 1000, m = 400, in exact integer arithmetic (Python: 2 * sum(math.comb(1000, k) for k in
  // range(401)) / 2**1000 = 2.7284641560660184e-10); lgamma terms summed in float64 agree to ~1e-12.
  EXPECT_NEAR(ExactMcNemar(400, 600).p_value, 2.7284641560660184e-10, 1e-9 * 2.7284641560660184e-10);
}

const char kTinyModel[] = DOGE_TEST_DATA "/tiny-model";

// One `doge eval` of the tiny model on two tasks, 5 documents each, shared by the tests.
class EvalCompareCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string cmd = std::string("eval --model ") + kTinyModel + " --tasks arc_easy,piqa --data-dir " +
                            DOGE_TEST_DATA "/datasets-canonical --limit 5 --allow-count-mismatch --out-dir " +
                            dir_->File("base");
    const testing::CommandResult r = RunDoge(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  // A fresh copy of the base run.
  std::string CopyOfBase(const std::string& name) {
    const std::string to = dir_->File(name);
    fs::remove_all(to);
    fs::copy(dir_->File("base"), to, fs::copy_options::recursive);
    return to;
  }
  static std::string Base() { return dir_->File("base"); }
  static TempDir* dir_;
};
TempDir* EvalCompareCliTest::dir_ = nullptr;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

TEST_F(EvalCompareCliTest, IdenticalRunsPassWithNoDrift) {
  const std::string copy = CopyOfBase("same");
  testing::CommandResult r = RunDoge("report compare " + Base() + " " + copy);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict: PASS (exit 0)"), std::string::npos) << r.out;
  r = RunDoge("report compare " + Base() + "/results.json " + copy + "/results.json --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element j = parser.parse(r.out);
  EXPECT_EQ(std::string(std::string_view(j["schema"])), kEvalCompareSchema);
  EXPECT_EQ(std::string(std::string_view(j["verdict"])), "PASS");
  int n_tasks = 0;
  for (simdjson::dom::element t : j["tasks"].get_array()) {
    ++n_tasks;
    EXPECT_EQ(int64_t(t["n_docs"]), 5);
    EXPECT_EQ(int64_t(t["n_flipped"]), 0);
    EXPECT_EQ(double(t["logprob_drift"]["max_abs"]), 0.0);
    for (simdjson::dom::element m : t["metrics"].get_array()) EXPECT_EQ(double(m["mcnemar_p"]), 1.0);
  }
  EXPECT_EQ(n_tasks, 2);
}

TEST_F(EvalCompareCliTest, OneFlippedPredictionAndOneMovedLogprobAreNamedAndFail) {
  const std::string copy = CopyOfBase("doctored");
  const std::string details = copy + "/details/piqa.jsonl";
  std::vector<std::string> lines = Lines(Slurp(details));
  ASSERT_EQ(lines.size(), 5u);
  simdjson::dom::parser parser;
  // Document on line 2: flip the prediction (two choices) and its correctness.
  simdjson::dom::element d1 = parser.parse(lines[1]);
  const int64_t doc1 = int64_t(d1["doc_index"]);
  const int64_t pred = int64_t(d1["prediction"]);
  std::string& l1 = lines[1];
  l1 = std::regex_replace(l1, std::regex("\"prediction\":" + std::to_string(pred)),
                          "\"prediction\":" + std::to_string(1 - pred));
  l1 = std::regex_replace(l1, std::regex("\"acc_norm\":([01])"), "\"acc_norm\":X$1");
  l1 = std::regex_replace(l1, std::regex("\"acc_norm\":X0"), "\"acc_norm\":1");
  l1 = std::regex_replace(l1, std::regex("\"acc_norm\":X1"), "\"acc_norm\":0");
  // Document on line 4: move the first choice's log-likelihood by 1e-3.
  simdjson::dom::element d3 = parser.parse(lines[3]);
  const int64_t doc3 = int64_t(d3["doc_index"]);
  const double lp = double(d3["logprobs"].at(0));
  std::string moved;
  AppendJsonNumber(moved, lp + 1e-3);
  std::string& l3 = lines[3];
  const size_t a = l3.find("\"logprobs\":[") + 12, b = l3.find(',', a);
  l3 = l3.substr(0, a) + moved + l3.substr(b);
  Spit(details, JoinLines(lines));

  testing::CommandResult r = RunDoge("report compare " + Base() + " " + copy);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("- flipped: piqa doc " + std::to_string(doc1) + ": prediction " + std::to_string(pred) +
                       " -> " + std::to_string(1 - pred)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| piqa doc " + std::to_string(doc3) + " | 0 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL: log-likelihood drift 0.001 > 0.0001 (1 choice(s))"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: FAIL (exit 1)"), std::string::npos);

  r = RunDoge("report compare " + Base() + " " + copy + " --format json");
  EXPECT_EQ(r.exit_code, 1);
  simdjson::dom::parser p2;
  simdjson::dom::element j = p2.parse(r.out);
  EXPECT_EQ(std::string(std::string_view(j["verdict"])), "FAIL");
  for (simdjson::dom::element t : j["tasks"].get_array()) {
    const std::string task{std::string_view(t["task"])};
    if (task == "arc_easy") {
      EXPECT_EQ(std::string(std::string_view(t["verdict"])), "ok");
      continue;
    }
    EXPECT_EQ(int64_t(t["n_flipped"]), 1);
    EXPECT_EQ(int64_t(t["flipped"].at(0)["doc_index"]), doc1);
    EXPECT_NEAR(double(t["logprob_drift"]["max_abs"]), 1e-3, 1e-9);
    EXPECT_EQ(int64_t(t["logprob_drift"]["n_over_limit"]), 1);
    EXPECT_EQ(int64_t(t["logprob_drift"]["worst"].at(0)["doc_index"]), doc3);
    // One discordant pair on acc_norm: p = 1, not significant.
    for (simdjson::dom::element m : t["metrics"].get_array()) {
      if (std::string_view(m["name"]) == "acc_norm") {
        EXPECT_EQ(int64_t(m["base_only_correct"]) + int64_t(m["new_only_correct"]), 1);
        EXPECT_EQ(double(m["mcnemar_p"]), 1.0);
      }
    }
  }
  // A looser drift limit lets the 1e-3 pass: the flip alone is not significant.
  r = RunDoge("report compare " + Base() + " " + copy + " --max-logprob-drift 0.01");
  EXPECT_EQ(r.exit_code, 0) << r.out;

  // HTML: a scatter per task, the moved point in red.
  const std::string html = dir_->File("cmp.html");
  r = RunDoge("report compare " + Base() + " " + copy + " --format html -o " + html);
  EXPECT_EQ(r.exit_code, 1);
  const std::string page = Slurp(html);
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("piqa: NEW vs BASE per choice"), std::string::npos);
  EXPECT_NE(page.find("fill=\"#d62728\""), std::string::npos);
  size_t circles = 0;
  for (size_t pos = 0; (pos = page.find("<circle", pos)) != std::string::npos; ++pos) ++circles;
  EXPECT_EQ(circles, 5u * 4 + 5u * 2);  // every choice of both tasks
}

TEST_F(EvalCompareCliTest, RefusesAnotherSetupUnlessForced) {
  const std::string copy = CopyOfBase("other-k");
  const std::string results = copy + "/results.json";
  std::string text = Slurp(results);
  const size_t at = text.find("\"k\": 5");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 6, "\"k\": 4");
  Spit(results, text);
  testing::CommandResult r = RunDoge("report compare " + Base() + " " + copy);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("tasks.arc_easy.k: 5 vs 4"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos);
  EXPECT_TRUE(r.out.empty());
  r = RunDoge("report compare " + Base() + " " + copy + " --force");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("setup difference: tasks.arc_easy.k: 5 vs 4"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("setup difference (--force): tasks.arc_easy.k: 5 vs 4"), std::string::npos);

  // Missing details: a clear error naming the file.
  const std::string gone = CopyOfBase("no-details");
  fs::remove(gone + "/details/piqa.jsonl");
  r = RunDoge("report compare " + Base() + " " + gone);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.exit_code, ExitCodeFor(ErrorKind::kIo));
  EXPECT_NE(r.err.find(gone + "/details/piqa.jsonl"), std::string::npos) << r.err;

  // An eval run against a benchmark file: refused, not guessed.
  const std::string bench = dir_->File("bench.json");
  Spit(bench, "{\"context\": {}, \"benchmarks\": []}\n");
  r = RunDoge("report compare " + Base() + " " + bench);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("compare two eval runs or two benchmark files"), std::string::npos) << r.err;
}

// A hand-made run: one multiple-choice task with `correct.size()` documents of 2 choices whose
// prediction is the gold (0) when correct, else 1.
void WriteRun(const std::string& dir, const std::vector<bool>& correct) {
  fs::create_directories(dir + "/details");
  double acc = 0;
  std::string lines;
  for (size_t i = 0; i < correct.size(); ++i) {
    acc += correct[i] ? 1.0 / correct.size() : 0;
    JsonWriter w;
    w.BeginObject().Field("task", "piqa").Field("doc_index", static_cast<int64_t>(i));
    w.Key("logprobs").BeginArray().Double(correct[i] ? -1.0 : -2.0).Double(correct[i] ? -2.0 : -1.0).EndArray();
    w.Field("prediction", correct[i] ? 0 : 1);
    w.Key("metrics").BeginObject().Field("acc", correct[i] ? 1 : 0).EndObject();
    w.EndObject();
    lines += w.str() + "\n";
  }
  Spit(dir + "/details/piqa.jsonl", lines);
  JsonWriter w(true);
  w.BeginObject().Field("schema", "doge.results/1");
  w.Key("model").BeginObject().Key("sha256").BeginObject().Field("model.safetensors", "ab").EndObject().EndObject();
  w.Key("tokenizer").BeginObject().Field("sha256", "cd").EndObject();
  w.Field("protocol", "card-a").Field("limit", 0);
  w.Key("tasks").BeginObject().Key("piqa").BeginObject();
  w.Field("protocol", "card-a").Field("version", 1).Field("k", 5).Field("split", "validation");
  w.Key("dataset_sha256").BeginObject().Field("piqa/validation.jsonl", "ef").EndObject();
  w.Key("metrics").BeginObject().Field("acc", acc).EndObject();
  w.EndObject().EndObject().EndObject();
  Spit(dir + "/results.json", w.str());
}

TEST(EvalCompareSyntheticTest, SignificantAccuracyDropFailsThroughMcNemar) {
  TempDir dir;
  // 12 documents all correct in BASE; NEW loses 8 of them: b = 8, c = 0, p = 2 / 2^8.
  std::vector<bool> base(12, true), neu(12, true);
  for (int i = 0; i < 8; ++i) neu[i] = false;
  WriteRun(dir.File("base"), base);
  WriteRun(dir.File("new"), neu);
  EvalCompareOptions o;
  o.base_path = dir.File("base");
  o.new_path = dir.File("new");
  o.max_logprob_drift = 10;  // the log-likelihoods move by 1 here; test the McNemar path alone
  EvalCompareReport rep = CompareEvalRuns(o);
  ASSERT_EQ(rep.tasks.size(), 1u);
  const MetricComparison& m = rep.tasks[0].metrics.at(0);
  EXPECT_EQ(m.mcnemar.base_only, 8);
  EXPECT_EQ(m.mcnemar.new_only, 0);
  EXPECT_NEAR(m.mcnemar.p_value, 2.0 / 256, 1e-15);
  EXPECT_TRUE(m.significant);
  EXPECT_NEAR(m.diff, 4.0 / 12 - 1.0, 1e-12);
  EXPECT_EQ(rep.tasks[0].flipped.size(), 8u);
  EXPECT_TRUE(rep.failed);
  testing::CommandResult r = RunDoge("report compare " + dir.File("base") + " " + dir.File("new") +
                                     " --max-logprob-drift 10");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("| piqa | acc | 1.0000 | 0.3333 | -0.6667 | 8 | 0 | 0.0078 | CHANGED |"), std::string::npos)
      << r.out;
  // At alpha 0.005 the same change is not significant (p = 0.0078).
  r = RunDoge("report compare " + dir.File("base") + " " + dir.File("new") + " --max-logprob-drift 10 --alpha 0.005");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace doge::reports
