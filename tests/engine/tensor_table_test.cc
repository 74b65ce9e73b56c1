// The tensor table (engine/tensor_table.h) against real checkpoints and against what the code
// before it wrote: every tensor of each doge-tiny fixture (written by transformers and the
// small-doge code, one per layout) is an entry of DogeTensorTable(config, detected layout) and
// every required entry is in the checkpoint; random checkpoints keep their exact bytes.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/model.h"
#include "engine/random_checkpoint.h"
#include "engine/safetensors.h"
#include "engine/tensor_table.h"
#include "tests/engine/golden_util.h"

namespace doge {
namespace {

TEST(TensorTableTest, MatchesEveryFixtureTensorForItsLayout) {
  struct Fixture {
    const char* name;
    Layout layout;
  };
  for (const Fixture& f : {Fixture{"a-early-dense", Layout::kAEarly},
                           Fixture{"a-late-dense", Layout::kALate}, Fixture{"b-dense", Layout::kB},
                           Fixture{"b-dense-bf16", Layout::kB}, Fixture{"b-moe", Layout::kB},
                           Fixture{"b-untied", Layout::kB}}) {
    SCOPED_TRACE(f.name);
    auto m = DogeModel::Load(testing::FixtureDir(f.name));
    ASSERT_EQ(m->layout(), f.layout);
    const TensorSet& ts = *m->weights().tensors;
    std::set<std::string> in_table;
    int64_t params = 0;
    for (const TensorEntry& e : DogeTensorTable(m->config(), f.layout)) {
      const TensorView* found = nullptr;
      for (const std::string& n : e.names) {
        if ((found = ts.Find(n)) != nullptr) break;
      }
      if (e.required) {
        ASSERT_NE(found, nullptr) << e.names[0];
      }
      if (found == nullptr) continue;
      EXPECT_EQ(found->shape, e.shape) << e.names[0];
      EXPECT_EQ(e.numel(), found->numel()) << e.names[0];
      EXPECT_TRUE(in_table.insert(found->name).second) << found->name << " matched twice";
      params += e.numel();
    }
    for (const auto& [name, view] : ts.all()) EXPECT_TRUE(in_table.count(name)) << name;
    EXPECT_EQ(params, m->weights().n_params);
  }
}

TEST(TensorTableTest, ExpertKeysAndBiasHeads) {
  DogeConfig c;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 2;
  for (auto [experts, keys] : {std::pair<int64_t, int64_t>{16384, 128}, {16383, 127}, {17, 4},
                               {4, 2}, {1, 1}}) {
    c.num_experts = experts;
    EXPECT_EQ(c.expert_keys(), keys) << experts;
  }
  EXPECT_EQ(BiasHeads(c, Layout::kB), 2);
  EXPECT_EQ(BiasHeads(c, Layout::kALate), 8);
  EXPECT_EQ(BiasHeads(c, Layout::kAEarly), 8);
}

// The random checkpoint writer takes its tensor list from the table: for a fixed seed the files
// are byte-identical to those of the writer that listed the tensors itself (hashes taken with
// `doge dev random-checkpoint --shape doge-20m --seed 7 --dtype f32|bf16` before the change).
TEST(TensorTableTest, RandomCheckpointBytesUnchanged) {
  struct Want {
    const char* dtype;
    const char* config_sha;
    const char* model_sha;
  };
  for (const Want& w :
       {Want{"f32", "f77e270931a53ea375df7b912bd84dcc71fd8b43660bac13a73ebf942f940107",
             "e6ee7bcc953a9c875b7794c8a93b08da60c2e3ceedbe86676498ee031fdd186f"},
        Want{"bf16", "1e1efe8612555424a944a68ad3e0490a5ac78794ea0cfeb7df2a606afbe27d4e",
             "056d8394de45b51787e553eb0e316b49bb74831fd85cab5bb31dd1bc70be5a2f"}}) {
    const std::string dir =
        std::string(::testing::TempDir()) + "/doge_tensor_table_rc_" + w.dtype;
    WriteRandomCheckpoint("doge-20m", dir, 7, w.dtype);
    EXPECT_EQ(Sha256File(dir + "/config.json"), w.config_sha) << w.dtype;
    EXPECT_EQ(Sha256File(dir + "/model.safetensors"), w.model_sha) << w.dtype;
  }
}

}  // namespace
}  // namespace doge
