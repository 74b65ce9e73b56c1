// KvCache buffer management.
#include "engine/kv_cache.h"

#include <cstddef>

namespace doge {

void KvCache::Reset(int64_t n_layers, int64_t kv_dim, int64_t n_bias_heads, int64_t capacity) {
  const bool same_geometry =
      n_layers == n_layers_ && kv_dim == kv_dim_ && n_bias_heads == n_bias_heads_;
  if (!same_geometry || capacity > capacity_) {
    n_layers_ = n_layers;
    kv_dim_ = kv_dim;
    n_bias_heads_ = n_bias_heads;
    capacity_ = capacity;
    keys_.assign(static_cast<std::size_t>(n_layers * capacity * kv_dim), 0.0f);
    values_.assign(static_cast<std::size_t>(n_layers * capacity * kv_dim), 0.0f);
    bias_.assign(static_cast<std::size_t>(n_layers * capacity * n_bias_heads), 0.0f);
  }
  size_ = 0;
}

}  // namespace doge
