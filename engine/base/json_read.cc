#include "engine/base/json_read.h"

#include <cmath>
#include <sstream>

#include "engine/base/file_util.h"
#include "engine/base/json_duplicate_keys.h"
#include "engine/base/json_numbers.h"

namespace doge {

namespace {

using Element = simdjson::dom::element;
using simdjson::dom::element_type;

// Found() cuts a value to this many characters, so a message stays one line.
constexpr size_t kFoundValueChars = 60;

// Member `key` of the object `obj`, or nullopt.
std::optional<Element> Member(Element obj, std::string_view key) {
  Element child;
  if (obj.get_object().at_key(key).get(child) != simdjson::SUCCESS) return std::nullopt;
  return child;
}

}  // namespace

std::string JsonNode::FieldFor(const std::string& path) const {
  if (origin_->line > 0) {
    const std::string line = std::to_string(origin_->line);
    return path.empty() ? line : line + ": field \"" + path + "\"";
  }
  return path.empty() ? "(top level)" : path;
}

void JsonNode::Fail(const std::string& message) const {
  throw Error(origin_->kind, origin_->file, FieldFor(path_), message);
}

void JsonNode::FailAt(std::string_view key, const std::string& message) const {
  throw Error(origin_->kind, origin_->file, FieldFor(ChildPath(key)), message);
}

void JsonNode::WrongType(const char* expected) const {
  Fail(std::string("expected ") + expected + ", found " + Found());
}

std::string JsonNode::ChildPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool JsonNode::IsNull() const { return element_.is_null(); }
bool JsonNode::IsObject() const { return element_.is_object(); }
bool JsonNode::IsArray() const { return element_.is_array(); }
bool JsonNode::IsString() const { return element_.is_string(); }
bool JsonNode::IsNumber() const { return element_.is_number(); }
bool JsonNode::IsBool() const { return element_.is_bool(); }

std::string JsonNode::TypeName() const {
  switch (element_.type()) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::STRING: {
      // engine/base/json_numbers.h hands a number beyond double range on as such a string.
      const std::string_view s(element_);
      if (s.rfind(kOutOfRangeNumberPrefix, 0) == 0) {
        return "a number beyond double range (" +
               std::string(s.substr(kOutOfRangeNumberPrefix.size())) + ")";
      }
      return "string";
    }
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "number";
    case element_type::BOOL: return "bool";
    case element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

std::string JsonNode::Found() const {
  const std::string type = TypeName();
  const element_type t = element_.type();
  const bool scalar = t == element_type::STRING || t == element_type::INT64 ||
                      t == element_type::UINT64 || t == element_type::DOUBLE ||
                      t == element_type::BOOL;
  // A number beyond double range already names its literal.
  if (!scalar || type.rfind("a number", 0) == 0) return type;
  std::string value = simdjson::to_string(element_);
  if (value.size() > kFoundValueChars) value = value.substr(0, kFoundValueChars) + "...";
  return type + " " + value;
}

JsonNode JsonNode::Get(std::string_view key) const {
  std::optional<JsonNode> n = Find(key);
  if (!n) FailAt(key, "missing");
  return *n;
}

std::optional<JsonNode> JsonNode::Find(std::string_view key) const {
  if (!IsObject()) WrongType("an object");
  std::optional<Element> child = Member(element_, key);
  if (!child) return std::nullopt;
  return JsonNode(origin_, *child, ChildPath(key));
}

std::optional<JsonNode> JsonNode::FindValue(std::string_view key) const {
  std::optional<JsonNode> n = Find(key);
  if (n && n->IsNull()) return std::nullopt;
  return n;
}

bool JsonNode::Has(std::string_view key) const { return Find(key).has_value(); }

std::vector<JsonNode> JsonNode::Items() const {
  if (!IsArray()) WrongType("an array");
  std::vector<JsonNode> out;
  size_t i = 0;
  for (Element e : element_.get_array()) {
    out.emplace_back(origin_, e, path_ + "[" + std::to_string(i++) + "]");
  }
  return out;
}

std::vector<std::pair<std::string, JsonNode>> JsonNode::Members() const {
  if (!IsObject()) WrongType("an object");
  std::vector<std::pair<std::string, JsonNode>> out;
  for (simdjson::dom::key_value_pair kv : element_.get_object()) {
    std::string key(kv.key);
    out.emplace_back(key, JsonNode(origin_, kv.value, ChildPath(key)));
  }
  return out;
}

size_t JsonNode::Size() const {
  if (!IsArray()) WrongType("an array");
  return element_.get_array().size();
}

std::string JsonNode::String() const { return std::string(StringView()); }

std::string_view JsonNode::StringView() const {
  std::string_view s;
  if (element_.get_string().get(s) != simdjson::SUCCESS) WrongType("a string");
  return s;
}

double JsonNode::Number() const {
  double v = 0;
  if (element_.get_double().get(v) != simdjson::SUCCESS) WrongType("a number");
  return v;
}

int64_t JsonNode::Int() const {
  int64_t v = 0;
  if (element_.get_int64().get(v) != simdjson::SUCCESS) WrongType("an integer");
  return v;
}

int64_t JsonNode::WholeNumber() const {
  int64_t v = 0;
  if (element_.get_int64().get(v) == simdjson::SUCCESS) return v;
  double d = 0;
  if (element_.get_double().get(d) == simdjson::SUCCESS && std::floor(d) == d &&
      std::fabs(d) < 9e15) {
    return static_cast<int64_t>(d);
  }
  WrongType("an integer");
}

bool JsonNode::Bool() const {
  bool v = false;
  if (element_.get_bool().get(v) != simdjson::SUCCESS) WrongType("true/false");
  return v;
}

std::vector<std::string> JsonNode::StringArray() const {
  if (!IsArray()) WrongType("an array of strings");
  std::vector<std::string> out;
  for (const JsonNode& item : Items()) out.push_back(item.String());
  return out;
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

JsonNode JsonNode::GetObject(std::string_view key) const {
  JsonNode n = Get(key);
  if (!n.IsObject()) n.WrongType("an object");
  return n;
}

std::vector<JsonNode> JsonNode::GetObjectArray(std::string_view key) const {
  JsonNode n = Get(key);
  if (!n.IsArray()) n.WrongType("an array of objects");
  std::vector<JsonNode> items = n.Items();
  for (const JsonNode& item : items) {
    if (!item.IsObject()) item.WrongType("an object");
  }
  return items;
}

std::unique_ptr<JsonDocument> ParseJsonText(const std::string& label, std::string_view text,
                                            ErrorKind kind, const std::string& invalid_prefix) {
  auto doc = std::make_unique<JsonDocument>();
  doc->origin = JsonOrigin{label, kind, 0};
  simdjson::error_code err = ParseJsonTolerant(doc->parser, text, &doc->root_element);
  if (err != simdjson::SUCCESS) {
    throw Error(kind, label, "", invalid_prefix + ": " + simdjson::error_message(err));
  }
  CheckDuplicateKeys(doc->root_element, kind, label);
  return doc;
}

std::unique_ptr<JsonDocument> LoadJsonFile(const std::string& path, ErrorKind kind,
                                           const std::string& invalid_prefix) {
  return ParseJsonText(path, ReadFileToString(path), kind, invalid_prefix);
}

JsonNode ParseJsonlRow(simdjson::dom::parser& parser, std::string_view line,
                       const JsonOrigin* origin) {
  const std::string where = std::to_string(origin->line);
  Element root;
  if (auto err = ParseJsonTolerant(parser, line, &root)) {
    throw Error(origin->kind, origin->file, where,
                std::string("invalid JSON (truncated or malformed line): ") +
                    simdjson::error_message(err));
  }
  const JsonNode row(origin, root, "");
  if (!row.IsObject()) row.Fail("expected a JSON object, found " + row.TypeName());
  if (auto d = FindConflictingDuplicateKey(root)) {
    throw Error(origin->kind, origin->file, row.FieldFor(d->path), DuplicateKeyMessage(*d));
  }
  return row;
}

}  // namespace doge
