// Duplicate keys in JSON objects. RFC 8259 leaves `{"a": 1, "a": 2}` to the reader: simdjson
// keeps both and every lookup sees the first, Python's json keeps the last, so transformers and
// this harness would read two different files out of one. A key that occurs twice with different
// values is therefore an error naming the key's path (e.g. `added_tokens[3].content`); a key
// repeated with an identical value (a harmless copy-paste) is accepted. Every reader of a file a
// user might get from elsewhere calls CheckDuplicateKeys right after parsing.
#ifndef DOGE_ENGINE_BASE_JSON_DUPLICATE_KEYS_H_
#define DOGE_ENGINE_BASE_JSON_DUPLICATE_KEYS_H_

#include <simdjson.h>

#include <optional>
#include <string>

#include "engine/base/error.h"

namespace doge {

struct JsonDuplicateKey {
  std::string path;    // where the second occurrence is: "added_tokens[3].content", "vocab_size"
  std::string first;   // the first value, minified JSON, cut to about 60 characters
  std::string second;  // the second (differing) value, likewise
};

// The first key, in document order, that occurs twice in one object with values that differ
// (numbers compare by value, objects regardless of member order); nullopt when there is none.
// One walk over the parsed document: objects of up to 8 members compare their keys pairwise,
// larger ones (a tokenizer vocab) through an open-addressing set of their keys.
std::optional<JsonDuplicateKey> FindConflictingDuplicateKey(simdjson::dom::element root);

// "appears twice in one object with different values: 1, then 2 (which one is meant?)"
std::string DuplicateKeyMessage(const JsonDuplicateKey& d);

// Throws Error(kind, file, field_prefix + path, DuplicateKeyMessage(...)) when the document has a
// conflicting duplicate key. `field_prefix` places the path inside what the caller names, e.g.
// "header." for a safetensors header.
void CheckDuplicateKeys(simdjson::dom::element root, ErrorKind kind, const std::string& file,
                        const std::string& field_prefix = "");

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_JSON_DUPLICATE_KEYS_H_
