#include "benchmarks/bench_model.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/base/error.h"
#include "engine/quantize.h"
#include "engine/random_checkpoint.h"
#include "engine/scoring.h"

namespace doge {

const std::vector<std::string>& BenchModel::ShapeNames() {
  static const std::vector<std::string> kNames = {"doge-20m", "doge-60m", "doge-160m",
                                                  "doge-320m"};
  return kNames;
}

std::unique_ptr<BenchModel> BenchModel::Open(const std::string& model_dir,
                                             const std::string& shape, uint64_t seed,
                                             const std::string& dtype) {
  if (model_dir.empty() == shape.empty()) {
    throw Error(ErrorKind::kUsage, "", "--model/--shape",
                "give exactly one of --model DIR or --shape doge-20m|doge-60m|doge-160m|"
                "doge-320m");
  }
  std::unique_ptr<BenchModel> b(new BenchModel());
  if (!shape.empty()) {
    bool known = false;
    for (const auto& n : ShapeNames()) known |= n == shape;
    if (!known) {
      throw Error(ErrorKind::kUsage, "", "--shape", UnknownNameMessage("shape", shape, ShapeNames()));
    }
    // A fresh folder under $TMPDIR (or /tmp); the destructor removes it, also when loading throws
    // (b owns it from here on).
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/doge-bench-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      throw Error(ErrorKind::kIo, tmpl, "", "cannot create a temporary folder for --shape");
    }
    b->temp_dir_ = buf.data();
    b->dir_ = b->temp_dir_ + "/" + shape;
    if (dtype == "q8") {
      WriteRandomQ8Checkpoint(shape, b->dir_, seed);
    } else {
      WriteRandomCheckpoint(shape, b->dir_, seed, dtype);
    }
    b->info_.model = dtype == "f32" ? shape : shape + "-" + dtype;
  } else {
    b->dir_ = model_dir;
    b->info_.model = model_dir;
  }
  b->model_ = DogeModel::Load(b->dir_);
  const DogeConfig& c = b->model_->config();
  const DogeWeights& w = b->model_->weights();
  E2eModelInfo& info = b->info_;
  info.model_type = ShapeNameOf(c);
  info.n_params = w.n_params;
  // What the kernels read per weight: the packed copy's element (F32, or BF16/F16 widened in the
  // kernels' loops, engine/weights.h).
  const int64_t bytes_per_weight = PackedTypeBytes(w.packed_type);
  info.model_size = w.n_params * bytes_per_weight;
  if (w.packed_type == PackedType::kQ8) info.model_size = w.mapped_bytes;  // int8 + scales
  info.vocab_size = c.vocab_size;
  info.bos_id = c.bos_token_id >= 0 ? static_cast<int32_t>(c.bos_token_id) : 0;
  info.cost = CostFromConfig(c, w.layout, w.tied, bytes_per_weight);
  info.cost.q8 = w.packed_type == PackedType::kQ8;
  return b;
}

BenchModel::~BenchModel() {
  model_.reset();  // unmap before deleting the files
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);  // best effort: a destructor must not throw
  }
}

std::vector<EvalRow> RunEvalBenchOnEngine(const BenchModel& bm, const McWorkload& w,
                                          const std::vector<int>& threads, int reps) {
  std::unique_ptr<DogeLanguageModel> lm;
  auto model_for = [&](int n) -> const LanguageModel& {
    lm.reset();
    SetBenchThreads(n);  // kernels inside a lone request use the OpenMP team size
    lm = DogeLanguageModel::Load(bm.dir(), n);
    // Every timed pass scores the same requests as the warm-up: with the prefix cache they would
    // all be served from it. This benchmark measures computing them (its workload has no prefix
    // shared across tasks, so a real run would not reuse either).
    lm->SetPrefixCacheBytes(0);
    return *lm;
  };
  return RunEvalBench(model_for, bm.info(), w, threads, reps);
}

void SetBenchThreads(int n_threads) {
#ifdef _OPENMP
  omp_set_num_threads(n_threads > 0 ? n_threads : 1);
#else
  (void)n_threads;
#endif
}

EngineE2eTarget::EngineE2eTarget(const DogeModel& model, int64_t capacity)
    : model_(model), capacity_(capacity) {
  model_.ResetCache(&cache_, capacity_);
  hidden_.resize(static_cast<size_t>(model.config().hidden_size));
  logits_.resize(static_cast<size_t>(model.config().vocab_size));
}

void EngineE2eTarget::SetThreads(int n_threads) { SetBenchThreads(n_threads); }

void EngineE2eTarget::Reset() { cache_.Clear(); }

void EngineE2eTarget::Prefill(const std::vector<int32_t>& tokens) {
  if (tokens.empty()) return;
  DOGE_CHECK(cache_.size() + static_cast<int64_t>(tokens.size()) <= capacity_);
  // Only the last row is projected onto the vocabulary (llama-bench's prompt test).
  last_row_[0] = static_cast<int64_t>(tokens.size()) - 1;
  model_.Forward(tokens.data(), static_cast<int64_t>(tokens.size()), &cache_, &scratch_,
                 last_row_, hidden_.data());
  model_.Logits(hidden_.data(), logits_.data());
}

void EngineE2eTarget::Decode(int32_t token) {
  DOGE_CHECK(cache_.size() < capacity_);
  last_row_[0] = 0;
  model_.Forward(&token, 1, &cache_, &scratch_, last_row_, hidden_.data());
  model_.Logits(hidden_.data(), logits_.data());
}

}  // namespace doge
