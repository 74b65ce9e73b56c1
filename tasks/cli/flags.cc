#include "tasks/cli/flags.h"

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <set>

namespace doge::cli {

std::string DeprecationNote(const std::string& command, const std::string& old_flag, const std::string& new_flag) {
  return command + ": note: " + old_flag + " is deprecated, use " + new_flag +
         " (the old spelling goes away in the next release)";
}

Args ApplyFlagAliases(const Args& args, size_t first, const std::vector<FlagAlias>& aliases,
                      const std::string& command) {
  Args out(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(std::min(first, args.size())));
  std::set<std::string> noted;
  auto note = [&](const FlagAlias& a) {
    if (!a.kept && noted.insert(a.old_flag).second) {
      std::fprintf(stderr, "%s\n", DeprecationNote(command, a.old_flag, a.new_flag).c_str());
    }
  };
  for (size_t i = first; i < args.size(); ++i) {
    const std::string& tok = args[i];
    if (tok == "--") {  // everything after it is positional
      out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    bool done = false;
    for (const FlagAlias& a : aliases) {
      const bool is_long = a.old_flag.size() > 2;
      if (tok == a.old_flag && a.new_flag.find('=') != std::string::npos) {  // --json -> --format=json
        note(a);
        out.push_back(a.new_flag);
        done = true;
        break;
      }
      if (tok == a.old_flag) {  // --out X
        const bool has_value = i + 1 < args.size();
        if (a.applies && (!has_value || !a.applies(args[i + 1]))) continue;
        note(a);
        out.push_back(a.new_flag);
        done = true;
        break;
      }
      // --out=X, or -oX for a short flag.
      const std::string prefix = is_long ? a.old_flag + "=" : a.old_flag;
      if (tok.size() > prefix.size() && tok.compare(0, prefix.size(), prefix) == 0) {
        std::string value = tok.substr(prefix.size());
        if (!is_long && value[0] == '=') value = value.substr(1);
        if (a.applies && !a.applies(value)) continue;
        note(a);
        out.push_back(a.new_flag + "=" + value);
        done = true;
        break;
      }
    }
    if (!done) out.push_back(tok);
  }
  return out;
}

std::string HumanNumber(double v) {
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  // "1e-04" -> "1e-4": the exponent as a person writes it.
  std::string s = buf;
  const size_t e = s.find('e');
  if (e != std::string::npos) {
    size_t digits = e + 1;
    if (digits < s.size() && (s[digits] == '-' || s[digits] == '+')) {
      if (s[digits] == '+') s.erase(digits, 1); else ++digits;
    }
    while (digits + 1 < s.size() && s[digits] == '0') s.erase(digits, 1);
  }
  return s;
}

void NoteWrote(const std::string& command, const std::string& path) {
  std::fprintf(stderr, "%s: wrote %s\n", command.c_str(), path.c_str());
}

bool IsBenchFormatName(const std::string& value) {
  return value == "md" || value == "json" || value == "jsonl" || value == "csv";
}

}  // namespace doge::cli
