// The engine CLI contracts, run from outside through the built `doge` binary (DOGE_BINARY):
// `doge logits` writes a tensor `logits` [T, vocab] F32 equal to the goldens, `doge generate`
// reproduces the golden greedy ids, `doge info` reports the layout and parameter count, bad input
// exits non-zero with a message naming the file, and `doge dev random-checkpoint` writes a
// loadable checkpoint with the real Doge-20M parameter count.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/wait.h>

#include "engine/base/file_util.h"
#include "engine/model.h"
#include "engine/safetensors.h"
#include "tests/engine/golden_util.h"

namespace doge {
namespace {

struct CliRun {
  int code = -1;
  std::string out;  // stdout + stderr
};

// env: "VAR=value ..." set for this run only.
CliRun Doge(const std::string& args, const std::string& env = "") {
  const std::string cmd =
      (env.empty() ? "" : "env " + env + " ") + std::string(DOGE_BINARY) + " " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string Tmp(const std::string& name) {
  const std::string d = std::string(::testing::TempDir()) + "/doge_engine_cli";
  MakeDirs(d);
  return d + "/" + name;
}

std::string GoldenIds(const std::string& fixture, int n) {
  SafetensorsFile g(testing::FixtureDir(fixture) + "/golden.safetensors");
  std::vector<int32_t> ids(static_cast<size_t>(n));
  std::memcpy(ids.data(), g.Find("input_ids")->data, n * 4);
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

void ExpectLogitsFile(const std::string& path, const std::string& fixture, const std::string& golden) {
  SafetensorsFile f(path);
  const TensorView* t = f.Find("logits");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, DType::kF32);
  SafetensorsFile g(testing::FixtureDir(fixture) + "/golden.safetensors");
  const TensorView* want = g.Find(golden);
  ASSERT_EQ(t->shape, want->shape);
  EXPECT_LE(testing::MaxAbsDiff(reinterpret_cast<const float*>(t->data),
                                reinterpret_cast<const float*>(want->data),
                                static_cast<size_t>(t->numel())),
            1e-4)
      << fixture << " " << golden;
}

TEST(EngineCliTest, LogitsFullAndIncrementalMatchGoldens) {
  for (const std::string fx : {"b-dense", "a-early-dense", "b-untied"}) {
    const std::string ids = GoldenIds(fx, 60);
    const std::string full = Tmp(fx + "_full.safetensors");
    CliRun r = Doge("logits --model " + testing::FixtureDir(fx) + " --ids " + ids + " -o " + full);
    ASSERT_EQ(r.code, 0) << r.out;
    ExpectLogitsFile(full, fx, "logits.full.T60");
    const std::string inc = Tmp(fx + "_inc.safetensors");
    r = Doge("logits --model " + testing::FixtureDir(fx) + " --ids " + ids + " -o " + inc +
             " --incremental 10 --threads 1");
    ASSERT_EQ(r.code, 0) << r.out;
    ExpectLogitsFile(inc, fx, "logits.decode");
  }
}

TEST(EngineCliTest, GenerateIdsMatchesGoldenGreedy) {
  // tests/data/tiny-model holds the b-dense weights.
  CliRun r = Doge("generate --model " + std::string(DOGE_TEST_DATA) +
               "/tiny-model --ids 0,124,308,284,192 --max-new-tokens 30 --ignore-eos --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  SafetensorsFile g(testing::FixtureDir("b-dense") + "/golden.safetensors");
  std::vector<int32_t> want(30);
  std::memcpy(want.data(), g.Find("greedy.ids")->data, 120);
  std::string ids = "\"ids\":[";
  for (int i = 0; i < 30; ++i) ids += (i ? "," : "") + std::to_string(want[i]);
  ids += "]";
  EXPECT_NE(r.out.find(ids), std::string::npos) << r.out;
}

TEST(EngineCliTest, GeneratePromptAndScoreText) {
  const std::string m = std::string(DOGE_TEST_DATA) + "/tiny-model";
  CliRun r = Doge("generate --model " + m + " --prompt \"hello world\" --max-new-tokens 5 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"prompt_ids\":[0,"), std::string::npos) << "BOS first: " << r.out;
  r = Doge("score --model " + m + " --context \"hello\" --continuation \" world\" --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"logprob\":-"), std::string::npos) << r.out;
  // Sampling is reproducible for a seed.
  const std::string s = "generate --model " + m +
                        " --ids 0,5 --max-new-tokens 8 --temperature 1 --top-k 40 --seed 7 --format json";
  EXPECT_EQ(Doge(s).out, Doge(s).out);
}

// DOGE_KERNEL_ISA pins the kernels (engine/base/kernel_isa.h): `doge logits` under the portable set
// matches the goldens as the default does, and a bad value fails up front with the variable named.
TEST(EngineCliTest, KernelIsaEnvironmentVariable) {
  const std::string m = testing::FixtureDir("b-dense");
  const std::string out = Tmp("portable_logits.safetensors");
  CliRun r = Doge("logits --model " + m + " --ids " + GoldenIds("b-dense", 60) + " -o " + out,
           "DOGE_KERNEL_ISA=portable");
  ASSERT_EQ(r.code, 0) << r.out;
  ExpectLogitsFile(out, "b-dense", "logits.full.T60");
  r = Doge("info --model " + m, "DOGE_KERNEL_ISA=portable");
  EXPECT_NE(r.out.find("kernels:      portable (pinned by DOGE_KERNEL_ISA)"), std::string::npos)
      << r.out;
  r = Doge("info --model " + m, "DOGE_KERNEL_ISA=avx3");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(r.out.find("model:"), std::string::npos) << "no output before the error: " << r.out;
  EXPECT_NE(r.out.find("DOGE_KERNEL_ISA: expected portable, avx2 or avx512, found 'avx3'"),
            std::string::npos)
      << r.out;
}

TEST(EngineCliTest, InfoReportsLayoutAndParameters) {
  CliRun r = Doge("info --model " + testing::FixtureDir("a-late-dense"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("layout:       A-late"), std::string::npos) << r.out;
  r = Doge("info --format json --model " + testing::FixtureDir("b-moe"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"is_moe\": true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"kv_cache_bytes_per_token\""), std::string::npos) << r.out;
}

TEST(EngineCliTest, BadInputFailsWithNamedFile) {
  CliRun r = Doge("info --model /nonexistent-doge");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("config.json"), std::string::npos) << r.out;
  r = Doge("logits --model " + testing::FixtureDir("b-dense") + " --ids 0,512 -o " + Tmp("x.safetensors"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--ids"), std::string::npos) << r.out;
  r = Doge("logits --model " + testing::FixtureDir("b-dense"));
  EXPECT_EQ(r.code, 2) << r.out;
  r = Doge("dev random-checkpoint --shape doge-21m --out-dir " + Tmp("nope"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("doge-20m"), std::string::npos) << "suggests the right name: " << r.out;
  EXPECT_EQ(Doge("logits --help").code, 0);
}

TEST(EngineCliTest, RandomCheckpointDoge20mHasRealShapes) {
  const std::string dir = Tmp("doge20m");
  CliRun r = Doge("dev random-checkpoint --shape doge-20m --out-dir " + dir + " --seed 3");
  ASSERT_EQ(r.code, 0) << r.out;
  auto m = DogeModel::Load(dir);
  EXPECT_EQ(m->config().vocab_size, 32768);
  EXPECT_EQ(m->config().hidden_size, 256);
  EXPECT_EQ(m->config().num_hidden_layers, 8);
  EXPECT_EQ(m->config().num_attention_heads, 2);
  EXPECT_EQ(m->config().num_key_value_heads, 1);
  EXPECT_EQ(m->config().intermediate_size, 512);
  EXPECT_EQ(m->layout(), Layout::kB);
  EXPECT_TRUE(m->weights().tied);
  // Its own "doge_random_checkpoint" stamp is a known config key, not an "unknown key" warning.
  EXPECT_TRUE(m->config().warnings.empty()) << m->config().warnings[0];
  // doge-architecture.md §2.5: Doge-20M variant B has 13,118,728 parameters (tied head once).
  EXPECT_EQ(m->n_params(), 13118728);
  // Weights are sane: a forward gives finite logits.
  KvCache cache = m->NewCache(4);
  ForwardScratch s;
  std::vector<int32_t> ids = {0, 100, 2000, 30000};
  std::vector<float> h(256), logits(32768);
  m->Forward(ids.data(), 4, &cache, &s, {3}, h.data());
  m->Logits(h.data(), logits.data());
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

// Issue 19: a tokenizer id the checkpoint's embedding table does not have. `doge info` warns,
// naming the token, the id and vocab_size; text that encodes to it is an error when scored or
// generated, never a read past the embedding table.
TEST(EngineCliTest, TokenizerIdBeyondVocabSizeWarnsAndIsRefused) {
  const std::string src = std::string(DOGE_TEST_DATA) + "/tiny-model";
  const std::string dir = Tmp("beyond-vocab");
  MakeDirs(dir);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer_config.json"}) {
    WriteFileAtomic(dir + "/" + f, ReadFileToString(src + "/" + f));
  }
  std::string tok = ReadFileToString(src + "/tokenizer.json");
  const size_t at = tok.find('[', tok.find("\"added_tokens\""));
  ASSERT_NE(at, std::string::npos);
  tok.insert(at + 1,
             "{\"id\":600,\"content\":\"<|extra|>\",\"single_word\":false,\"lstrip\":false,"
             "\"rstrip\":false,\"normalized\":false,\"special\":true},");
  WriteFileAtomic(dir + "/tokenizer.json", tok);

  CliRun r = Doge("info --model " + dir);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("token '<|extra|>' has id 600, but config.json vocab_size is 512"),
            std::string::npos)
      << r.out;
  // The unmodified model folder has no such warning.
  r = Doge("info --model " + src);
  EXPECT_EQ(r.out.find("warning"), std::string::npos) << r.out;

  r = Doge("generate --model " + dir + " --prompt 'a b <|extra|>' --max-new-tokens 2");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("token id 600 outside [0, 512)"), std::string::npos) << r.out;
  r = Doge("score --model " + dir + " --context 'a b' --continuation ' <|extra|>'");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("token id 600 outside [0, 512)"), std::string::npos) << r.out;
}

// Issue 15: a broken config.json is blamed on config.json and the key, not on the tensors.
TEST(EngineCliTest, ConfigProblemsBlameConfigJson) {
  const std::string src = std::string(DOGE_TEST_DATA) + "/tiny-model";
  const std::string config = ReadFileToString(src + "/config.json");
  auto folder_with = [&](const std::string& name, const std::string& from, const std::string& to) {
    const std::string dir = Tmp(name);
    MakeDirs(dir);
    WriteFileAtomic(dir + "/model.safetensors", ReadFileToString(src + "/model.safetensors"));
    std::string c = config;
    const size_t at = c.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    c.replace(at, from.size(), to);
    WriteFileAtomic(dir + "/config.json", c);
    return dir;
  };
  std::string dir = folder_with("cfg-typo", "\"num_hidden_layers\"", "\"num_hidden_layer\"");
  CliRun r = Doge("info --model " + dir);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find(dir + "/config.json: num_hidden_layers: required key missing (the file has "
                             "'num_hidden_layer': a misspelling?)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("safetensors"), std::string::npos) << r.out;

  dir = folder_with("cfg-novocab", "\"vocab_size\"", "\"vocab_sizes\"");
  r = Doge("info --model " + dir);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("config.json: vocab_size: required key missing"), std::string::npos) << r.out;

  dir = folder_with("cfg-llama", "\"model_type\": \"doge\"", "\"model_type\": \"llama\"");
  r = Doge("info --model " + dir);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("config.json: model_type: doge runs Doge checkpoints only"), std::string::npos)
      << r.out;

  // An extra unknown key loads, with a warning naming it and the nearest known key.
  dir = folder_with("cfg-extra", "\"vocab_size\"", "\"rope_thetta\": 1, \"vocab_size\"");
  r = Doge("info --model " + dir);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("doge: warning: " + dir +
                       "/config.json: unknown key 'rope_thetta' (did you mean 'rope_theta'?); ignored"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace doge
