// DogeConfig parsing: upstream defaults, fixture values, and one test per invalid input, each
// checking that the error names config.json and the key.
#include <gtest/gtest.h>

#include "engine/config.h"
#include "engine/base/error.h"
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

// `members` (a JSON object body) plus whichever required shape keys it does not set, with the
// upstream default values.
std::string WithShape(const std::string& members) {
  std::string out = "{" + members;
  const std::pair<const char*, const char*> shape[] = {
      {"vocab_size", "32768"}, {"hidden_size", "1024"}, {"intermediate_size", "2048"},
      {"num_hidden_layers", "32"}, {"num_attention_heads", "8"}};
  bool first = members.find_first_not_of(" \n") == std::string::npos;
  for (const auto& [key, value] : shape) {
    if (members.find(std::string("\"") + key + "\"") != std::string::npos) continue;
    out += std::string(first ? "" : ", ") + "\"" + key + "\": " + value;
    first = false;
  }
  return out + "}";
}

TEST(ConfigTest, ShapeOnlyGivesUpstreamDefaults) {
  DogeConfig c = ParseConfig(WithShape(""), "config.json");
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
  EXPECT_TRUE(c.warnings.empty());
}

// Issue 15: config.json problems are blamed on config.json and its key, before any tensor check.
TEST(ConfigTest, MissingRequiredKeyNamesIt) {
  ExpectConfigError("{}", "vocab_size");
  const char* shape[] = {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                         "num_attention_heads"};
  for (const char* missing : shape) {
    std::string json = "{\"model_type\": \"doge\"";
    for (const char* key : shape) {
      if (key != missing) json += std::string(", \"") + key + "\": 64";
    }
    json += "}";
    SCOPED_TRACE(json);
    ExpectConfigError(json, missing);
  }
}

TEST(ConfigTest, MisspeltKeyIsWarnedAndTheMissingOneBlamesIt) {
  const std::string json = R"({"vocab_size": 512, "hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layer": 2, "num_attention_heads": 4})";
  try {
    ParseConfig(json, "dir/config.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_EQ(e.file(), "dir/config.json");
    EXPECT_EQ(e.field(), "num_hidden_layers");
    EXPECT_NE(e.message().find("the file has 'num_hidden_layer': a misspelling?"), std::string::npos)
        << e.what();
  }
  // An unknown key next to a complete config: accepted, with the nearest known key.
  DogeConfig c = ParseConfig(WithShape(R"("rms_norm_epsilon": 1e-5, "zzz_custom_thing": 1)"),
                             "dir/config.json");
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0],
            "dir/config.json: unknown key 'rms_norm_epsilon' (did you mean 'rms_norm_eps'?); ignored");
  EXPECT_EQ(c.warnings[1], "dir/config.json: unknown key 'zzz_custom_thing'; ignored");
}

TEST(ConfigTest, OtherModelFamilyIsRefused) {
  ExpectConfigError(WithShape(R"("model_type": "llama")"), "model_type");
  ExpectConfigError(WithShape(R"("model_type": 3)"), "model_type");
  ExpectConfigError(WithShape(R"("architectures": ["LlamaForCausalLM"])"), "architectures");
  ExpectConfigError(WithShape(R"("architectures": "DogeForCausalLM")"), "architectures");
  try {
    ParseConfig(WithShape(R"("model_type": "llama")"), "dir/config.json");
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("doge runs Doge checkpoints only (model_type \"doge\""),
              std::string::npos)
        << e.what();
  }
  DogeConfig c = ParseConfig(
      WithShape(R"("model_type": "doge", "architectures": ["DogeForCausalLM"])"), "config.json");
  EXPECT_TRUE(c.warnings.empty());
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
      WithShape(R"("num_attention_heads": 4, "hidden_size": 64, "num_key_value_heads": null,
          "rope_parameters": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 500.0},
          "some_future_key": [1, 2, {"x": 3}])"),
      "config.json");
  EXPECT_EQ(c.warnings.size(), 1u);  // some_future_key
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.rope_scaling_type, "dynamic");
  EXPECT_DOUBLE_EQ(c.rope_scaling_factor, 2.0);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500.0);
}

