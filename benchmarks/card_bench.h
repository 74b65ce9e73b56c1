// `doge bench card`: the model card's own workload. A fixed, versioned table of
// each task's prompt shape (five-shot context tokens, choices, continuation tokens, the part of
// the context documents share, real document counts), a measurement of each shape's docs/s on
// this machine through the engine path `doge eval` uses (Score, NextTokenLogprobs,
// GenerateGreedy) with the prefix cache off and on, and from both the projected wall time of the
// whole card: the number to compare across machines before starting a day-long run.
#ifndef DOGE_BENCHMARKS_CARD_BENCH_H_
#define DOGE_BENCHMARKS_CARD_BENCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "benchmarks/bench_model.h"
#include "engine/base/machine_load.h"

namespace doge {

// Version of the shape table below; bump it when a number changes.
inline constexpr const char* kCardShapesVersion = "doge.card_shapes/1";

// One task's shape. Token counts are means over the repository's samples of the real datasets
// (tests/data/datasets-canonical) rendered by the task layer and encoded with the Doge tokenizer
// (2026-12-07); document counts are the evaluated splits' (datasets-manifest/).
struct CardTaskShape {
  const char* task;
  const char* kind;       // "multiple_choice" | "single_token" | "generate"
  int64_t n_docs;         // documents in the evaluated split
  int ctx_tokens;         // five-shot context tokens per document
  int n_choices;          // continuations per document (single_token: letters read; generate: 1)
  int cont_tokens;        // tokens per continuation (generate: new tokens, generation_size)
  int shared_tokens;      // context tokens a document shares with the earlier ones of its group
  int64_t n_groups;       // sharing groups in the split (MMLU: its 57 subjects; else 1)
};
// The eight card tasks of a protocol ("card-a" | "card-b"); throws Error(kUsage) otherwise.
const std::vector<CardTaskShape>& CardTaskShapes(const std::string& protocol);

struct CardRow {
  CardTaskShape shape{};
  int n_threads = 0;
  int n_docs_measured = 0;
  double docs_per_s_off = 0;     // prefix cache off
  double docs_per_s_shared = 0;  // cache on, documents whose group's prefix is cached
  double projected_s_off = 0;    // n_docs / docs_per_s_off
  double projected_s_on = 0;     // groups at the no-cache rate, the rest at the shared rate
  double hit_rate = 0;           // projected share of context tokens reused
  MachineLoad load;
};

// Measures every task of `protocol` at each thread count on `docs` synthetic documents of the
// task's shape (random ids; the shared part identical across them), one engine call per pass
// like one `doge eval` batch; an untimed warm-up first.
std::vector<CardRow> RunCardBench(const BenchModel& bm, const std::string& protocol,
                                  const std::vector<int>& threads, int docs, uint64_t seed);

std::string FormatCardMarkdown(const std::vector<CardRow>& rows, const std::string& protocol);
std::string FormatCardJson(const std::vector<CardRow>& rows, const std::string& protocol);

}  // namespace doge

#endif  // DOGE_BENCHMARKS_CARD_BENCH_H_
