// GPT-2's byte <-> unicode alphabet used by the ByteLevel pre-tokenizer and decoder. UTF-8
// itself (validation, lossy repair, decoding) is engine/base/utf8.h, included here for the
// tokenizers.
#ifndef DOGE_ENGINE_TOKENIZER_UNICODE_UTIL_H_
#define DOGE_ENGINE_TOKENIZER_UNICODE_UTIL_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/utf8.h"

namespace doge {

// GPT-2's bytes_to_unicode(): the 188 printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC,
// U+00AE..U+00FF) map to themselves, the other 68 bytes to U+0100.. in byte order. So 'Ġ'
// (U+0120) is the space byte and 'Ċ' (U+010A) is '\n'.
const std::array<uint32_t, 256>& ByteLevelAlphabet();

// Raw bytes -> byte-level string ("a b" -> "aĠb").
std::string BytesToByteLevel(std::string_view bytes);

// Byte-level string -> raw bytes. Returns false (out unspecified) when `s` is not valid UTF-8
// or holds a character outside the 256-character alphabet.
bool ByteLevelToBytes(std::string_view s, std::string* out);

}  // namespace doge

#endif  // DOGE_ENGINE_TOKENIZER_UNICODE_UTIL_H_
