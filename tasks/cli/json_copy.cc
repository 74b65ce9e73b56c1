// See json_copy.h.
#include "tasks/cli/json_copy.h"

#include <string>

namespace doge::cli {

void CopyJson(JsonWriter& w, simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT:
      w.BeginObject();
      for (auto [k, v] : e.get_object()) {
        w.Key(k);
        CopyJson(w, v);
      }
      w.EndObject();
      break;
    case simdjson::dom::element_type::ARRAY:
      w.BeginArray();
      for (auto v : e.get_array()) CopyJson(w, v);
      w.EndArray();
      break;
    case simdjson::dom::element_type::STRING: w.String(e.get_string().value()); break;
    case simdjson::dom::element_type::INT64: w.Int(e.get_int64().value()); break;
    case simdjson::dom::element_type::UINT64: w.Raw(std::to_string(e.get_uint64().value())); break;
    case simdjson::dom::element_type::DOUBLE: w.Double(e.get_double().value()); break;
    case simdjson::dom::element_type::BOOL: w.Bool(e.get_bool().value()); break;
    case simdjson::dom::element_type::NULL_VALUE: w.Null(); break;
    default: w.Raw(simdjson::minify(e)); break;  // numbers simdjson keeps as text (big integers)
  }
}

}  // namespace doge::cli
