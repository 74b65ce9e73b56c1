#include "engine/tokenizer/hf_tokenizer.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <queue>
#include <unordered_set>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_read.h"
#include "engine/tokenizer/unicode_util.h"

namespace doge {
namespace {


// ---- JSON access (engine/base/json_read.h): errors name the file and the JSON path --------

// A feature of tokenizer.json that would change Encode's output and that is not implemented:
// a config error (the file is well-formed, this engine does not run it) naming member `key` of
// `obj`, present or not (a default can be the unsupported value).
[[noreturn]] void UnsupportedAt(const JsonNode& obj, std::string_view key, const std::string& what) {
  throw Error(ErrorKind::kConfig, obj.file(), obj.FieldFor(obj.ChildPath(key)), "unsupported " + what);
}

// Optional boolean member with a default (absent or null: the default).
bool BoolOr(const JsonNode& obj, std::string_view key, bool dflt) {
  const std::optional<JsonNode> v = obj.FindValue(key);
  return v ? v->Bool() : dflt;
}

// The "type" of a pipeline component (which must be an object).
std::string Type(const JsonNode& component) { return component.GetString("type"); }

std::string Quote(std::string_view s) {
  // Keeps messages on one line: control characters are shown as \xNN.
  std::string out = "'";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "'";
}

// ---- Unicode predicates for added-token flags (Rust regex `\s` and `\w` semantics) -----------

bool IsWhiteSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Rust regex's Unicode `\w`: Alphabetic, M, Nd, Pc, Join_Control. PCRE2 cannot say Alphabetic in
// this version, so \p{L} + \p{Nl} + \p{M} stands in for Alphabetic + M (the Other_Alphabetic
// code points are nearly all Mn/Mc, which \p{M} covers).
bool IsWordChar(std::string_view one_char) {
  static const Pcre2Regex word("^[\\p{L}\\p{Nl}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}]", false,
                               "", "word-character class");
  std::vector<std::pair<size_t, size_t>> m;
  word.FindAll(one_char, &m);
  return !m.empty();
}

// Byte offset of the last code point of `s` (valid UTF-8, non-empty).
size_t LastCharStart(std::string_view s) {
  size_t i = s.size() - 1;
  while (i > 0 && (static_cast<uint8_t>(s[i]) & 0xC0) == 0x80) --i;
  return i;
}

bool EndsWithWord(std::string_view s) {
  if (s.empty()) return false;
  return IsWordChar(s.substr(LastCharStart(s)));
}
bool StartsWithWord(std::string_view s) {
  if (s.empty()) return false;
  size_t pos = 0;
  NextCodePoint(s, &pos);
  return IsWordChar(s.substr(0, pos));
}
// Start of the run of white space that ends `s` (s.size() when none).
size_t TrailingSpaceStart(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    const size_t start = LastCharStart(s.substr(0, end));
    size_t pos = start;
    if (!IsWhiteSpace(NextCodePoint(s, &pos))) break;
    end = start;
  }
  return end;
}
// Length of the run of white space that starts `s`.
size_t LeadingSpaceLength(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t next = pos;
    if (!IsWhiteSpace(NextCodePoint(s, &next))) break;
    pos = next;
  }
  return pos;
}

// How sparse the ids of a tokenizer.json may be: the largest id must be below 2 x (vocab entries +
// added tokens) + kIdSlack. Real vocabularies are dense (gaps are a few reserved ids); the slack
// lets tiny hand-written test vocabularies put an added token at a round id.
constexpr int64_t kIdSlack = 1024;

// GPT-2's pattern, what ByteLevel(use_regex=true) splits with (Oniguruma syntax; translated).
constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  size_t i = 0;
  while (true) {
    const size_t j = s.find(from, i);
    if (j == std::string::npos) break;
    out.append(s, i, j - i);
    out.append(to);
    i = j + from.size();
  }
  if (i == 0) return;
  out.append(s, i, std::string::npos);
  s = std::move(out);
}

}  // namespace

namespace {

// Per-thread, lock-free first-level cache: direct-mapped, one 64-byte line per entry holding
// the pre-token and its ids together, so a hit costs one cache line and no atomics. Short,
// frequent pieces (words) live here; the shared sharded cache behind it keeps everything else.
// Entries are tagged with the tokenizer's instance number (never reused), so tokenizers never
// see each other's entries, even one allocated where a destroyed one was.
struct alignas(64) L0Entry {
  uint64_t hash;
  uint32_t owner;  // HfTokenizer instance number; 0 = empty
  uint8_t key_len;
  uint8_t n_ids;
  char key[26];
  int32_t ids[6];
};
static_assert(sizeof(L0Entry) == 64, "one cache line per entry");
constexpr size_t kL0Entries = 32768;  // 2 MiB per thread (L2 + L3)

L0Entry* ThreadL0() {
  thread_local std::unique_ptr<L0Entry[]> table(new L0Entry[kL0Entries]());
  return table.get();
}

std::atomic<uint32_t> g_next_instance{1};

}  // namespace

