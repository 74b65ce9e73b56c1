// JSON as it occurs in the wild: simdjson 3.0 refuses a whole document when one number literal
// does not fit its types (an integer beyond 64 bits, a value beyond double range). transformers
// writes such files: tokenizer_config.json "model_max_length": 1000000000000000019884624838656
// (int(1e30)) for every tokenizer without a limit. ParseJsonTolerant accepts them: where the strict
// parse fails on a number, it parses a copy in which each unrepresentable literal is replaced,
// an integer beyond 64 bits by the same digits as a double (appending ".0"), a value beyond
// double range by a JSON string naming the literal (kOutOfRangeNumberPrefix). A field nobody reads is thereby accepted;
// a field the caller reads as an integer or a number fails there, with the caller's usual type
// error naming the field.
#ifndef DOGE_ENGINE_BASE_JSON_NUMBERS_H_
#define DOGE_ENGINE_BASE_JSON_NUMBERS_H_

#include <simdjson.h>

#include <string>
#include <string_view>

namespace doge {

// What a value beyond double range becomes: the JSON string kOutOfRangeNumberPrefix + literal, so
// a reader that expected a number can say what it found (JsonNode::TypeName does).
inline constexpr std::string_view kOutOfRangeNumberPrefix = "number beyond double range: ";

// The rewritten text, or an empty string when `json` has no unrepresentable number (then there
// is nothing to retry). Strings, including escaped quotes, are left untouched.
std::string RewriteUnrepresentableNumbers(std::string_view json);

// parser.parse(text), retried once on the rewritten text when the first error is a number
// error. The parser owns the returned element's memory, as with parse().
simdjson::error_code ParseJsonTolerant(simdjson::dom::parser& parser, std::string_view text,
                                       simdjson::dom::element* root);

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_JSON_NUMBERS_H_
