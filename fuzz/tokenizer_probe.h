// After a tokenizer loads, run it once: encode a few texts (special tokens, invalid UTF-8, long
// runs) and decode what came out plus ids at and past the edges, so tables that the loader
// accepted but that do not fit together are found too.
#ifndef DOGE_FUZZ_TOKENIZER_PROBE_H_
#define DOGE_FUZZ_TOKENIZER_PROBE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace doge::fuzz {

inline void ProbeTokenizer(const Tokenizer& tok) {
  static const char* const kTexts[] = {
      "Hello world! It's 2024.", "<|begin_of_text|>Question: 3+4=?\nAnswer:", "  \t\n\n",
      "\xff\xfe invalid \xc3", "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", ""};
  for (const char* text : kTexts) {
    for (bool special : {false, true}) {
      std::vector<int32_t> ids = tok.Encode(text, special);
      for (int32_t id : ids) {
        if (id < 0 || id >= tok.vocab_size()) __builtin_trap();  // Encode made an id it cannot have
      }
      (void)tok.Decode(ids, false, tok.clean_up_tokenization_spaces());
      (void)tok.Decode(ids, true, true);
    }
  }
  const int32_t n = tok.vocab_size();
  std::vector<int32_t> edges = {0, n - 1, n, n + 1, -1, tok.bos_id(), tok.eos_id()};
  (void)tok.Decode(edges, false, false);
  (void)tok.Decode(edges, true, true);
  for (int32_t id : edges) (void)tok.IdToPiece(id);
  (void)tok.eos_token();
}

}  // namespace doge::fuzz

#endif  // DOGE_FUZZ_TOKENIZER_PROBE_H_
