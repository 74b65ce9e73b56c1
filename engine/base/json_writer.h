// JsonWriter: a small streaming JSON writer (simdjson only parses). Used for every JSON/JSONL file
// and line the project writes, so escaping and number formatting are the same everywhere.
#ifndef DOGE_ENGINE_BASE_JSON_WRITER_H_
#define DOGE_ENGINE_BASE_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace doge {

// Appends `s` as a JSON string literal (quotes included). Bytes >= 0x80 are copied as they are
// (the input is expected to be UTF-8); control characters are escaped as \uXXXX.
void AppendJsonString(std::string& out, std::string_view s);
// Shortest round-trip decimal form of a double ("%.17g"-exact, no trailing noise); NaN/Inf -> null.
void AppendJsonNumber(std::string& out, double v);

// Builder with automatic commas. Example:
//   JsonWriter w; w.BeginObject(); w.Key("ids"); w.BeginArray(); w.Int(5); w.EndArray();
//   w.EndObject(); std::string line = w.str();
class JsonWriter {
 public:
  // pretty = true indents nested containers by two spaces (for files people read).
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Inserts already-serialized JSON as one value.
  JsonWriter& Raw(std::string_view json);
  // Convenience: "key": value.
  template <typename T>
  JsonWriter& Field(std::string_view key, const T& v);
  JsonWriter& IntArray(const std::vector<int64_t>& v);
  JsonWriter& IntArray(const std::vector<int32_t>& v);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();
  void Newline();
  bool pretty_;
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

template <typename T>
JsonWriter& JsonWriter::Field(std::string_view key, const T& v) {
  Key(key);
  if constexpr (std::is_same_v<T, bool>) {
    return Bool(v);
  } else if constexpr (std::is_integral_v<T>) {
    return Int(static_cast<int64_t>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return Double(static_cast<double>(v));
  } else {
    return String(std::string_view(v));
  }
}

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_JSON_WRITER_H_
