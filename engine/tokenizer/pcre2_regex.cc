#include "engine/tokenizer/pcre2_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

#include "engine/base/error.h"

namespace doge {
namespace {

// Oniguruma's \s: Unicode White_Space (PropList.txt), the set the goldens were made with.
constexpr const char* kWhiteSpaceItems =
    "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

pcre2_code* Code(void* p) { return static_cast<pcre2_code*>(p); }

// One match-data block per thread, big enough for the whole-match pair (the patterns we run need
// no capture groups; PCRE2 fills only as many pairs as fit).
pcre2_match_data* ThreadMatchData() {
  struct Deleter {
    void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
  };
  thread_local std::unique_ptr<pcre2_match_data, Deleter> data(pcre2_match_data_create(1, nullptr));
  return data.get();
}

// PCRE2's JIT uses a 32 KiB machine stack by default; give each thread a larger one so that long
// runs (1,000 spaces against `\s+(?!\S)`) never fail with a stack-limit error.
pcre2_match_context* ThreadMatchContext() {
  struct State {
    pcre2_jit_stack* stack = nullptr;
    pcre2_match_context* context = nullptr;
    State() {
      stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
      context = pcre2_match_context_create(nullptr);
      if (stack != nullptr) pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~State() {
      pcre2_match_context_free(context);
      if (stack != nullptr) pcre2_jit_stack_free(stack);
    }
  };
  thread_local State state;
  return state.context;
}

}  // namespace

std::string TranslateOnigurumaPattern(const std::string& pattern, const std::string& file,
                                      const std::string& field) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  size_t class_start = 0;  // index just after '[' or '[^' of the open class
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[i + 1];
      if (e == 's') {
        if (in_class) {
          out += kWhiteSpaceItems;
        } else {
          out += std::string("[") + kWhiteSpaceItems + "]";
        }
      } else if (e == 'S') {
        if (in_class) {
          throw Error(ErrorKind::kConfig, file, field,
                      "unsupported: \\S inside a character class in regex '" + pattern + "'");
        }
        out += std::string("[^") + kWhiteSpaceItems + "]";
      } else {
        out += c;
        out += e;
      }
      ++i;
      continue;
    }
    out += c;
    if (!in_class && c == '[') {
      in_class = true;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      class_start = i + 1;
    } else if (in_class && c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      // POSIX class "[:alpha:]" inside a class: copy through its closing ":]".
      const size_t close = pattern.find(":]", i + 2);
      if (close != std::string::npos) {
        out.append(pattern, i + 1, close + 2 - (i + 1));
        i = close + 1;
      }
    } else if (in_class && c == ']' && i != class_start) {
      in_class = false;  // a ']' right after '[' or '[^' is a literal
    }
  }
  return out;
}

Pcre2Regex::Pcre2Regex(const std::string& pattern, bool literal, const std::string& file,
                       const std::string& field)
    : pattern_(pattern) {
  const std::string translated = literal ? pattern : TranslateOnigurumaPattern(pattern, file, field);
  uint32_t options = PCRE2_UTF | PCRE2_UCP;
  if (literal) options |= PCRE2_LITERAL;
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()),
                                   translated.size(), options, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    throw Error(ErrorKind::kConfig, file, field,
                "regex '" + pattern + "' does not compile (PCRE2 at offset " +
                    std::to_string(error_offset) + "): " + reinterpret_cast<char*>(message));
  }
  code_ = code;
  // JIT is an optimisation only: without it (e.g. a platform PCRE2 built without JIT) the
  // interpreter gives the same matches.
  jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
}

Pcre2Regex::~Pcre2Regex() { pcre2_code_free(Code(code_)); }

void Pcre2Regex::FindAll(std::string_view text,
                         std::vector<std::pair<size_t, size_t>>* matches) const {
  pcre2_match_data* md = ThreadMatchData();
  pcre2_match_context* mc = ThreadMatchContext();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const PCRE2_SIZE length = text.size();
  PCRE2_SIZE offset = 0;
  while (offset < length) {
    int rc = jit_ ? pcre2_jit_match(Code(code_), subject, length, offset, 0, md, mc)
                  : pcre2_match(Code(code_), subject, length, offset, PCRE2_NO_UTF_CHECK, md, mc);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH && jit_) {
      // JIT resource limit: the interpreter (heap-based backtracking in PCRE2 >= 10.30) retries.
      rc = pcre2_match(Code(code_), subject, length, offset, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md,
                       nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      throw Error(ErrorKind::kInternal, "", "pre-tokenizer regex",
                  "PCRE2 match failed on '" + pattern_ + "': " + reinterpret_cast<char*>(message));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t begin = ov[0], end = ov[1];
    if (end > begin) {
      matches->emplace_back(begin, end);
      offset = end;
    } else {
      // Empty match: step over one UTF-8 character.
      offset = begin + 1;
      while (offset < length && (static_cast<uint8_t>(text[offset]) & 0xC0) == 0x80) ++offset;
    }
  }
}

}  // namespace doge
