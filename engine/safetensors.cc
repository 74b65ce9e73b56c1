// Safetensors: mmap + validated header parsing, shard joining, and an atomic writer.
#include "engine/safetensors.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_duplicate_keys.h"
#include "engine/base/json_read.h"

namespace doge {

const char* DTypeName(DType d) {
  switch (d) {
    case DType::kF32: return "F32";
    case DType::kBF16: return "BF16";
    case DType::kF16: return "F16";
    case DType::kI32: return "I32";
    case DType::kI64: return "I64";
    case DType::kI8: return "I8";
  }
  return "?";
}

int64_t DTypeSize(DType d) {
  switch (d) {
    case DType::kF32: case DType::kI32: return 4;
    case DType::kBF16: case DType::kF16: return 2;
    case DType::kI64: return 8;
    case DType::kI8: return 1;
  }
  return 4;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

float Bf16ToFloat(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float F16ToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

// Parses one header entry's fields; `name` is used in errors.
TensorView ParseEntry(const std::string& path, const std::string& name,
                      simdjson::dom::element value, uint64_t data_size,
                      std::vector<std::pair<uint64_t, uint64_t>>* ranges) {
  using simdjson::dom::array;
  using simdjson::dom::object;
  object obj;
  if (value.get_object().get(obj)) {
    throw Error(ErrorKind::kFormat, path, name, "header entry must be an object");
  }
  TensorView t;
  t.name = name;
  t.file = path;
  std::string_view dtype;
  if (obj["dtype"].get_string().get(dtype)) {
    throw Error(ErrorKind::kFormat, path, name + ".dtype", "missing or not a string");
  }
  if (dtype == "F32") {
    t.dtype = DType::kF32;
  } else if (dtype == "BF16") {
    t.dtype = DType::kBF16;
  } else if (dtype == "F16") {
    t.dtype = DType::kF16;
  } else if (dtype == "I32") {
    t.dtype = DType::kI32;
  } else if (dtype == "I64") {
    t.dtype = DType::kI64;
  } else if (dtype == "I8") {
    t.dtype = DType::kI8;
  } else {
    throw Error(ErrorKind::kFormat, path, name + ".dtype",
                "unsupported dtype \"" + std::string(dtype) + "\", expected F32, BF16, F16 (or I32/I64/I8)");
  }
  array shape;
  if (obj["shape"].get_array().get(shape)) {
    throw Error(ErrorKind::kFormat, path, name + ".shape", "missing or not an array");
  }
  uint64_t numel = 1;
  for (auto d : shape) {
    int64_t v;
    if (d.get_int64().get(v) || v < 0 || v > (int64_t{1} << 40)) {
      throw Error(ErrorKind::kFormat, path, name + ".shape", "dimensions must be integers >= 0");
    }
    t.shape.push_back(v);
    if (v != 0 && numel > (uint64_t{1} << 50) / static_cast<uint64_t>(v)) {
      throw Error(ErrorKind::kFormat, path, name + ".shape", "element count overflows");
    }
    numel *= static_cast<uint64_t>(v);
  }
  array offs;
  if (obj["data_offsets"].get_array().get(offs) || offs.size() != 2) {
    throw Error(ErrorKind::kFormat, path, name + ".data_offsets", "missing or not [begin, end]");
  }
  uint64_t begin, end;
  if (offs.at(0).get_uint64().get(begin) || offs.at(1).get_uint64().get(end)) {
    throw Error(ErrorKind::kFormat, path, name + ".data_offsets", "must be non-negative integers");
  }
  if (end < begin || end > data_size) {
    throw Error(ErrorKind::kFormat, path, name + ".data_offsets",
                "[" + std::to_string(begin) + ", " + std::to_string(end) +
                    "] outside the data section of " + std::to_string(data_size) + " bytes");
  }
  const uint64_t expect = numel * static_cast<uint64_t>(DTypeSize(t.dtype));
  if (end - begin != expect) {
    throw Error(ErrorKind::kFormat, path, name + ".data_offsets",
                "spans " + std::to_string(end - begin) + " bytes, expected " +
                    std::to_string(expect) + " for " + DTypeName(t.dtype) + " " +
                    FormatShape(t.shape));
  }
  t.n_bytes = static_cast<int64_t>(expect);
  ranges->push_back({begin, end});
  // data pointer filled in by the caller (needs the mapping base).
  t.data = reinterpret_cast<const uint8_t*>(static_cast<uintptr_t>(begin));
  return t;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(ErrorKind::kIo, path, "", std::string("cannot open: ") + strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error(ErrorKind::kIo, path, "", std::string("cannot stat: ") + strerror(errno));
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    throw Error(ErrorKind::kFormat, path, "header length",
                "file is " + std::to_string(size_) + " bytes, too short for the 8-byte length");
  }
  map_ = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw Error(ErrorKind::kIo, path, "", std::string("mmap failed: ") + strerror(errno));
  }
  try {
    const uint8_t* base = static_cast<const uint8_t*>(map_);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];  // little endian
    if (header_len > size_ - 8) {
      throw Error(ErrorKind::kFormat, path, "header length",
                  "header claims " + std::to_string(header_len) + " bytes but only " +
                      std::to_string(size_ - 8) + " follow the length prefix (truncated file?)");
    }
    const uint64_t data_size = size_ - 8 - header_len;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    // simdjson needs padding, so parse from a padded copy of the header (small).
    simdjson::padded_string header(reinterpret_cast<const char*>(base + 8), header_len);
    if (auto err = parser.parse(header).get(root)) {
      throw Error(ErrorKind::kFormat, path, "header",
                  std::string("malformed header JSON: ") + simdjson::error_message(err));
    }
    CheckDuplicateKeys(root, ErrorKind::kFormat, path, "header.");
    simdjson::dom::object obj;
    if (root.get_object().get(obj)) {
      throw Error(ErrorKind::kFormat, path, "header", "header JSON must be an object");
    }
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    std::vector<std::pair<std::pair<uint64_t, uint64_t>, std::string>> named;
    for (auto field : obj) {
      std::string name(field.key);
      if (name == "__metadata__") continue;
      TensorView t = ParseEntry(path, name, field.value, data_size, &ranges);
      const uint64_t begin = reinterpret_cast<uintptr_t>(t.data);
      named.push_back({{begin, begin + static_cast<uint64_t>(t.n_bytes)}, name});
      t.data = base + 8 + header_len + begin;
      if (!tensors_.emplace(name, std::move(t)).second) {
        throw Error(ErrorKind::kFormat, path, name, "tensor listed twice in the header");
      }
    }
    std::sort(named.begin(), named.end());
    for (size_t i = 1; i < named.size(); ++i) {
      if (named[i].first.first < named[i - 1].first.second) {
        throw Error(ErrorKind::kFormat, path, named[i].second + ".data_offsets",
                    "overlaps tensor " + named[i - 1].second + " (bytes [" +
                        std::to_string(named[i].first.first) + ", ...) vs [..., " +
                        std::to_string(named[i - 1].first.second) + "))");
      }
    }
  } catch (...) {
    munmap(map_, size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) munmap(map_, size_);
}

const TensorView* SafetensorsFile::Find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::unique_ptr<TensorSet> TensorSet::Open(const std::string& model_dir) {
  auto set = std::make_unique<TensorSet>();
  const std::string index = model_dir + "/model.safetensors.index.json";
  const std::string single = model_dir + "/model.safetensors";
  if (FileExists(index)) {
    set->describe_ = index;
    const std::unique_ptr<JsonDocument> doc =
        LoadJsonFile(index, ErrorKind::kFormat, "malformed JSON");
    const JsonNode root = doc->root();
    const std::optional<JsonNode> map = root.IsObject() ? root.Find("weight_map") : std::nullopt;
    if (!map || !map->IsObject()) {
      throw Error(ErrorKind::kFormat, index, "weight_map", "missing or not an object");
    }
    std::map<std::string, SafetensorsFile*> opened;
    for (const auto& [name, shard] : map->Members()) {
      if (!shard.IsString()) shard.Fail("expected a file name, found " + shard.Found());
      const std::string shard_name = shard.String();
      if (shard_name.find('/') != std::string::npos || shard_name.empty()) {
        shard.Fail("shard must be a plain file name in the model folder, got \"" + shard_name + "\"");
      }
      auto it = opened.find(shard_name);
      if (it == opened.end()) {
        set->files_.push_back(std::make_unique<SafetensorsFile>(model_dir + "/" + shard_name));
        it = opened.emplace(shard_name, set->files_.back().get()).first;
      }
      const TensorView* t = it->second->Find(name);
      if (t == nullptr) {
        throw Error(ErrorKind::kFormat, model_dir + "/" + shard_name, name,
                    "listed in model.safetensors.index.json but not in this shard");
      }
      set->all_[name] = t;
    }
  } else {
    set->describe_ = single;
    set->files_.push_back(std::make_unique<SafetensorsFile>(single));
    for (const auto& [name, t] : set->files_.back()->tensors()) set->all_[name] = &t;
  }
  return set;
}

const TensorView* TensorSet::Find(const std::string& name) const {
  auto it = all_.find(name);
  return it == all_.end() ? nullptr : it->second;
}

int64_t TensorSet::mapped_bytes() const {
  int64_t n = 0;
  for (const auto& f : files_) n += f->mapped_bytes();
  return n;
}

std::string SafetensorsHeader(const std::vector<TensorToWrite>& tensors) {
  std::vector<const TensorToWrite*> sorted;
  for (const auto& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(),
            [](const TensorToWrite* a, const TensorToWrite* b) { return a->name < b->name; });
  std::string json = "{";
  uint64_t offset = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const TensorToWrite& t = *sorted[i];
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
    const uint64_t n = numel * static_cast<uint64_t>(DTypeSize(t.dtype));
    if (i) json += ",";
    json += "\"" + t.name + "\":{\"dtype\":\"" + DTypeName(t.dtype) + "\",\"shape\":[";
    for (size_t k = 0; k < t.shape.size(); ++k) {
      if (k) json += ",";
      json += std::to_string(t.shape[k]);
    }
    json += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + n) + "]}";
    offset += n;
  }
  json += "}";
  while (json.size() % 8 != 0) json += ' ';
  std::string out(8, '\0');
  uint64_t len = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  return out + json;
}

void WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  std::vector<const TensorToWrite*> sorted;
  for (const auto& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(),
            [](const TensorToWrite* a, const TensorToWrite* b) { return a->name < b->name; });
  AtomicFileWriter w(path);
  w.Write(SafetensorsHeader(tensors));
  for (const TensorToWrite* t : sorted) {
    uint64_t numel = 1;
    for (int64_t d : t->shape) numel *= static_cast<uint64_t>(d);
    w.Write(std::string_view(static_cast<const char*>(t->data),
                             numel * static_cast<uint64_t>(DTypeSize(t->dtype))));
  }
  w.Commit();
}

}  // namespace doge
