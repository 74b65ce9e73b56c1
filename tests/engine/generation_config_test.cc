// generation_config.json: the logits processors on hand-computed rows (values worked out from
// transformers' processor definitions), the classification of keys (applied / overridden / no
// effect / refused), and a real model whose greedy output a honoured field changes.
#include "engine/generation_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/scoring.h"
#include "tests/engine/golden_util.h"

namespace doge {
namespace {

using testing::FixtureDir;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

TEST(GenerationConfigTest, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  GenerationConfig c;
  c.repetition_penalty = 2.0;
  // Tokens 0 and 1 were seen (0 twice: penalised once). 3.0 / 2 = 1.5 now loses to token 2.
  std::vector<float> row = {3.0f, -1.0f, 2.0f, 0.5f};
  ApplyGenerationConfig(c, {0, 1}, {0}, row.data(), 4);
  EXPECT_EQ(row, (std::vector<float>{1.5f, -2.0f, 2.0f, 0.5f}));
}

TEST(GenerationConfigTest, NoRepeatNgramBansTheTokenThatWouldRepeatAnNgram) {
  GenerationConfig c;
  c.no_repeat_ngram_size = 2;
  // Sequence 5 6 5: the bigram (5, 6) exists and the sequence ends in 5, so 6 is banned.
  std::vector<float> row(8, 1.0f);
  ApplyGenerationConfig(c, {5, 6}, {5}, row.data(), 8);
  for (int v = 0; v < 8; ++v) EXPECT_EQ(row[v], v == 6 ? kNegInf : 1.0f) << v;
  // Trigrams: 1 2 3 1 2 -> 3 banned; 1 2 alone is too short for a trigram ban.
  c.no_repeat_ngram_size = 3;
  row.assign(8, 1.0f);
  ApplyGenerationConfig(c, {1, 2, 3, 1, 2}, {}, row.data(), 8);
  for (int v = 0; v < 8; ++v) EXPECT_EQ(row[v], v == 3 ? kNegInf : 1.0f) << v;
  row.assign(8, 1.0f);
  ApplyGenerationConfig(c, {1}, {}, row.data(), 8);
  EXPECT_EQ(row, std::vector<float>(8, 1.0f));
  // n = 1: every token seen is banned.
  c.no_repeat_ngram_size = 1;
  row.assign(8, 1.0f);
  ApplyGenerationConfig(c, {4}, {7}, row.data(), 8);
  for (int v = 0; v < 8; ++v) EXPECT_EQ(row[v], v == 4 || v == 7 ? kNegInf : 1.0f) << v;
}

TEST(GenerationConfigTest, MinNewTokensAndSuppression) {
  GenerationConfig c;
  c.min_new_tokens = 2;
  c.eos_token_id = 1;
  c.suppress_tokens = {3, 99};  // 99 is outside the vocabulary: ignored
  c.begin_suppress_tokens = {2};
  std::vector<float> row(4, 0.0f);
  ApplyGenerationConfig(c, {0}, {}, row.data(), 4);  // first step: EOS, 3 and 2 suppressed
  EXPECT_EQ(row, (std::vector<float>{0.0f, kNegInf, kNegInf, kNegInf}));
  row.assign(4, 0.0f);
  ApplyGenerationConfig(c, {0}, {2}, row.data(), 4);  // one generated: EOS and 3 only
  EXPECT_EQ(row, (std::vector<float>{0.0f, kNegInf, 0.0f, kNegInf}));
  row.assign(4, 0.0f);
  ApplyGenerationConfig(c, {0}, {2, 2}, row.data(), 4);  // two generated: only 3
  EXPECT_EQ(row, (std::vector<float>{0.0f, 0.0f, 0.0f, kNegInf}));
}

class GenerationConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("doge_gencfg_" + std::to_string(getpid())))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  LoadedGenerationConfig Load(const std::string& json) {
    std::ofstream(dir_ + "/generation_config.json") << json;
    return LoadGenerationConfig(dir_);
  }
  std::string Refused(const std::string& json) {
    try {
      Load(json);
    } catch (const Error& e) {
      EXPECT_EQ(e.file(), dir_ + "/generation_config.json");
      return e.field();
    }
    ADD_FAILURE() << "accepted: " << json;
    return "";
  }
  std::string dir_;
};

TEST_F(GenerationConfigFileTest, AbsentFileIsPlainGreedy) {
  const LoadedGenerationConfig g = LoadGenerationConfig(dir_);
  EXPECT_FALSE(g.present);
  EXPECT_TRUE(g.config.IsPlain());
}

TEST_F(GenerationConfigFileTest, IdsAndSamplingFieldsAreNamedButChangeNothing) {
  // What transformers writes for a model saved from its config, plus sampling fields: greedy stays
  // greedy (lighteval passes do_sample=False) and every key is accounted for by name.
  const LoadedGenerationConfig g = Load(
      R"({"_from_model_config": true, "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 2,
          "do_sample": true, "temperature": 0.7, "top_p": 0.9, "num_beams": 1, "transformers_version": "4.47.1"})");
  EXPECT_TRUE(g.present);
  EXPECT_TRUE(g.config.IsPlain());
  EXPECT_TRUE(g.applied.empty());
  ASSERT_EQ(g.notes.size(), 2u);
  EXPECT_EQ(
      g.notes[0],
      "passed by lighteval itself, file values not used: eos_token_id, pad_token_id, do_sample");
  EXPECT_EQ(g.notes[1],
            "no effect on greedy decoding: _from_model_config, bos_token_id, temperature, top_p, "
            "num_beams, "
            "transformers_version");
}

