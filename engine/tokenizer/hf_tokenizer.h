// HfTokenizer: the Hugging Face `tokenizer.json` backend, byte-level BPE as the Rust `tokenizers`
// library runs it (the Doge, Llama-3 and GPT-2 pipelines). Supported pieces, everything else is
// rejected at load with a doge::Error naming the JSON path:
//   added_tokens (lstrip / rstrip / single_word / normalized / special), normalizer null,
//   pre_tokenizer Split(Regex|String, Isolated|Removed) and ByteLevel(use_regex, no prefix space)
//   in a Sequence, model BPE (merges as "a b" or [a, b], ignore_merges, no dropout / byte
//   fallback / subword affixes), post_processor ByteLevel / TemplateProcessing, decoder ByteLevel.
//
// Thread safety: every const method may be called from many threads at once. Caching is two
// levels: a per-thread, lock-free table of short pre-tokens (512 KiB per thread that encodes),
// then a shared pre-token -> ids cache, sharded and guarded by shared_mutexes. PCRE2 match data
// and scratch buffers are per thread. SetCacheEnabled is not thread-safe (call it before use).
#ifndef DOGE_ENGINE_TOKENIZER_HF_TOKENIZER_H_
#define DOGE_ENGINE_TOKENIZER_HF_TOKENIZER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/tokenizer/flat_string_map.h"
#include "engine/tokenizer/pcre2_regex.h"
#include "engine/tokenizer/tokenizer.h"

namespace doge {

class HfTokenizer : public Tokenizer {
 public:
  // `json_path`: the tokenizer.json. `config_path`: tokenizer_config.json (may not exist; gives
  // clean_up_tokenization_spaces and the bos / eos token names). Throws doge::Error.
  HfTokenizer(const std::string& json_path, const std::string& config_path);
  ~HfTokenizer() override;

