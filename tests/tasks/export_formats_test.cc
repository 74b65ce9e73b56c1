// --output-format lighteval|lm-eval (issue #18): a doge run folder written here by hand (two
// tasks, MMLU with two subjects, known numbers) converted, and every file checked field by field
// against the layouts below, written down from the projects' documentation:
//
// lighteval 0.7 ("Saving and reading results"): {out}/results/{model_name}/results_{ts}.json
//   with config_general (lighteval_sha, num_fewshot_seeds, override_batch_size, max_samples,
//   job_id, start_time, end_time, total_evaluation_time_secondes, model_name, model_sha,
//   model_dtype, model_size), results {"suite|task|k": {m, m_stderr}, "all"}, versions,
//   config_tasks {"suite|task": {...}}, summary_tasks {"suite|task|k": {hashes, truncated,
//   non_truncated, padded, non_padded, effective_few_shots, num_truncated_few_shots}},
//   summary_general; details under {out}/details/{model_name}/{ts}/details_{task}_{ts}.*
// lm-evaluation-harness 0.4 (docs/interface.md, "--output_path" / "--log_samples"):
//   {out}/{model_name_sanitized}/results_{ts}.json with results {"task": {"alias",
//   "acc,none", "acc_stderr,none"}}, group_subtasks, configs, versions, n-shot,
//   higher_is_better, n-samples {"task": {"original", "effective"}}, config, git_hash;
//   samples_{task}_{ts}.jsonl lines with doc_id, doc, target, arguments, resps, filtered_resps,
//   filter, metrics and each metric's value.
// And the CLI contract: `doge eval ... --tasks 'lighteval|arc:easy|5|0' --output-format lm-eval`
// writes, inside the output folder, a JSON with lm-eval's results object ("acc,none" per task).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "tasks/export_formats.h"

namespace doge::tasks {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = (fs::temp_directory_path() / ("doge_export_" + tag + "_" + std::to_string(getpid()))).string();
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A run as doge eval writes it: arc_easy (2 docs: acc 0.5, acc_norm 1.0) and card-a MMLU over two
// subjects (macro: anatomy 1.0 and college_biology 0.0 -> 0.5).
const char* kResults = R"json({
  "schema": "doge.results/1",
  "git_revision": "abc123",
  "created": "2026-01-31T12:34:56Z",
  "model": {"path": "/cache/models--SmallDoge--Doge-20M/snapshots/0123456789abcdef0123456789abcdef01234567",
            "id": "SmallDoge/Doge-20M", "name": "Doge-20M", "n_params": 13000000, "layout": "B",
            "sha256": {"model.safetensors": "00"}},
  "protocol": "card-a", "threads": 2, "wall_time_s": 12.5, "limit": null,
  "tasks": {
    "arc_easy": {"protocol": "card-a", "version": 1, "k": 5, "split": "test", "fewshot_split": "train",
                 "sampler": "random_sampling_from_train",
                 "lighteval": "lighteval|arc:easy|5|0 (default_tasks.py arc_easy_lighteval, prompt.arc)",
                 "n": 2, "metrics": {"acc": 0.5, "acc_norm": 1.0}, "stderr": {"acc": 0.5, "acc_norm": 0.0},
                 "aggregation": "mean", "dataset_sha256": {}, "docs_per_s": 1, "scored_tokens_per_s": 1,
                 "docs_scored": 2, "wall_time_s": 2.0},
    "mmlu": {"protocol": "card-a", "version": 1, "k": 5, "split": "test", "fewshot_split": "dev",
             "sampler": "sequential", "lighteval": "original|mmlu|5|0 (57 default_tasks.py tasks)",
             "n": 3, "metrics": {"acc": 0.5}, "stderr": {"acc": 0.25}, "aggregation": "macro",
             "subtasks": {"mmlu:anatomy": {"n": 1, "metrics": {"acc": 1.0}, "stderr": {"acc": null}},
                          "mmlu:college_biology": {"n": 2, "metrics": {"acc": 0.0}, "stderr": {"acc": 0.0}}},
             "dataset_sha256": {}, "docs_per_s": 1, "scored_tokens_per_s": 1, "docs_scored": 3, "wall_time_s": 3.0}
  }
})json";

