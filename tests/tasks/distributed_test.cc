// Scale-out from outside (issue #14): one `doge eval` of the bundled tiny model over the card tasks
// run as a single process, as `--shard K/N` + `doge eval merge`, and under `mpirun -np 2` and
// `-np 3` (one with the TCP transport forced), must give byte-identical details files and the
// same results.json apart from the fields that only record time, host, rank or throughput. Also:
// merge refuses missing, repeated and foreign shards; a rank with other data or failing input
// stops the whole MPI run with its own message (under `timeout`, so a hang fails instead of
// blocking); a worker rank SIGKILLed mid-run loses no finished document and `--resume` with
// another N completes to the single-process result.
//
// Open MPI refuses to run as root without --allow-run-as-root, and CI machines have fewer cores
// than the ranks plus threads asked for (--oversubscribe): both flags live here only.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/base/file_util.h"

namespace doge::tasks {
namespace {

const std::string kData = std::string(DOGE_TEST_DATA) + "/datasets-canonical";
const std::string kModel = std::string(DOGE_TEST_DATA) + "/tiny-model";
// Three documents per task (nine for MMLU's three subjects) keep a run at a few seconds; with
// --batch-docs 2 every task spans several batches, and 4 shards leave shard 3 without any
// document of the three-document tasks.
const std::string kEval = " eval --model " + kModel + " --data-dir " + kData +
                          " --tasks card --allow-count-mismatch --limit 3 --threads 1 --batch-docs 2";
const std::vector<std::string> kTasks = {"mmlu", "triviaqa", "arc_easy", "arc_challenge", "piqa",
                                         "hellaswag", "openbookqa", "winogrande"};

std::string Doge() { return std::string(DOGE_BINARY); }
std::string Mpirun(int np, const std::string& extra = "") {
  // `timeout`: a run that hangs instead of stopping fails the test (exit 124); generous, since the
  // asan preset runs these ~30x slower. Containers often forbid the cross-process memory copies
  // (CMA) of Open MPI's shared-memory transport: plain copies through the shared segment work
  // everywhere. Under the asan preset LeakSanitizer reports ~120 KB that Open MPI's runtime keeps
  // until exit (stacks only in libmpi/libopen-pal/hwloc and unloaded MCA components, none in doge);
  // leak checking stays on for every non-MPI test, which runs the same evaluator code.
  return "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 timeout 900 " + std::string(DOGE_MPIEXEC) +
         " --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none " + extra + " -np " +
         std::to_string(np) + " ";
}

struct RunResult {
  int status = -1;
  std::string out, err;
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

RunResult RunCommand(const std::string& cmd, const std::string& scratch) {
  const std::string out = scratch + "/stdout", err = scratch + "/stderr";
  RunResult r;
  r.status = std::system((cmd + " > " + out + " 2> " + err).c_str());
  r.out = FileExists(out) ? ReadFileToString(out) : "";
  r.err = FileExists(err) ? ReadFileToString(err) : "";
  return r;
}

// results.json without the fields that only record time, host, rank or performance: top-level
// created, wall_time_s, threads, fingerprint and the distributed / shard / merged_from sections;
// per task docs_per_s, scored_tokens_per_s, docs_scored, wall_time_s, prefix_cache. Everything
// else (n, metrics, stderr, subtasks, hashes, model, protocol, limit, ...) is kept, in file order.
std::string Normalized(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(path);
  std::string out = "{";
  static const std::set<std::string> kTop = {"created", "wall_time_s", "threads", "fingerprint",
                                             "distributed", "shard", "merged_from"};
  static const std::set<std::string> kTask = {"docs_per_s", "scored_tokens_per_s", "docs_scored", "wall_time_s",
                                              "prefix_cache"};
  for (auto [k, v] : root.get_object()) {
    const std::string key(k);
    if (kTop.count(key)) continue;
    out += "\"" + key + "\":";
    if (key == "tasks") {
      out += "{";
      for (auto [task, tv] : v.get_object()) {
        out += "\"" + std::string(task) + "\":{";
        for (auto [f, fv] : tv.get_object()) {
          if (kTask.count(std::string(f))) continue;
          out += "\"" + std::string(f) + "\":" + simdjson::minify(fv) + ",";
        }
        out += "},";
      }
      out += "}";
    } else {
      out += simdjson::minify(v);
    }
    out += ",";
  }
  return out + "}";
}

class DistributedEvalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = (std::filesystem::temp_directory_path() / ("doge_dist_" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    const RunResult r = RunCommand(Doge() + kEval + " --out-dir " + root_ + "/single", root_);
    ASSERT_EQ(r.exit_code(), 0) << r.err;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(root_); }

  // A fresh scratch folder for one test.
  std::string Scratch(const std::string& name) {
    const std::string dir = root_ + "/" + name;
    std::filesystem::create_directories(dir);
    return dir;
  }

  // `dir` holds what the single-process run wrote: every details file byte for byte (its run
  // identity file too) and results.json apart from the timing/host/rank fields.
  static void ExpectSameAsSingle(const std::string& dir, const std::string& single = root_ + "/single") {
    for (const std::string& t : kTasks) {
      for (const char* ext : {".jsonl", ".jsonl.run"}) {
        const std::string a = single + "/details/" + t + ext, b = dir + "/details/" + t + ext;
        ASSERT_TRUE(FileExists(b)) << b;
        EXPECT_EQ(ReadFileToString(a), ReadFileToString(b)) << t << ext;
      }
      EXPECT_FALSE(FileExists(dir + "/details/" + t + ".jsonl.partial")) << t;
    }
    const std::string a = Normalized(single + "/results.json"), b = Normalized(dir + "/results.json");
    EXPECT_EQ(a, b);
    // The comparison has teeth: the normalized text carries the numbers themselves.
    EXPECT_NE(a.find("\"acc_norm\""), std::string::npos);
    EXPECT_NE(a.find("\"mmlu:"), std::string::npos);
  }

  static std::string root_;
};
std::string DistributedEvalTest::root_;

TEST_F(DistributedEvalTest, SingleRunHasNoScaleOutSections) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(root_ + "/single/results.json");
  EXPECT_TRUE(root["distributed"].error());
  EXPECT_TRUE(root["shard"].error());
  EXPECT_TRUE(root["merged_from"].error());
  EXPECT_EQ(int64_t(root["tasks"]["mmlu"]["n"]), 9);
}

TEST_F(DistributedEvalTest, ShardsMergeToTheSingleRun) {
  const std::string dir = Scratch("shards");
  std::string merge = Doge() + " eval merge";
  for (int k = 3; k >= 0; --k) {  // any order
    const std::string out = dir + "/s" + std::to_string(k);
    const RunResult r = RunCommand(Doge() + kEval + " --shard " + std::to_string(k) + "/4 --out-dir " + out, dir);
    ASSERT_EQ(r.exit_code(), 0) << r.err;
    merge += " " + out;
  }
  // Each shard holds its slice: positions p with p % 4 == K.
  simdjson::dom::parser parser;
  simdjson::dom::element s1 = parser.load(dir + "/s1/results.json");
  EXPECT_EQ(int64_t(s1["shard"]["index"]), 1);
  EXPECT_EQ(int64_t(s1["shard"]["count"]), 4);
  EXPECT_EQ(int64_t(s1["shard"]["n_total"]["mmlu"]), 9);
  EXPECT_EQ(int64_t(s1["tasks"]["mmlu"]["n"]), 2);  // positions 1 and 5
  EXPECT_EQ(int64_t(s1["tasks"]["piqa"]["n"]), 1);  // position 1
  const std::string single_piqa = ReadFileToString(root_ + "/single/details/piqa.jsonl");
  const std::string second_line = single_piqa.substr(single_piqa.find('\n') + 1);
  EXPECT_EQ(ReadFileToString(dir + "/s1/details/piqa.jsonl"), second_line.substr(0, second_line.find('\n') + 1));
  EXPECT_EQ(ReadFileToString(dir + "/s3/details/piqa.jsonl"), "");  // 3 documents: shard 3 has none

  const RunResult m = RunCommand(merge + " --out-dir " + dir + "/merged", dir);
  ASSERT_EQ(m.exit_code(), 0) << m.err;
  ExpectSameAsSingle(dir + "/merged");
  simdjson::dom::element merged = parser.load(dir + "/merged/results.json");
  EXPECT_EQ(merged["merged_from"].get_array().size(), 4u);
  EXPECT_EQ(int64_t(merged["tasks"]["mmlu"]["docs_scored"]), 9);

  // A shard resumes only into the same shard.
  const RunResult wrong = RunCommand(Doge() + kEval + " --shard 2/4 --resume --out-dir " + dir + "/s1", dir);
  EXPECT_EQ(wrong.exit_code(), 2) << wrong.err;
}

// Protocol B aggregates MMLU differently (one micro-averaged task over `all`, per-subject rows
// informational) and builds ARC with balanced shots: the merge recomputes that the same way too.
TEST_F(DistributedEvalTest, ProtocolBShardsMergeToTheProtocolBSingleRun) {
  const std::string dir = Scratch("card_b");
  const std::string eval = Doge() + kEval + " --protocol card-b";
  RunResult r = RunCommand(eval + " --out-dir " + dir + "/single", dir);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  for (int k = 0; k < 2; ++k) {
    r = RunCommand(eval + " --shard " + std::to_string(k) + "/2 --out-dir " + dir + "/s" + std::to_string(k), dir);
    ASSERT_EQ(r.exit_code(), 0) << r.err;
  }
  r = RunCommand(Doge() + " eval merge " + dir + "/s1 " + dir + "/s0 --out-dir " + dir + "/merged", dir);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  ExpectSameAsSingle(dir + "/merged", dir + "/single");
  simdjson::dom::parser parser;
  simdjson::dom::element mmlu = parser.load(dir + "/merged/results.json")["tasks"]["mmlu"];
  EXPECT_EQ(std::string_view(mmlu["aggregation"].get_string()), "micro");
  EXPECT_FALSE(mmlu["subtasks"].error());  // the informational per-subject rows, recomputed
}

TEST_F(DistributedEvalTest, MergeRefusesMissingRepeatedAndForeignShards) {
  const std::string dir = Scratch("bad_shards");
  for (int k = 0; k < 2; ++k) {
    const RunResult r = RunCommand(Doge() + kEval + " --shard " + std::to_string(k) + "/2 --out-dir " + dir + "/s" + std::to_string(k), dir);
    ASSERT_EQ(r.exit_code(), 0) << r.err;
  }
  // The same shard of another run (other k).
  RunResult r = RunCommand(Doge() + kEval + " --num-fewshot 0 --shard 1/2 --out-dir " + dir + "/other1", dir);
  ASSERT_EQ(r.exit_code(), 0) << r.err;

  r = RunCommand(Doge() + " eval merge " + dir + "/s0 --out-dir " + dir + "/m", dir);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find("missing shard(s) 1/2"), std::string::npos) << r.err;