std::string CleanUpTokenization(std::string text) {
  ReplaceAll(text, " .", ".");
  ReplaceAll(text, " ?", "?");
  ReplaceAll(text, " !", "!");
  ReplaceAll(text, " ,", ",");
  ReplaceAll(text, " ' ", "'");
  ReplaceAll(text, " n't", "n't");
  ReplaceAll(text, " 'm", "'m");
  ReplaceAll(text, " 's", "'s");
  ReplaceAll(text, " 've", "'ve");
  ReplaceAll(text, " 're", "'re");
  return text;
}

HfTokenizer::HfTokenizer(const std::string& json_path, const std::string& config_path)
    : path_(json_path),
      cache_(std::make_unique<std::array<CacheShard, kCacheShards>>()),
      instance_(g_next_instance.fetch_add(1)) {
  byte_id_.fill(-1);
  Load(ReadFileToString(json_path));
  LoadConfig(config_path);
}

HfTokenizer::~HfTokenizer() = default;

// The sections of Load, one per part of tokenizer.json, run in this order: each may rely on what
// the earlier ones filled in (the id tables need the vocabulary and the added tokens, the
// pre-tokenizer check needs the byte ids, the post-processor needs the id tables).
struct HfTokenizer::Loader {
  HfTokenizer& tk;
  JsonNode root;
  JsonNode model;                                  // root.model (set by Model())
  std::unordered_map<std::string, int32_t> vocab;  // model.vocab: token -> id

  void Model();
  void AddedTokens();
  void IdTables();
  void Merges();
  void AddedMatchers();
  void PreTokenizer();
  void PostProcessor();
  void Decoder();
};

// model: a BPE without dropout, byte fallback or subword affixes; its vocabulary (unique ids)
// and unk_token.
void HfTokenizer::Loader::Model() {
  model = root.Get("model");
  const std::string model_type = Type(model);
  if (model_type != "BPE") UnsupportedAt(model, "type", Quote(model_type) + " (only BPE)");
  if (auto v = model.FindValue("dropout")) {
    if (!v->IsNumber() || v->Number() != 0.0) {
      UnsupportedAt(model, "dropout", "(must be null: dropout makes encoding random)");
    }
  }
  if (BoolOr(model, "byte_fallback", false)) UnsupportedAt(model, "byte_fallback", "true");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (auto v = model.FindValue(key)) {
      const std::string_view s = v->StringView();
      if (!s.empty()) UnsupportedAt(model, key, Quote(s));
    }
  }
  tk.ignore_merges_ = BoolOr(model, "ignore_merges", false);
  tk.fuse_unk_ = BoolOr(model, "fuse_unk", false);

  // vocab: token -> id. Ids must be unique; the table is indexed by id.
  {
    const std::vector<std::pair<std::string, JsonNode>> entries = model.GetObject("vocab").Members();
    vocab.reserve(entries.size());
    std::unordered_map<int32_t, std::string> by_id;
    by_id.reserve(entries.size());
    for (const auto& [key, value] : entries) {
      const int64_t id = value.Int();
      if (id < 0 || id > INT32_MAX) value.Fail("id " + std::to_string(id) + " out of range");
      const auto [it, fresh] = by_id.emplace(static_cast<int32_t>(id), key);
      if (!fresh) {
        value.Fail("duplicate id " + std::to_string(id) + " (also " + Quote(it->second) + ")");
      }
      if (!vocab.emplace(key, static_cast<int32_t>(id)).second) {
        value.Fail("duplicate token " + Quote(key));
      }
    }
  }
  if (auto v = model.FindValue("unk_token")) {
    const std::string unk = v->String();
    auto it = vocab.find(unk);
    if (it == vocab.end()) v->Fail(Quote(unk) + " is not in model.vocab");
    tk.unk_id_ = it->second;
  }
}

