// Checkpoint loading: every malformed-input case fails with a doge::Error naming the file and the
// tensor/key (never a crash or an out-of-bounds read; the suite also runs under ASan+UBSan), and
// the accepted variants (sharded files, `.weight`-suffixed residuals, BF16/F16) load correctly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/model.h"
#include "engine/random_checkpoint.h"
#include "engine/safetensors.h"
#include "engine/weights.h"
#include "tests/engine/golden_util.h"

namespace doge {
namespace {

std::string TempDir(const std::string& name) {
  const std::string d = std::string(::testing::TempDir()) + "/doge_engine_st_" + name;
  MakeDirs(d);
  return d;
}

void WriteRaw(const std::string& path, const std::string& header, const std::string& data,
              int64_t claimed_len = -1) {
  const uint64_t len = claimed_len >= 0 ? static_cast<uint64_t>(claimed_len) : header.size();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  WriteFileAtomic(path, out + header + data);
}

// Runs fn, expects Error of `kind` whose file contains `file_part` and whose field is `field`.
void ExpectError(const std::function<void()>& fn, ErrorKind kind, const std::string& file_part,
                 const std::string& field) {
  try {
    fn();
    FAIL() << "no error (expected field " << field << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(e.file().find(file_part), std::string::npos) << e.what();
    EXPECT_EQ(e.field(), field) << e.what();
  }
}

TEST(SafetensorsFormatTest, FileShorterThanLengthPrefix) {
  const std::string p = TempDir("short") + "/x.safetensors";
  WriteFileAtomic(p, "abcd");
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "header length");
}

TEST(SafetensorsFormatTest, HeaderLengthBeyondFile) {
  const std::string p = TempDir("hlen") + "/x.safetensors";
  WriteRaw(p, "{}", "", /*claimed_len=*/1000);
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "header length");
}

TEST(SafetensorsFormatTest, MalformedHeaderJson) {
  const std::string p = TempDir("json") + "/x.safetensors";
  WriteRaw(p, R"({"a": {"dtype": "F32", "shape": [4], )", std::string(16, '\0'));
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "header");
}

TEST(SafetensorsFormatTest, OffsetsOutsideData) {
  const std::string p = TempDir("outside") + "/x.safetensors";
  WriteRaw(p, R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", std::string(8, '\0'));
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "a.data_offsets");
}

TEST(SafetensorsFormatTest, OffsetsOverlapping) {
  const std::string p = TempDir("overlap") + "/x.safetensors";
  WriteRaw(p,
           R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
               "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})",
           std::string(24, '\0'));
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "b.data_offsets");
}

TEST(SafetensorsFormatTest, ByteCountDisagreesWithShape) {
  const std::string p = TempDir("count") + "/x.safetensors";
  WriteRaw(p, R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}})", std::string(16, '\0'));
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "a.data_offsets");
}

TEST(SafetensorsFormatTest, UnsupportedDtype) {
  const std::string p = TempDir("dtype") + "/x.safetensors";
  WriteRaw(p, R"({"a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}})", std::string(16, '\0'));
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "a.dtype");
}

TEST(SafetensorsFormatTest, ReversedOffsets) {
  const std::string p = TempDir("rev") + "/x.safetensors";
  WriteRaw(p, R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})", std::string(8, '\0'));
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "a.data_offsets");
}