  r = RunCommand(Doge() + " eval merge " + dir + "/s0 " + dir + "/s1 " + dir + "/s1 --out-dir " + dir + "/m", dir);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find("given twice: " + dir + "/s1 and " + dir + "/s1"), std::string::npos) << r.err;

  r = RunCommand(Doge() + " eval merge " + dir + "/s0 " + dir + "/other1 --out-dir " + dir + "/m", dir);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find(dir + "/other1/results.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("another run"), std::string::npos) << r.err;

  r = RunCommand(Doge() + " eval merge " + dir + "/s0 " + root_ + "/single --out-dir " + dir + "/m", dir);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find("not a shard"), std::string::npos) << r.err;

  // A shard's results.json with a key given twice with different values is refused, naming it.
  const std::string s1_results = ReadFileToString(dir + "/s1/results.json");
  WriteFileAtomic(dir + "/s1/results.json", "{\"protocol\": \"x\", " + s1_results.substr(s1_results.find('{') + 1));
  r = RunCommand(Doge() + " eval merge " + dir + "/s0 " + dir + "/s1 --out-dir " + dir + "/m", dir);
  EXPECT_EQ(r.exit_code(), 3);
  EXPECT_NE(r.err.find(dir + "/s1/results.json: protocol: appears twice in one object with different values"),
            std::string::npos)
      << r.err;
  WriteFileAtomic(dir + "/s1/results.json", s1_results);

