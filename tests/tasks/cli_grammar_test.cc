// One CLI grammar across the subcommands (README "Command-line grammar"): -o/--output PATH is a
// file, --out-dir DIR a folder, --format a format, --data-dir the datasets, -t/--threads the
// threads. Checked from outside through the built binary: every old spelling still does what the
// new one does and prints its one-line deprecation note (the new spelling prints none); every
// --help has a description, an example and defaults as a person writes them; every file a command
// writes is named by a "wrote PATH" line on stderr, never on stdout. The alias rewriting and the
// default formatting are also checked as functions (tasks/cli/flags.h).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "engine/base/file_util.h"
#include "tasks/cli/flags.h"

namespace doge::cli {
namespace {

const std::string kTiny = std::string(DOGE_TEST_DATA) + "/tiny-model";
const std::string kData = std::string(DOGE_TEST_DATA) + "/datasets-canonical";

struct CliRun {
  int code = -1;
  std::string out, err;
};

class CliGrammarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/doge_cli_grammar_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    MakeDirs(dir_);
  }
  void TearDown() override {
    if (std::system(("rm -rf '" + dir_ + "'").c_str()) != 0) ADD_FAILURE() << "cannot remove " << dir_;
  }
  CliRun Doge(const std::string& args) {
    const std::string cmd = std::string(DOGE_BINARY) + " " + args + " > " + dir_ + "/stdout 2> " + dir_ + "/stderr";
    const int st = std::system(cmd.c_str());
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, ReadFileToString(dir_ + "/stdout"),
            ReadFileToString(dir_ + "/stderr")};
  }
  std::string dir_;
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// One command in its old and its new spelling. `{O}` in the arguments is the output path;
// `notes` the deprecation notes the old spelling prints (command, old flag, new flag).
struct Spelling {
  std::string name;
  std::string old_args, new_args;
  std::vector<std::vector<std::string>> notes;
  std::string written;  // path under {O} that must exist afterwards ("" = {O} itself)
};

std::string Fill(std::string s, const std::string& out) {
  for (size_t p = s.find("{O}"); p != std::string::npos; p = s.find("{O}")) s.replace(p, 3, out);
  return s;
}

