// KvCache: per-layer flat key/value/mask-bias buffers for one sequence, preallocated for a maximum
// length so decoding never allocates. Keys are stored after q/k-norm and RoPE (each key keeps the
// RoPE base of the call that produced it, as the reference does); values raw; the dynamic-mask
// bias exp(A·softplus(dt_proj(v))) per (layer, position, bias head) is computed once per key.
#ifndef DOGE_ENGINE_KV_CACHE_H_
#define DOGE_ENGINE_KV_CACHE_H_

#include <cstdint>
#include <vector>

namespace doge {

class KvCache {
 public:
  KvCache() = default;
  KvCache(int64_t n_layers, int64_t kv_dim, int64_t n_bias_heads, int64_t capacity) {
    Reset(n_layers, kv_dim, n_bias_heads, capacity);
  }
  // (Re)allocates for `capacity` positions and empties the cache; keeps the buffers when they are
  // already large enough (so a reused cache costs no allocation).
  void Reset(int64_t n_layers, int64_t kv_dim, int64_t n_bias_heads, int64_t capacity);

  int64_t size() const { return size_; }          // positions held
  int64_t capacity() const { return capacity_; }  // positions preallocated
  // Drops positions >= n (roll back after scoring a continuation).
  void Truncate(int64_t n) { size_ = n < size_ ? n : size_; }
  void Clear() { size_ = 0; }
  void set_size(int64_t n) { size_ = n; }  // used by the forward pass after appending

  float* keys(int64_t layer) { return keys_.data() + layer * capacity_ * kv_dim_; }      // [cap, kv_dim]
  float* values(int64_t layer) { return values_.data() + layer * capacity_ * kv_dim_; }  // [cap, kv_dim]
  float* bias(int64_t layer) { return bias_.data() + layer * capacity_ * n_bias_heads_; } // [cap, n_bias_heads]
  int64_t bytes_per_token() const { return n_layers_ * (2 * kv_dim_ + n_bias_heads_) * 4; }

 private:
  int64_t n_layers_ = 0, kv_dim_ = 0, n_bias_heads_ = 0;
  int64_t capacity_ = 0;
  int64_t size_ = 0;
  std::vector<float> keys_;    // [n_layers, capacity, kv_dim]
  std::vector<float> values_;  // [n_layers, capacity, kv_dim]
  std::vector<float> bias_;    // [n_layers, capacity, n_bias_heads]
};

}  // namespace doge

#endif  // DOGE_ENGINE_KV_CACHE_H_