  // A document in two shards (a details line copied over) is named.
  const std::string s1_piqa = dir + "/s1/details/piqa.jsonl";
  const std::string s0_piqa = ReadFileToString(dir + "/s0/details/piqa.jsonl");
  WriteFileAtomic(s1_piqa, s0_piqa.substr(0, s0_piqa.find('\n') + 1));
  r = RunCommand(Doge() + " eval merge " + dir + "/s0 " + dir + "/s1 --out-dir " + dir + "/m", dir);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find("appears twice"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(dir + "/m/results.json"));

  r = RunCommand(Doge() + " eval merge " + dir + "/s0 " + dir + "/s1 --out-dir " + dir + "/s0", dir);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find("is shard folder"), std::string::npos) << r.err;
  r = RunCommand(Doge() + " eval merge --help", dir);
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_NE(r.out.find("SHARD_DIR... --out-dir DIR"), std::string::npos) << r.out;

  r = RunCommand(Doge() + kEval + " --shard 2/2 --out-dir " + dir + "/x", dir);
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find("--shard"), std::string::npos) << r.err;
}

TEST_F(DistributedEvalTest, MpirunTwoRanksMatchesTheSingleRun) {
  const std::string dir = Scratch("np2");
  const RunResult r = RunCommand(Mpirun(2) + Doge() + kEval + " --out-dir " + dir + "/run", dir);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  ExpectSameAsSingle(dir + "/run");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(dir + "/run/results.json");
  EXPECT_EQ(int64_t(root["distributed"]["ranks"]), 2);
  int64_t docs = 0;
  for (auto rank : root["distributed"]["rank_info"].get_array()) docs += int64_t(rank["docs_scored"]);
  EXPECT_EQ(docs, 9 + 7 * 3);  // every document scored once, by some rank
}

