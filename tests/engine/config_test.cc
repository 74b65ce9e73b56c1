// DogeConfig parsing: upstream defaults, fixture values, and one test per invalid input, each
// checking that the error names config.json and the key.
#include <gtest/gtest.h>

#include "engine/config.h"
#include "engine/error.h"
#include "tests/engine/golden_util.h"

namespace doge {
namespace {

// Expects ParseConfig(json) to throw Error(kConfig) naming `key`.
void ExpectConfigError(const std::string& json, const std::string& key) {
  try {
    ParseConfig(json, "dir/config.json");
    FAIL() << "no error for " << json;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig) << e.what();
    EXPECT_EQ(e.file(), "dir/config.json");
    EXPECT_EQ(e.field(), key) << e.what();
  }
}

TEST(ConfigTest, EmptyObjectGivesUpstreamDefaults) {
  DogeConfig c = ParseConfig("{}", "config.json");
  EXPECT_EQ(c.vocab_size, 32768);
  EXPECT_EQ(c.hidden_size, 1024);
  EXPECT_EQ(c.intermediate_size, 2048);
  EXPECT_EQ(c.num_hidden_layers, 32);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_key_value_heads, 8);  // None -> num_attention_heads
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_scaling_type, "default");
  EXPECT_EQ(c.keep_window_size, 2048);
  EXPECT_FALSE(c.keep_window_size_present);
  EXPECT_FALSE(c.tie_word_embeddings);  // the §2.4 trap: upstream default is false
  EXPECT_FALSE(c.is_moe);
  EXPECT_EQ(c.num_experts, 16384);
  EXPECT_EQ(c.num_experts_per_tok, 64);
  EXPECT_EQ(c.bos_token_id, -1);
}

TEST(ConfigTest, FixtureValues) {
  DogeConfig c = LoadConfig(testing::FixtureDir("b-dense"));
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim(), 16);
  EXPECT_EQ(c.keep_window_size, 24);
  EXPECT_EQ(c.max_position_embeddings, 48);
  EXPECT_EQ(c.rope_scaling_type, "dynamic");
  EXPECT_DOUBLE_EQ(c.rope_scaling_factor, 4.0);
  EXPECT_EQ(c.rope_scaling_original_max_position_embeddings, 48);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_id, 1);
  // The A-early config has no keep_window_size and carries unused legacy keys (ignored).
  DogeConfig e = LoadConfig(testing::FixtureDir("a-early-dense"));
  EXPECT_FALSE(e.keep_window_size_present);
  EXPECT_EQ(e.keep_window_size, 2048);
  DogeConfig m = LoadConfig(testing::FixtureDir("b-moe"));
  EXPECT_TRUE(m.is_moe);
  EXPECT_EQ(m.num_experts, 16);
  EXPECT_EQ(m.num_experts_per_tok, 4);
}

TEST(ConfigTest, NullKvHeadsAndRopeParametersAndUnknownKeys) {
  DogeConfig c = ParseConfig(
      R"({"num_attention_heads": 4, "hidden_size": 64, "num_key_value_heads": null,
          "rope_parameters": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 500.0},
          "some_future_key": [1, 2, {"x": 3}]})",
      "config.json");
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.rope_scaling_type, "dynamic");
  EXPECT_DOUBLE_EQ(c.rope_scaling_factor, 2.0);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500.0);
}

TEST(ConfigTest, EosListTakesFirst) {
  DogeConfig c = ParseConfig(R"({"eos_token_id": [1, 2], "bos_token_id": 0})", "config.json");
  EXPECT_EQ(c.eos_token_id, 1);
  EXPECT_EQ(c.bos_token_id, 0);
  ExpectConfigError(R"({"eos_token_id": ["x"]})", "eos_token_id");
}

TEST(ConfigTest, HeadsNotDividingHidden) {
  ExpectConfigError(R"({"hidden_size": 100, "num_attention_heads": 8, "num_key_value_heads": 4})",
                    "num_attention_heads");
}
TEST(ConfigTest, KvHeadsNotDividingHeads) {
  ExpectConfigError(R"({"hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 3})",
                    "num_key_value_heads");
}
TEST(ConfigTest, NonPositiveValue) { ExpectConfigError(R"({"vocab_size": 0})", "vocab_size"); }
TEST(ConfigTest, WrongType) { ExpectConfigError(R"({"hidden_size": "64"})", "hidden_size"); }
TEST(ConfigTest, FractionalInteger) { ExpectConfigError(R"({"num_hidden_layers": 2.5})", "num_hidden_layers"); }
TEST(ConfigTest, BadEps) { ExpectConfigError(R"({"rms_norm_eps": -1})", "rms_norm_eps"); }
TEST(ConfigTest, UnsupportedRope) {
  ExpectConfigError(R"({"rope_scaling": {"rope_type": "yarn", "factor": 4}})", "rope_scaling.rope_type");
}
TEST(ConfigTest, SlidingWindowRejected) { ExpectConfigError(R"({"sliding_window": 512})", "sliding_window"); }
TEST(ConfigTest, UnsupportedActivation) { ExpectConfigError(R"({"hidden_act": "gelu"})", "hidden_act"); }
TEST(ConfigTest, TooManyExpertsPerToken) {
  ExpectConfigError(R"({"is_moe": true, "num_experts": 16, "num_experts_per_tok": 17})",
                    "num_experts_per_tok");
}
TEST(ConfigTest, EosOutsideVocab) {
  ExpectConfigError(R"({"vocab_size": 512, "eos_token_id": 512})", "eos_token_id");
}
TEST(ConfigTest, MalformedJson) { ExpectConfigError(R"({"hidden_size": )", ""); }
TEST(ConfigTest, MissingFileIsIoError) {
  try {
    LoadConfig("/nonexistent-doge-dir");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(e.file().find("config.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace doge
