// Scale-out of `doge eval` over processes and machines. Two ways, one result:
//  - MPI (`mpirun -np N doge eval ...`): MpiSession starts MPI only when an MPI launcher started
//    this process; MpiDispatcher (a DocDispatcher, tasks/evaluator.h) lets rank 0 hand out batches
//    of documents on demand while it scores batches itself, so a slow host takes fewer.
//  - Shards for schedulers without MPI (`--shard K/N`, then `doge eval merge`): ShardTask keeps a
//    fixed, deterministic slice of every task's documents.
// Documents are scored independently and the engine's results do not depend on batching or
// threads (engine/scoring.h), so either way the per-document lines are the single-process ones.
#ifndef DOGE_TASKS_DISTRIBUTED_H_
#define DOGE_TASKS_DISTRIBUTED_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tasks/evaluator.h"
#include "tasks/requests.h"

namespace doge::tasks {

// --shard K/N: this process evaluates shard `index` of `count` (K = 0 .. N-1, so Slurm's
// `--shard $SLURM_ARRAY_TASK_ID/N` with `--array=0-(N-1)` works).
struct ShardSpec {
  int index = 0;
  int count = 1;
};
// Parses "K/N"; throws Error(kUsage, "", "--shard", ...) naming what was found.
ShardSpec ParseShard(const std::string& text);
// "K/N"
std::string ShardName(const ShardSpec& shard);
// The documents of `task` at positions p (units concatenated, dataset order) with
// p % count == index, in order; units left without documents are kept empty. Interleaving (not
// contiguous ranges) spreads every MMLU subject and long/short documents over the shards alike.
PreparedTask ShardTask(const PreparedTask& task, const ShardSpec& shard);

// True when an MPI launcher started this process (Open MPI's mpirun, or any PMI/PMIx launcher
// such as Slurm's srun --mpi=pmix). Without one doge never initialises MPI: a plain `doge eval`
// runs exactly as a single process, with no MPI runtime started.
bool LaunchedByMpiLauncher();

// One rank as rank 0 saw it (for the results' "distributed" section).
struct RankInfo {
  int rank = 0;
  std::string host;
  int threads = 0;
  std::string cpu_model;
  int64_t docs_scored = 0;  // over all tasks of this run
};

// MPI_Init_thread (FUNNELED: only the main thread calls MPI) ... MPI_Finalize. One per process.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& host() const { return host_; }

  // Prints `message` to stderr and ends every rank of the job with exit status `code`
  // (MPI_Abort): a rank that fails stops the run with its own message instead of leaving the
  // others waiting for it.
  [[noreturn]] void Abort(const std::string& message, int code) const;

  // Collective. `entries` are (name, value) pairs such as ("model.safetensors", sha256) that must
  // be the same on every rank. Rank 0 throws Error(kDataset) naming the first differing rank, its
  // host, the entry and both values; the other ranks return (rank 0 then aborts the job).
  void VerifySame(const std::string& what, const std::vector<std::pair<std::string, std::string>>& entries) const;

  // Collective: every rank's `mine`, in rank order, at rank 0 (the others get {}).
  std::vector<std::string> Gather(const std::string& mine) const;

  // Collective: runs `f` on every rank, the ranks of one host one after another (ranks on
  // different hosts at the same time), so that benchmarks on a host do not slow each other.
  void RunInHostTurns(const std::function<void()>& f) const;

  // Collective: every rank's host, threads and CPU (rank 0 gets them all; others get {}).
  std::vector<RankInfo> GatherRankInfo(int threads, const std::string& cpu_model) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  std::string host_;
};

// DocDispatcher over MPI. Rank 0 splits the pending documents into batches of
// min(batch_docs, ceil(pending / (4 * ranks))) and serves them first come, first served: every
// other rank asks for a batch, scores it with its own threads, returns the details lines and asks
// again; rank 0 scores batches on a second thread meanwhile. Each task has its own message tags,
// so a fast rank's request for the next task never mixes into the current one.
class MpiDispatcher : public DocDispatcher {
 public:
  explicit MpiDispatcher(const MpiSession& session) : session_(session), docs_by_rank_(session.size(), 0) {}

  bool coordinator() const override { return session_.rank() == 0; }
  void Run(const std::vector<size_t>& pending, size_t batch_docs, const ScoreFn& score,
           const FinishFn& finished) override;
  void Serve(const ScoreFn& score) override;

  // Documents each rank scored so far (rank 0's view).
  const std::vector<int64_t>& docs_by_rank() const { return docs_by_rank_; }
  // Tests: a non-coordinator rank SIGKILLs itself once it has scored `docs` documents (before
  // returning the batch that reached it), as a crashed host would.
  void set_debug_kill_after_docs(int64_t docs) { debug_kill_after_docs_ = docs; }
  // Tests: a non-coordinator rank waits `ms` per document it scored, as a slow host would.
  void set_debug_delay_ms_per_doc(int ms) { debug_delay_ms_per_doc_ = ms; }

 private:
  const MpiSession& session_;
  std::vector<int64_t> docs_by_rank_;
  int task_seq_ = 0;  // tasks dispatched so far: picks the message tags
  int64_t served_docs_ = 0;
  int64_t debug_kill_after_docs_ = -1;
  int debug_delay_ms_per_doc_ = 0;
};

}  // namespace doge::tasks

#endif  // DOGE_TASKS_DISTRIBUTED_H_