TEST_F(DistributedEvalTest, MpirunThreeRanksOverTcpMatchesTheSingleRun) {
  const std::string dir = Scratch("np3");
  // TCP between the ranks (no shared memory): the transport a multi-host run uses, here over the
  // loopback interface (which Open MPI leaves out by default) so that it works on a CI machine
  // without any other network.
  const RunResult r = RunCommand(
      Mpirun(3, "--mca btl tcp,self --mca btl_tcp_if_include lo") + Doge() + kEval + " --out-dir " + dir + "/run", dir);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  ExpectSameAsSingle(dir + "/run");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(dir + "/run/results.json");
  EXPECT_EQ(root["distributed"]["rank_info"].get_array().size(), 3u);
}

TEST_F(DistributedEvalTest, SlowRankGetsFewerDocumentsAndTheSameResults) {
  const std::string dir = Scratch("slow");
  // Rank 1 plays a slow host: 1 s per document on top of the scoring (the tiny model scores a
  // document in milliseconds). Batches go to whoever asks, so rank 0 takes most of them.
  const RunResult r = RunCommand(Mpirun(1) + Doge() + kEval + " --out-dir " + dir + "/run : -np 1 " + Doge() + kEval +
                                     " --out-dir " + dir + "/run --debug-delay-ms-per-doc 1000",
                                 dir);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  ExpectSameAsSingle(dir + "/run");
  simdjson::dom::parser parser;
  simdjson::dom::element ranks = parser.load(dir + "/run/results.json")["distributed"]["rank_info"];
  const int64_t fast = int64_t(ranks.at(0)["docs_scored"]), slow = int64_t(ranks.at(1)["docs_scored"]);
  EXPECT_EQ(fast + slow, 9 + 7 * 3);
  EXPECT_GT(slow, 0);  // it did take part
  EXPECT_LT(slow, fast) << "rank 0 " << fast << ", slow rank 1 " << slow;
}

TEST_F(DistributedEvalTest, KilledWorkerRankLosesNoFinishedWorkAndResumesWithAnyN) {
  const std::string dir = Scratch("kill");
  // Rank 1 SIGKILLs itself after scoring 6 documents (before returning the batch that reached 6).
  RunResult r = RunCommand(Mpirun(3) + Doge() + kEval + " --out-dir " + dir + "/run --debug-kill-rank 1 --debug-kill-after-docs 6", dir);
  EXPECT_NE(r.exit_code(), 0) << r.err;
  EXPECT_NE(r.exit_code(), 124) << "the run hung instead of stopping";
  EXPECT_FALSE(FileExists(dir + "/run/results.json"));
  // What rank 0 had received was appended as it arrived.
  int64_t kept = 0;
  for (const std::string& t : kTasks) {
    for (const char* ext : {".jsonl", ".jsonl.partial"}) {
      const std::string p = dir + "/run/details/" + t + ext;
      if (!FileExists(p)) continue;
      const std::string text = ReadFileToString(p);
      for (char c : text) kept += c == '\n';
      if (std::string(ext) == ".jsonl.partial") --kept;  // header line
    }
  }
  EXPECT_GT(kept, 0);
  r = RunCommand(Mpirun(2) + Doge() + kEval + " --out-dir " + dir + "/run --resume", dir);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  ExpectSameAsSingle(dir + "/run");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(dir + "/run/results.json");
  int64_t docs = 0;
  for (auto rank : root["distributed"]["rank_info"].get_array()) docs += int64_t(rank["docs_scored"]);
  EXPECT_EQ(docs, 9 + 7 * 3 - kept);  // the resume scored only what the crash had not kept
}

