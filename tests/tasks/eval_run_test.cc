// The run folder's files (tasks/eval_run.h): the details line and the `tasks render` line share
// one writer, the details files go through start -> append -> finish and refuse another run's
// partial file on resume, results.json carries the schema reports/ checks, and --protocol auto
// splits models at the documented 100M parameters. Expected values are written by hand here.
#include "tasks/eval_run.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "tasks/requests.h"
#include "tasks/spec.h"

namespace doge::tasks {
namespace {

EvalDoc SampleDoc() {
  EvalDoc d;
  d.subtask = "arc_easy";
  d.doc_index = 3;
  d.context = "Question: Q?\nAnswer:";
  d.doc.choices = {" yes", " no"};
  d.doc.gold_index = 1;
  d.fewshot_indices = {7, 2};
  return d;
}

DocResult SampleResult() {
  DocResult r;
  r.subtask = "arc_easy";
  r.doc_index = 3;
  r.query = "Question: Q?\nAnswer:";
  r.choices = {" yes", " no"};
  r.gold_index = 1;
  r.fewshot_indices = {7, 2};
  r.logprobs = {-1.5, -0.25};
  r.n_tokens = {1, 1};
  r.prediction = 1;
  r.metrics = {{"acc", 1.0}};
  r.context_tokens = 6;
  r.processed_tokens = 8;
  return r;
}

TEST(EvalRunTest, RenderLineIsTheRequestPartOfTheDetailsLine) {
  const std::string render = RenderLine(SampleDoc());
  EXPECT_EQ(render,
            "{\"task\":\"arc_easy\",\"doc_index\":3,\"query\":\"Question: Q?\\nAnswer:\","
            "\"choices\":[\" yes\",\" no\"],\"gold_index\":1,\"fewshot_indices\":[7,2]}");
  const std::string detail = DetailLine(SampleResult());
  // Same fields, same order, same bytes: the details line continues where the render line ends.
  EXPECT_EQ(detail.substr(0, render.size() - 1), render.substr(0, render.size() - 1)) << detail;
  EXPECT_EQ(detail.substr(render.size() - 1, 12), ",\"logprobs\":") << detail;
  // And it reads back to the same line (metrics are not read back: the evaluator and merge
  // recompute them from the log-probs with ComputeDocMetrics).
  DocResult back = ParseDetailLine(detail, "test");
  EXPECT_TRUE(back.metrics.empty());
  back.metrics = SampleResult().metrics;
  EXPECT_EQ(DetailLine(back), detail);
}

TEST(EvalRunTest, DetailsLineWithAKeyTwiceIsRefusedOnResume) {
  // A resumed or merged line is read through the JSON layer: a key given twice with different
  // values is an error naming the line and the key, not a silent choice of the first value.
  const std::string detail = DetailLine(SampleResult());
  const std::string twice = "{\"doc_index\":4," + detail.substr(1);
  try {
    ParseDetailLine(twice, "run/details/arc_easy.jsonl:2");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_EQ(e.file(), "run/details/arc_easy.jsonl:2");
    EXPECT_EQ(e.field(), "doc_index");
    EXPECT_NE(e.message().find("4, then 3"), std::string::npos) << e.what();
  }
  // A field of the wrong type names the field and what it holds.
  try {
    ParseDetailLine("{\"task\": 1}", "x");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "task");
    EXPECT_EQ(e.message(), "expected a string, found number 1");
  }
}

TEST(EvalRunTest, DetailsFilesStartAppendFinishAndRefuseAnotherRun) {
  const std::string dir = ::testing::TempDir() + "/eval_run_files";
  std::remove((dir + "/details/arc_easy.jsonl").c_str());
  std::remove((dir + "/details/arc_easy.jsonl.run").c_str());
  PreparedTask task;
  task.spec = &FindTaskSpec("arc_easy", "card-a");
  task.k = 5;
  const std::string header = TaskDetailsFiles::PartialHeader(task, "run-1");
  EXPECT_EQ(header.rfind("{\"schema\":\"doge.details-partial/1\",\"task\":\"arc_easy\"", 0), 0u)
      << header;
  const std::string line = DetailLine(SampleResult());
  {
    TaskDetailsFiles files(dir, "arc_easy", header);
    files.StartPartial({});
    files.AppendPartial(line + "\n");
    EXPECT_EQ(ReadFileToString(files.partial_path()), header + "\n" + line + "\n");
    // Resuming from the partial file: the saved document comes back, marked done.
    std::vector<DocResult> slots(1);
    slots[0].subtask = "arc_easy";
    slots[0].doc_index = 3;
    slots[0].query = SampleResult().query;
    slots[0].fewshot_indices = {7, 2};
    std::vector<bool> done(1, false);
    TaskDetailsFiles again(dir, "arc_easy", header);
    EXPECT_EQ(again.Resume(slots, done), std::vector<std::string>{line});
    EXPECT_TRUE(done[0]);
    EXPECT_EQ(slots[0].logprobs, (std::vector<double>{-1.5, -0.25}));
    // A run with another identity is refused, naming the partial file.
    TaskDetailsFiles other(dir, "arc_easy", TaskDetailsFiles::PartialHeader(task, "run-2"));
    try {
      other.Resume(slots, done);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_EQ(e.file(), files.partial_path());
      EXPECT_EQ(e.field(), "header");
    }
    files.Finish({SampleResult()});
    EXPECT_FALSE(FileExists(files.partial_path()));
  }
  EXPECT_EQ(ReadFileToString(dir + "/details/arc_easy.jsonl"), line + "\n");
  EXPECT_EQ(ReadFileToString(dir + "/details/arc_easy.jsonl.run"), header + "\n");
}

TEST(EvalRunTest, ResultsJsonCarriesTheSchemaReportsChecks) {
  EvalRunRecord run;
  run.protocol = "card-a";
  run.limit = -1;
  const std::string json = ResultsJson(run);
  EXPECT_NE(json.find("\"schema\": \"doge.results/1\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"limit\": null"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"shard\""), std::string::npos);
  EXPECT_EQ(json.back(), '\n');
  EXPECT_STREQ(kResultsSchema, "doge.results/1");
}

TEST(EvalRunTest, AutoProtocolSwitchesToCardBAt100MParameters) {
  EXPECT_EQ(AutoProtocol(0), "card-a");
  EXPECT_EQ(AutoProtocol(20000000), "card-a");
  EXPECT_EQ(AutoProtocol(99999999), "card-a");
  EXPECT_EQ(AutoProtocol(100000000), "card-b");
  EXPECT_EQ(AutoProtocol(320000000), "card-b");
}

}  // namespace
}  // namespace doge::tasks
