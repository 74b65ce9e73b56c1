// The task layer from outside: `doge tasks render` (an outside-checked contract) against an
// independent Python model of lighteval 0.7.0 for every task, protocol and k in {0, 5}; request
// hashes that pin the prompts; `doge eval` end to end on the bundled tiny model; a recomputation
// of one document's log-likelihoods through the engine directly; and a real SIGKILL midway
// through a run followed by --resume.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/base/file_util.h"
#include "engine/scoring.h"
#include "engine/tokenizer/tokenizer.h"
#include "tasks/eval_run.h"
#include "tasks/evaluator.h"
#include "tasks/requests.h"
#include "tasks/spec.h"

namespace doge::tasks {
namespace {

const std::string kData = std::string(DOGE_TEST_DATA) + "/datasets-canonical";
const std::string kModel = std::string(DOGE_TEST_DATA) + "/tiny-model";
const std::string kReference = std::string(DOGE_TEST_DATA) + "/tasks/lighteval_reference.py";

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = (std::filesystem::temp_directory_path() / ("doge_cli_" + tag + "_" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct RunResult {
  int status = -1;  // raw wait status
  std::string out, err;
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  bool killed_by(int sig) const {
    // sh reports a child killed by a signal as exit 128 + signal.
    return (WIFSIGNALED(status) && WTERMSIG(status) == sig) || exit_code() == 128 + sig;
  }
};

RunResult RunCommand(const std::string& cmd, const std::string& scratch) {
  const std::string out = scratch + "/stdout", err = scratch + "/stderr";
  RunResult r;
  r.status = std::system((cmd + " > " + out + " 2> " + err).c_str());
  r.out = FileExists(out) ? ReadFileToString(out) : "";
  r.err = FileExists(err) ? ReadFileToString(err) : "";
  return r;
}

std::string Doge() { return std::string(DOGE_BINARY); }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> v;
  size_t i = 0, j;
  while ((j = text.find('\n', i)) != std::string::npos) {
    v.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return v;
}

TEST(TasksCliTest, RenderMatchesAnIndependentPythonModelOfLighteval) {
  // The renders are made in-process (the same RenderLine `doge tasks render` writes; the CLI path
  // is checked below) and compared by one python3 run, to keep the suite fast on 2 cores.
  TempDir tmp("render");
  std::string list;
  for (const std::string& p : ProtocolNames()) {
    for (const std::string& t : CardTaskNames()) {
      for (int k : {0, 5}) {
        const std::string file = tmp.path() + "/" + p + "_" + t + "_" + std::to_string(k) + ".jsonl";
        PrepareOptions o;
        o.data_dir = kData;
        o.num_fewshot = k;
        const PreparedTask task = PrepareTask(FindTaskSpec(t, p), o);
        std::string out;
        for (const TaskUnit& u : task.units) {
          for (const EvalDoc& d : u.docs) out += RenderLine(d) + "\n";
        }
        WriteFileAtomic(file, out);
        list += t + " " + p + " " + kData + " " + std::to_string(k) + " " + file + "\n";
      }
    }
  }
  WriteFileAtomic(tmp.path() + "/jobs.txt", list);
  RunResult py = RunCommand("python3 " + kReference + " --batch " + tmp.path() + "/jobs.txt", tmp.path());
  EXPECT_EQ(py.exit_code(), 0) << py.out << py.err;
  EXPECT_EQ(Lines(py.out).size(), 32u) << py.out;
  // The CLI writes the same bytes.
  const std::string cli = tmp.path() + "/cli.jsonl";
  RunResult r = RunCommand(Doge() + " tasks render --task winogrande --protocol card-a --data-dir " + kData +
                               " -o " + cli, tmp.path());
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(ReadFileToString(cli), ReadFileToString(tmp.path() + "/card-a_winogrande_5.jsonl"));
}

TEST(TasksCliTest, RenderContractFieldsAndSubjects) {
  TempDir tmp("contract");
  const std::string file = tmp.path() + "/mmlu.jsonl";
  RunResult r = RunCommand(Doge() + " tasks render --task mmlu --protocol card-a --data-dir " + kData + " --limit 2 -o " + file,
                    tmp.path());
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_NE(r.err.find("54 mmlu subjects have no test split"), std::string::npos) << r.err;
  const std::vector<std::string> lines = Lines(ReadFileToString(file));
  ASSERT_EQ(lines.size(), 6u);  // 2 docs x 3 bundled subjects, dataset order
  simdjson::dom::parser parser;
  std::vector<std::string> tasks_seen;
  for (const std::string& l : lines) {
    simdjson::dom::object o = parser.parse(l).get_object();
    std::vector<std::string> keys;
    for (auto [k, v] : o) keys.emplace_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"task", "doc_index", "query", "choices", "gold_index", "fewshot_indices"}));
    tasks_seen.emplace_back(std::string_view(o["task"].get_string()));
  }
  EXPECT_EQ(tasks_seen, (std::vector<std::string>{"mmlu:anatomy", "mmlu:anatomy", "mmlu:high_school_mathematics",
                                                  "mmlu:high_school_mathematics", "mmlu:professional_law",
                                                  "mmlu:professional_law"}));
  r = RunCommand(Doge() + " tasks render --task mmlu:anatomy --protocol card-a --data-dir " + kData + " -o " + file, tmp.path());
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(Lines(ReadFileToString(file)).size(), 10u);
  // Errors: unknown task (usage, exit 2) with a suggestion; an absent subject (data, exit 3).
  r = RunCommand(Doge() + " tasks render --task arc_esay --protocol card-a --data-dir " + kData + " -o " + file, tmp.path());
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find("did you mean arc_easy"), std::string::npos) << r.err;
  r = RunCommand(Doge() + " tasks render --task mmlu:virology --protocol card-a --data-dir " + kData + " -o " + file, tmp.path());
  EXPECT_EQ(r.exit_code(), 3) << r.err;
  r = RunCommand(Doge() + " tasks ls", tmp.path());
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_NE(r.out.find("random_sampling_from_train"), std::string::npos);
  EXPECT_NE(r.out.find("card-b"), std::string::npos);
}

