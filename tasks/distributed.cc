// Scale-out over processes; see distributed.h.
#include "tasks/distributed.h"

#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <thread>

#include "engine/base/error.h"

namespace doge::tasks {

ShardSpec ParseShard(const std::string& text) {
  const size_t slash = text.find('/');
  auto parse = [&](const std::string& s, int& v) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    v = std::atoi(s.c_str());
    return true;
  };
  ShardSpec s;
  if (slash == std::string::npos || !parse(text.substr(0, slash), s.index) || !parse(text.substr(slash + 1), s.count) ||
      s.count < 1 || s.index >= s.count) {
    throw Error(ErrorKind::kUsage, "", "--shard",
                "expected K/N with 0 <= K < N (e.g. 0/4 ... 3/4), got '" + text + "'");
  }
  return s;
}

std::string ShardName(const ShardSpec& shard) {
  return std::to_string(shard.index) + "/" + std::to_string(shard.count);
}

PreparedTask ShardTask(const PreparedTask& task, const ShardSpec& shard) {
  PreparedTask out = task;
  out.whole = task.whole ? task.whole : &task;
  size_t p = 0;
  for (TaskUnit& u : out.units) {
    std::vector<EvalDoc> kept;
    for (EvalDoc& d : u.docs) {
      if (p % static_cast<size_t>(shard.count) == static_cast<size_t>(shard.index)) kept.push_back(std::move(d));
      ++p;
    }
    u.docs = std::move(kept);
  }
  return out;
}