TEST_F(CliGrammarTest, EveryOldSpellingStillWorksAndPrintsItsNoteOnce) {
  // Inputs the cases share: an eval run (for report card and eval merge), a bench file (for
  // report machines) and a text (for perplexity), all made with the new spellings.
  const std::string eval = "eval --model " + kTiny + " --tasks arc_easy --limit 2 -t 1 --data-dir " + kData +
                           " --allow-count-mismatch";
  ASSERT_EQ(Doge(eval + " --out-dir " + dir_ + "/run").code, 0);
  ASSERT_EQ(Doge(eval + " --shard 0/1 --out-dir " + dir_ + "/shard0").code, 0);
  const std::string bench = "bench e2e --model " + kTiny + " -p 4 -n 2 -t 1 -r 1 --probe-reps 1";
  ASSERT_EQ(Doge(bench + " --format json -o " + dir_ + "/bench.json").code, 0);
  WriteFileAtomic(dir_ + "/text.txt", "The quick brown fox jumps over the lazy dog. It was a sunny day in the park.\n");

  const std::vector<Spelling> cases = {
      {"eval", eval + " --out {O}", eval + " --out-dir {O}", {{"doge eval", "--out", "--out-dir"}}, "/results.json"},
      {"eval merge", "eval merge " + dir_ + "/shard0 --out {O}", "eval merge " + dir_ + "/shard0 --out-dir {O}",
       {{"doge eval merge", "--out", "--out-dir"}}, "/results.json"},
      {"tasks render", "tasks render --task arc_easy --protocol card-a --data-dir " + kData + " --limit 2 --out {O}",
       "tasks render --task arc_easy --protocol card-a --data-dir " + kData + " --limit 2 -o {O}",
       {{"doge tasks render", "--out", "--output"}}, ""},
      {"bench e2e", bench + " -o json --out {O}", bench + " --format json -o {O}",
       {{"doge bench e2e", "--out", "--output"}}, ""},
      {"bench e2e --output FORMAT", bench + " --output=json --out={O}", bench + " --format=json --output={O}",
       {{"doge bench e2e", "--output", "--format"}, {"doge bench e2e", "--out", "--output"}}, ""},
      {"bench eval", "bench eval --model " + kTiny + " -t 1 -r 1 --tasks 2 --ctx 6 --cont 3 -ojson --out {O}",
       "bench eval --model " + kTiny + " -t 1 -r 1 --docs 2 --ctx 6 --cont 3 --format json -o {O}",
       {{"doge bench eval", "--tasks", "--docs"}, {"doge bench eval", "--out", "--output"}}, ""},
      {"report card", "report card " + dir_ + "/run/results.json --allow-missing --out {O}",
       "report card " + dir_ + "/run/results.json --allow-missing -o {O}", {{"doge report card", "--out", "--output"}}, ""},
      {"report machines", "report machines " + dir_ + "/bench.json --out {O}",
       "report machines " + dir_ + "/bench.json --output {O}", {{"doge report machines", "--out", "--output"}}, ""},
      {"perplexity", "perplexity --model " + kTiny + " --file " + dir_ + "/text.txt --ctx 8 -t 1 --out {O}",
       "perplexity --model " + kTiny + " --file " + dir_ + "/text.txt --ctx 8 -t 1 -o {O}",
       {{"doge perplexity", "--out", "--output"}}, ""},
      {"logits", "logits --model " + kTiny + " --ids 0,5,7 --out {O}", "logits --model " + kTiny + " --ids 0,5,7 -o {O}",
       {{"doge logits", "--out", "--output"}}, ""},
  };
  // info, generate and score print JSON with --format json; --json was their old switch.
  for (const std::string& cmd : {"info --model " + kTiny, "generate --model " + kTiny + " --ids 0,5 --max-new-tokens 2 -t 1",
                                 "score --model " + kTiny + " --context-ids 0,5 --continuation-ids 7 -t 1"}) {
    SCOPED_TRACE(cmd);
    const CliRun old_run = Doge(cmd + " --json");
    const CliRun new_run = Doge(cmd + " --format json");
    ASSERT_EQ(old_run.code, 0) << old_run.err;
    ASSERT_EQ(new_run.code, 0) << new_run.err;
    EXPECT_EQ(old_run.out, new_run.out);
    EXPECT_EQ(new_run.out.rfind("{", 0), 0u) << new_run.out;
    const std::string name = "doge " + cmd.substr(0, cmd.find(' '));
    EXPECT_EQ(Count(old_run.err, DeprecationNote(name, "--json", "--format=json") + "\n"), 1u) << old_run.err;
    EXPECT_EQ(new_run.err.find("deprecated"), std::string::npos) << new_run.err;
    EXPECT_EQ(Doge(cmd + " --format xml").code, 2);
  }
  for (const Spelling& c : cases) {
    for (const bool old : {true, false}) {
      SCOPED_TRACE(c.name + (old ? " (old spelling)" : " (new spelling)"));
      const std::string out = dir_ + "/" + std::to_string(&c - cases.data()) + (old ? "_old" : "_new");
      const CliRun r = Doge(Fill(old ? c.old_args : c.new_args, out));
      ASSERT_EQ(r.code, 0) << r.err;
      EXPECT_TRUE(FileExists(out + c.written)) << out + c.written;
      for (const auto& n : c.notes) {
        EXPECT_EQ(Count(r.err, DeprecationNote(n[0], n[1], n[2]) + "\n"), old ? 1u : 0u) << r.err;
      }
      EXPECT_EQ(Count(r.err, "is deprecated"), old ? c.notes.size() : 0u) << r.err;
      // The file is named on stderr, and stdout carries data only.
      EXPECT_NE(r.err.find(": wrote " + out), std::string::npos) << r.err;
      EXPECT_EQ(r.out.find("wrote"), std::string::npos) << r.out;
      EXPECT_EQ(r.out.find("deprecated"), std::string::npos) << r.out;
    }
  }
}

TEST_F(CliGrammarTest, DataDirReplacesDir) {
  CliRun r = Doge("data ls --dir " + kData);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("data dir: " + kData), std::string::npos) << r.out;
  EXPECT_EQ(r.err, DeprecationNote("doge data ls", "--dir", "--data-dir") + "\n");
  const std::string listing = r.out;
  r = Doge("data ls --data-dir " + kData);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, listing);
  EXPECT_EQ(r.err, "");
  r = Doge("data verify --allow-count-mismatch --dir=" + kData);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find(DeprecationNote("doge data verify", "--dir", "--data-dir")), std::string::npos) << r.err;
}