const char* kArcDetails =
    R"({"task":"arc_easy","doc_index":0,"query":"Q0\nAnswer:","choices":[" a"," b"],"gold_index":1,"fewshot_indices":[3,4,5,6,7],"logprobs":[-2.5,-1.25],"n_tokens":[1,1],"is_greedy":[false,true],"prediction":1,"correct":true,"metrics":{"acc":1,"acc_norm":1},"context_tokens":9,"processed_tokens":9})"
    "\n"
    R"({"task":"arc_easy","doc_index":1,"query":"Q1\nAnswer:","choices":[" c"," dd"],"gold_index":1,"fewshot_indices":[1,2,3,4,5],"logprobs":[-1.0,-3.0],"n_tokens":[1,2],"is_greedy":[true,false],"prediction":1,"correct":true,"metrics":{"acc":0,"acc_norm":1},"context_tokens":9,"processed_tokens":9})"
    "\n";
const char* kMmluDetails =
    R"({"task":"mmlu:anatomy","doc_index":0,"query":"A0","choices":["A","B"],"gold_index":0,"fewshot_indices":[0,1,2,3,4],"logprobs":[-0.5,-2.0],"n_tokens":[1,1],"prediction":0,"correct":true,"metrics":{"acc":1},"context_tokens":5,"processed_tokens":5})"
    "\n"
    R"({"task":"mmlu:college_biology","doc_index":0,"query":"B0","choices":["A","B"],"gold_index":0,"fewshot_indices":[0,1,2,3,4],"logprobs":[-3.0,-2.0],"n_tokens":[1,1],"prediction":1,"correct":false,"metrics":{"acc":0},"context_tokens":5,"processed_tokens":5})"
    "\n"
    R"({"task":"mmlu:college_biology","doc_index":1,"query":"B1","choices":["A","B"],"gold_index":1,"fewshot_indices":[0,1,2,3,4],"logprobs":[-1.0,-2.0],"n_tokens":[1,1],"prediction":0,"correct":false,"metrics":{"acc":0},"context_tokens":5,"processed_tokens":5})"
    "\n";

void WriteRun(const std::string& dir) {
  WriteFileAtomic(dir + "/results.json", kResults);
  WriteFileAtomic(dir + "/details/arc_easy.jsonl", kArcDetails);
  WriteFileAtomic(dir + "/details/mmlu.jsonl", kMmluDetails);
}