// Random single-byte corruptions of a valid file's header: each either loads or throws
// doge::Error; none may crash (ASan/UBSan catch out-of-bounds reads).
TEST(SafetensorsFormatTest, CorruptedHeadersNeverCrash) {
  const std::string dir = TempDir("fuzz");
  std::vector<float> a = {1, 2, 3, 4}, b = {5, 6};
  const std::string good = dir + "/good.safetensors";
  WriteSafetensors(good, {{"a", DType::kF32, {4}, a.data()}, {"b", DType::kF32, {2}, b.data()}});
  const std::string bytes = ReadFileToString(good);
  uint64_t state = 12345;
  int errors = 0;
  for (int i = 0; i < 300; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    std::string m = bytes;
    const size_t pos = (state >> 33) % std::min<size_t>(m.size(), 120);
    m[pos] = static_cast<char>((state >> 20) & 0xff);
    const std::string p = dir + "/m.safetensors";
    WriteFileAtomic(p, m);
    try {
      SafetensorsFile f(p);
      // Touch every byte a tensor claims: an out-of-range view would fault here.
      unsigned sum = 0;
      for (const auto& [name, t] : f.tensors()) {
        for (int64_t k = 0; k < t.n_bytes; ++k) sum += t.data[k];
      }
      (void)sum;
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 0);
}

TEST(SafetensorsTest, RoundTripAndHalfConversions) {
  const std::string p = TempDir("rt") + "/x.safetensors";
  std::vector<float> a = {1.5f, -2.0f, 3.25f};
  std::vector<uint16_t> h = {0x3C00, 0xC000, 0x7BFF, 0x0001};  // F16: 1, -2, 65504, 2^-24
  std::vector<uint16_t> bf = {0x3F80, 0xC0A0};                  // BF16: 1, -5
  WriteSafetensors(p, {{"a", DType::kF32, {3}, a.data()},
                       {"h", DType::kF16, {2, 2}, h.data()},
                       {"bf", DType::kBF16, {2}, bf.data()}});
  SafetensorsFile f(p);
  ASSERT_EQ(f.tensors().size(), 3u);
  const TensorView* t = f.Find("a");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape, std::vector<int64_t>{3});
  float got[3];
  std::memcpy(got, t->data, 12);
  EXPECT_EQ(got[2], 3.25f);
  EXPECT_EQ(f.Find("h")->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(F16ToFloat(0x3C00), 1.0f);
  EXPECT_EQ(F16ToFloat(0xC000), -2.0f);
  EXPECT_EQ(F16ToFloat(0x7BFF), 65504.0f);
  EXPECT_EQ(F16ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(F16ToFloat(0x7C00)));
  EXPECT_EQ(Bf16ToFloat(0x3F80), 1.0f);
  EXPECT_EQ(Bf16ToFloat(0xC0A0), -5.0f);
}

// `doge dev random-checkpoint --dtype bf16|f16`: every value is the float32 checkpoint's value
// rounded to the nearest 16-bit one (ties to even); and a 16-bit checkpoint loads with packed
// 16-bit copies that the kernels widen (engine/weights.h).
TEST(RandomCheckpointTest, SixteenBitValuesAreNearestRoundings) {
  const std::string d32 = TempDir("rc32"), d16 = TempDir("rcbf16"), dh = TempDir("rcf16");
  WriteRandomCheckpoint("doge-20m", d32, 3, "f32");
  WriteRandomCheckpoint("doge-20m", d16, 3, "bf16");
  WriteRandomCheckpoint("doge-20m", dh, 3, "f16");
  EXPECT_THROW(WriteRandomCheckpoint("doge-20m", TempDir("rcbad"), 3, "fp8"), Error);
  SafetensorsFile f32(d32 + "/model.safetensors"), fb(d16 + "/model.safetensors"),
      fh(dh + "/model.safetensors");
  const std::string name = "model.layers.0.mlp.up_proj.weight";
  const TensorView *a = f32.Find(name), *b = fb.Find(name), *h = fh.Find(name);
  ASSERT_TRUE(a && b && h);
  ASSERT_EQ(b->dtype, DType::kBF16);
  ASSERT_EQ(h->dtype, DType::kF16);
  const int64_t n = a->numel();
  for (int64_t i = 0; i < n; ++i) {
    float x;
    uint16_t vb, vh;
    std::memcpy(&x, a->data + 4 * i, 4);
    std::memcpy(&vb, b->data + 2 * i, 2);
    std::memcpy(&vh, h->data + 2 * i, 2);
    // Nearest: no neighbouring 16-bit value (one code up or down; same sign, finite) is closer.
    for (auto [v, widen] : {std::pair<uint16_t, float (*)(uint16_t)>{vb, Bf16ToFloat},
                            std::pair<uint16_t, float (*)(uint16_t)>{vh, F16ToFloat}}) {
      const double err = std::fabs(static_cast<double>(widen(v)) - x);
      for (uint16_t nb : {static_cast<uint16_t>(v + 1), static_cast<uint16_t>(v - 1)}) {
        ASSERT_LE(err, std::fabs(static_cast<double>(widen(nb)) - x)) << name << "[" << i << "]";
      }
    }
  }
  auto m = DogeModel::Load(d16);
  EXPECT_EQ(m->weights().packed_type, PackedType::kBF16);
  EXPECT_EQ(DogeModel::Load(dh)->weights().packed_type, PackedType::kF16);
  EXPECT_EQ(DogeModel::Load(d32)->weights().packed_type, PackedType::kF32);
}

// Checkpoint-level cases, built from the good b-dense fixture.
class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = testing::FixtureDir("b-dense");
    file_ = std::make_unique<SafetensorsFile>(src_ + "/model.safetensors");
    for (const auto& [name, t] : file_->tensors()) {
      tensors_.push_back({name, t.dtype, t.shape, t.data});
    }
  }
  // Writes config.json + model.safetensors with `tensors` into a fresh folder.
  std::string Write(const std::string& name, const std::vector<TensorToWrite>& tensors) {
    const std::string d = TempDir(name);
    WriteFileAtomic(d + "/config.json", ReadFileToString(src_ + "/config.json"));
    WriteSafetensors(d + "/model.safetensors", tensors);
    return d;
  }
  std::vector<float> Logits(const std::string& dir, int64_t T) {
    auto m = DogeModel::Load(dir);
    const SafetensorsFile g(src_ + "/golden.safetensors");
    std::vector<int32_t> ids(static_cast<size_t>(T));
    std::memcpy(ids.data(), g.Find("input_ids")->data, T * 4);
    KvCache cache = m->NewCache(T);
    ForwardScratch s;
    std::vector<float> h(static_cast<size_t>(m->config().hidden_size)), out(512);
    m->Forward(ids.data(), T, &cache, &s, {T - 1}, h.data());
    m->Logits(h.data(), out.data());
    return out;
  }
  std::string src_;
  std::unique_ptr<SafetensorsFile> file_;
  std::vector<TensorToWrite> tensors_;
};

