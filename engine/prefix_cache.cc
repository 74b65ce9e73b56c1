// PrefixCache: a token-block trie of KV rows with LRU eviction under a byte budget.
#include "engine/prefix_cache.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "engine/base/error.h"

namespace doge {

PrefixCache::PrefixCache(int64_t n_layers, int64_t kv_dim, int64_t n_bias_heads,
                         int64_t budget_bytes)
    : n_layers_(n_layers),
      kv_dim_(kv_dim),
      n_bias_heads_(n_bias_heads),
      block_floats_(n_layers * kBlockTokens * (2 * kv_dim + n_bias_heads)),
      budget_bytes_(std::max<int64_t>(0, budget_bytes)) {}

PrefixCache::~PrefixCache() = default;

void PrefixCache::Touch(Node* n, uint64_t tick) {
  lru_.erase(Lru(n));
  n->tick = tick;
  lru_.insert(Lru(n));
}

// Node rows, per layer: keys [kBlockTokens, kv_dim], values [kBlockTokens, kv_dim], bias
// [kBlockTokens, n_bias_heads], so each copy is three memcpy per layer.
void PrefixCache::CopyOut(const Node& n, int64_t block_index, int64_t n_rows,
                          KvCache* cache) const {
  const int64_t p0 = block_index * kBlockTokens;
  const float* src = n.rows.data();
  for (int64_t l = 0; l < n_layers_; ++l) {
    const int64_t kv = kBlockTokens * kv_dim_, nb = kBlockTokens * n_bias_heads_;
    std::memcpy(cache->keys(l) + p0 * kv_dim_, src, n_rows * kv_dim_ * sizeof(float));
    src += kv;
    std::memcpy(cache->values(l) + p0 * kv_dim_, src, n_rows * kv_dim_ * sizeof(float));
    src += kv;
    std::memcpy(cache->bias(l) + p0 * n_bias_heads_, src, n_rows * n_bias_heads_ * sizeof(float));
    src += nb;
  }
}

void PrefixCache::CopyIn(Node* n, int64_t block_index, KvCache* cache) const {
  const int64_t p0 = block_index * kBlockTokens;
  n->rows.resize(static_cast<size_t>(block_floats_));
  float* dst = n->rows.data();
  for (int64_t l = 0; l < n_layers_; ++l) {
    const int64_t kv = kBlockTokens * kv_dim_, nb = kBlockTokens * n_bias_heads_;
    std::memcpy(dst, cache->keys(l) + p0 * kv_dim_, kv * sizeof(float));
    dst += kv;
    std::memcpy(dst, cache->values(l) + p0 * kv_dim_, kv * sizeof(float));
    dst += kv;
    std::memcpy(dst, cache->bias(l) + p0 * n_bias_heads_, nb * sizeof(float));
    dst += nb;
  }
}

int64_t PrefixCache::Restore(const int32_t* tokens, int64_t max_tokens, int64_t n_input,
                             KvCache* cache) {
  DOGE_CHECK(max_tokens <= cache->capacity());
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.lookups;
  stats_.tokens_scored += n_input;
  cache->Clear();
  if (budget_bytes_ == 0) return 0;
  const uint64_t tick = ++tick_;
  Node* node = &root_;
  int64_t b = 0;
  BlockKey key;
  for (; (b + 1) * kBlockTokens <= max_tokens; ++b) {
    std::memcpy(key.data(), tokens + b * kBlockTokens, sizeof(key));
    auto it = node->children.find(key);
    if (it == node->children.end()) break;
    node = it->second.get();
    Touch(node, tick);
    CopyOut(*node, b, kBlockTokens, cache);
  }
  // The first rows of a block whose later ids differ are valid too (a row depends on the ids up
  // to its own only): the child sharing the longest run of leading ids with the rest of the input
  // sits next to its lower_bound in the key order.
  int64_t partial = 0;
  const int64_t rest = std::min(kBlockTokens, max_tokens - b * kBlockTokens);
  if (rest > 0 && !node->children.empty()) {
    key.fill(-1);
    std::memcpy(key.data(), tokens + b * kBlockTokens, rest * sizeof(int32_t));
    auto common = [&](const BlockKey& k) {
      int64_t i = 0;
      while (i < rest && k[i] == key[i]) ++i;
      return i;
    };
    auto it = node->children.lower_bound(key);
    Node* best = nullptr;
    if (it != node->children.end() && common(it->first) > partial) {
      partial = common(it->first);
      best = it->second.get();
    }
    if (it != node->children.begin() && common(std::prev(it)->first) > partial) {
      partial = common(std::prev(it)->first);
      best = std::prev(it)->second.get();
    }
    if (best != nullptr) {
      Touch(best, tick);
      CopyOut(*best, b, partial, cache);
    }
  }
  const int64_t P = b * kBlockTokens + partial;
  cache->set_size(P);
  stats_.tokens_reused += P;
  stats_.hits += P > 0;
  return P;
}

int64_t PrefixCache::CachedPrefix(const int32_t* tokens, int64_t max_tokens) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Node* node = &root_;
  int64_t b = 0;
  BlockKey key;
  for (; (b + 1) * kBlockTokens <= max_tokens; ++b) {
    std::memcpy(key.data(), tokens + b * kBlockTokens, sizeof(key));
    auto it = node->children.find(key);
    if (it == node->children.end()) break;
    node = it->second.get();
  }
  return b * kBlockTokens;
}

bool PrefixCache::MakeRoom(int64_t need, uint64_t keep_tick) {
  while (stats_.bytes + need > budget_bytes_) {
    if (lru_.empty()) return false;
    Node* victim = std::get<2>(*lru_.begin());
    if (victim->tick >= keep_tick) return false;  // only the path being stored is left
    DOGE_CHECK(victim->children.empty());         // LRU order puts leaves first
    lru_.erase(lru_.begin());
    stats_.bytes -= block_floats_ * 4;
    --stats_.blocks;
    ++stats_.evictions;
    victim->parent->children.erase(victim->key);  // frees the node
  }
  return true;
}

void PrefixCache::Store(const int32_t* tokens, int64_t n, KvCache* cache) {
  DOGE_CHECK(n <= cache->size());
  if (budget_bytes_ == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t tick = ++tick_;
  Node* node = &root_;
  BlockKey key;
  for (int64_t b = 0; (b + 1) * kBlockTokens <= n; ++b) {
    std::memcpy(key.data(), tokens + b * kBlockTokens, sizeof(key));
    auto it = node->children.find(key);
    if (it != node->children.end()) {
      node = it->second.get();
      Touch(node, tick);
      continue;
    }
    if (!MakeRoom(block_floats_ * 4, tick)) return;
    auto child = std::make_unique<Node>();
    child->parent = node;
    child->key = key;
    child->depth = b + 1;
    CopyIn(child.get(), b, cache);
    Node* raw = child.get();
    node->children.emplace(key, std::move(child));
    raw->tick = tick;
    lru_.insert(Lru(raw));
    stats_.bytes += block_floats_ * 4;
    ++stats_.blocks;
    node = raw;
  }
}

void PrefixCache::CountUncached(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.tokens_scored += n;
}

PrefixCacheStats PrefixCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

int64_t DefaultPrefixCacheBytes() {
  const int64_t gib = int64_t{1} << 30;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return gib / 4;
  return std::min<int64_t>(gib, static_cast<int64_t>(pages) * page / 4);
}

}  // namespace doge
