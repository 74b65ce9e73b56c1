// Safetensors reading (memory-mapped, validated) and writing. A SafetensorsFile maps one file and
// exposes TensorViews pointing into the mapping; a TensorSet joins one or several shards
// (model.safetensors or model-0000X-of-0000N.safetensors + model.safetensors.index.json).
#ifndef DOGE_ENGINE_SAFETENSORS_H_
#define DOGE_ENGINE_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace doge {

// Integer dtypes are read for goldens/ids; weights are floating point, or I8 with a float32
// "<name>_scale" tensor beside them (q8 checkpoints, engine/README.md).
enum class DType { kF32, kBF16, kF16, kI32, kI64, kI8 };
const char* DTypeName(DType d);
int64_t DTypeSize(DType d);

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // [numel * DTypeSize(dtype)] bytes inside the mapping
  int64_t n_bytes = 0;
  std::string file;  // the file it lives in (for error messages)
  int64_t numel() const;
};

// One mmap'd .safetensors file. The constructor validates everything the header claims against the
// file: header length vs file size, JSON shape, dtype, shape vs byte count, offsets inside the data
// section and not overlapping. Any violation is an Error naming the file and the tensor/key.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const TensorView* Find(const std::string& name) const;
  int64_t mapped_bytes() const { return static_cast<int64_t>(size_); }

 private:
  std::string path_;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, TensorView> tensors_;
};

// All tensors of a checkpoint folder. Prefers model.safetensors.index.json (sharded) when present.
class TensorSet {
 public:
  static std::unique_ptr<TensorSet> Open(const std::string& model_dir);
  const TensorView* Find(const std::string& name) const;
  const std::map<std::string, const TensorView*>& all() const { return all_; }
  int64_t mapped_bytes() const;
  // "model.safetensors" or "model.safetensors.index.json" (for error messages about missing names).
  const std::string& describe() const { return describe_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> all_;
  std::string describe_;
};

// A tensor to write: F32 data, or raw bytes already in `dtype`.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // numel * DTypeSize(dtype) bytes
};
// Header JSON (sorted by name, data offsets contiguous) padded to 8 bytes, as the Python library
// writes it. Returns the 8-byte length prefix + header.
std::string SafetensorsHeader(const std::vector<TensorToWrite>& tensors);
// Writes atomically (engine/base/file_util.h), streaming tensor bytes.
void WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors);

// fp32 <- bf16/f16 bit patterns.
float Bf16ToFloat(uint16_t v);
float F16ToFloat(uint16_t v);

}  // namespace doge

#endif  // DOGE_ENGINE_SAFETENSORS_H_