TEST_F(CheckpointTest, TruncatedFile) {
  const std::string d = TempDir("trunc");
  WriteFileAtomic(d + "/config.json", ReadFileToString(src_ + "/config.json"));
  std::string bytes = ReadFileToString(src_ + "/model.safetensors");
  bytes.resize(bytes.size() - 1000);
  WriteFileAtomic(d + "/model.safetensors", bytes);
  try {
    DogeModel::Load(d);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_NE(e.file().find("model.safetensors"), std::string::npos);
    EXPECT_NE(e.field().find(".data_offsets"), std::string::npos) << e.what();
    EXPECT_NE(e.field().find("model."), std::string::npos) << "names the tensor: " << e.what();
  }
}

TEST_F(CheckpointTest, TruncatedInsideHeader) {
  const std::string d = TempDir("trunc_header");
  WriteFileAtomic(d + "/config.json", ReadFileToString(src_ + "/config.json"));
  WriteFileAtomic(d + "/model.safetensors", ReadFileToString(src_ + "/model.safetensors").substr(0, 100));
  ExpectError([&] { DogeModel::Load(d); }, ErrorKind::kFormat, "model.safetensors", "header length");
}

TEST_F(CheckpointTest, MissingTensor) {
  std::vector<TensorToWrite> t;
  for (const auto& x : tensors_) {
    if (x.name != "model.layers.1.mlp.up_proj.weight") t.push_back(x);
  }
  const std::string d = Write("missing", t);
  ExpectError([&] { DogeModel::Load(d); }, ErrorKind::kShape, "model.safetensors",
              "model.layers.1.mlp.up_proj.weight");
}

TEST_F(CheckpointTest, WrongShape) {
  for (auto& x : tensors_) {
    if (x.name == "model.layers.0.self_attn.q_proj.weight") x.shape = {32, 128};
  }
  const std::string d = Write("shape", tensors_);
  try {
    DogeModel::Load(d);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kShape);
    EXPECT_EQ(e.field(), "model.layers.0.self_attn.q_proj.weight");
    EXPECT_NE(std::string(e.what()).find("[32, 128]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[64, 64]"), std::string::npos) << e.what();
  }
}

TEST_F(CheckpointTest, IntegerWeightRejected) {
  for (auto& x : tensors_) {
    if (x.name == "model.layers.0.self_attn.A") x.dtype = DType::kI32;  // same byte count
  }
  const std::string d = Write("intweight", tensors_);
  ExpectError([&] { DogeModel::Load(d); }, ErrorKind::kFormat, "model.safetensors",
              "model.layers.0.self_attn.A");
}

TEST_F(CheckpointTest, ConfigDisagreeingWithTensors) {
  const std::string d = Write("cfg", tensors_);
  std::string cfg = ReadFileToString(d + "/config.json");
  cfg.replace(cfg.find("\"intermediate_size\": 128"), 24, "\"intermediate_size\": 256");
  WriteFileAtomic(d + "/config.json", cfg);
  ExpectError([&] { DogeModel::Load(d); }, ErrorKind::kShape, "model.safetensors",
              "model.layers.0.mlp.gate_proj.weight");
}