// added_tokens: each with its matching flags; an id must agree with model.vocab and be unique.
void HfTokenizer::Loader::AddedTokens() {
  if (auto v = root.FindValue("added_tokens")) {
    std::unordered_map<int32_t, size_t> seen_ids;
    for (const JsonNode& t : v->Items()) {
      AddedToken tok;
      const JsonNode id_node = t.Get("id");
      const int64_t id = id_node.Int();
      if (id < 0 || id > INT32_MAX) id_node.Fail("id " + std::to_string(id) + " out of range");
      tok.id = static_cast<int32_t>(id);
      const JsonNode content = t.Get("content");
      tok.content = content.String();
      if (tok.content.empty()) content.Fail("empty added token");
      if (!IsValidUtf8(tok.content)) content.Fail("not valid UTF-8");
      tok.single_word = BoolOr(t, "single_word", false);
      tok.lstrip = BoolOr(t, "lstrip", false);
      tok.rstrip = BoolOr(t, "rstrip", false);
      tok.normalized = BoolOr(t, "normalized", true);
      tok.special = BoolOr(t, "special", false);
      if (auto it = vocab.find(tok.content); it != vocab.end() && it->second != tok.id) {
        id_node.Fail("is " + std::to_string(tok.id) + " but model.vocab has " +
                     Quote(tok.content) + " = " + std::to_string(it->second));
      }
      if (auto [it, fresh] = seen_ids.emplace(tok.id, tk.added_.size()); !fresh) {
        id_node.Fail("duplicate id " + std::to_string(tok.id) + " (also added_tokens[" +
                     std::to_string(it->second) + "] " + Quote(tk.added_[it->second].content) + ")");
      }
      tk.added_.push_back(std::move(tok));
    }
  }
}

// The id-indexed tables: token, raw bytes (ByteLevel alphabet undone), valid, special.
// The tables below are indexed by id, so an id must be dense enough to be a vocabulary: one far
// beyond the number of entries is a format error here, before anything is sized by it (a
// single id of 2^31 - 1 would otherwise ask for gigabytes, or overflow max_id + 1).
void HfTokenizer::Loader::IdTables() {
  int32_t max_id = -1;
  std::string max_field;
  for (const auto& [tok, id] : vocab) {
    if (id > max_id) max_id = id, max_field = "model.vocab." + tok;
  }
  for (size_t i = 0; i < tk.added_.size(); ++i) {
    if (tk.added_[i].id > max_id) {
      max_id = tk.added_[i].id;
      max_field = "added_tokens[" + std::to_string(i) + "].id";
    }
  }
  const int64_t n_ids = static_cast<int64_t>(vocab.size() + tk.added_.size());
  const int64_t id_limit = 2 * n_ids + kIdSlack;
  if (max_id >= id_limit) {
    root.FailAt(max_field, "id " + std::to_string(max_id) + " is far beyond the vocabulary's " +
                          std::to_string(n_ids) + " entries (ids must be below 2 x entries + " +
                          std::to_string(kIdSlack) + " = " + std::to_string(id_limit) + ")");
  }
  tk.id_to_token_.assign(max_id + 1, std::string());
  tk.id_valid_.assign(max_id + 1, 0);
  tk.id_special_.assign(max_id + 1, 0);
  for (const auto& [tok, id] : vocab) {
    tk.id_to_token_[id] = tok;
    tk.id_valid_[id] = 1;
  }
  for (const auto& tok : tk.added_) {
    if (tk.id_valid_[tok.id] && tk.id_to_token_[tok.id] != tok.content) {
      root.FailAt("added_tokens", "id " + std::to_string(tok.id) + " is " + Quote(tok.content) +
                                 " but model.vocab gives that id to " + Quote(tk.id_to_token_[tok.id]));
    }
    tk.id_to_token_[tok.id] = tok.content;
    tk.id_valid_[tok.id] = 1;
  }
  // Rust skips "special" by content: every id whose token is a special token's content.
  std::unordered_set<std::string> special_contents;
  for (const auto& tok : tk.added_) {
    if (tok.special) special_contents.insert(tok.content);
  }
  for (size_t id = 0; id < tk.id_to_token_.size(); ++id) {
    if (tk.id_valid_[id] && special_contents.count(tk.id_to_token_[id])) tk.id_special_[id] = 1;
  }

  // Raw-byte view of the vocabulary and the ByteLevel decoder's output per id.
  tk.id_to_bytes_.assign(tk.id_to_token_.size(), std::string());
  tk.bytes_to_id_.Reset(vocab.size());
  std::string bytes;
  for (size_t id = 0; id < tk.id_to_token_.size(); ++id) {
    if (!tk.id_valid_[id]) continue;
    if (ByteLevelToBytes(tk.id_to_token_[id], &bytes)) {
      tk.id_to_bytes_[id] = bytes;
    } else {
      tk.id_to_bytes_[id] = tk.id_to_token_[id];
    }
  }
  for (const auto& [tok, id] : vocab) {
    if (ByteLevelToBytes(tok, &bytes)) {
      tk.bytes_to_id_.Insert(bytes, id);
      if (bytes.size() == 1) tk.byte_id_[static_cast<uint8_t>(bytes[0])] = id;
    }
  }
}

