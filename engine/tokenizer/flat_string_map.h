// FlatStringMap: an open-addressing hash table from byte strings to a small payload, with keys
// stored in one arena. It replaces std::unordered_map<std::string, ...> on the tokenizer's hot
// path (one vocabulary probe and one cache probe per pre-token): no node allocations, one
// cache line per probe, lookups by string_view without building a std::string.
//
// Not thread-safe by itself; HfTokenizer guards the mutable instances with shared_mutexes.
#ifndef DOGE_ENGINE_TOKENIZER_FLAT_STRING_MAP_H_
#define DOGE_ENGINE_TOKENIZER_FLAT_STRING_MAP_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace doge {

// 64-bit hash of a short byte string (FNV-1a over 8-byte words, then a murmur-style finaliser).
inline uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h;
}

template <typename Value>
class FlatStringMap {
 public:
  // `max_entries`: Insert refuses new keys beyond it (the table never rehashes, so lookups may
  // run concurrently with nothing but other lookups).
  explicit FlatStringMap(size_t max_entries = 0) { Reset(max_entries); }

  void Reset(size_t max_entries) {
    max_entries_ = max_entries;
    size_t cap = 16;
    while (cap < max_entries * 2) cap <<= 1;  // load factor <= 0.5
    slots_.assign(cap, Slot{});
    keys_.clear();
    size_ = 0;
  }

  // nullptr when absent.
  const Value* Find(std::string_view key) const { return Find(key, HashBytes(key)); }
  const Value* Find(std::string_view key, uint64_t hash) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key_len == kEmpty) return nullptr;
      if (s.hash == hash && s.key_len == key.size() &&
          std::memcmp(keys_.data() + s.key_off, key.data(), key.size()) == 0) {
        return &s.value;
      }
    }
  }

  // Inserts (or overwrites) `key`. Returns false when the table is full and `key` is new.
  bool Insert(std::string_view key, const Value& value) { return Insert(key, HashBytes(key), value); }
  bool Insert(std::string_view key, uint64_t hash, const Value& value) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.key_len == kEmpty) {
        if (size_ >= max_entries_) return false;
        s.hash = hash;
        s.key_off = static_cast<uint32_t>(keys_.size());
        s.key_len = static_cast<uint32_t>(key.size());
        s.value = value;
        keys_.append(key);
        ++size_;
        return true;
      }
      if (s.hash == hash && s.key_len == key.size() &&
          std::memcmp(keys_.data() + s.key_off, key.data(), key.size()) == 0) {
        s.value = value;
        return true;
      }
    }
  }

  size_t size() const { return size_; }

 private:
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_off = 0;
    uint32_t key_len = kEmpty;  // kEmpty marks a free slot
    Value value{};
  };
  std::vector<Slot> slots_;  // [capacity], capacity a power of two
  std::string keys_;         // all keys, back to back
  size_t size_ = 0;
  size_t max_entries_ = 0;
};

}  // namespace doge

#endif  // DOGE_ENGINE_TOKENIZER_FLAT_STRING_MAP_H_
