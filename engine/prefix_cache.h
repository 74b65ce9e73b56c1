// PrefixCache: the KV rows (keys after RoPE, raw values, Doge dynamic-mask biases, every layer) of
// recently computed token prefixes, shared across requests and documents, so a request whose
// tokens start with a cached prefix only computes the rest. Keyed by token ids:
// a trie whose edges are blocks of kBlockTokens ids, one node per block holding that block's
// rows. An input reuses its longest cached prefix: whole blocks, then the leading rows of a
// cached block whose later ids differ (a row depends on the ids up to its own only).
//
// Exactness: a cached row is what one forward call over tokens [0, P + kBlockTokens) wrote for
// its position; the forward pass computes every row of a call from the rows before it only, in
// an order fixed by the shapes (kernel_set.h), so restoring rows [0, P) and running the rest as
// a second call gives bit-identical rows and hidden states (tests/engine/prefix_cache_test.cc).
// Callers must only Store rows whose RoPE base does not depend on the call's length (no dynamic
// NTK above max_position_embeddings) and whose positions start at 0 (no left truncation of a
// different input); DogeLanguageModel checks both.
//
// Memory: a byte budget over all nodes; least-recently-used eviction, leaves first (a touched
// path gets one tick, so a parent is never older than its children). Thread-safe: one mutex
// around lookups and inserts (the copies are a few MiB at most, far cheaper than the prefill).
#ifndef DOGE_ENGINE_PREFIX_CACHE_H_
#define DOGE_ENGINE_PREFIX_CACHE_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <tuple>
#include <vector>

#include "engine/kv_cache.h"

namespace doge {

// Counters since construction (or the last ResetStats); a caller diffs two snapshots.
struct PrefixCacheStats {
  int64_t tokens_scored = 0;   // input tokens of all forward calls (what runs without a cache)
  int64_t tokens_reused = 0;   // of those, restored from the cache instead of computed
  int64_t lookups = 0, hits = 0;
  int64_t evictions = 0;       // nodes (blocks) evicted for the budget
  int64_t bytes = 0;           // held now
  int64_t blocks = 0;          // nodes held now
};

class PrefixCache {
 public:
  // Tokens per trie node: small enough that a shared prefix loses at most 15 tokens to the block
  // boundary, large enough that the per-node bookkeeping is noise next to its rows.
  static constexpr int64_t kBlockTokens = 16;

  // Rows are [n_layers][kBlockTokens][2·kv_dim + n_bias_heads] floats per node.
  PrefixCache(int64_t n_layers, int64_t kv_dim, int64_t n_bias_heads, int64_t budget_bytes);
  ~PrefixCache();

  // Copies the rows of the longest cached prefix of tokens[0, max_tokens) into cache rows
  // [0, P) and sets cache->size() to P (whole blocks, then the leading rows of the cached block
  // that shares the most leading ids with the rest) (the cache must hold at least max_tokens
  // rows of capacity; its previous content is dropped). Returns P (0 on a miss). Counts
  // `n_input` (the call's full input length) as scored and P as reused.
  int64_t Restore(const int32_t* tokens, int64_t max_tokens, int64_t n_input, KvCache* cache);

  // Adds the whole blocks of tokens[0, n) that are not cached yet, copying their rows from
  // cache rows [0, n) (cache->size() >= n), evicting least-recently-used blocks to stay within
  // the budget (a block that does not fit is not added).
  void Store(const int32_t* tokens, int64_t n, KvCache* cache);

  // Tokens of the longest cached whole-block prefix of tokens[0, max_tokens), without copying,
  // counting or touching anything (batch planning).
  int64_t CachedPrefix(const int32_t* tokens, int64_t max_tokens) const;

  // Counts n input tokens computed without a lookup (inputs the cache cannot serve: past the
  // dynamic-NTK limit, left-truncated scoring inputs, decode steps), so tokens_scored is every
  // token the model processes.
  void CountUncached(int64_t n);

  PrefixCacheStats stats() const;
  int64_t budget_bytes() const { return budget_bytes_; }
  int64_t block_bytes() const { return block_floats_ * 4; }

 private:
  using BlockKey = std::array<int32_t, kBlockTokens>;
  struct Node {
    Node* parent = nullptr;
    BlockKey key{};
    int64_t depth = 0;                 // blocks from the root (1 = first block)
    uint64_t tick = 0;                 // last use
    std::vector<float> rows;           // [n_layers][kBlockTokens][2·kv_dim + n_bias_heads]
    std::map<BlockKey, std::unique_ptr<Node>> children;
  };
  // LRU order: oldest tick first, deepest first among equal ticks (leaves before their parents).
  using LruKey = std::tuple<uint64_t, int64_t, Node*>;
  static LruKey Lru(const Node* n) { return {n->tick, -n->depth, const_cast<Node*>(n)}; }

  void Touch(Node* n, uint64_t tick);
  // Evicts LRU nodes until `need` more bytes fit; never evicts a node with tick >= keep_tick.
  // Returns false if they cannot fit.
  bool MakeRoom(int64_t need, uint64_t keep_tick);
  // Copies the first n_rows rows of node n to cache rows from block_index · kBlockTokens.
  void CopyOut(const Node& n, int64_t block_index, int64_t n_rows, KvCache* cache) const;
  void CopyIn(Node* n, int64_t block_index, KvCache* cache) const;

  const int64_t n_layers_, kv_dim_, n_bias_heads_;
  const int64_t block_floats_;  // floats per node
  const int64_t budget_bytes_;
  mutable std::mutex mu_;
  Node root_;                   // key unused, rows empty
  std::set<LruKey> lru_;        // every node but the root
  uint64_t tick_ = 0;
  PrefixCacheStats stats_;
};

// The default budget: a quarter of physical memory, at most 1 GiB (what the prefixes of one MMLU
// subject need even for Doge-320M: ~600 tokens x 256 KiB per token is 150 MiB).
int64_t DefaultPrefixCacheBytes();

}  // namespace doge

#endif  // DOGE_ENGINE_PREFIX_CACHE_H_