bool LaunchedByMpiLauncher() {
  // Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMIx launchers (Open MPI 5, srun --mpi=pmix)
  // PMIX_RANK; PMI-1/2 launchers (MPICH's hydra, srun --mpi=pmi2) PMI_RANK.
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

namespace {

// Point-to-point messages of one task: workers send "ready" / results with the result tag, rank 0
// answers with a batch (or an empty "task done") with the work tag. Tags cycle per task so a
// worker's request for task t+1 cannot be taken for one of task t; 2 * 8192 + 2 stays far below
// the MPI_TAG_UB of 32767 that the standard guarantees.
int ResultTag(int task_seq) { return 2 + 2 * (task_seq % 8192); }
int WorkTag(int task_seq) { return 3 + 2 * (task_seq % 8192); }

// Waiting for a message without a blocking MPI_Recv: Open MPI spins a core in blocking calls,
// which would take a core from the engine threads of the same host. 200 us of sleep per empty
// poll is noise next to a batch of documents (milliseconds to seconds).
void NapBriefly() { std::this_thread::sleep_for(std::chrono::microseconds(200)); }

void SendBytes(const std::string& bytes, int dest, int tag) {
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

// Receives the message `status` announced.
std::string RecvBytes(const MPI_Status& status) {
  int n = 0;
  MPI_Get_count(&status, MPI_CHAR, &n);
  std::string bytes(static_cast<size_t>(n), '\0');
  MPI_Recv(bytes.data(), n, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return bytes;
}

// A batch: positions, one per line.
std::string EncodePositions(const std::vector<size_t>& positions) {
  std::string s;
  for (size_t p : positions) s += std::to_string(p) + "\n";
  return s;
}

std::vector<size_t> DecodePositions(const std::string& s) {
  std::vector<size_t> v;
  size_t i = 0, j;
  while ((j = s.find('\n', i)) != std::string::npos) {
    v.push_back(static_cast<size_t>(std::strtoull(s.c_str() + i, nullptr, 10)));
    i = j + 1;
  }
  return v;
}

// Results: "<position>\t<details line>\n" per document (details lines are one-line JSON, with
// control characters escaped, so neither separator occurs inside them).
std::string EncodeResults(const std::vector<size_t>& positions, const std::vector<std::string>& lines) {
  std::string s;
  for (size_t i = 0; i < positions.size(); ++i) s += std::to_string(positions[i]) + "\t" + lines.at(i) + "\n";
  return s;
}

void DecodeResults(const std::string& s, int rank, std::vector<size_t>& positions, std::vector<std::string>& lines) {
  size_t i = 0, j;
  while ((j = s.find('\n', i)) != std::string::npos) {
    const size_t tab = s.find('\t', i);
    if (tab == std::string::npos || tab > j) {
      throw Error(ErrorKind::kFormat, "rank " + std::to_string(rank), "results", "malformed results message");
    }
    positions.push_back(static_cast<size_t>(std::strtoull(s.c_str() + i, nullptr, 10)));
    lines.push_back(s.substr(tab + 1, j - tab - 1));
    i = j + 1;
  }
}

// Gathers one string per rank at rank 0 (others get {}).
std::vector<std::string> GatherStrings(const std::string& mine, int rank, int size) {
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(rank == 0 ? size : 0);
  MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> displs(lens.size(), 0);
  int total = 0;
  for (size_t r = 0; r < lens.size(); ++r) {
    displs[r] = total;
    total += lens[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
  std::vector<std::string> out;
  for (size_t r = 0; r < lens.size(); ++r) out.push_back(all.substr(static_cast<size_t>(displs[r]), static_cast<size_t>(lens[r])));
  return out;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> v;
  size_t i = 0, j;
  while ((j = s.find('\n', i)) != std::string::npos) {
    v.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return v;
}

}  // namespace

MpiSession::MpiSession() {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int n = 0;
  MPI_Get_processor_name(name, &n);
  host_.assign(name, static_cast<size_t>(n));
}

MpiSession::~MpiSession() { MPI_Finalize(); }

void MpiSession::Abort(const std::string& message, int code) const {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this only satisfies [[noreturn]]
}

void MpiSession::VerifySame(const std::string& what,
                            const std::vector<std::pair<std::string, std::string>>& entries) const {
  std::string mine = host_ + "\n";
  for (const auto& [name, value] : entries) mine += name + "\t" + value + "\n";
  const std::vector<std::string> all = GatherStrings(mine, rank_, size_);
  if (rank_ != 0) return;
  const std::vector<std::string> ref = SplitLines(all[0]);
  for (int r = 1; r < size_; ++r) {
    const std::vector<std::string> got = SplitLines(all[static_cast<size_t>(r)]);
    const std::string host = got.empty() ? "?" : got[0];
    for (size_t i = 1; i < std::max(ref.size(), got.size()); ++i) {
      const std::string a = i < ref.size() ? ref[i] : "(nothing)";
      const std::string b = i < got.size() ? got[i] : "(nothing)";
      if (a == b) continue;
      const size_t ta = a.find('\t'), tb = b.find('\t');
      const std::string name = ta != std::string::npos ? a.substr(0, ta) : a;
      const std::string va = ta != std::string::npos ? a.substr(ta + 1) : a;
      const std::string vb = tb != std::string::npos && b.substr(0, tb) == name ? b.substr(tb + 1) : b;
      throw Error(ErrorKind::kDataset, what, name,
                  "rank " + std::to_string(r) + " on host " + host + " has " + vb + ", rank 0 on host " + ref[0] +
                      " has " + va + "; every rank must run the same command on the same files (a shared filesystem or identical copies)");
    }
  }
}

std::vector<std::string> MpiSession::Gather(const std::string& mine) const { return GatherStrings(mine, rank_, size_); }

void MpiSession::RunInHostTurns(const std::function<void()>& f) const {
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
  int local_rank = 0, local_size = 1, turns = 1;
  MPI_Comm_rank(local, &local_rank);
  MPI_Comm_size(local, &local_size);
  MPI_Comm_free(&local);
  MPI_Allreduce(&local_size, &turns, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  for (int t = 0; t < turns; ++t) {
    if (t == local_rank) f();
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

std::vector<RankInfo> MpiSession::GatherRankInfo(int threads, const std::string& cpu_model) const {
  const std::vector<std::string> all =
      GatherStrings(host_ + "\n" + std::to_string(threads) + "\n" + cpu_model + "\n", rank_, size_);
  std::vector<RankInfo> out;
  for (size_t r = 0; r < all.size(); ++r) {
    const std::vector<std::string> f = SplitLines(all[r]);
    RankInfo info;
    info.rank = static_cast<int>(r);
    info.host = f.size() > 0 ? f[0] : "";
    info.threads = f.size() > 1 ? std::atoi(f[1].c_str()) : 0;
    info.cpu_model = f.size() > 2 ? f[2] : "";
    out.push_back(info);
  }
  return out;
}

void MpiDispatcher::Run(const std::vector<size_t>& pending, size_t batch_docs, const ScoreFn& score,
                        const FinishFn& finished) {
  const int seq = task_seq_++;
  const int n_ranks = session_.size();
  // Batches small enough that every rank gets several (a slow host then takes fewer), no larger
  // than the engine batch a single process would use.
  const size_t target = (pending.size() + 4 * static_cast<size_t>(n_ranks) - 1) / (4 * static_cast<size_t>(n_ranks));
  const size_t chunk = std::max<size_t>(1, std::min(batch_docs, target));
  std::deque<std::vector<size_t>> queue;
  for (size_t b = 0; b < pending.size(); b += chunk) {
    queue.emplace_back(pending.begin() + static_cast<std::ptrdiff_t>(b),
                       pending.begin() + static_cast<std::ptrdiff_t>(std::min(pending.size(), b + chunk)));
  }

  // Rank 0's own share: a second thread takes batches from the same queue (MPI stays on this one).
  std::mutex mu;
  bool stop = false, local_running = true;
  std::exception_ptr local_error;
  std::deque<std::pair<std::vector<size_t>, std::vector<std::string>>> local_done;
  std::thread local([&] {
    try {
      for (;;) {
        std::vector<size_t> positions;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (stop || queue.empty()) break;
          positions = std::move(queue.front());
          queue.pop_front();
        }
        std::vector<std::string> lines = score(positions);
        std::lock_guard<std::mutex> lock(mu);
        local_done.emplace_back(std::move(positions), std::move(lines));
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      local_error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mu);
    local_running = false;
  });

  try {
    int active_workers = n_ranks - 1;  // each sends "ready" (or results) until told the task is done
    for (;;) {
      bool busy = false;
      int flag = 0;
      MPI_Status status;
      MPI_Iprobe(MPI_ANY_SOURCE, ResultTag(seq), MPI_COMM_WORLD, &flag, &status);
      if (flag) {
        busy = true;
        const int src = status.MPI_SOURCE;
        const std::string bytes = RecvBytes(status);
        std::vector<size_t> positions;
        std::vector<std::string> lines;
        DecodeResults(bytes, src, positions, lines);
        if (!positions.empty()) {
          finished(positions, lines, true);
          docs_by_rank_[static_cast<size_t>(src)] += static_cast<int64_t>(positions.size());
        }
        std::vector<size_t> next;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!queue.empty()) {
            next = std::move(queue.front());
            queue.pop_front();
          }
        }
        if (next.empty()) --active_workers;  // empty batch = this task is done
        SendBytes(EncodePositions(next), src, WorkTag(seq));
      }
      std::deque<std::pair<std::vector<size_t>, std::vector<std::string>>> mine;
      bool running;
      {
        std::lock_guard<std::mutex> lock(mu);
        mine.swap(local_done);
        running = local_running;
        if (local_error) std::rethrow_exception(local_error);
      }
      for (auto& [positions, lines] : mine) {
        busy = true;
        finished(positions, lines, false);
        docs_by_rank_[0] += static_cast<int64_t>(positions.size());
      }
      if (!running && active_workers == 0 && mine.empty()) break;
      if (!busy) NapBriefly();
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    local.join();
    throw;
  }
  local.join();
}

void MpiDispatcher::Serve(const ScoreFn& score) {
  const int seq = task_seq_++;
  std::string reply;  // the first message is an empty "ready"
  for (;;) {
    SendBytes(reply, 0, ResultTag(seq));
    int flag = 0;
    MPI_Status status;
    for (;;) {
      MPI_Iprobe(0, WorkTag(seq), MPI_COMM_WORLD, &flag, &status);
      if (flag) break;
      NapBriefly();
    }
    const std::vector<size_t> positions = DecodePositions(RecvBytes(status));
    if (positions.empty()) return;  // task done
    const std::vector<std::string> lines = score(positions);
    if (debug_delay_ms_per_doc_ > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(debug_delay_ms_per_doc_ * static_cast<int64_t>(positions.size())));
    }
    served_docs_ += static_cast<int64_t>(positions.size());
    if (debug_kill_after_docs_ >= 0 && served_docs_ >= debug_kill_after_docs_) kill(getpid(), SIGKILL);
    reply = EncodeResults(positions, lines);
  }
}

}  // namespace doge::tasks
