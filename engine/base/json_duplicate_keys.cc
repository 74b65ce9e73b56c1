#include "engine/base/json_duplicate_keys.h"

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace doge {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool Equal(element a, element b);

bool IsNumber(element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

bool EqualNumbers(element a, element b) {
  const element_type ta = a.type(), tb = b.type();
  if (ta == tb && ta == element_type::INT64) return int64_t(a) == int64_t(b);
  if (ta == tb && ta == element_type::UINT64) return uint64_t(a) == uint64_t(b);
  // INT64 and UINT64 never hold the same value (simdjson uses UINT64 only beyond INT64_MAX);
  // otherwise 1 and 1.0 are the same number to Python's json, so compare as doubles.
  if (ta != element_type::DOUBLE && tb != element_type::DOUBLE) return false;
  return a.get_double().value() == b.get_double().value();
}

bool EqualObjects(simdjson::dom::object a, simdjson::dom::object b) {
  if (a.size() != b.size()) return false;
  for (auto [key, value] : a) {
    element other;
    if (b.at_key(key).get(other) != simdjson::SUCCESS || !Equal(value, other)) return false;
  }
  return true;
}

bool Equal(element a, element b) {
  const element_type ta = a.type(), tb = b.type();
  if (IsNumber(ta) && IsNumber(tb)) return EqualNumbers(a, b);
  if (ta != tb) return false;
  switch (ta) {
    case element_type::STRING: return std::string_view(a) == std::string_view(b);
    case element_type::BOOL: return bool(a) == bool(b);
    case element_type::NULL_VALUE: return true;
    case element_type::OBJECT: return EqualObjects(a, b);
    case element_type::ARRAY: {
      simdjson::dom::array xa(a), xb(b);
      if (xa.size() != xb.size()) return false;
      auto ib = xb.begin();
      for (element x : xa) {
        if (!Equal(x, *ib)) return false;
        ++ib;
      }
      return true;
    }
    default: return false;
  }
}

// One step of the path from the root: an object key or an array index. Kept as views into the
// parsed document; the path string is built only when a duplicate is found.
struct Step {
  std::string_view key;
  int64_t index = -1;  // >= 0 for an array element
};

bool PlainKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string PathString(const std::vector<Step>& steps) {
  std::string out;
  for (const Step& s : steps) {
    if (s.index >= 0) {
      out += "[" + std::to_string(s.index) + "]";
    } else if (PlainKey(s.key)) {
      if (!out.empty()) out += '.';
      out += s.key;
    } else {  // a key with dots, brackets or spaces would make the dotted path ambiguous
      out += "[\"";
      for (char c : s.key) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += "\"]";
    }
  }
  return out;
}

std::string Shown(element e) {
  std::string s = simdjson::minify(e);
  constexpr size_t kMax = 60;
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return s;
}

// Depth-first, in document order: each member's key is checked against the earlier members of
// its object, then its value is walked, so the conflict reported is the first one a reader of the
// text meets.
class Walker {
 public:
  std::optional<JsonDuplicateKey> found;

  void Walk(element e) {
    if (e.type() == element_type::ARRAY) {
      int64_t i = 0;
      for (element x : simdjson::dom::array(e)) {
        if (IsContainer(x)) {
          path_.push_back({{}, i});
          Walk(x);
          path_.pop_back();
          if (found) return;
        }
        ++i;
      }
    } else if (e.type() == element_type::OBJECT) {
      WalkObject(simdjson::dom::object(e));
    }
  }

 private:
  static bool IsContainer(element e) {
    return e.type() == element_type::ARRAY || e.type() == element_type::OBJECT;
  }

  void Report(std::string_view key, element first, element second) {
    path_.push_back({key, -1});
    found = JsonDuplicateKey{PathString(path_), Shown(first), Shown(second)};
    path_.pop_back();
  }

  // An open-addressing set of the keys seen so far in one large object. A tokenizer vocab has
  // 32k members: std::unordered_map's node per member cost about twice as much (measured on the
  // Doge tokenizer.json; sorting the keys instead, three times as much).
  class KeyTable {
   public:
    explicit KeyTable(size_t n) {
      size_t cap = 16;
      while (cap < 2 * n) cap <<= 1;
      slots_.assign(cap, 0);
      entries_.reserve(n);
    }
    // The earlier member with this key, or nullptr after recording this one.
    const std::pair<std::string_view, element>* FindOrInsert(std::string_view key, element value) {
      const size_t mask = slots_.size() - 1;
      for (size_t h = std::hash<std::string_view>{}(key) & mask;; h = (h + 1) & mask) {
        if (slots_[h] == 0) {
          entries_.emplace_back(key, value);
          slots_[h] = static_cast<uint32_t>(entries_.size());
          return nullptr;
        }
        const auto& e = entries_[slots_[h] - 1];
        if (e.first == key) return &e;
      }
    }

   private:
    std::vector<uint32_t> slots_;  // [capacity] 1 + index into entries_, 0 = empty
    std::vector<std::pair<std::string_view, element>> entries_;
  };

  // Objects of up to kPairwise members (nearly all) compare their keys pairwise, with no
  // allocation; larger ones go through a KeyTable.
  void WalkObject(simdjson::dom::object o) {
    constexpr size_t kPairwise = 8;
    std::pair<std::string_view, element> small[kPairwise];
    size_t n = 0;
    std::optional<KeyTable> table;
    size_t members = o.size();
    if (members >= 0xFFFFFF) {  // simdjson saturates the stored count: count them
      members = 0;
      for (auto it = o.begin(); it != o.end(); ++it) ++members;
    }
    if (members > kPairwise) table.emplace(members);
    for (auto [key, value] : o) {
      if (table) {
        if (const auto* earlier = table->FindOrInsert(key, value); earlier && !Equal(earlier->second, value)) {
          return Report(key, earlier->second, value);
        }
      } else {
        for (size_t i = 0; i < n; ++i) {
          if (small[i].first == key && !Equal(small[i].second, value)) {
            return Report(key, small[i].second, value);
          }
        }
        small[n++] = {key, value};
      }
      if (IsContainer(value)) {
        path_.push_back({key, -1});
        Walk(value);
        path_.pop_back();
        if (found) return;
      }
    }
  }

  std::vector<Step> path_;
};

}  // namespace

std::optional<JsonDuplicateKey> FindConflictingDuplicateKey(element root) {
  Walker w;
  w.Walk(root);
  return std::move(w.found);
}

std::string DuplicateKeyMessage(const JsonDuplicateKey& d) {
  return "appears twice in one object with different values: " + d.first + ", then " + d.second +
         " (which one is meant? readers disagree: Python keeps the last, this harness the first)";
}

void CheckDuplicateKeys(element root, ErrorKind kind, const std::string& file,
                        const std::string& field_prefix) {
  if (auto d = FindConflictingDuplicateKey(root)) {
    throw Error(kind, file, field_prefix + d->path, DuplicateKeyMessage(*d));
  }
}

}  // namespace doge
