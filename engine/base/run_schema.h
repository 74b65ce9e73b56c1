// Schema names of the run files that cross layers: tasks/ writes results.json and the details
// files (tasks/eval_run.h), reports/ reads results.json. reports/ may depend on doge_base only,
// so the names live here, at the lowest layer both use, and nowhere else.
#ifndef DOGE_ENGINE_BASE_RUN_SCHEMA_H_
#define DOGE_ENGINE_BASE_RUN_SCHEMA_H_

namespace doge {

// <out>/results.json of `doge eval` and `doge eval merge`.
inline constexpr char kResultsSchema[] = "doge.results/1";
// The first line of <out>/details/<task>.jsonl.partial (and the content of the .run file beside
// a finished details file): the run identity a resume must match.
inline constexpr char kDetailsPartialSchema[] = "doge.details-partial/1";

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_RUN_SCHEMA_H_