TEST(TasksCliTest, RequestHashesPinPrompts) {
  const std::string path = std::string(DOGE_TEST_DATA) + "/tasks/request_hashes.json";
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(path);
  int checked = 0;
  for (const TaskSpec& spec : AllTaskSpecs()) {
    const std::string key = spec.protocol + "/" + spec.task;
    simdjson::dom::element e;
    ASSERT_FALSE(root["hashes"][key].get(e)) << key << " missing from " << path;
    PrepareOptions o;
    o.data_dir = kData;
    const PreparedTask t = PrepareTask(spec, o);
    std::string all;
    for (const TaskUnit& u : t.units) {
      for (const EvalDoc& d : u.docs) all += RenderLine(d) + "\n";
    }
    const int64_t version = e["version"].get_int64();
    const std::string_view sha = e["sha256"].get_string();
    EXPECT_EQ(version, spec.version) << key << ": the spec's version changed; re-pin its hash in " << path;
    EXPECT_EQ(Sha256Hex(all), std::string(sha))
        << key << ": the rendered requests changed. If intended, bump \"version\" in " << spec.spec_file
        << ", add a changelog line to tasks/specs/README.md and update " << path;
    ++checked;
  }
  EXPECT_EQ(checked, 16);
}

// Metric maps of results.json tasks, for comparing runs.
std::map<std::string, std::string> TaskNumbers(const std::string& results_path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(results_path);
  std::map<std::string, std::string> out;
  for (auto [task, v] : root["tasks"].get_object()) {
    out[std::string(task)] = simdjson::minify(v["metrics"]) + simdjson::minify(v["stderr"]) +
                             std::to_string(int64_t(v["n"]));
  }
  return out;
}

