#include "reports/src/json_read.h"

#include <cmath>
#include <sstream>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_duplicate_keys.h"
#include "engine/base/json_numbers.h"

namespace doge::reports {

namespace {

std::string ChildPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

}  // namespace

void JsonNode::Fail(const std::string& message) const {
  throw Error(ErrorKind::kFormat, *file_, path_.empty() ? "(top level)" : path_, message);
}

bool JsonNode::IsNull() const { return element_.is_null(); }
bool JsonNode::IsObject() const { return element_.is_object(); }
bool JsonNode::IsArray() const { return element_.is_array(); }
bool JsonNode::IsString() const { return element_.is_string(); }
bool JsonNode::IsNumber() const { return element_.is_number(); }

std::string JsonNode::TypeName() const {
  switch (element_.type()) {
    case simdjson::dom::element_type::ARRAY: return "array";
    case simdjson::dom::element_type::OBJECT: return "object";
    case simdjson::dom::element_type::STRING: {
      // engine/base/json_numbers.h hands a number beyond double range on as such a string.
      const std::string_view s(element_);
      if (s.rfind(kOutOfRangeNumberPrefix, 0) == 0) {
        return "a number beyond double range (" + std::string(s.substr(kOutOfRangeNumberPrefix.size())) + ")";
      }
      return "string";
    }
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return "number";
    case simdjson::dom::element_type::BOOL: return "bool";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

JsonNode JsonNode::Get(const std::string& key) const {
  std::optional<JsonNode> n = Find(key);
  if (!n) Fail("missing field '" + key + "'");
  return *n;
}

std::optional<JsonNode> JsonNode::Find(const std::string& key) const {
  if (!IsObject()) Fail("expected an object, found " + TypeName());
  simdjson::dom::element child;
  if (element_.get_object().at_key(key).get(child) != simdjson::SUCCESS) return std::nullopt;
  return JsonNode(file_, child, ChildPath(path_, key));
}

std::vector<JsonNode> JsonNode::Items() const {
  if (!IsArray()) Fail("expected an array, found " + TypeName());
  std::vector<JsonNode> out;
  size_t i = 0;
  for (simdjson::dom::element e : element_.get_array()) {
    out.emplace_back(file_, e, path_ + "[" + std::to_string(i++) + "]");
  }
  return out;
}

std::vector<std::pair<std::string, JsonNode>> JsonNode::Members() const {
  if (!IsObject()) Fail("expected an object, found " + TypeName());
  std::vector<std::pair<std::string, JsonNode>> out;
  for (simdjson::dom::key_value_pair kv : element_.get_object()) {
    std::string key(kv.key);
    out.emplace_back(key, JsonNode(file_, kv.value, ChildPath(path_, key)));
  }
  return out;
}

std::string JsonNode::String() const {
  if (!IsString()) Fail("expected a string, found " + TypeName());
  return std::string(element_.get_string().value());
}

double JsonNode::Number() const {
  double v = 0;
  if (element_.get_double().get(v) != simdjson::SUCCESS) {
    Fail("expected a number, found " + TypeName());
  }
  return v;
}

double JsonNode::NumberIn(double lo, double hi, const std::string& what) const {
  const double v = Number();
  if (!(std::isfinite(v) && v >= lo && v <= hi)) {
    std::ostringstream range;
    range << "expected " << what << " in [" << lo << ", " << hi << "], found " << v;
    Fail(range.str());
  }
  return v;
}

int64_t JsonNode::IntIn(int64_t lo, int64_t hi, const std::string& what) const {
  const int64_t v = Int();
  if (v < lo || v > hi) {
    Fail("expected " + what + " in [" + std::to_string(lo) + ", " + std::to_string(hi) +
         "], found " + std::to_string(v));
  }
  return v;
}

int64_t JsonNode::Int() const {
  int64_t v = 0;
  if (element_.get_int64().get(v) != simdjson::SUCCESS) {
    Fail("expected an integer, found " + (IsNumber() ? std::string("a fractional number")
                                                      : TypeName()));
  }
  return v;
}

bool JsonNode::Bool() const {
  bool v = false;
  if (element_.get_bool().get(v) != simdjson::SUCCESS) {
    Fail("expected true/false, found " + TypeName());
  }
  return v;
}

std::unique_ptr<JsonDocument> ParseJsonText(const std::string& label, const std::string& text) {
  auto doc = std::make_unique<JsonDocument>();
  doc->file = label;
  doc->text = simdjson::padded_string(text);
  simdjson::error_code err = ParseJsonTolerant(doc->parser, text, &doc->root_element);
  if (err != simdjson::SUCCESS) {
    throw Error(ErrorKind::kFormat, label, "", std::string("not valid JSON: ") +
                                                   simdjson::error_message(err));
  }
  CheckDuplicateKeys(doc->root_element, ErrorKind::kFormat, label);
  return doc;
}

std::unique_ptr<JsonDocument> LoadJsonFile(const std::string& path) {
  return ParseJsonText(path, ReadFileToString(path));
}

void CheckSchema(const JsonNode& schema_node, const std::string& expected) {
  if (!schema_node.IsString()) {
    schema_node.Fail("expected the schema string '" + expected + "', found " +
                     schema_node.TypeName());
  }
  std::string found = schema_node.String();
  if (found == expected) return;
  // Same kind, other version: the file is newer (or older) than this build understands.
  std::string kind = expected.substr(0, expected.rfind('/'));
  if (found.rfind(kind + "/", 0) == 0) {
    schema_node.Fail("unsupported schema version '" + found + "'; this build reads '" + expected +
                     "'");
  }
  schema_node.Fail("expected a '" + expected + "' file, found schema '" + found + "'");
}

MachineFingerprint ParseFingerprint(const JsonNode& node) {
  MachineFingerprint f;
  f.cpu_model = node.GetString("cpu_model");
  f.n_cores = static_cast<int32_t>(node.GetInt("n_cores"));
  for (const JsonNode& s : node.Get("isa").Items()) f.isa.push_back(s.String());
  for (const JsonNode& s : node.Get("isa_compiled").Items()) f.isa_compiled.push_back(s.String());
  if (auto k = node.Find("kernel_isa")) f.kernel_isa = k->String();  // absent before it existed
  f.memory_bytes = node.GetInt("memory_bytes");
  f.compiler = node.GetString("compiler");
  f.build_type = node.GetString("build_type");
  f.flags = node.GetString("flags");
  f.git_revision = node.GetString("git_revision");
  f.hostname = node.GetString("hostname");
  f.os = node.GetString("os");
  return f;
}

}  // namespace doge::reports