TEST_F(CliGrammarTest, DevRandomCheckpointOutDir) {
  for (const char* flag : {"--out", "--out-dir"}) {
    const std::string out = dir_ + "/ckpt" + flag;
    const CliRun r = Doge(std::string("dev random-checkpoint --shape doge-20m --dtype bf16 ") + flag + " " + out);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(FileExists(out + "/model.safetensors"));
    EXPECT_NE(r.err.find("doge dev random-checkpoint: wrote " + out + "/config.json"), std::string::npos) << r.err;
    EXPECT_EQ(Count(r.err, "is deprecated"), std::string(flag) == "--out" ? 1u : 0u) << r.err;
  }
}

// Every subcommand's --help: exit 0, on stdout, with a description, an example, and no double
// printed with 17 significant digits (Boost's default: --alpha arg (=0.050000000000000003)).
TEST_F(CliGrammarTest, EveryHelpHasADescriptionAnExampleAndHumanDefaults) {
  const std::vector<std::string> commands = {
      "eval", "eval merge", "tasks", "tasks render", "model", "model fetch", "model ls", "model path", "data",
      "data fetch", "data import", "data verify", "data ls", "generate", "logits", "perplexity", "score", "info",
      "tokenize", "detokenize", "bench", "bench e2e", "bench eval", "bench card", "report", "report card",
      "report compare", "report machines", "dev", "dev random-checkpoint"};
  const std::regex raw_double("[0-9]\\.[0-9]*(0000000|9999999)[0-9]");
  for (const std::string& c : commands) {
    SCOPED_TRACE(c);
    const CliRun r = Doge(c + " --help");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_GT(r.out.size(), 200u) << r.out;  // more than a bare synopsis
    EXPECT_NE(r.out.find("example"), std::string::npos) << r.out;
    EXPECT_FALSE(std::regex_search(r.out, raw_double)) << r.out;
  }
}

TEST(FlagAliasTest, RewritesEveryFormOfTheOldSpelling) {
  const std::vector<FlagAlias> aliases = {{"-o", "--format", IsBenchFormatName}, {"--out", "--output"}};
  ::testing::internal::CaptureStderr();
  const Args got = ApplyFlagAliases({"bench", "e2e", "-o", "json", "--out", "f.json", "--out=g", "-ocsv", "-o",
                                     "file.txt", "--output", "h", "--", "--out"},
                                    2, aliases, "doge bench e2e");
  const std::string err = ::testing::internal::GetCapturedStderr();
  const Args want = {"bench", "e2e", "--format", "json", "--output", "f.json", "--output=g", "--format=csv", "-o",
                     "file.txt", "--output", "h", "--", "--out"};
  EXPECT_EQ(got, want);
  // One note per alias used, however often it was used.
  EXPECT_EQ(err, DeprecationNote("doge bench e2e", "-o", "--format") + "\n" +
                     DeprecationNote("doge bench e2e", "--out", "--output") + "\n");
  // A kept synonym (bench's llama-bench-style `-o json`) is rewritten without a note.
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(ApplyFlagAliases({"bench", "e2e", "-o", "jsonl", "-o", "x.json"}, 2,
                             {{"-o", "--format", IsBenchFormatName, true}}, "doge bench e2e"),
            (Args{"bench", "e2e", "--format", "jsonl", "-o", "x.json"}));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  // A switch replaced by a flag with its value.
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(ApplyFlagAliases({"info", "--json", "--model", "m"}, 1, {{"--json", "--format=json"}}, "doge info"),
            (Args{"info", "--format=json", "--model", "m"}));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), DeprecationNote("doge info", "--json", "--format=json") + "\n");
  // Arguments before `first` (the subcommand names) are never rewritten.
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(ApplyFlagAliases({"--out", "x"}, 1, aliases, "t"), (Args{"--out", "x"}));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(HumanNumberTest, ShortestTextThatReadsBackExactly) {
  EXPECT_EQ(HumanNumber(0.05), "0.05");
  EXPECT_EQ(HumanNumber(5), "5");
  EXPECT_EQ(HumanNumber(0), "0");
  EXPECT_EQ(HumanNumber(1e-4), "0.0001");
  EXPECT_EQ(HumanNumber(1e-5), "1e-5");
  EXPECT_EQ(HumanNumber(2.5e20), "2.5e20");
  EXPECT_EQ(HumanNumber(0.1 + 0.2), "0.30000000000000004");  // not 0.3: that reads back differently
  EXPECT_EQ(HumanNumber(-1.25), "-1.25");
}

}  // namespace
}  // namespace doge::cli