TEST_F(GenerationConfigFileTest, HonouredFieldsAreRead) {
  const LoadedGenerationConfig g = Load(
      R"({"repetition_penalty": 1.3, "no_repeat_ngram_size": 3, "min_new_tokens": 2, "suppress_tokens": [5, 7],
               "begin_suppress_tokens": [9], "frobnicate": 1})");
  EXPECT_DOUBLE_EQ(g.config.repetition_penalty, 1.3);
  EXPECT_EQ(g.config.no_repeat_ngram_size, 3);
  EXPECT_EQ(g.config.min_new_tokens, 2);
  EXPECT_EQ(g.config.suppress_tokens, (std::vector<int32_t>{5, 7}));
  EXPECT_EQ(g.config.begin_suppress_tokens, (std::vector<int32_t>{9}));
  EXPECT_EQ(g.applied.size(), 5u);
  bool warned = false;
  for (const std::string& n : g.notes)
    warned = warned || (n.find("WARNING") == 0 && n.find("frobnicate") != std::string::npos);
  EXPECT_TRUE(warned);
}

TEST_F(GenerationConfigFileTest, FieldsThatWouldChangeGreedyOutputAreRefusedByName) {
  EXPECT_EQ(Refused(R"({"num_beams": 4})"), "num_beams");
  EXPECT_EQ(Refused(R"({"penalty_alpha": 0.6})"),
            "penalty_alpha");  // top_k defaults to 50: contrastive
  EXPECT_EQ(Refused(R"({"bad_words_ids": [[5]]})"), "bad_words_ids");
  EXPECT_EQ(Refused(R"({"forced_eos_token_id": 1})"), "forced_eos_token_id");
  EXPECT_EQ(Refused(R"({"min_length": 10})"), "min_length");
  EXPECT_EQ(Refused(R"({"repetition_penalty": "high"})"), "repetition_penalty");
  EXPECT_EQ(Refused(R"({"repetition_penalty": 0})"), "repetition_penalty");
  // Their "off" values are accepted.
  EXPECT_TRUE(
      Load(
          R"({"penalty_alpha": 0.6, "top_k": 1, "bad_words_ids": null, "sequence_bias": [], "min_length": 0})")
          .config.IsPlain());
}

TEST(GenerationConfigModelTest, AHonouredFieldChangesTheModelsGreedyOutput) {
  auto lm = DogeLanguageModel::Load(FixtureDir("b-dense"), 1);
  const std::vector<std::vector<int32_t>> prompt = {{1, 5, 9, 2, 7}};
  const auto never = [](const std::vector<int32_t>&) { return false; };
  const std::vector<int32_t> plain = lm->GenerateGreedy(prompt, 6, never).at(0);
  ASSERT_EQ(plain.size(), 6u);
  // Suppressing the first greedy token changes the first token and so the continuation.
  GenerationConfig c;
  c.suppress_tokens = {plain[0]};
  lm->set_generation_config(c);
  const std::vector<int32_t> suppressed = lm->GenerateGreedy(prompt, 6, never).at(0);
  EXPECT_NE(suppressed.at(0), plain[0]);
  for (int32_t t : suppressed) EXPECT_NE(t, plain[0]);
  // no_repeat_ngram_size 1: no token of the prompt or of the output appears twice.
  c = GenerationConfig();
  c.no_repeat_ngram_size = 1;
  lm->set_generation_config(c);
  const std::vector<int32_t> fresh = lm->GenerateGreedy(prompt, 6, never).at(0);
  std::vector<int32_t> all = prompt[0];
  all.insert(all.end(), fresh.begin(), fresh.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  // Back to plain: the original output.
  lm->set_generation_config(GenerationConfig());
  EXPECT_EQ(lm->GenerateGreedy(prompt, 6, never).at(0), plain);
}

TEST_F(GenerationConfigFileTest, KeyGivenTwiceWithDifferentValuesIsNamed) {
  EXPECT_EQ(Refused(R"({"repetition_penalty": 1.3, "repetition_penalty": 1.0})"), "repetition_penalty");
  EXPECT_EQ(Refused(R"({"suppress_tokens": [5], "min_new_tokens": 2, "suppress_tokens": [5, 7]})"),
            "suppress_tokens");
  EXPECT_EQ(Refused(R"({"do_sample": true, "do_sample": false})"), "do_sample");
  const LoadedGenerationConfig g = Load(R"({"min_new_tokens": 2, "min_new_tokens": 2})");
  EXPECT_EQ(g.config.min_new_tokens, 2);
}

}  // namespace
}  // namespace doge
