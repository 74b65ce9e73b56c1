// The one flag grammar of the `doge` subcommands, in one place so every cmd_*.cc applies it the
// same way: -o/--output PATH is a file, --out-dir DIR a folder, --format the output format,
// --data-dir the datasets, -t/--threads the threads (README "Command-line grammar"). Older
// spellings stay accepted for one release through FlagAlias, each with a one-line note on
// stderr; defaults are printed as a person writes them; every written file is named on stderr.
#ifndef DOGE_TASKS_CLI_FLAGS_H_
#define DOGE_TASKS_CLI_FLAGS_H_

#include <string>
#include <vector>

#include "tasks/cli/commands.h"

namespace doge::cli {

// A deprecated spelling and the one that replaces it, e.g. {"--out", "--out-dir"}.
struct FlagAlias {
  std::string old_flag;  // "--out", "--dir", "-o"
  std::string new_flag;  // "--out-dir", "--data-dir", "--format"; with a value ("--format=json")
                         // the old flag is a switch replaced by it whole
  // When set, only values it accepts are rewritten: bench's `-o json` is the old format flag,
  // `-o FILE` already the new output file.
  bool (*applies)(const std::string& value) = nullptr;
  // A synonym kept for good, rewritten without a note: bench's `-o json`, llama-bench's spelling.
  bool kept = false;
};

// Returns `args` with every deprecated spelling from index `first` on replaced by its new one
// (`--out X`, `--out=X` and, for a short flag, `-oX`), printing once per alias used:
//   doge CMD: note: --out is deprecated, use --out-dir (the old spelling goes away next release)
// Arguments after a bare `--` are left alone.
Args ApplyFlagAliases(const Args& args, size_t first, const std::vector<FlagAlias>& aliases,
                      const std::string& command);

// The note ApplyFlagAliases prints, without the trailing newline (tests compare against it).
std::string DeprecationNote(const std::string& command, const std::string& old_flag, const std::string& new_flag);

// The shortest text that reads back as exactly `v` ("0.05", "1e-4", "5"), for help defaults:
// Boost prints doubles with 17 significant digits (0.050000000000000003).
std::string HumanNumber(double v);

// "doge CMD: wrote PATH" on stderr: the one line every command prints per file it writes.
void NoteWrote(const std::string& command, const std::string& path);

// True for md, json, jsonl and csv: the values bench's old `-o FORMAT` took.
bool IsBenchFormatName(const std::string& value);

}  // namespace doge::cli

#endif  // DOGE_TASKS_CLI_FLAGS_H_