// A copy of the canonical data with the first `from` in arc_easy's test split replaced by `to`.
std::string EditedData(const std::string& dir, const std::string& from, const std::string& to) {
  const std::string data = dir + "/data";
  std::filesystem::copy(kData, data, std::filesystem::copy_options::recursive);
  const std::string path = data + "/arc_easy/test.jsonl";
  std::string text = ReadFileToString(path);
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos);
  text.replace(at, from.size(), to);
  WriteFileAtomic(path, text);
  return data;
}

TEST_F(DistributedEvalTest, RankWithOtherDataIsRefusedNamingHostFileAndHashes) {
  const std::string dir = Scratch("other_data");
  const std::string data = EditedData(dir, "\"question\":\"", "\"question\":\"Edited: ");
  const std::string rank0 = Doge() + kEval + " --out-dir " + dir + "/run";
  const std::string rank1 = Doge() + " eval --model " + kModel + " --data-dir " + data +
                            " --tasks card --allow-count-mismatch --limit 3 --threads 1 --batch-docs 2";
  const RunResult r = RunCommand(Mpirun(1) + rank0 + " : -np 1 " + rank1, dir);
  EXPECT_EQ(r.exit_code(), 3) << r.err;  // input data
  EXPECT_NE(r.err.find("rank 1 on host "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("arc_easy/test.jsonl"), std::string::npos) << r.err;
  // Both hashes are named.
  std::string single_hash;
  simdjson::dom::parser parser;
  for (auto [f, h] : parser.load(root_ + "/single/results.json")["tasks"]["arc_easy"]["dataset_sha256"].get_object()) {
    if (std::string(f) == "arc_easy/test.jsonl") single_hash = std::string(h.get_string().value());
  }
  ASSERT_FALSE(single_hash.empty());
  EXPECT_NE(r.err.find(single_hash), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(dir + "/run/results.json"));
}

TEST_F(DistributedEvalTest, FailingRankStopsTheRunWithItsOwnMessage) {
  const std::string dir = Scratch("bad_rank");
  // Rank 1's copy of the data has a malformed line: it fails while loading the task.
  const std::string data = EditedData(dir, "{", "{oops ");
  const std::string rank0 = Doge() + kEval + " --out-dir " + dir + "/run";
  const std::string rank1 = Doge() + " eval --model " + kModel + " --data-dir " + data +
                            " --tasks card --allow-count-mismatch --limit 3 --threads 1 --batch-docs 2";
  const RunResult r = RunCommand(Mpirun(1) + rank0 + " : -np 1 " + rank1, dir);
  EXPECT_NE(r.exit_code(), 0) << r.err;
  EXPECT_NE(r.exit_code(), 124) << "the run hung instead of stopping";
  EXPECT_NE(r.err.find("doge: error: rank 1 on host "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(data), std::string::npos) << r.err;  // the file it failed on
  EXPECT_FALSE(FileExists(dir + "/run/results.json"));
}

TEST_F(DistributedEvalTest, MpirunBenchMeasuresEveryRankIntoOneFileForReportMachines) {
  const std::string dir = Scratch("bench");
  const std::string json = dir + "/machines.json";
  RunResult r = RunCommand(Mpirun(2) + Doge() + " bench e2e --model " + kModel +
                               " -p 16 -n 8 -t 1 -r 2 --probe-reps 1 --format json -o " + json, dir);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  simdjson::dom::parser parser;
  std::vector<int64_t> ranks;
  for (auto row : parser.load(json).get_array()) {
    ranks.push_back(int64_t(row["rank"]));
    EXPECT_FALSE(row["fingerprint"]["hostname"].error());
  }
  EXPECT_EQ(ranks, (std::vector<int64_t>{0, 0, 1, 1}));  // pp16 and tg8 per rank
  r = RunCommand(Doge() + " report machines " + json, dir);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_NE(r.out.find("| m2 tok/s |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(json + " (rank 1)"), std::string::npos) << r.out;
  // csv rows cannot say which rank measured them.
  r = RunCommand(Mpirun(2) + Doge() + " bench e2e --model " + kModel + " -p 16 -n 0 -t 1 -r 1 --format csv", dir);
  EXPECT_EQ(r.exit_code(), 2) << r.err;
}

}  // namespace
}  // namespace doge::tasks