  std::vector<int32_t> Encode(std::string_view text, bool add_special_tokens) const override;
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens,
                     bool clean_up) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(id_to_token_.size()); }
  int32_t bos_id() const override { return bos_id_; }
  int32_t eos_id() const override { return eos_id_; }
  std::string eos_token() const override { return eos_token_; }
  bool clean_up_tokenization_spaces() const override { return clean_up_; }
  std::string backend_name() const override { return "tokenizer.json (byte-level BPE)"; }
  const std::string& path() const override { return path_; }

  // --- Introspection for tests and benchmarks -------------------------------------------------
  // The pieces the BPE model sees, in the byte-level alphabet; added tokens appear as their
  // content (the `pretokens` field of the goldens).
  std::vector<std::string> PreTokens(std::string_view text) const;
  // Token string of `id` as stored in tokenizer.json ("" when the id has none).
  const std::string& IdToToken(int32_t id) const;
  std::string IdToPiece(int32_t id) const override { return IdToToken(id); }
  // Turns both pre-token caches on or off (on by default) and empties them. Not thread-safe.
  void SetCacheEnabled(bool enabled);
  size_t CacheSize() const;

 private:
  static constexpr int kCacheShards = 16;
  static constexpr size_t kCacheShardCapacity = 8192;  // entries per shard: 131k pre-tokens
  static constexpr size_t kMaxCachedPieceBytes = 4096;  // long runs (1,000 spaces) too
  struct AddedToken {
    int32_t id;
    std::string content;
    bool single_word, lstrip, rstrip, normalized, special;
  };
  // Leftmost-longest matcher over a set of added tokens (one aho-corasick set in the Rust code).
  struct AddedMatcher {
    std::array<std::vector<int>, 256> by_first_byte;  // indices into added_, longest first
    std::array<bool, 256> is_first_byte{};            // by_first_byte[b] non-empty
    int only_first_byte = -1;  // the one first byte when all tokens share it (Doge: '<'): memchr
    bool empty = true;
  };
  enum class SplitBehavior { kIsolated, kRemoved };
  struct PreTokenizerStep {
    std::unique_ptr<Pcre2Regex> regex;
    SplitBehavior behavior;
  };
  struct Segment {
    std::string_view text;
    int32_t added_id;  // -1: ordinary text still to be pre-tokenized
  };
  struct CacheRef {
    uint32_t offset, length;  // into CacheShard::ids
  };
  struct CacheShard {
    mutable std::shared_mutex mu;
    FlatStringMap<CacheRef> map{kCacheShardCapacity};
    std::vector<int32_t> ids;  // the cached id sequences, back to back
  };

  struct Loader;  // the sections of Load (hf_tokenizer.cc)
  void Load(const std::string& json_text);
  void LoadConfig(const std::string& config_path);
  // Appends `segments` of `text` split on the tokens of `matcher` (AddedVocabulary::find_matches).
  void SplitOnAdded(std::string_view text, const AddedMatcher& matcher,
                    std::vector<Segment>* segments) const;
  // Added tokens first (non-normalized set, then normalized set), as the Rust library does.
  void SplitAllAdded(std::string_view text, std::vector<Segment>* out) const;
  // Runs the pre-tokenizer steps over one segment; appends the pieces (views into `text`).
  void PreTokenize(std::string_view text, std::vector<std::string_view>* pieces) const;
  // BPE of one pre-token given as raw bytes (hash = HashBytes(piece)); appends ids.
  void EncodePiece(std::string_view piece, uint64_t hash, std::vector<int32_t>* ids) const;
  void PrefetchPiece(std::string_view piece, uint64_t hash) const;
  // EncodePiece below the per-thread cache: vocab (ignore_merges), shared cache, merges.
  void EncodePieceShared(std::string_view piece, uint64_t hash, std::vector<int32_t>* ids) const;
  void MergePiece(std::string_view piece, std::vector<int32_t>* ids) const;

  std::string path_;

  // Vocabulary, indexed by id. id_to_bytes_ is what the ByteLevel decoder emits for the id: the
  // token mapped back through the byte alphabet, or its raw UTF-8 when it holds characters
  // outside the alphabet (the Rust decoder's fallback).
  std::vector<std::string> id_to_token_;  // [vocab_size]
  std::vector<std::string> id_to_bytes_;  // [vocab_size]
  std::vector<uint8_t> id_valid_;         // [vocab_size] 1 when some token has this id
  std::vector<uint8_t> id_special_;       // [vocab_size] 1 for special added tokens
  // Raw-byte form of every vocab token that is expressible in the byte alphabet -> id (for
  // ignore_merges and the initial byte symbols).
  FlatStringMap<int32_t> bytes_to_id_;
  std::array<int32_t, 256> byte_id_;  // id of each single-byte token, -1 if absent
  // (left id << 32 | right id) -> (rank, merged id).
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;
  bool ignore_merges_ = false;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;

  std::vector<AddedToken> added_;
  AddedMatcher non_normalized_matcher_;
  AddedMatcher normalized_matcher_;

  std::vector<PreTokenizerStep> pre_tokenizer_;
  bool decoder_byte_level_ = false;
  std::vector<int32_t> template_prefix_;  // TemplateProcessing ids before $A
  std::vector<int32_t> template_suffix_;  // ... and after

  bool clean_up_ = false;
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  std::string eos_token_;

  // Pre-token (raw bytes) -> ids, sharded by hash. Pieces longer than kMaxCachedPieceBytes are
  // not cached; each shard stops accepting entries once full (no eviction, like the Rust cache).
  std::unique_ptr<std::array<CacheShard, kCacheShards>> cache_;
  std::atomic<bool> cache_enabled_{true};
  // Tag of this instance's entries in the per-thread first-level cache (see hf_tokenizer.cc).
  // Changed only by SetCacheEnabled, which must not run concurrently with Encode.
  uint32_t instance_;
};

// transformers' clean_up_tokenization: " ." -> ".", " ?", " !", " ,", " ' " -> "'", " n't",
// " 'm", " 's", " 've", " 're", applied one after another as Python's str.replace chain.
std::string CleanUpTokenization(std::string text);

}  // namespace doge

#endif  // DOGE_ENGINE_TOKENIZER_HF_TOKENIZER_H_
