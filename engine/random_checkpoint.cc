// Random checkpoint writer (streams one tensor at a time, so a 1.3 GB doge-320m needs no 1.3 GB
// buffer).
#include "engine/random_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_writer.h"
#include "engine/safetensors.h"
#include "engine/tensor_table.h"

namespace doge {
namespace {

struct Shape {
  int64_t hidden, inter, layers, heads, kv_heads;
};

const std::map<std::string, Shape>& Shapes() {
  static const std::map<std::string, Shape> m = {
      {"doge-20m", {256, 512, 8, 2, 1}},
      {"doge-60m", {512, 1024, 16, 4, 2}},
      {"doge-160m", {768, 1536, 24, 6, 3}},
      {"doge-320m", {1024, 2048, 32, 8, 4}},
  };
  return m;
}

// Round to nearest even (finite inputs; the weights here are far from overflow).
uint16_t FloatToBf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return static_cast<uint16_t>((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
}

uint16_t FloatToF16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  const int32_t exp = static_cast<int32_t>((b >> 23) & 0xFFu) - 127 + 15;
  uint32_t man = b & 0x7FFFFFu;
  if (exp >= 31) return sign | 0x7C00u;  // overflow: inf
  int32_t shift = 13;
  uint32_t base = static_cast<uint32_t>(exp) << 10;
  if (exp <= 0) {  // subnormal half (or zero)
    if (exp < -10) return sign;
    man |= 0x800000u;
    shift = 14 - exp;
    base = 0;
  }
  uint32_t h = man >> shift;
  const uint32_t rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (h & 1u))) ++h;  // a carry moves into the exponent
  return static_cast<uint16_t>(sign | (base + h));
}

struct Rng {
  uint64_t s;
  double Uniform() {  // [0, 1)
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
  }
};

enum class Init { kLinear, kNorm, kA, kEmbed };

struct Spec {
  std::string name;
  std::vector<int64_t> shape;
  Init init;
};

}  // namespace

std::vector<std::string> RandomCheckpointShapes() {
  std::vector<std::string> v;
  for (const auto& [k, _] : Shapes()) v.push_back(k);
  return v;
}

DogeConfig PublishedShapeConfig(const std::string& shape) {
  auto it = Shapes().find(shape);
  if (it == Shapes().end()) {
    throw Error(ErrorKind::kUsage, "", "--shape",
                UnknownNameMessage("shape", shape, RandomCheckpointShapes()));
  }
  const Shape& s = it->second;
  DogeConfig c;
  c.vocab_size = 32768;
  c.hidden_size = s.hidden;
  c.intermediate_size = s.inter;
  c.num_hidden_layers = s.layers;
  c.num_attention_heads = s.heads;
  c.num_key_value_heads = s.kv_heads;
  c.is_moe = false;
  return c;
}