TEST_F(CheckpointTest, ResidualWithWeightSuffixAccepted) {
  for (auto& x : tensors_) {
    if (x.name.find("residual") != std::string::npos) x.name += ".weight";
  }
  const std::string d = Write("suffix", tensors_);
  EXPECT_EQ(Logits(d, 17), Logits(src_, 17));  // bit-identical: same weights, other names
}

TEST_F(CheckpointTest, ShardedCheckpoint) {
  const std::string d = TempDir("sharded");
  WriteFileAtomic(d + "/config.json", ReadFileToString(src_ + "/config.json"));
  std::vector<TensorToWrite> s1, s2;
  std::string index = "{\"metadata\": {}, \"weight_map\": {";
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const bool first = tensors_[i].name.find("layers.1.") == std::string::npos;
    (first ? s1 : s2).push_back(tensors_[i]);
    index += (i ? "," : "") + std::string("\"") + tensors_[i].name + "\": \"" +
             (first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors") + "\"";
  }
  index += "}}";
  WriteSafetensors(d + "/model-00001-of-00002.safetensors", s1);
  WriteSafetensors(d + "/model-00002-of-00002.safetensors", s2);
  WriteFileAtomic(d + "/model.safetensors.index.json", index);
  EXPECT_EQ(Logits(d, 17), Logits(src_, 17));

  // An index naming a tensor the shard does not hold is an error naming shard and tensor.
  std::string bad = index;
  bad.insert(bad.find("\"weight_map\": {") + 15,
             "\"model.extra.weight\": \"model-00001-of-00002.safetensors\",");
  WriteFileAtomic(d + "/model.safetensors.index.json", bad);
  ExpectError([&] { DogeModel::Load(d); }, ErrorKind::kFormat, "model-00001-of-00002.safetensors",
              "model.extra.weight");
}

TEST_F(CheckpointTest, ParameterCountIsEveryStoredTensor) {
  auto m = DogeModel::Load(src_);
  int64_t n = 0;
  for (const auto& [name, t] : file_->tensors()) n += t.numel();
  EXPECT_EQ(m->n_params(), n);
  EXPECT_EQ(m->weights().widened_bytes, 0);  // F32: used in place from the mapping
  auto bf = DogeModel::Load(testing::FixtureDir("b-dense-bf16"));
  EXPECT_EQ(bf->weights().dtype, DType::kBF16);
  EXPECT_EQ(bf->weights().widened_bytes, n * 4);
}

TEST(SafetensorsFormatTest, HeaderKeyGivenTwiceWithDifferentValues) {
  const std::string p = TempDir("dupkey") + "/x.safetensors";
  WriteRaw(p, R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
              R"( "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
           std::string(8, '\0'));
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "header.a");
  WriteRaw(p, R"({"a": {"dtype": "F32", "shape": [2], "dtype": "F16", "data_offsets": [0, 8]}})",
           std::string(8, '\0'));
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "header.a.dtype");
  WriteRaw(p, R"({"__metadata__": {"format": "pt", "format": "tf"},)"
              R"( "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
           std::string(8, '\0'));
  ExpectError([&] { SafetensorsFile f(p); }, ErrorKind::kFormat, p, "header.__metadata__.format");
  // An identical repeat is accepted.
  WriteRaw(p, R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "shape": [2]}})",
           std::string(8, '\0'));
  SafetensorsFile f(p);
}

TEST_F(CheckpointTest, IndexNamingATensorTwiceWithDifferentShards) {
  const std::string d = TempDir("dup_index");
  WriteFileAtomic(d + "/config.json", ReadFileToString(src_ + "/config.json"));
  WriteSafetensors(d + "/model-00001-of-00001.safetensors", tensors_);
  std::string index = "{\"metadata\": {}, \"weight_map\": {";
  for (size_t i = 0; i < tensors_.size(); ++i) {
    index += (i ? "," : "") + std::string("\"") + tensors_[i].name + "\": \"model-00001-of-00001.safetensors\"";
  }
  WriteFileAtomic(d + "/model.safetensors.index.json", index + "}}");
  EXPECT_EQ(Logits(d, 17), Logits(src_, 17));
  const std::string name = tensors_[0].name;
  WriteFileAtomic(d + "/model.safetensors.index.json",
                  index + ",\"" + name + "\": \"model-00002-of-00002.safetensors\"}}");
  ExpectError([&] { DogeModel::Load(d); }, ErrorKind::kFormat, "model.safetensors.index.json",
              "weight_map[\"" + name + "\"]");
}

}  // namespace
}  // namespace doge
