// `doge eval` with and without the prefix cache (issue 13 §1) on every task of both protocols, on
// the bundled samples: the details files (every per-document log-prob, greedy flag, token count
// and generation) must be byte-identical, whatever the thread count and batch size, and
// results.json must report each task's prefix reuse. Three variants of the tiny model (the
// same weights) cover the engine's paths:
//   ntk48   : as bundled: dynamic NTK above 48 positions, so every five-shot input falls back
//             to a full computation (nothing may be reused);
//   window24: max_position_embeddings 4096: the cache is used, and contexts run past the
//             24-key top-k window (key selection over cached mask biases);
//   wide    : max_position_embeddings 4096 and keep_window_size 4096: the cache with the
//             multi-branch continuation path.
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

namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(DOGE_TEST_DATA) + "/datasets-canonical";
const std::string kModel = std::string(DOGE_TEST_DATA) + "/tiny-model";

class TempDir {
 public:
  TempDir() {
    path_ = (fs::temp_directory_path() / ("doge_prefix_cli_" + std::to_string(getpid()))).string();
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int RunShell(const std::string& cmd, const std::string& log) {
  const int status = std::system((cmd + " > " + log + ".out 2> " + log + ".err").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void Replace(std::string* s, const std::string& from, const std::string& to) {
  const size_t at = s->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s->replace(at, from.size(), to);
}

// The tiny model with an edited config.json, in dir.
void WriteVariant(const std::string& dir, const std::string& variant) {
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(kModel)) {
    if (e.path().filename() != "config.json") fs::copy_file(e.path(), dir / e.path().filename());
  }
  std::string cfg = doge::ReadFileToString(kModel + "/config.json");
  if (variant != "ntk48") Replace(&cfg, "\"max_position_embeddings\": 48", "\"max_position_embeddings\": 4096");
  if (variant == "wide") Replace(&cfg, "\"keep_window_size\": 24", "\"keep_window_size\": 4096");
  doge::WriteFileAtomic(dir + "/config.json", cfg);
}

class PrefixCacheCliTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(PrefixCacheCliTest, DetailsAreIdenticalWithAndWithoutTheCache) {
  const auto& [variant, protocol] = GetParam();
  TempDir tmp;
  const std::string model = tmp.path() + "/model";
  WriteVariant(model, variant);
  const std::string common = std::string(DOGE_BINARY) + " eval --model " + model + " --tasks card --protocol " +
                             protocol + " --data-dir " + kData + " --allow-count-mismatch --limit 4";
  // Off: one thread, one batch per task. On: two threads, batches of 3 documents.
  ASSERT_EQ(RunShell(common + " --threads 1 --prefix-cache-mb 0 --out-dir " + tmp.path() + "/off", tmp.path() + "/off"), 0)
      << doge::ReadFileToString(tmp.path() + "/off.err");
  ASSERT_EQ(RunShell(common + " --threads 2 --batch-docs 3 --prefix-cache-mb 64 --out-dir " + tmp.path() + "/on",
                tmp.path() + "/on"),
            0)
      << doge::ReadFileToString(tmp.path() + "/on.err");
  EXPECT_NE(doge::ReadFileToString(tmp.path() + "/on.out").find("prefix"), std::string::npos);

  simdjson::dom::parser p_off, p_on;
  simdjson::dom::element off = p_off.load(tmp.path() + "/off/results.json");
  simdjson::dom::element on = p_on.load(tmp.path() + "/on/results.json");
  int n_tasks = 0;
  int64_t reused_total = 0;
  for (auto [task, v] : on["tasks"].get_object()) {
    ++n_tasks;
    const std::string name(task);
    EXPECT_EQ(doge::ReadFileToString(tmp.path() + "/on/details/" + name + ".jsonl"),
              doge::ReadFileToString(tmp.path() + "/off/details/" + name + ".jsonl"))
        << name;
    const int64_t reused = v["prefix_cache"]["tokens_reused"], scored = v["prefix_cache"]["tokens_scored"];
    const double rate = v["prefix_cache"]["hit_rate"];
    // The same logical tokens go through the model with and without the cache.
    EXPECT_EQ(scored, int64_t(off["tasks"][name]["prefix_cache"]["tokens_scored"])) << name;
    EXPECT_GT(scored, 0) << name;
    EXPECT_EQ(int64_t(off["tasks"][name]["prefix_cache"]["tokens_reused"]), 0) << name;
    EXPECT_DOUBLE_EQ(rate, static_cast<double>(reused) / static_cast<double>(scored)) << name;
    if (variant == "ntk48") {
      EXPECT_EQ(reused, 0) << name;  // every input is past 48 positions
    }
    reused_total += reused;
  }
  EXPECT_EQ(n_tasks, 8);
  if (variant != "ntk48") {
    // MMLU card-a repeats the subject header and five shots in every question of a subject.
    if (protocol == "card-a") {
      EXPECT_GT(int64_t(on["tasks"]["mmlu"]["prefix_cache"]["tokens_reused"]), 0);
    }
    EXPECT_GT(reused_total, 0);
  }
}

TEST(PrefixCacheCliUsageTest, BadBudgetIsAUsageError) {
  TempDir tmp;
  for (const char* mb : {"-1", "99999999999999", "lots"}) {
    EXPECT_EQ(RunShell(std::string(DOGE_BINARY) + " eval --model " + kModel + " --tasks piqa --data-dir " + kData +
                           " --allow-count-mismatch --limit 1 --prefix-cache-mb " + mb,
                       tmp.path() + "/bad"),
              2)
        << mb;
    EXPECT_NE(doge::ReadFileToString(tmp.path() + "/bad.err").find("prefix-cache-mb"), std::string::npos) << mb;
  }
}

INSTANTIATE_TEST_SUITE_P(VariantsAndProtocols, PrefixCacheCliTest,
                         ::testing::Combine(::testing::Values("ntk48", "window24", "wide"),
                                            ::testing::Values("card-a", "card-b")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" +
                                  (std::get<1>(info.param) == "card-a" ? std::string("card_a")
                                                                       : std::string("card_b"));
                         });

}  // namespace