void WriteRandomCheckpoint(const std::string& shape, const std::string& out_dir, uint64_t seed,
                           const std::string& dtype_name) {
  DType dtype;
  if (dtype_name == "f32") {
    dtype = DType::kF32;
  } else if (dtype_name == "bf16") {
    dtype = DType::kBF16;
  } else if (dtype_name == "f16") {
    dtype = DType::kF16;
  } else {
    throw Error(ErrorKind::kUsage, "", "--dtype", "expected f32, bf16 or f16, found '" + dtype_name + "'");
  }
  const DogeConfig c = PublishedShapeConfig(shape);
  const int64_t V = c.vocab_size, H = c.hidden_size, I = c.intermediate_size;
  MakeDirs(out_dir);

  // config.json: the published values (doge-architecture.md §2.2) with new-style keys.
  JsonWriter j(true);
  j.BeginObject();
  j.Key("architectures").BeginArray().String("DogeForCausalLM").EndArray();
  j.Field("model_type", "doge");
  j.Field("vocab_size", V).Field("hidden_size", H).Field("intermediate_size", I);
  j.Field("num_hidden_layers", c.num_hidden_layers).Field("num_attention_heads", c.num_attention_heads);
  j.Field("num_key_value_heads", c.num_key_value_heads);
  j.Field("hidden_act", "silu").Field("hidden_dropout", 0.0).Field("attention_dropout", 0.0);
  j.Field("rms_norm_eps", 1e-6).Field("max_position_embeddings", int64_t{2048});
  j.Field("rope_theta", 10000.0);
  j.Key("rope_scaling").BeginObject();
  j.Field("rope_type", "dynamic").Field("factor", 4.0).Field("original_max_position_embeddings", int64_t{2048});
  j.EndObject();
  j.Field("keep_window_size", int64_t{2048}).Field("is_moe", false);
  j.Field("tie_word_embeddings", true).Field("attention_bias", false).Field("mlp_bias", false);
  j.Field("bos_token_id", int64_t{0}).Field("eos_token_id", int64_t{1}).Field("pad_token_id", int64_t{2});
  j.Field("torch_dtype", dtype == DType::kF32    ? "float32"
                         : dtype == DType::kBF16 ? "bfloat16"
                                                 : "float16");
  j.Field("use_cache", true);
  j.Key("doge_random_checkpoint").BeginObject().Field("shape", shape).Field("seed", static_cast<int64_t>(seed)).EndObject();
  j.EndObject();
  WriteFileAtomic(out_dir + "/config.json", j.str() + "\n");

  // Every required tensor of layout B (the tied head is absent), named as transformers writes it.
  std::vector<Spec> specs;
  for (const TensorEntry& e : DogeTensorTable(c, Layout::kB)) {
    if (!e.required) continue;
    Init init = Init::kLinear;
    switch (e.kind) {
      case TensorKind::kEmbedding: init = Init::kEmbed; break;
      case TensorKind::kMatrix: init = Init::kLinear; break;
      case TensorKind::kGain: init = Init::kNorm; break;
      case TensorKind::kA: init = Init::kA; break;
    }
    specs.push_back({e.names[0], e.shape, init});
  }
  std::sort(specs.begin(), specs.end(), [](const Spec& a, const Spec& b) { return a.name < b.name; });
  std::vector<TensorToWrite> header;
  for (const Spec& sp : specs) header.push_back({sp.name, dtype, sp.shape, nullptr});

  AtomicFileWriter w(out_dir + "/model.safetensors");
  w.Write(SafetensorsHeader(header));  // sorted by name, same order as written below
  std::vector<float> buf;
  std::vector<uint16_t> buf16;
  for (size_t ti = 0; ti < specs.size(); ++ti) {
    const Spec& sp = specs[ti];
    Rng rng{seed * 0x9E3779B97F4A7C15ull + ti * 7919 + 1};
    int64_t n = 1;
    for (int64_t d : sp.shape) n *= d;
    buf.resize(static_cast<size_t>(n));
    const int64_t fan_in = sp.shape.back();
    // Uniform(-a, a) has std a/sqrt(3); a = sqrt(3)*std.
    const double a_lin = std::sqrt(3.0) * 0.5 / std::sqrt(static_cast<double>(fan_in));
    for (int64_t i = 0; i < n; ++i) {
      const double u = rng.Uniform();
      double v = 0;
      switch (sp.init) {
        case Init::kLinear: v = (2 * u - 1) * a_lin; break;
        case Init::kEmbed: v = (2 * u - 1) * std::sqrt(3.0) * 0.5; break;
        case Init::kNorm: v = 1.0 + (2 * u - 1) * 0.1; break;
        case Init::kA: {
          const double mag = 0.3 + 0.7 * rng.Uniform();
          v = u < 0.5 ? -mag : mag;
          break;
        }
      }
      buf[i] = static_cast<float>(v);
    }
    if (dtype == DType::kF32) {
      w.Write(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size() * 4));
    } else {
      buf16.resize(buf.size());
      for (size_t i = 0; i < buf.size(); ++i) {
        buf16[i] = dtype == DType::kBF16 ? FloatToBf16(buf[i]) : FloatToF16(buf[i]);
      }
      w.Write(std::string_view(reinterpret_cast<const char*>(buf16.data()), buf16.size() * 2));
    }
  }
  w.Commit();
}

}  // namespace doge
