// What a data directory holds, checked against the manifest and the lock file: the engine of
// `doge data ls` (a table) and `doge data verify` (the same, strict, with an exit status).
#ifndef DOGE_TASKS_DATA_INVENTORY_H_
#define DOGE_TASKS_DATA_INVENTORY_H_

#include <cstdint>
#include <string>
#include <vector>

namespace doge::data {

struct SplitReport {
  std::string dataset, split, subject;  // subject: mmlu only
  std::string path;
  int64_t rows = -1;      // documents found (-1: not read)
  int64_t expected = -1;  // manifest count (-1: unknown)
  int64_t bytes = -1;
  std::string sha256;         // of the file as it is now
  std::string locked_sha256;  // recorded by fetch in the lock file, "" when none
  std::string problem;        // "" when fine; otherwise what is wrong
  bool count_mismatch = false;
};

// Every canonical split file present under `dir` (datasets x splits x mmlu subjects). With
// `validate`, every row is parsed as the loaders would (so a corrupt row is reported with file,
// line and field); otherwise only lines are counted. `allow_count_mismatch` turns count
// mismatches into notes rather than problems.
std::vector<SplitReport> InspectDataDir(const std::string& dir, const std::string& manifest_dir,
                                        bool validate, bool allow_count_mismatch);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_INVENTORY_H_