double D(simdjson::dom::element e) { return double(e); }
std::string S(simdjson::dom::element e) { return std::string(std::string_view(e)); }

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> out;
  const std::string text = ReadFileToString(path);
  size_t i = 0, j;
  while ((j = text.find('\n', i)) != std::string::npos) {
    out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

TEST(ExportFormatsTest, ParsesFormatLists) {
  EXPECT_EQ(ParseOutputFormats("doge"), std::vector<std::string>{"doge"});
  EXPECT_EQ(ParseOutputFormats("lm_eval, lighteval,lm-eval"), (std::vector<std::string>{"lm-eval", "lighteval"}));
  try {
    ParseOutputFormats("lightevel");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "--output-format");
    EXPECT_NE(std::string(e.what()).find("did you mean lighteval?"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ParseOutputFormats(" , "), Error);
  EXPECT_TRUE(ExportResults("/nonexistent", "doge").empty());  // doge's file is results.json itself
}

TEST(ExportFormatsTest, LmEvalResultsAndSamplesLayout) {
  TempDir tmp("lm");
  WriteRun(tmp.path());
  const std::vector<std::string> files = ExportResults(tmp.path(), "lm-eval");
  const std::string dir = tmp.path() + "/SmallDoge__Doge-20M";  // model_name_sanitized: "/" -> "__"
  const std::string results = dir + "/results_2026-01-31T12-34-56.000000.json";
  ASSERT_NE(std::find(files.begin(), files.end(), results), files.end());
  simdjson::dom::parser p;
  simdjson::dom::element r = p.load(results);
  // results: "<metric>,<filter>" keys, filter "none".
  EXPECT_EQ(S(r["results"]["arc_easy"]["alias"]), "arc_easy");
  EXPECT_DOUBLE_EQ(D(r["results"]["arc_easy"]["acc,none"]), 0.5);
  EXPECT_DOUBLE_EQ(D(r["results"]["arc_easy"]["acc_stderr,none"]), 0.5);
  EXPECT_DOUBLE_EQ(D(r["results"]["arc_easy"]["acc_norm,none"]), 1.0);
  EXPECT_DOUBLE_EQ(D(r["results"]["arc_easy"]["acc_norm_stderr,none"]), 0.0);
  EXPECT_DOUBLE_EQ(D(r["results"]["mmlu"]["acc,none"]), 0.5);
  EXPECT_DOUBLE_EQ(D(r["results"]["mmlu_anatomy"]["acc,none"]), 1.0);
  EXPECT_TRUE(r["results"]["mmlu_anatomy"]["acc_stderr,none"].is_null());  // n = 1: no stderr
  EXPECT_DOUBLE_EQ(D(r["results"]["mmlu_college_biology"]["acc,none"]), 0.0);
  EXPECT_DOUBLE_EQ(D(r["groups"]["mmlu"]["acc,none"]), 0.5);
  EXPECT_EQ(r["group_subtasks"]["mmlu"].get_array().size(), 2u);
  EXPECT_EQ(S(r["group_subtasks"]["mmlu"].at(0)), "mmlu_anatomy");
  EXPECT_EQ(int64_t(r["n-shot"]["arc_easy"]), 5);
  EXPECT_EQ(int64_t(r["n-shot"]["mmlu_college_biology"]), 5);
  EXPECT_DOUBLE_EQ(D(r["versions"]["arc_easy"]), 1.0);
  EXPECT_EQ(int64_t(r["n-samples"]["arc_easy"]["original"]), 2);
  EXPECT_EQ(int64_t(r["n-samples"]["arc_easy"]["effective"]), 2);
  EXPECT_EQ(int64_t(r["n-samples"]["mmlu_college_biology"]["effective"]), 2);
  EXPECT_TRUE(bool(r["higher_is_better"]["arc_easy"]["acc_norm"]));
  EXPECT_EQ(S(r["configs"]["arc_easy"]["task"]), "arc_easy");
  EXPECT_EQ(int64_t(r["configs"]["arc_easy"]["num_fewshot"]), 5);
  EXPECT_EQ(S(r["configs"]["arc_easy"]["output_type"]), "multiple_choice");
  EXPECT_EQ(S(r["configs"]["arc_easy"]["metric_list"].at(1)["metric"]), "acc_norm");
  EXPECT_EQ(S(r["model_name"]), "SmallDoge/Doge-20M");
  EXPECT_EQ(S(r["model_name_sanitized"]), "SmallDoge__Doge-20M");
  EXPECT_EQ(S(r["git_hash"]), "abc123");
  EXPECT_TRUE(r["config"]["limit"].is_null());

  // samples: one line per document, per lm-eval task (MMLU per subject).
  const std::vector<std::string> arc = ReadLines(dir + "/samples_arc_easy_2026-01-31T12-34-56.000000.jsonl");
  ASSERT_EQ(arc.size(), 2u);
  simdjson::dom::element s0 = p.parse(arc[0]);
  EXPECT_EQ(int64_t(s0["doc_id"]), 0);
  EXPECT_EQ(S(s0["target"]), "1");
  EXPECT_EQ(S(s0["arguments"]["gen_args_1"]["arg_0"]), "Q0\nAnswer:");
  EXPECT_EQ(S(s0["arguments"]["gen_args_1"]["arg_1"]), " b");
  EXPECT_EQ(S(s0["resps"].at(1).at(0).at(1)), "True");  // (loglikelihood, is_greedy) as strings
  EXPECT_DOUBLE_EQ(std::stod(S(s0["filtered_resps"].at(0).at(0))), -2.5);
  EXPECT_EQ(S(s0["filter"]), "none");
  EXPECT_DOUBLE_EQ(D(s0["acc"]), 1.0);
  EXPECT_EQ(s0["metrics"].get_array().size(), 2u);
  EXPECT_EQ(ReadLines(dir + "/samples_mmlu_college_biology_2026-01-31T12-34-56.000000.jsonl").size(), 2u);
  EXPECT_EQ(ReadLines(dir + "/samples_mmlu_anatomy_2026-01-31T12-34-56.000000.jsonl").size(), 1u);
}

TEST(ExportFormatsTest, LightevalResultsAndDetailsLayout) {
  TempDir tmp("le");
  WriteRun(tmp.path());
  const std::vector<std::string> files = ExportResults(tmp.path(), "lighteval");
  const std::string results = tmp.path() + "/results/SmallDoge/Doge-20M/results_2026-01-31T12-34-56.000000.json";
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files[0], results);
  simdjson::dom::parser p;
  simdjson::dom::element r = p.load(results);
  simdjson::dom::element g = r["config_general"];
  for (const char* f : {"lighteval_sha", "num_fewshot_seeds", "override_batch_size", "max_samples", "job_id",
                        "start_time", "end_time", "total_evaluation_time_secondes", "model_name", "model_sha",
                        "model_dtype", "model_size"}) {
    EXPECT_FALSE(g[f].error()) << f;
  }
  EXPECT_EQ(S(g["model_name"]), "SmallDoge/Doge-20M");
  EXPECT_EQ(S(g["model_sha"]), "0123456789abcdef0123456789abcdef01234567");  // the snapshot commit
  EXPECT_EQ(int64_t(g["num_fewshot_seeds"]), 1);
  EXPECT_TRUE(g["max_samples"].is_null());
  // results: "suite|task|k"; card-a MMLU per subject plus :_average; "all" = mean over task keys.
  EXPECT_DOUBLE_EQ(D(r["results"]["lighteval|arc:easy|5"]["acc"]), 0.5);
  EXPECT_DOUBLE_EQ(D(r["results"]["lighteval|arc:easy|5"]["acc_stderr"]), 0.5);
  EXPECT_DOUBLE_EQ(D(r["results"]["lighteval|arc:easy|5"]["acc_norm"]), 1.0);
  EXPECT_DOUBLE_EQ(D(r["results"]["original|mmlu:anatomy|5"]["acc"]), 1.0);
  EXPECT_DOUBLE_EQ(D(r["results"]["original|mmlu:college_biology|5"]["acc"]), 0.0);
  EXPECT_DOUBLE_EQ(D(r["results"]["original|mmlu:_average|5"]["acc"]), 0.5);
  EXPECT_DOUBLE_EQ(D(r["results"]["all"]["acc"]), (0.5 + 1.0 + 0.0) / 3);
  EXPECT_DOUBLE_EQ(D(r["results"]["all"]["acc_norm"]), 1.0);
  EXPECT_EQ(int64_t(r["versions"]["lighteval|arc:easy|5"]), 1);
  EXPECT_EQ(int64_t(r["versions"]["all"]), 0);
  simdjson::dom::element ct = r["config_tasks"]["lighteval|arc:easy"];
  EXPECT_EQ(S(ct["name"]), "arc:easy");
  EXPECT_EQ(S(ct["suite"].at(0)), "lighteval");
  EXPECT_EQ(S(ct["evaluation_splits"].at(0)), "test");
  EXPECT_EQ(int64_t(ct["effective_num_docs"]), 2);
  EXPECT_EQ(S(r["config_tasks"]["original|mmlu:college_biology"]["name"]), "mmlu:college_biology");
  simdjson::dom::element st = r["summary_tasks"]["lighteval|arc:easy|5"];
  EXPECT_EQ(int64_t(st["truncated"]), 0);
  EXPECT_EQ(int64_t(st["non_truncated"]), 2);
  EXPECT_EQ(int64_t(st["padded"]), 0);
  EXPECT_DOUBLE_EQ(D(st["effective_few_shots"]), 5.0);
  EXPECT_EQ(S(st["hashes"]["hash_examples"]), Sha256Hex("Q0\nAnswer:Q1\nAnswer:").substr(0, 16));
  EXPECT_EQ(int64_t(r["summary_general"]["non_truncated"]), 2 + 1 + 2);

  // Details: one JSONL per task key, lighteval's columns.
  const std::string ts = "2026-01-31T12-34-56.000000";
  const std::string ddir = tmp.path() + "/details/SmallDoge/Doge-20M/" + ts;
  const std::vector<std::string> arc = ReadLines(ddir + "/details_lighteval|arc:easy|5_" + ts + ".jsonl");
  ASSERT_EQ(arc.size(), 2u);
  simdjson::dom::element d1 = p.parse(arc[1]);
  EXPECT_EQ(S(d1["full_prompt"]), "Q1\nAnswer:");
  EXPECT_EQ(S(d1["gold"].at(0)), " dd");
  EXPECT_EQ(int64_t(d1["gold_index"].at(0)), 1);
  EXPECT_DOUBLE_EQ(D(d1["predictions"].at(0).at(0)), -1.0);
  EXPECT_EQ(int64_t(d1["num_effective_few_shots"]), 5);
  EXPECT_DOUBLE_EQ(D(d1["metrics"]["acc_norm"]), 1.0);
  EXPECT_EQ(ReadLines(ddir + "/details_original|mmlu:college_biology|5_" + ts + ".jsonl").size(), 2u);
}

TEST(ExportFormatsTest, AResultsFileNotWrittenByDogeIsAFormatError) {
  TempDir tmp("bad");
  WriteFileAtomic(tmp.path() + "/results.json", R"({"created": "x", "tasks": {}})");
  try {
    ExportResults(tmp.path(), "lm-eval");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_EQ(e.file(), tmp.path() + "/results.json");
  }
  WriteRun(tmp.path());
  WriteFileAtomic(tmp.path() + "/details/arc_easy.jsonl", "{\"task\": 1}\n");
  try {
    ExportResults(tmp.path(), "lm-eval");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), tmp.path() + "/details/arc_easy.jsonl");
    EXPECT_EQ(e.field(), "1:task");
  }
}