TEST(TasksCliTest, EvalCardOnTheTinyModelWritesResultsAndDetails) {
  TempDir tmp("e2e");
  const std::string out = tmp.path() + "/run";
  RunResult r = RunCommand(Doge() + " eval --model " + kModel + " --tasks card --data-dir " + kData + " --out-dir " + out +
                        " --allow-count-mismatch --limit 2 --threads 2",
                    tmp.path());
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  for (const char* col : {"task", "acc_norm", "mmlu", "winogrande", "hellaswag"}) {
    EXPECT_NE(r.out.find(col), std::string::npos) << r.out;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(out + "/results.json");
  EXPECT_EQ(std::string_view(root["schema"].get_string()), "doge.results/1");
  EXPECT_EQ(std::string_view(root["protocol"].get_string()), "card-a");  // auto: tiny model < 100M
  EXPECT_EQ(int64_t(root["limit"]), 2);
  EXPECT_EQ(std::string_view(root["model"]["name"].get_string()), "tiny-model");
  EXPECT_EQ(std::string_view(root["model"]["sha256"]["model.safetensors"].get_string()),
            Sha256File(kModel + "/model.safetensors"));
  EXPECT_FALSE(root["fingerprint"]["cpu_model"].error());
  int n_tasks = 0;
  for (auto [task, v] : root["tasks"].get_object()) {
    ++n_tasks;
    const std::string name(task);
    const int64_t n = v["n"];
    EXPECT_EQ(n, name == "mmlu" ? 6 : 2) << name;
    EXPECT_EQ(int64_t(v["k"]), 5);
    for (auto [m, x] : v["metrics"].get_object()) {
      const double value = x;
      EXPECT_GE(value, 0) << name << " " << m;
      EXPECT_LE(value, 1) << name << " " << m;
    }
    EXPECT_FALSE(v["dataset_sha256"].error());
    const std::vector<std::string> lines = Lines(ReadFileToString(out + "/details/" + name + ".jsonl"));
    EXPECT_EQ(static_cast<int64_t>(lines.size()), n) << name;
  }
  EXPECT_EQ(n_tasks, 8);
  EXPECT_EQ(std::string_view(root["tasks"]["mmlu"]["aggregation"].get_string()), "macro");
  EXPECT_EQ(root["tasks"]["mmlu"]["subtasks"].get_object().size(), 3u);
  EXPECT_FALSE(root["tasks"]["arc_easy"]["metrics"]["acc_norm"].error());
  EXPECT_FALSE(root["tasks"]["triviaqa"]["metrics"]["qem"].error());

  // One document recomputed through the engine directly, each choice as its own request (the
  // run shared one context computation across the choices and batched documents). Not
  // bit-identical since the run computes a document's choices as branches of one forward call:
  // the GEMMs see other row counts (the portable build switches to Eigen above 32 rows) and a
  // branch's keys sit at other cache rows, so the attention sums round differently. Observed
  // differences are ~1e-6 on sums of ~50-150 nats; 1e-5 is the issue's batch-invariance bound.
  std::unique_ptr<DogeLanguageModel> lm = DogeLanguageModel::Load(kModel, 1);
  std::unique_ptr<Tokenizer> tok = LoadTokenizer(kModel);
  for (const char* task : {"arc_easy", "winogrande", "hellaswag"}) {
    const std::vector<std::string> lines = Lines(ReadFileToString(out + "/details/" + task + ".jsonl"));
    const DocResult d = ParseDetailLine(lines.at(1), task);
    ASSERT_EQ(d.logprobs.size(), d.choices.size());
    for (size_t c = 0; c < d.choices.size(); ++c) {
      PairTokens p = EncodePair(*tok, d.query, d.choices[c]);
      ScoreRequest req{p.context, {p.continuation}};
      const ContinuationScore s = lm->Score({req}).at(0).at(0);
      EXPECT_NEAR(s.logprob, d.logprobs[c], 1e-5) << task << " choice " << c;
      EXPECT_EQ(s.n_tokens, d.n_tokens[c]);
    }
  }
  // Single-token MMLU: the next-token row at the end of the context, read at A..D.
  const DocResult m = ParseDetailLine(Lines(ReadFileToString(out + "/details/mmlu.jsonl")).at(0), "mmlu");
  std::vector<int32_t> ids;
  for (const char* letter : {"A", "B", "C", "D"}) ids.push_back(tok->Encode(letter, false).at(0));
  const std::vector<double> lp = lm->NextTokenLogprobs({tok->Encode(m.query, true)}, ids).at(0);
  for (size_t c = 0; c < 4; ++c) EXPECT_DOUBLE_EQ(lp[c], m.logprobs[c]);
}

TEST(TasksCliTest, KilledRunResumesToIdenticalResults) {
  TempDir tmp("resume");
  const std::string common = Doge() + " eval --model " + kModel + " --tasks arc_easy,piqa --data-dir " + kData +
                             " --allow-count-mismatch --limit 6 --threads 2 --batch-docs 2";
  // arc_easy finishes (6 docs), then piqa's first batch (2 docs) is flushed and the process is
  // SIGKILLed: the resume reads one finished details file and one partial file.
  RunResult killed = RunCommand(common + " --out-dir " + tmp.path() + "/a --debug-kill-after-docs 8", tmp.path());
  ASSERT_TRUE(killed.killed_by(SIGKILL)) << "status " << killed.status << "\n" << killed.err;
  EXPECT_FALSE(FileExists(tmp.path() + "/a/results.json"));
  EXPECT_TRUE(FileExists(tmp.path() + "/a/details/arc_easy.jsonl"));
  ASSERT_TRUE(FileExists(tmp.path() + "/a/details/piqa.jsonl.partial"));
  EXPECT_EQ(Lines(ReadFileToString(tmp.path() + "/a/details/piqa.jsonl.partial")).size(), 1u + 2u);  // header + batch

  RunResult resumed = RunCommand(common + " --out-dir " + tmp.path() + "/a --resume", tmp.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.err;
  RunResult fresh = RunCommand(common + " --out-dir " + tmp.path() + "/b", tmp.path());
  ASSERT_EQ(fresh.exit_code(), 0) << fresh.err;
  for (const char* task : {"arc_easy", "piqa"}) {
    EXPECT_EQ(ReadFileToString(tmp.path() + "/a/details/" + task + ".jsonl"),
              ReadFileToString(tmp.path() + "/b/details/" + task + ".jsonl"))
        << task;
  }
  EXPECT_EQ(TaskNumbers(tmp.path() + "/a/results.json"), TaskNumbers(tmp.path() + "/b/results.json"));
  EXPECT_FALSE(FileExists(tmp.path() + "/a/details/piqa.jsonl.partial"));
  // A resume against different settings is refused rather than mixed.
  RunResult kill2 = RunCommand(common + " --out-dir " + tmp.path() + "/c --debug-kill-after-docs 8", tmp.path());
  ASSERT_TRUE(kill2.killed_by(SIGKILL));
  RunResult mismatch = RunCommand(common + " --out-dir " + tmp.path() + "/c --resume --protocol card-b", tmp.path());
  EXPECT_EQ(mismatch.exit_code(), 2) << mismatch.err;
  // So is a finished task of another run (its details/<task>.run identity differs).
  std::filesystem::remove(tmp.path() + "/c/details/piqa.jsonl.partial");
  mismatch = RunCommand(common + " --out-dir " + tmp.path() + "/c --resume --num-fewshot 0", tmp.path());
  EXPECT_EQ(mismatch.exit_code(), 2) << mismatch.err;
}

TEST(TasksCliTest, EvalReadsTheCheckpointsGenerationConfig) {
  // The tiny checkpoint copied with a generation_config.json beside it.
  TempDir tmp("gencfg");
  const std::string model = tmp.path() + "/model";
  std::filesystem::copy(kModel, model);
  const std::string common = Doge() + " eval --model " + model + " --tasks triviaqa --data-dir " + kData +
                             " --allow-count-mismatch --limit 2 --threads 1 --out-dir ";
  // A field that selects another decoding algorithm is refused before the weights load, by name.
  WriteFileAtomic(model + "/generation_config.json", R"({"num_beams": 4})");
  RunResult r = RunCommand(common + tmp.path() + "/a", tmp.path());
  EXPECT_EQ(r.exit_code(), 3) << r.err;
  EXPECT_NE(r.err.find("generation_config.json: num_beams: 4 selects beam search"), std::string::npos) << r.err;
  // Sampling fields leave greedy decoding greedy: same generations as without the file, and the
  // ignored keys are named on stderr.
  WriteFileAtomic(model + "/generation_config.json", R"({"do_sample": true, "temperature": 0.7, "eos_token_id": 0})");
  r = RunCommand(common + tmp.path() + "/b", tmp.path());
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_NE(r.err.find("applied to generation: nothing (plain greedy)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("passed by lighteval itself, file values not used: do_sample, eos_token_id"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("no effect on greedy decoding: temperature"), std::string::npos) << r.err;
  std::filesystem::remove(model + "/generation_config.json");
  r = RunCommand(common + tmp.path() + "/c", tmp.path());
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(ReadFileToString(tmp.path() + "/b/details/triviaqa.jsonl"),
            ReadFileToString(tmp.path() + "/c/details/triviaqa.jsonl"));
}

TEST(TasksCliTest, EvalUsageErrors) {
  TempDir tmp("usage");
  RunResult r = RunCommand(Doge() + " eval --model " + kModel + " --tasks arc_esay --data-dir " + kData, tmp.path());
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find("did you mean arc_easy"), std::string::npos) << r.err;
  r = RunCommand(Doge() + " eval --tasks card", tmp.path());
  EXPECT_EQ(r.exit_code(), 2);
  r = RunCommand(Doge() + " eval --help", tmp.path());
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_NE(r.out.find("--resume"), std::string::npos);
  // Without --allow-count-mismatch a sample fails the manifest count check (input data: exit 3).
  r = RunCommand(Doge() + " eval --model " + kModel + " --tasks piqa --data-dir " + kData + " --limit 1", tmp.path());
  EXPECT_EQ(r.exit_code(), 3) << r.err;
}

// Issue 15: a run that did not do what was asked never exits 0, and option values outside their
// domain are usage errors naming the option.
TEST(TasksCliTest, VacuousRunsAndOutOfDomainOptionsFail) {
  TempDir tmp("vacuous");
  const std::string eval = Doge() + " eval --model " + kModel;
  // A requested task without data: an error even with --allow-count-mismatch (it used to warn
  // eight times, write "tasks": {} and exit 0).
  std::filesystem::create_directories(tmp.path() + "/empty");
  RunResult r = RunCommand(eval + " --tasks card --allow-count-mismatch --data-dir " + tmp.path() + "/empty --out-dir " +
                               tmp.path() + "/run",
                           tmp.path());
  EXPECT_EQ(r.exit_code(), 3) << r.err;
  EXPECT_NE(r.err.find("no data for mmlu (mmlu), triviaqa (triviaqa), arc_easy"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(tmp.path() + "/run/results.json"));
  // One task of two without data is still an error.
  std::filesystem::create_directories(tmp.path() + "/some/piqa");
  std::filesystem::copy(std::string(kData) + "/piqa", tmp.path() + "/some/piqa",
                        std::filesystem::copy_options::recursive);
  r = RunCommand(eval + " --tasks piqa,arc_easy --allow-count-mismatch --data-dir " + tmp.path() + "/some", tmp.path());
  EXPECT_EQ(r.exit_code(), 3) << r.err;
  EXPECT_NE(r.err.find("no data for arc_easy (arc_easy)"), std::string::npos) << r.err;
  // Out-of-domain values (they used to mean "5-shot" and "everything", or print "- ± -").
  const std::string piqa = eval + " --tasks piqa --allow-count-mismatch --data-dir " + kData;
  const std::pair<const char*, const char*> bad[] = {
      {" --num-fewshot -1", "--num-fewshot: expected a shot count in [0, 1000], got -1"},
      {" --limit -3", "--limit: expected a document count >= 1"},
      {" --limit 0", "--limit: expected a document count >= 1"},
      {" --threads -2", "--threads: expected >= 0"},
      {" --overwrite", "--overwrite: needs --out-dir DIR"},
  };
  for (const auto& [flag, message] : bad) {
    r = RunCommand(piqa + flag, tmp.path());
    EXPECT_EQ(r.exit_code(), 2) << flag << "\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << flag << "\n" << r.err;
  }
}

// Issue 15: a second run into the folder of another one is refused unless --resume or
// --overwrite; --overwrite removes the old run's files first, so the folder never mixes runs.
TEST(TasksCliTest, OutputFolderNeverMixesTwoRuns) {
  TempDir tmp("mix");
  const std::string common = Doge() + " eval --model " + kModel + " --data-dir " + kData +
                             " --allow-count-mismatch --limit 3 --threads 1 --out-dir " + tmp.path() + "/run";
  ASSERT_EQ(RunCommand(common + " --tasks arc_easy,piqa", tmp.path()).exit_code(), 0);
  ASSERT_TRUE(FileExists(tmp.path() + "/run/details/piqa.jsonl"));
  std::filesystem::create_directories(tmp.path() + "/run/notes");
  WriteFileAtomic(tmp.path() + "/run/notes/mine.txt", "a user's file");
  RunResult r = RunCommand(common + " --tasks arc_easy", tmp.path());
  EXPECT_EQ(r.exit_code(), 2) << r.err;
  EXPECT_NE(r.err.find("/run: --out-dir: holds another run (details, results.json)"), std::string::npos) << r.err;
  EXPECT_TRUE(FileExists(tmp.path() + "/run/details/piqa.jsonl"));  // untouched
  r = RunCommand(common + " --tasks arc_easy --overwrite", tmp.path());
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_FALSE(FileExists(tmp.path() + "/run/details/piqa.jsonl"));
  EXPECT_FALSE(FileExists(tmp.path() + "/run/details/piqa.jsonl.run"));
  EXPECT_TRUE(FileExists(tmp.path() + "/run/details/arc_easy.jsonl"));
  EXPECT_TRUE(FileExists(tmp.path() + "/run/notes/mine.txt"));  // not a run's file: kept
  EXPECT_EQ(ReadFileToString(tmp.path() + "/run/results.json").find("\"piqa\""), std::string::npos);
  // The same run resumed is fine (nothing left to do).
  EXPECT_EQ(RunCommand(common + " --tasks arc_easy --resume", tmp.path()).exit_code(), 0);
  EXPECT_EQ(RunCommand(common + " --tasks arc_easy --resume --overwrite", tmp.path()).exit_code(), 2);
}

// Issue 15: Ctrl-C stops at the next batch with the finished documents saved, says how to resume
// and exits 130; the resumed run equals an uninterrupted one.
TEST(TasksCliTest, CtrlCSavesFinishedWorkAndResumes) {
  TempDir tmp("sigint");
  const std::string common = Doge() + " eval --model " + kModel + " --tasks arc_easy,piqa --data-dir " + kData +
                             " --allow-count-mismatch --limit 10 --threads 1 --batch-docs 2";
  RunResult r = RunCommand(common + " --out-dir " + tmp.path() + "/a --debug-sigint-after-docs 14", tmp.path());
  EXPECT_EQ(r.exit_code(), 130) << r.err;
  EXPECT_NE(r.err.find("doge: interrupted: " + tmp.path() + "/a/details/piqa.jsonl.partial: piqa: stopped after 4 of 10 "
                       "documents; the finished ones are saved: run the same command with --resume"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(FileExists(tmp.path() + "/a/results.json"));
  EXPECT_EQ(Lines(ReadFileToString(tmp.path() + "/a/details/piqa.jsonl.partial")).size(), 1u + 4u);
  ASSERT_EQ(RunCommand(common + " --out-dir " + tmp.path() + "/a --resume", tmp.path()).exit_code(), 0);
  ASSERT_EQ(RunCommand(common + " --out-dir " + tmp.path() + "/b", tmp.path()).exit_code(), 0);
  for (const char* task : {"arc_easy", "piqa"}) {
    EXPECT_EQ(ReadFileToString(tmp.path() + "/a/details/" + task + ".jsonl"),
              ReadFileToString(tmp.path() + "/b/details/" + task + ".jsonl"))
        << task;
  }
  EXPECT_EQ(TaskNumbers(tmp.path() + "/a/results.json"), TaskNumbers(tmp.path() + "/b/results.json"));
}

}  // namespace
}  // namespace doge::tasks
