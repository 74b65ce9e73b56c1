// `doge report compare BASE NEW` on two eval runs: the input is results.json, then (after a NUL)
// the details lines of BASE, then (after another NUL) those of NEW. Both folders get the same
// results.json and their details as details/<task>.jsonl for the task names the seeds use; both
// runs are compared with and without --force and the report is rendered in every format.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/file_util.h"
#include "fuzz/fuzz_util.h"
#include "reports/src/eval_compare.h"

namespace {

// Part `i` of the input split at NUL bytes; a missing part repeats the last one present.
std::string_view Part(std::string_view text, int i) {
  std::string_view part = text;
  for (int k = 0; k <= i; ++k) {
    const size_t nul = text.find('\0');
    part = text.substr(0, nul);
    if (nul == std::string_view::npos) break;
    text.remove_prefix(nul + 1);
  }
  return part;
}

// <TempDir>/<name>/results.json and <name>/details/<task>.jsonl (plain writes: no fsync per input).
std::string WriteRun(const std::string& name, std::string_view results, std::string_view details) {
  doge::MakeDirs(doge::fuzz::TempDir() + "/" + name + "/details");
  doge::fuzz::WriteTemp(name + "/results.json", results);
  for (const char* task : {"arc_easy", "piqa", "mmlu"}) {
    doge::fuzz::WriteTemp(name + "/details/" + task + ".jsonl", details);
  }
  return doge::fuzz::TempDir() + "/" + name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  const std::string_view text = fuzz::AsText(data, size);
  const std::string base = WriteRun("base", Part(text, 0), Part(text, 1));
  const std::string neu = WriteRun("new", Part(text, 0), Part(text, 2));
  for (bool force : {false, true}) {
    fuzz::ExpectOnlyDogeErrors([&] {
      reports::EvalCompareOptions o;
      o.base_path = base;
      o.new_path = neu;
      o.force = force;
      const reports::EvalCompareReport r = reports::CompareEvalRuns(o);
      (void)reports::RenderEvalCompareMarkdown(r);
      (void)reports::RenderEvalCompareJson(r);
      (void)reports::RenderEvalCompareHtml(r);
    });
  }
  (void)reports::IsEvalRunInput(base + "/results.json");
  return 0;
}