TEST(ConfigTest, EosListTakesFirst) {
  DogeConfig c = ParseConfig(WithShape(R"("eos_token_id": [1, 2], "bos_token_id": 0)"), "config.json");
  EXPECT_EQ(c.eos_token_id, 1);
  EXPECT_EQ(c.bos_token_id, 0);
  // The element that is not an integer is the one named.
  ExpectConfigError(WithShape(R"("eos_token_id": ["x"])"), "eos_token_id[0]");
}

TEST(ConfigTest, HeadsNotDividingHidden) {
  ExpectConfigError(WithShape(R"("hidden_size": 100, "num_attention_heads": 8, "num_key_value_heads": 4)"),
                    "num_attention_heads");
}
TEST(ConfigTest, KvHeadsNotDividingHeads) {
  ExpectConfigError(WithShape(R"("hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 3)"),
                    "num_key_value_heads");
}
TEST(ConfigTest, NonPositiveValue) { ExpectConfigError(WithShape(R"("vocab_size": 0)"), "vocab_size"); }
TEST(ConfigTest, WrongType) { ExpectConfigError(WithShape(R"("hidden_size": "64")"), "hidden_size"); }
TEST(ConfigTest, FractionalInteger) { ExpectConfigError(WithShape(R"("num_hidden_layers": 2.5)"), "num_hidden_layers"); }
TEST(ConfigTest, BadEps) { ExpectConfigError(WithShape(R"("rms_norm_eps": -1)"), "rms_norm_eps"); }
TEST(ConfigTest, UnsupportedRope) {
  ExpectConfigError(WithShape(R"("rope_scaling": {"rope_type": "yarn", "factor": 4})"), "rope_scaling.rope_type");
}
TEST(ConfigTest, SlidingWindowRejected) { ExpectConfigError(WithShape(R"("sliding_window": 512)"), "sliding_window"); }
TEST(ConfigTest, UnsupportedActivation) { ExpectConfigError(WithShape(R"("hidden_act": "gelu")"), "hidden_act"); }
TEST(ConfigTest, TooManyExpertsPerToken) {
  ExpectConfigError(WithShape(R"("is_moe": true, "num_experts": 16, "num_experts_per_tok": 17)"),
                    "num_experts_per_tok");
}
TEST(ConfigTest, EosOutsideVocab) {
  ExpectConfigError(WithShape(R"("vocab_size": 512, "eos_token_id": 512)"), "eos_token_id");
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

// Issue 15: numbers beyond 64-bit integers or double range are accepted in keys the engine does
// not read, and are an error naming the key where it does.
TEST(ConfigTest, HugeNumbersInUnusedKeysLoadAndInUsedKeysNameTheKey) {
  DogeConfig c = ParseConfig(WithShape(R"("max_length": 1000000000000000019884624838656, "temperature": 1e999)"),
                             "config.json");
  EXPECT_EQ(c.vocab_size, 32768);
  ExpectConfigError(WithShape(R"("vocab_size": 1000000000000000019884624838656)"), "vocab_size");
  ExpectConfigError(WithShape(R"("rms_norm_eps": 1e999)"), "rms_norm_eps");
}

TEST(ConfigTest, KeyGivenTwiceWithDifferentValuesIsNamed) {
  // transformers (Python's json) would read the last value, this loader the first: refused.
  ExpectConfigError(WithShape(R"("hidden_size": 1024, "num_hidden_layers": 32, "hidden_size": 512)"),
                    "hidden_size");
  ExpectConfigError(WithShape(R"("rope_scaling": {"rope_type": "dynamic", "factor": 2.0, "factor": 4.0})"),
                    "rope_scaling.factor");
  ExpectConfigError(WithShape(R"("architectures": ["DogeForCausalLM"], "architectures": ["LlamaForCausalLM"])"),
                    "architectures");
  ExpectConfigError(WithShape(R"("zzz_unused": 1, "zzz_unused": 2)"), "zzz_unused");
  // The same value twice says one thing: accepted.
  DogeConfig c = ParseConfig(WithShape(R"("hidden_size": 1024, "tie_word_embeddings": true,)"
                                       R"( "hidden_size": 1024.0, "tie_word_embeddings": true)"),
                             "config.json");
  EXPECT_EQ(c.hidden_size, 1024);
}

}  // namespace
}  // namespace doge