// merges: rank = position; a later duplicate pair overrides an earlier one (as a Rust
// HashMap built by insertion would). Both parts and their concatenation must be in the vocab.
void HfTokenizer::Loader::Merges() {
  const std::vector<JsonNode> items = model.Get("merges").Items();
  tk.merges_.reserve(items.size() * 2);
  size_t rank = 0;
  for (const JsonNode& m : items) {
    std::string a, b;
    if (m.IsString()) {
      const std::string_view s = m.StringView();
      const size_t sp = s.find(' ');
      if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos) {
        m.Fail("expected \"left right\" (two tokens separated by one space), found " + Quote(s));
      }
      a = std::string(s.substr(0, sp));
      b = std::string(s.substr(sp + 1));
    } else if (m.IsArray()) {
      const std::vector<JsonNode> pair = m.Items();
      if (pair.size() != 2) {
        m.Fail("expected a pair [left, right], found " + std::to_string(pair.size()) + " items");
      }
      a = pair[0].String();
      b = pair[1].String();
    } else {
      m.Fail("expected a string \"left right\" or a pair [left, right], found " + m.Found());
    }
    const auto ia = vocab.find(a), ib = vocab.find(b), iab = vocab.find(a + b);
    if (ia == vocab.end()) m.Fail("token " + Quote(a) + " is not in model.vocab");
    if (ib == vocab.end()) m.Fail("token " + Quote(b) + " is not in model.vocab");
    if (iab == vocab.end()) m.Fail("merged token " + Quote(a + b) + " is not in model.vocab");
    const uint64_t key = (static_cast<uint64_t>(ia->second) << 32) | static_cast<uint32_t>(ib->second);
    tk.merges_[key] = {static_cast<int32_t>(rank), iab->second};
    ++rank;
  }
}

// added-token matchers (non-normalized first, then normalized: two passes in Rust)
void HfTokenizer::Loader::AddedMatchers() {
  for (size_t i = 0; i < tk.added_.size(); ++i) {
    AddedMatcher& m = tk.added_[i].normalized ? tk.normalized_matcher_ : tk.non_normalized_matcher_;
    m.by_first_byte[static_cast<uint8_t>(tk.added_[i].content[0])].push_back(static_cast<int>(i));
    m.is_first_byte[static_cast<uint8_t>(tk.added_[i].content[0])] = true;
    m.empty = false;
  }
  for (AddedMatcher* m : {&tk.non_normalized_matcher_, &tk.normalized_matcher_}) {
    int n_first = 0;
    for (int b = 0; b < 256; ++b) {
      if (m->is_first_byte[b]) ++n_first, m->only_first_byte = b;
    }
    if (n_first != 1) m->only_first_byte = -1;
  }
  for (AddedMatcher* m : {&tk.non_normalized_matcher_, &tk.normalized_matcher_}) {
    for (auto& list : m->by_first_byte) {
      std::stable_sort(list.begin(), list.end(), [&](int x, int y) {
        return tk.added_[x].content.size() > tk.added_[y].content.size();
      });
    }
  }
}

// pre_tokenizer: Split and ByteLevel steps (a Sequence flattened depth-first); byte-level BPE
// only, so every byte must have a token (or there must be an unk_token).
void HfTokenizer::Loader::PreTokenizer() {
  bool has_byte_level = false;
  std::vector<JsonNode> steps;  // flattened Sequence
  if (auto v = root.FindValue("pre_tokenizer")) {
    std::vector<JsonNode> stack = {*v};
    // Depth-first, in order: a Sequence's children replace it.
    while (!stack.empty()) {
      const JsonNode e = stack.front();
      stack.erase(stack.begin());
      if (Type(e) == "Sequence") {
        const std::vector<JsonNode> children = e.Get("pretokenizers").Items();
        stack.insert(stack.begin(), children.begin(), children.end());
      } else {
        steps.push_back(e);
      }
    }
  }
  for (const JsonNode& e : steps) {
    const std::string type = Type(e);
    if (type == "Split") {
      if (BoolOr(e, "invert", false)) UnsupportedAt(e, "invert", "true");
      const std::string behavior = e.GetString("behavior");
      PreTokenizerStep step;
      if (behavior == "Isolated") {
        step.behavior = SplitBehavior::kIsolated;
      } else if (behavior == "Removed") {
        step.behavior = SplitBehavior::kRemoved;
      } else {
        UnsupportedAt(e, "behavior", Quote(behavior) + " (only Isolated, Removed)");
      }
      const JsonNode pattern = e.Get("pattern");
      if (auto re = pattern.Find("Regex")) {
        step.regex = std::make_unique<Pcre2Regex>(re->String(), false, tk.path_, re->path());
      } else if (auto lit = pattern.Find("String")) {
        step.regex = std::make_unique<Pcre2Regex>(lit->String(), true, tk.path_, lit->path());
      } else {
        pattern.Fail("expected {\"Regex\": ...} or {\"String\": ...}");
      }
      tk.pre_tokenizer_.push_back(std::move(step));
    } else if (type == "ByteLevel") {
      if (BoolOr(e, "add_prefix_space", true)) UnsupportedAt(e, "add_prefix_space", "true");
      has_byte_level = true;
      if (BoolOr(e, "use_regex", true)) {
        PreTokenizerStep step;
        step.behavior = SplitBehavior::kIsolated;
        step.regex = std::make_unique<Pcre2Regex>(kGpt2Pattern, false, tk.path_, e.path());
        tk.pre_tokenizer_.push_back(std::move(step));
      }
      // The byte -> alphabet mapping itself is implicit: the BPE below works on raw bytes.
    } else {
      UnsupportedAt(e, "type", Quote(type));
    }
  }
  if (!has_byte_level) {
    UnsupportedAt(root, "pre_tokenizer",
                  "pipeline without a ByteLevel pre-tokenizer (only byte-level BPE)");
  }
  for (int b = 0; b < 256; ++b) {
    if (tk.byte_id_[b] < 0 && tk.unk_id_ < 0) {
      // Rust would silently drop such bytes; a byte-level vocabulary always has all 256.
      root.FailAt("model.vocab", "no token for byte 0x" + [&] {
        char buf[4];
        std::snprintf(buf, sizeof(buf), "%02X", b);
        return std::string(buf);
      }() + " (" + Quote(BytesToByteLevel(std::string(1, static_cast<char>(b)))) + ")");
    }
  }
}

