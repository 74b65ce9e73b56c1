// results.json (schema doge.results/1) as `doge report card` reads it, through the whole card:
// load, match the published row, build and render the table. The same bytes are also tried as
// a --published card file (LoadPublishedCard).
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "reports/src/card.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  const std::string path = fuzz::WriteTemp("results.json", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([&] { (void)reports::LoadEvalResults(path); });
  fuzz::ExpectOnlyDogeErrors([&] {
    reports::CardOptions options;
    options.results_files = {path};
    options.published_rows = {"Doge-20M"};
    options.allow_missing = true;
    reports::ModelCard card = reports::BuildModelCard(options);
    (void)reports::RenderCardMarkdown(card);
    (void)reports::RenderCardJson(card);
    (void)reports::RenderCardHtml(card);
  });
  fuzz::ExpectOnlyDogeErrors([&] { (void)reports::LoadPublishedCard(path); });
  return 0;
}
