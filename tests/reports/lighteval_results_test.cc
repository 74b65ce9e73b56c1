// `doge report card` reads a lighteval 0.7 results file too (issue #18), so a lighteval run's row
// stands beside doge's. The file below is written from lighteval's documented layout
// ("Saving and reading results": config_general, results keyed suite|task|k plus "all",
// versions, config_tasks, summary_tasks), with hand-picked numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "engine/base/error.h"
#include "reports/src/card.h"
#include "tests/reports/report_test_util.h"

namespace doge::reports {
namespace {

const char* kLighteval = R"json({
  "config_general": {"lighteval_sha": "abc", "num_fewshot_seeds": 1, "override_batch_size": 1,
                     "max_samples": null, "job_id": "", "start_time": 1.0, "end_time": 2.0,
                     "total_evaluation_time_secondes": "1.0", "model_name": "SmallDoge/Doge-60M",
                     "model_sha": "", "model_dtype": "torch.float32", "model_size": "0.24 GB"},
  "results": {
    "lighteval|arc:easy|5": {"acc": 0.25, "acc_stderr": 0.01, "acc_norm": 0.5, "acc_norm_stderr": 0.02},
    "leaderboard|arc:challenge|5": {"acc": 0.2, "acc_stderr": 0.01, "acc_norm": 0.3, "acc_norm_stderr": 0.03},
    "leaderboard|hellaswag|5": {"acc": 0.3, "acc_stderr": 0.004, "acc_norm": 0.35, "acc_norm_stderr": 0.005},
    "original|mmlu:anatomy|5": {"acc": 0.4, "acc_stderr": 0.03},
    "original|mmlu:astronomy|5": {"acc": 0.2, "acc_stderr": 0.04},
    "lighteval|triviaqa|5": {"qem": 0.001, "qem_stderr": 0.0002},
    "helm|boolq|0": {"em": 0.5, "em_stderr": 0.1},
    "all": {"acc": 0.3, "acc_stderr": 0.02}
  },
  "versions": {"all": 0, "lighteval|arc:easy|5": 0},
  "config_tasks": {
    "lighteval|arc:easy": {"name": "arc:easy", "evaluation_splits": ["test"], "effective_num_docs": 2376},
    "leaderboard|hellaswag": {"name": "hellaswag", "evaluation_splits": ["validation"], "effective_num_docs": 10042}
  },
  "summary_tasks": {
    "leaderboard|arc:challenge|5": {"truncated": 0, "non_truncated": 1172, "padded": 0, "non_padded": 1172},
    "original|mmlu:anatomy|5": {"truncated": 0, "non_truncated": 135},
    "original|mmlu:astronomy|5": {"truncated": 0, "non_truncated": 152}
  }
})json";

TEST(LightevalResultsTest, KeysMapOntoDogeTasks) {
  testing::TempDir dir;
  const std::string path = dir.File("results_2025-01-31T12-00-00.000000.json");
  testing::Spit(path, kLighteval);
  const EvalResults r = LoadEvalResults(path);
  EXPECT_EQ(r.model_name, "Doge-60M");
  EXPECT_EQ(r.protocol, "card-a");
  EXPECT_EQ(r.created, "2025-01-31T12-00-00.000000");
  ASSERT_EQ(r.tasks.size(), 5u);  // arc_easy arc_challenge hellaswag mmlu triviaqa; boolq skipped
  const TaskResult& easy = r.tasks.at("arc_easy");
  EXPECT_EQ(easy.k, 5);
  EXPECT_EQ(easy.n, 2376);  // config_tasks.effective_num_docs
  EXPECT_EQ(easy.split, "test");
  EXPECT_DOUBLE_EQ(easy.metrics.at("acc_norm"), 0.5);
  EXPECT_DOUBLE_EQ(easy.stderrs.at("acc_norm"), 0.02);
  EXPECT_EQ(r.tasks.at("arc_challenge").n, 1172);  // summary_tasks.non_truncated
  // MMLU subjects without an _average key: their unweighted mean, as lighteval's _average.
  const TaskResult& mmlu = r.tasks.at("mmlu");
  EXPECT_DOUBLE_EQ(mmlu.metrics.at("acc"), (0.4 + 0.2) / 2);
  EXPECT_DOUBLE_EQ(mmlu.stderrs.at("acc"), std::sqrt(0.03 * 0.03 + 0.04 * 0.04) / 2);
  EXPECT_EQ(mmlu.n, 135 + 152);
  EXPECT_EQ(mmlu.n_subtasks, 2);
  EXPECT_EQ(mmlu.aggregation, "macro");
  EXPECT_DOUBLE_EQ(r.tasks.at("triviaqa").metrics.at("qem"), 0.001);
}

TEST(LightevalResultsTest, CardPutsALightevalRowBesideOurs) {
  testing::TempDir dir;
  const std::string path = dir.File("results_2025-01-31T12-00-00.000000.json");
  testing::Spit(path, kLighteval);
  const auto r = testing::RunDoge("report card --allow-missing " + testing::ReportsData() + "/card/doge-20m.json " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| Doge-20M |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| Doge-60M |"), std::string::npos) << r.out;
  // HellaSwag acc_norm 0.35 -> 35.0, ARC (0.5 + 0.3) / 2 -> 40.0.
  const size_t row = r.out.find("| Doge-60M | ours");
  ASSERT_NE(row, std::string::npos) << r.out;
  const std::string line = r.out.substr(row, r.out.find('\n', row) - row);
  EXPECT_NE(line.find("| 35.0 |"), std::string::npos) << line;
  EXPECT_NE(line.find("| 40.0 |"), std::string::npos) << line;
  EXPECT_NE(line.find("| 30.0 |"), std::string::npos) << line;  // MMLU
}

TEST(LightevalResultsTest, OutOfRangeMetricNamesTheFileAndKey) {
  testing::TempDir dir;
  const std::string path = dir.File("results_x.json");
  std::string text = kLighteval;
  text.replace(text.find("\"acc_norm\": 0.35"), 16, "\"acc_norm\": 3.5");
  testing::Spit(path, text);
  try {
    LoadEvalResults(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_EQ(e.file(), path);
    EXPECT_NE(e.field().find("leaderboard|hellaswag|5"), std::string::npos) << e.field();
  }
}

}  // namespace
}  // namespace doge::reports