// post_processor: TemplateProcessing with one $A (ids before and after it), ByteLevel (offsets
// only), or a Sequence of those.
void HfTokenizer::Loader::PostProcessor() {
  const std::optional<JsonNode> v = root.FindValue("post_processor");
  if (!v) return;
  std::vector<JsonNode> procs;
  if (Type(*v) == "Sequence") {
    procs = v->Get("processors").Items();
  } else {
    procs.push_back(*v);
  }
  for (const JsonNode& p : procs) {
    const std::string type = Type(p);
    if (type == "ByteLevel") continue;  // offsets only (trim_offsets); ids unchanged
    if (type != "TemplateProcessing") UnsupportedAt(p, "type", Quote(type));
    const JsonNode specials = p.Get("special_tokens");
    bool seen_a = false;
    for (const JsonNode& item : p.Get("single").Items()) {
      if (auto st = item.Find("SpecialToken")) {
        const std::string name = st->GetString("id");
        const std::optional<JsonNode> entry = specials.Find(name);
        if (!entry) specials.FailAt(name, "missing (used by " + item.path() + ")");
        const JsonNode ids = entry->Get("ids");
        for (const JsonNode& id : ids.Items()) {
          const int64_t x = id.Int();
          if (x < 0 || x >= static_cast<int64_t>(tk.id_valid_.size()) || !tk.id_valid_[x]) {
            ids.Fail("id " + std::to_string(x) + " is not in the vocabulary");
          }
          (seen_a ? tk.template_suffix_ : tk.template_prefix_).push_back(static_cast<int32_t>(x));
        }
      } else if (auto seq = item.Find("Sequence")) {
        const JsonNode id = seq->Get("id");
        const std::string name = id.String();
        if (name != "A" || seen_a) id.Fail("expected one $A, found " + Quote(name));
        seen_a = true;
      } else {
        item.Fail("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
      }
    }
    if (!seen_a) p.FailAt("single", "template has no $A");
  }
}

// decoder: ByteLevel or none.
void HfTokenizer::Loader::Decoder() {
  if (auto v = root.FindValue("decoder")) {
    const std::string type = Type(*v);
    if (type != "ByteLevel") UnsupportedAt(*v, "type", Quote(type));
    tk.decoder_byte_level_ = true;
  }
}

void HfTokenizer::Load(const std::string& json_text) {
  // One parse: malformed JSON and a key given twice with different values are refused here.
  const std::unique_ptr<JsonDocument> doc = ParseJsonText(
      path_, json_text, ErrorKind::kFormat, "not valid JSON (truncated or corrupted file?)");
  const JsonNode root = doc->root();
  if (!root.IsObject()) root.Fail("expected an object, found " + root.Found());

  // Options that would change Encode's output and that we do not implement.
  for (const char* key : {"truncation", "padding"}) {
    if (root.FindValue(key)) UnsupportedAt(root, key, "(must be null)");
  }
  if (auto v = root.FindValue("normalizer")) {
    const std::string type = Type(*v);
    bool empty_sequence = false;
    if (type == "Sequence") {
      auto list = v->Find("normalizers");
      empty_sequence = list && list->Size() == 0;
    }
    if (!empty_sequence) UnsupportedAt(*v, "type", Quote(type));
  }

  Loader l{*this, root, root, {}};
  l.Model();
  l.AddedTokens();
  l.IdTables();
  l.Merges();
  l.AddedMatchers();
  l.PreTokenizer();
  l.PostProcessor();
  l.Decoder();
}

void HfTokenizer::LoadConfig(const std::string& config_path) {
  // Absent config: transformers' defaults for what we read (no clean-up, no bos/eos).
  if (config_path.empty() || !FileExists(config_path)) return;
  const std::unique_ptr<JsonDocument> doc = LoadJsonFile(config_path);
  const JsonNode root = doc->root();
  if (!root.IsObject()) root.Fail("expected an object, found " + root.Found());
  clean_up_ = BoolOr(root, "clean_up_tokenization_spaces", false);
  // bos_token / eos_token: a string or an AddedToken object {"content": ...}.
  auto token_name = [&](const char* key) -> std::string {
    const std::optional<JsonNode> v = root.FindValue(key);
    if (!v) return "";
    return v->IsObject() ? v->GetString("content") : v->String();
  };
  auto resolve = [&](const char* key, const std::string& name) -> int32_t {
    if (name.empty()) return -1;
    for (const auto& tok : added_) {
      if (tok.content == name) return tok.id;
    }
    for (size_t id = 0; id < id_to_token_.size(); ++id) {
      if (id_valid_[id] && id_to_token_[id] == name) return static_cast<int32_t>(id);
    }
    root.FailAt(key, Quote(name) + " is not a token of " + path_);
  };
  bos_id_ = resolve("bos_token", token_name("bos_token"));
  eos_token_ = token_name("eos_token");
  eos_id_ = resolve("eos_token", eos_token_);
}

void HfTokenizer::SplitOnAdded(std::string_view text, const AddedMatcher& matcher,
                               std::vector<Segment>* segments) const {
  if (matcher.empty) {
    if (!text.empty()) segments->push_back({text, -1});
    return;
  }
  // Mirrors AddedVocabulary::find_matches: non-overlapping leftmost-longest matches; a
  // single_word token that touches a word character is skipped (the scan resumes after it);
  // lstrip / rstrip widen the match over adjacent white space.
  size_t start_offset = 0;  // end of what has been emitted
  size_t scan = 0;          // where the next match may start
  while (scan < text.size()) {
    // Skip to the next byte that can start an added token.
    if (matcher.only_first_byte >= 0) {
      const void* p = std::memchr(text.data() + scan, matcher.only_first_byte, text.size() - scan);
      if (p == nullptr) break;
      scan = static_cast<const char*>(p) - text.data();
    } else {
      while (scan < text.size() && !matcher.is_first_byte[static_cast<uint8_t>(text[scan])]) ++scan;
      if (scan == text.size()) break;
    }
    const auto& candidates = matcher.by_first_byte[static_cast<uint8_t>(text[scan])];
    int hit = -1;
    for (int idx : candidates) {
      const std::string& c = added_[idx].content;
      if (text.compare(scan, c.size(), c) == 0) {
        hit = idx;
        break;  // longest first
      }
    }
    if (hit < 0) {
      ++scan;
      continue;
    }
    const AddedToken& tok = added_[hit];
    size_t start = scan, stop = scan + tok.content.size();
    scan = stop;
    if (tok.single_word) {
      const bool start_space = start == 0 || !EndsWithWord(text.substr(0, start));
      const bool stop_space = stop == text.size() || !StartsWithWord(text.substr(stop));
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) start = std::max(TrailingSpaceStart(text.substr(0, start)), start_offset);
    if (tok.rstrip) stop += LeadingSpaceLength(text.substr(stop));
    if (start_offset < start) segments->push_back({text.substr(start_offset, start - start_offset), -1});
    segments->push_back({text.substr(start, stop - start), tok.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) segments->push_back({text.substr(start_offset), -1});
}

void HfTokenizer::SplitAllAdded(std::string_view text, std::vector<Segment>* out) const {
  out->clear();
  if (normalized_matcher_.empty) {
    SplitOnAdded(text, non_normalized_matcher_, out);
    return;
  }
  thread_local std::vector<Segment> first;  // scratch
  first.clear();
  SplitOnAdded(text, non_normalized_matcher_, &first);
  for (const Segment& s : first) {
    if (s.added_id >= 0) {
      out->push_back(s);
    } else {
      SplitOnAdded(s.text, normalized_matcher_, out);
    }
  }
}

void HfTokenizer::PreTokenize(std::string_view text, std::vector<std::string_view>* pieces) const {
  // Scratch buffers reused across calls (Encode is called once per prompt, millions of times).
  thread_local std::vector<std::string_view> current, next;
  thread_local std::vector<std::pair<size_t, size_t>> matches;
  current.assign(1, text);
  for (const PreTokenizerStep& step : pre_tokenizer_) {
    next.clear();
    for (std::string_view piece : current) {
      matches.clear();
      step.regex->FindAll(piece, &matches);
      size_t last = 0;
      for (const auto& [b, e] : matches) {
        if (b > last) next.push_back(piece.substr(last, b - last));  // the gap is kept
        if (step.behavior == SplitBehavior::kIsolated) next.push_back(piece.substr(b, e - b));
        last = e;
      }
      if (last < piece.size()) next.push_back(piece.substr(last));
    }
    current.swap(next);
  }
  for (std::string_view p : current) {
    if (!p.empty()) pieces->push_back(p);
  }
}

void HfTokenizer::MergePiece(std::string_view piece, std::vector<int32_t>* ids) const {
  // Word::merge_all: symbols in a doubly linked list, a min-heap of (rank, position) candidate
  // pairs; the lowest rank is applied first, the leftmost on ties. Stale candidates (a side
  // already merged away) are dropped when popped.
  struct Symbol {
    int32_t id;
    int32_t prev, next;  // indices, -1 at the ends
    bool alive;
  };
  struct Candidate {
    int32_t rank, pos, new_id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::vector<Symbol> symbols;  // [n_bytes] at most
  symbols.reserve(piece.size());
  for (char c : piece) {
    int32_t id = byte_id_[static_cast<uint8_t>(c)];
    if (id < 0) {
      id = unk_id_;  // only reachable with an unk token (Load checked)
      if (fuse_unk_ && !symbols.empty() && symbols.back().id == unk_id_) continue;
    }
    const auto i = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, i - 1, -1, true});
    if (i > 0) symbols[i - 1].next = i;
  }
  auto lookup = [&](int32_t a, int32_t b) -> const std::pair<int32_t, int32_t>* {
    auto it = merges_.find((static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b));
    return it == merges_.end() ? nullptr : &it->second;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (auto m = lookup(symbols[i].id, symbols[i + 1].id)) {
      queue.push({m->first, static_cast<int32_t>(i), m->second});
    }
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const auto m = lookup(left.id, right.id);
    if (m == nullptr || m->second != top.new_id) continue;  // stale
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) {
      if (auto pm = lookup(symbols[left.prev].id, left.id)) queue.push({pm->first, left.prev, pm->second});
    }
    if (left.next >= 0) {
      if (auto nm = lookup(left.id, symbols[left.next].id)) queue.push({nm->first, top.pos, nm->second});
    }
  }
  for (const Symbol& s : symbols) {
    if (s.alive) ids->push_back(s.id);
  }
}

void HfTokenizer::PrefetchPiece(std::string_view piece, uint64_t hash) const {
  if (piece.size() <= sizeof(L0Entry::key)) __builtin_prefetch(&ThreadL0()[hash & (kL0Entries - 1)]);
}

void HfTokenizer::EncodePiece(std::string_view piece, uint64_t hash,
                              std::vector<int32_t>* ids) const {
  L0Entry* l0 = nullptr;
  if (piece.size() <= sizeof(L0Entry::key) && cache_enabled_.load(std::memory_order_relaxed)) {
    l0 = &ThreadL0()[hash & (kL0Entries - 1)];
    if (l0->owner == instance_ && l0->hash == hash && l0->key_len == piece.size() &&
        std::equal(piece.begin(), piece.end(), l0->key)) {
      ids->insert(ids->end(), l0->ids, l0->ids + l0->n_ids);
      return;
    }
  }
  const size_t before = ids->size();
  EncodePieceShared(piece, hash, ids);
  if (l0 != nullptr && ids->size() - before <= std::size(l0->ids)) {
    l0->owner = instance_;
    l0->hash = hash;
    l0->key_len = static_cast<uint8_t>(piece.size());
    l0->n_ids = static_cast<uint8_t>(ids->size() - before);
    std::copy(piece.begin(), piece.end(), l0->key);
    std::copy(ids->begin() + before, ids->end(), l0->ids);
  }
}

void HfTokenizer::EncodePieceShared(std::string_view piece, uint64_t hash,
                                    std::vector<int32_t>* ids) const {
  if (ignore_merges_) {
    // A whole pre-token that is a vocab entry maps to it directly, whatever the merges say.
    if (const int32_t* id = bytes_to_id_.Find(piece, hash)) {
      ids->push_back(*id);
      return;
    }
  }
  const bool use_cache =
      piece.size() <= kMaxCachedPieceBytes && cache_enabled_.load(std::memory_order_relaxed);
  if (!use_cache) {
    MergePiece(piece, ids);
    return;
  }
  CacheShard& shard = (*cache_)[hash >> 60];  // top 4 bits: kCacheShards == 16
  {
    std::shared_lock lock(shard.mu);
    if (const CacheRef* ref = shard.map.Find(piece, hash)) {
      const int32_t* begin = shard.ids.data() + ref->offset;
      ids->insert(ids->end(), begin, begin + ref->length);
      return;
    }
  }
  const size_t before = ids->size();
  MergePiece(piece, ids);
  std::unique_lock lock(shard.mu);
  if (shard.map.size() < kCacheShardCapacity && shard.map.Find(piece, hash) == nullptr) {
    const CacheRef ref{static_cast<uint32_t>(shard.ids.size()),
                       static_cast<uint32_t>(ids->size() - before)};
    shard.ids.insert(shard.ids.end(), ids->begin() + before, ids->end());
    shard.map.Insert(piece, hash, ref);
  }
}

std::vector<int32_t> HfTokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  // The Rust library's input is a Rust String, always valid UTF-8; we repair invalid input the
  // way String::from_utf8_lossy would produce it (U+FFFD per maximal invalid subsequence) so the
  // regex never sees ill-formed UTF-8 (PCRE2_NO_UTF_CHECK on invalid input is undefined).
  std::string repaired;
  if (!IsValidUtf8(text)) {
    repaired = Utf8Lossy(text);
    text = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (add_special_tokens) ids = template_prefix_;
  thread_local std::vector<std::string_view> pieces;  // scratch, reused across calls
  thread_local std::vector<Segment> segments;
  thread_local std::vector<uint64_t> hashes;
  SplitAllAdded(text, &segments);
  for (const Segment& seg : segments) {
    if (seg.added_id >= 0) {
      ids.push_back(seg.added_id);
      continue;
    }
    pieces.clear();
    PreTokenize(seg.text, &pieces);
    // Hash every piece and prefetch its first-level cache line before encoding any: the table
    // is larger than L2, and overlapping those misses is most of the warm-cache speed.
    hashes.resize(pieces.size());
    for (size_t i = 0; i < pieces.size(); ++i) {
      hashes[i] = HashBytes(pieces[i]);
      PrefetchPiece(pieces[i], hashes[i]);
    }
    for (size_t i = 0; i < pieces.size(); ++i) EncodePiece(pieces[i], hashes[i], &ids);
  }
  if (add_special_tokens) ids.insert(ids.end(), template_suffix_.begin(), template_suffix_.end());
  return ids;
}

std::vector<std::string> HfTokenizer::PreTokens(std::string_view text) const {
  std::string repaired;
  if (!IsValidUtf8(text)) {
    repaired = Utf8Lossy(text);
    text = repaired;
  }
  std::vector<std::string> out;
  std::vector<std::string_view> pieces;
  std::vector<Segment> segments;
  SplitAllAdded(text, &segments);
  for (const Segment& seg : segments) {
    if (seg.added_id >= 0) {
      out.emplace_back(seg.text);
      continue;
    }
    pieces.clear();
    PreTokenize(seg.text, &pieces);
    for (std::string_view p : pieces) out.push_back(BytesToByteLevel(p));
  }
  return out;
}

std::string HfTokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special_tokens,
                                bool clean_up) const {
  // Tokenizer::decode: ids without a token are dropped (as the Rust library does), special
  // tokens optionally; the ByteLevel decoder maps the concatenated tokens back to bytes and
  // decodes them lossily. Without a decoder the tokens are joined with spaces.
  std::string bytes;
  bool first = true;
  for (int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(id_valid_.size()) || !id_valid_[id]) continue;
    if (skip_special_tokens && id_special_[id]) continue;
    if (decoder_byte_level_) {
      bytes += id_to_bytes_[id];
    } else {
      if (!first) bytes += ' ';
      bytes += id_to_token_[id];
    }
    first = false;
  }
  std::string text = Utf8Lossy(bytes);
  if (clean_up) text = CleanUpTokenization(std::move(text));
  return text;
}

const std::string& HfTokenizer::IdToToken(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || id >= static_cast<int32_t>(id_to_token_.size())) return kEmpty;
  return id_to_token_[id];
}

void HfTokenizer::SetCacheEnabled(bool enabled) {
  cache_enabled_.store(enabled);
  // Entries in the per-thread tables become unreachable: a new instance number retags us.
  instance_ = g_next_instance.fetch_add(1);
  for (CacheShard& shard : *cache_) {
    std::unique_lock lock(shard.mu);
    shard.map.Reset(kCacheShardCapacity);
    shard.ids.clear();
  }
}

size_t HfTokenizer::CacheSize() const {
  size_t n = 0;
  for (const CacheShard& shard : *cache_) {
    std::shared_lock lock(shard.mu);
    n += shard.map.size();
  }
  return n;
}

}  // namespace doge
