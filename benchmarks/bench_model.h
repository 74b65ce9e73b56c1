// A Doge model opened for benchmarking: a checkpoint folder (--model DIR), or a random-weight
// checkpoint of a published shape (--shape doge-20m ...) generated into a temporary folder that is
// removed again when the BenchModel is destroyed. Also the E2eTarget adapter that drives the
// engine's forward pass for `doge bench e2e` and the e2e Google Benchmarks.
#ifndef DOGE_BENCHMARKS_BENCH_MODEL_H_
#define DOGE_BENCHMARKS_BENCH_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/e2e.h"
#include "benchmarks/eval_bench.h"
#include "engine/kv_cache.h"
#include "engine/model.h"

namespace doge {

class BenchModel {
 public:
  // Exactly one of model_dir / shape is non-empty (Error(kUsage) otherwise; unknown shapes get a
  // did-you-mean message). `seed` seeds the random weights for --shape, stored as `dtype`
  // (f32 | bf16 | f16).
  static std::unique_ptr<BenchModel> Open(const std::string& model_dir, const std::string& shape,
                                          uint64_t seed = 1, const std::string& dtype = "f32");
  ~BenchModel();
  BenchModel(const BenchModel&) = delete;
  BenchModel& operator=(const BenchModel&) = delete;

  const DogeModel& model() const { return *model_; }
  const E2eModelInfo& info() const { return info_; }
  // The folder the weights were loaded from (the temporary folder for --shape).
  const std::string& dir() const { return dir_; }

  static const std::vector<std::string>& ShapeNames();

 private:
  BenchModel() = default;
  std::unique_ptr<DogeModel> model_;
  E2eModelInfo info_;
  std::string dir_;
  std::string temp_dir_;  // removed in the destructor; empty for --model
};

// Drives DogeModel::Forward + Logits for the e2e benchmark. All buffers (KV cache for
// `capacity` positions, forward scratch, hidden row, logits) are allocated up front and reused,
// so the timed calls allocate nothing once the scratch has grown to the largest call.
class EngineE2eTarget : public E2eTarget {
 public:
  EngineE2eTarget(const DogeModel& model, int64_t capacity);
  void SetThreads(int n_threads) override;
  void Reset() override;
  void Prefill(const std::vector<int32_t>& tokens) override;
  void Decode(int32_t token) override;
  const std::vector<float>& logits() const { return logits_; }

 private:
  const DogeModel& model_;
  int64_t capacity_;
  KvCache cache_;
  ForwardScratch scratch_;
  std::vector<int64_t> last_row_ = {0};  // out_rows of the call, reused
  std::vector<float> hidden_;  // [H] final-norm hidden state of the scored row
  std::vector<float> logits_;  // [V]
};

// `doge bench eval` on the engine: for each thread count, a DogeLanguageModel over bm.dir() with
// that many threads (the same class and Score() call `doge eval` uses), then RunEvalBench.
std::vector<EvalRow> RunEvalBenchOnEngine(const BenchModel& bm, const McWorkload& w,
                                          const std::vector<int>& threads, int reps);

// OpenMP team size for the kernels (omp_set_num_threads); no-op without OpenMP.
void SetBenchThreads(int n_threads);

}  // namespace doge

#endif  // DOGE_BENCHMARKS_BENCH_MODEL_H_
