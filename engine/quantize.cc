// q8 checkpoint writer (quantize.h).
#include "engine/quantize.h"

#include <unistd.h>

#include <filesystem>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/kernels/q8.h"
#include "engine/random_checkpoint.h"
#include "engine/safetensors.h"

namespace doge {

namespace {

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<float> Widen(const TensorView& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t.dtype == DType::kF32) {
      std::memcpy(&v[i], t.data + 4 * i, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      v[i] = t.dtype == DType::kBF16 ? Bf16ToFloat(h) : F16ToFloat(h);
    }
  }
  return v;
}

}  // namespace

bool QuantizedInQ8(const std::string& n) {
  static const char* const kSuffixes[] = {
      "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
      "self_attn.o_proj.weight", ".gate_proj.weight",       ".up_proj.weight",
      ".down_proj.weight"};
  if (n == "model.embed_tokens.weight" || n == "model.word_embed.weight" ||
      n == "lm_head.weight") {
    return true;
  }
  for (const char* s : kSuffixes) {
    if (EndsWith(n, s)) return true;
  }
  return false;
}

QuantizeStats QuantizeCheckpoint(const std::string& model_dir, const std::string& out_dir,
                                 const std::string& type) {
  if (type != "q8") {
    throw Error(ErrorKind::kUsage, "", "--type", "expected q8, found '" + type + "'");
  }
  std::error_code ec;
  if (std::filesystem::exists(out_dir, ec)) {
    throw Error(ErrorKind::kUsage, out_dir, "--out-dir",
                "already exists; give a new folder (it is written whole, then renamed into place)");
  }
  std::unique_ptr<TensorSet> ts = TensorSet::Open(model_dir);
  QuantizeStats st;
  std::vector<TensorToWrite> out;
  // Owned bytes of the quantized tensors (the kept ones point into the mapping).
  std::vector<std::unique_ptr<int8_t[]>> qs;
  std::vector<std::unique_ptr<float[]>> scales;
  for (const auto& [name, t] : ts->all()) {
    if (t->dtype == DType::kI8 || EndsWith(name, ".weight_scale")) {
      throw Error(ErrorKind::kFormat, t->file, name, "the checkpoint is already quantized");
    }
    const bool floating =
        t->dtype == DType::kF32 || t->dtype == DType::kBF16 || t->dtype == DType::kF16;
    if (floating && t->shape.size() == 2 && QuantizedInQ8(name)) {
      const int64_t rows = t->shape[0], cols = t->shape[1], nb = Q8Blocks(cols);
      const std::vector<float> w = Widen(*t);
      qs.push_back(std::make_unique<int8_t[]>(static_cast<size_t>(rows * cols)));
      scales.push_back(std::make_unique<float[]>(static_cast<size_t>(rows * nb)));
      QuantizeQ8Matrix(w.data(), rows, cols, qs.back().get(), scales.back().get());
      out.push_back({name, DType::kI8, {rows, cols}, qs.back().get()});
      out.push_back({name + "_scale", DType::kF32, {rows, nb}, scales.back().get()});
      ++st.n_quantized;
      st.params_quantized += rows * cols;
    } else {
      out.push_back({name, t->dtype, t->shape, t->data});
      ++st.n_kept;
      st.params_kept += t->numel();
    }
  }

  // Build the folder under a temporary name beside out_dir, then rename it into place.
  std::filesystem::path dst(out_dir);
  if (dst.filename().empty()) dst = dst.parent_path();  // "DIR/"
  const std::filesystem::path tmp =
      dst.parent_path() / (dst.filename().string() + ".tmp-" + std::to_string(getpid()));
  std::filesystem::remove_all(tmp, ec);
  try {
    MakeDirs(tmp.string());
    WriteSafetensors((tmp / "model.safetensors").string(), out);
    for (const auto& e : std::filesystem::directory_iterator(model_dir)) {
      const std::string fn = e.path().filename().string();
      if (!e.is_regular_file() || EndsWith(fn, ".safetensors") ||
          fn == "model.safetensors.index.json") {
        continue;
      }
      std::filesystem::copy_file(e.path(), tmp / fn);
    }
    st.bytes_out = static_cast<int64_t>(std::filesystem::file_size(tmp / "model.safetensors"));
    std::filesystem::rename(tmp, dst);
  } catch (const std::filesystem::filesystem_error& e) {
    std::filesystem::remove_all(tmp, ec);
    throw Error(ErrorKind::kIo, e.path1().string(), "", e.what());
  } catch (...) {
    std::filesystem::remove_all(tmp, ec);
    throw;
  }
  return st;
}

void WriteRandomQ8Checkpoint(const std::string& shape, const std::string& out_dir, uint64_t seed) {
  std::filesystem::path dst(out_dir);
  if (dst.filename().empty()) dst = dst.parent_path();
  const std::string f32 =
      (dst.parent_path() / (dst.filename().string() + ".f32-" + std::to_string(getpid()))).string();
  std::error_code ec;
  try {
    WriteRandomCheckpoint(shape, f32, seed, "f32");
    QuantizeCheckpoint(f32, out_dir, "q8");
  } catch (...) {
    std::filesystem::remove_all(f32, ec);
    throw;
  }
  std::filesystem::remove_all(f32, ec);
}

}  // namespace doge
