// Each dataset's original distribution format, as `doge data import` and `doge data fetch`
// convert it (ConvertOriginal). The first input byte picks the format (modulo the table below);
// for piqa_jsonl and winogrande_jsonl the bytes after the first NUL are the labels (.lst) file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "tasks/data/import.h"

namespace {
// Seeds (fuzz/make_seeds.sh) start with the index of their format here: keep the order.
const char* const kFormats[] = {"arc_jsonl",       "obqa_jsonl", "piqa_jsonl",      "winogrande_jsonl",
                                "hellaswag_jsonl", "mmlu_csv",   "triviaqa_rc_json"};
constexpr size_t kNumFormats = sizeof(kFormats) / sizeof(kFormats[0]);
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  if (size == 0) return 0;
  const std::string format = kFormats[data[0] % kNumFormats];
  std::string_view body = fuzz::AsText(data + 1, size - 1);
  std::string labels_path;
  if (format == "piqa_jsonl" || format == "winogrande_jsonl") {
    const size_t nul = body.find('\0');
    if (nul != std::string_view::npos) {
      labels_path = fuzz::WriteTemp("src-labels.lst", body.substr(nul + 1));
      body = body.substr(0, nul);
    }
  }
  const std::string src = fuzz::WriteTemp(format == "mmlu_csv" ? "anatomy_test.csv" : "src.jsonl", body);
  const std::string out = fuzz::TempDir() + "/out.jsonl";
  fuzz::ExpectOnlyDogeErrors([&] {
    data::ImportedFile f = data::ConvertOriginal(format, src, labels_path, out, "anatomy");
    if (f.rows < 0) __builtin_trap();
  });
  fuzz::RemoveTemp("src-labels.lst");
  fuzz::RemoveTemp("out.jsonl");
  return 0;
}