// The contract, through the real binary on the bundled tiny model and data.
TEST(ExportFormatsCliTest, LightevalTaskStringWithLmEvalOutput) {
  TempDir tmp("cli");
  const std::string out = tmp.path() + "/run";
  const std::string cmd = std::string(DOGE_BINARY) + " eval --model " + DOGE_TEST_DATA + "/tiny-model --tasks 'lighteval|arc:easy|5|0' --data-dir " +
                          DOGE_TEST_DATA + "/datasets-canonical --out-dir " + out +
                          " --allow-count-mismatch --limit 2 --threads 1 --output-format lm-eval > " + tmp.path() +
                          "/log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadFileToString(tmp.path() + "/log");
  simdjson::dom::parser p;
  simdjson::dom::element doge = p.load(out + "/results.json");
  const double acc = D(doge["tasks"]["arc_easy"]["metrics"]["acc"]);
  EXPECT_EQ(int64_t(doge["tasks"]["arc_easy"]["k"]), 5);
  int found = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("results_", 0) != 0 || e.path().extension() != ".json") continue;
    simdjson::dom::parser q;
    simdjson::dom::element r = q.load(e.path().string());
    EXPECT_DOUBLE_EQ(D(r["results"]["arc_easy"]["acc,none"]), acc);
    EXPECT_FALSE(r["results"]["arc_easy"]["acc_stderr,none"].error());
    ++found;
  }
  EXPECT_EQ(found, 1);
  // --tasks list needs no model; an output format without --out-dir is a usage error.
  const std::string list = std::string(DOGE_BINARY) + " eval --tasks list > " + tmp.path() + "/list 2>&1";
  ASSERT_EQ(std::system(list.c_str()), 0);
  EXPECT_NE(ReadFileToString(tmp.path() + "/list").find("leaderboard|hellaswag|5|0"), std::string::npos);
  const std::string no_out = std::string(DOGE_BINARY) + " eval --model " + DOGE_TEST_DATA +
                             "/tiny-model --tasks arc_easy --output-format lm-eval > /dev/null 2>&1";
  const int st = std::system(no_out.c_str());
  EXPECT_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 2);
}

}  // namespace
}  // namespace doge::tasks
