// `doge bench kernels|e2e|eval`: the benchmark front end. The work lives in
// benchmarks/ (library doge_bench, linked into this binary by benchmarks/CMakeLists.txt, which
// also defines DOGE_HAVE_BENCH); this file only parses options and prints.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <simdjson.h>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_writer.h"
#include "tasks/cli/commands.h"
#include "tasks/cli/flags.h"
#include "tasks/cli/json_copy.h"
#include "tasks/distributed.h"

#ifdef DOGE_HAVE_BENCH
#include "benchmarks/bench_model.h"
#include "benchmarks/card_bench.h"
#include "benchmarks/e2e.h"
#include "benchmarks/eval_bench.h"
#include "benchmarks/kernel_benchmarks.h"
#endif

namespace doge::cli {

namespace po = boost::program_options;

namespace {

const char kBenchUsage[] =
    "usage: doge bench kernels [google benchmark flags...]\n"
    "       doge bench e2e  (--model DIR | --shape NAME [--dtype f32|bf16|f16|q8]) [-p 512] [-n 128]\n"
    "                       [-pg 512,128] [-b 2048] [-t 1,2] [-r 5] [--format md|json|jsonl|csv]\n"
    "                       [-o FILE]\n"
    "       doge bench eval (--model DIR | --shape NAME [--dtype ...]) [-t 1,2] [-r 5] [--docs 64]\n"
    "                       [--ctx 48] [--choices 4] [--cont 21] [--batch 16] [--format md|json|csv]\n"
    "                       [--task arc_easy [--protocol card-a]]\n"
    "       doge bench card (--model DIR | --shape NAME [--dtype ...]) [--protocol card-a|card-b]\n"
    "                       [-t 1,2] [--docs 16] [--format md|json] [-o FILE]\n"
    "\n"
    "Every number is set against limits measured in the same run (FP32 FMA peak and read\n"
    "bandwidth of this machine), so results stay comparable on a noisy or shared machine.\n"
    "The kernels run with the widest instruction set the CPU has (avx512, avx2 or portable);\n"
    "DOGE_KERNEL_ISA=avx2 (or portable) pins a narrower one, e.g. to compare them.\n"
    "\n"
    "  kernels  every kernel of engine/kernels over the shared case table, reference and\n"
    "           optimized sets (kernel/<name>/<vars>/<set>), with GB/s, GFLOP/s and %peak\n"
    "           counters. Flags go to Google Benchmark, e.g. --benchmark_filter=matvec\n"
    "           --benchmark_min_time=0.1 --benchmark_format=json --benchmark_out=k.json;\n"
    "           the JSON context carries doge_schema and doge_fingerprint. Threads:\n"
    "           OMP_NUM_THREADS. Our flags: --doge_probe_reps=N --doge_probe_ms=X.\n"
    "  e2e      prefill and decode tokens/s in llama-bench's shape. pp N = one forward over\n"
    "           N random tokens from an empty cache, last-token logits; tg N = N single-token\n"
    "           steps from an empty cache (BOS, then random ids; no sampling). List arguments\n"
    "           expand to every combination. bound t/s: decode = measured read bandwidth /\n"
    "           bytes of weights per token (vocabulary projection included); prefill =\n"
    "           measured FMA peak / flops per token. -pg P,G (as llama-bench) times a P-token\n"
    "           prompt followed by G generated tokens as one test, pp P+tg G, at (P+G)/time;\n"
    "           its bound adds both parts' times. -b N feeds prompts in calls of N tokens.\n"
    "           Rows carry cpu_info (the CPU's full name) and n_batch; csv has the json's\n"
    "           columns. On a terminal, a progress line per finished test goes to stderr.\n"
    "  eval     multiple-choice scoring throughput on a fixed-seed synthetic HellaSwag-shaped\n"
    "           workload, through the engine's Score() in batches (the doge eval path):\n"
    "           tasks/s, processed tokens/s (shared context) and naive-equivalent tokens/s.\n"
    "           (A 0-shot shape by default; --task T takes the five-shot shape of card task T\n"
    "           from `bench card`'s table: context, choices and ending tokens.)\n"
    "  card     the model card's own workload: each task's five-shot prompt shape (a fixed,\n"
    "           versioned table: context tokens, choices, continuation tokens, the prefix its\n"
    "           documents share, the full split's document count) measured in docs/s through\n"
    "           the doge eval engine path with the prefix cache off and on, and the projected\n"
    "           wall time of the whole card on this machine, per thread count.\n"
    "\n"
    "--shape doge-20m|doge-60m|doge-160m|doge-320m generates a random-weight checkpoint of that\n"
    "shape in a temporary folder (removed afterwards): no download needed to compare machines.\n"
    "--dtype bf16 (or f16) stores it in 16 bits: the kernels then stream half the bytes and widen\n"
    "the weights in their loops (the bound counts 2 bytes per weight). --dtype q8 quantizes it\n"
    "as doge quantize does (int8 + a float32 scale per 32 columns: the bound counts 1.125 bytes\n"
    "per projection and head weight, 4 per vector and dt_proj weight).\n"
    "\n"
    "examples:\n"
    "  doge bench e2e --shape doge-20m -p 512 -n 128 -t 1,2 -r 5\n"
    "  doge bench e2e --shape doge-20m -p 0 -n 0 -pg 512,128 -r 1 --format jsonl\n"
    "  doge bench e2e --model ~/models/Doge-60M --format json -o reports/bench-e2e.json\n"
    "  doge bench eval --shape doge-20m -t 1,2\n"
    "  doge bench card --shape doge-20m --protocol card-a -t 1,2\n"
    "  OMP_NUM_THREADS=1 doge bench kernels --benchmark_filter='matvec.*optimized'\n"
    "  DOGE_KERNEL_ISA=avx2 doge bench e2e --shape doge-20m -t 1\n"
    "\n"
    "Under mpirun, e2e and eval measure every rank's host in one go (ranks sharing a host take\n"
    "turns) and rank 0 writes all rows, each with its \"rank\" and its host's fingerprint;\n"
    "`doge report machines` makes one column per rank of such a file:\n"
    "  mpirun -np 3 --hostfile hosts --map-by node doge bench e2e --shape doge-20m --format json -o m.json\n"
    "  doge report machines m.json\n"
    "\n"
    "-o md|json|jsonl|csv is the format, as in llama-bench (-o with any other value is the file).\n"
    "Old spellings, accepted with a note until the next release: --output FORMAT (now --format),\n"
    "--out FILE (now -o/--output FILE), bench eval --tasks N\n"
    "(now --docs N).\n";

std::vector<int> PositiveList(const std::string& flag, const std::string& text, bool allow_zero) {
  std::vector<int> v = ParseIntList(flag, text);
  if (v.empty()) throw Error(ErrorKind::kUsage, "", flag, "expected a list of integers");
  for (int x : v) {
    if (x < 0 || (!allow_zero && x == 0)) {
      throw Error(ErrorKind::kUsage, "", flag,
                  std::string("expected ") + (allow_zero ? "integers >= 0" : "integers >= 1") +
                      ", got " + std::to_string(x));
    }
  }
  return v;
}

void CheckFormat(const std::string& f, const std::vector<std::string>& allowed = {"md", "json", "csv"}) {
  if (std::find(allowed.begin(), allowed.end(), f) == allowed.end()) {
    throw Error(ErrorKind::kUsage, "", "--format", UnknownNameMessage("format", f, allowed));
  }
}

// Prints to stdout, or writes atomically to `out` when given.
void Emit(const std::string& text, const std::string& out) {
  if (out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else {
    WriteFileAtomic(out, text);
    NoteWrote("doge bench", out);
  }
}

// Bench's other spellings: -o md|json|jsonl|csv is llama-bench's format flag and stays, silently
// (-o anything else is the output file, as everywhere); --output FORMAT (now --format), --out FILE
// (now -o/--output) and bench eval's --tasks N (a count there; now --docs) are deprecated.
std::vector<FlagAlias> BenchAliases(const std::string& sub) {
  std::vector<FlagAlias> a = {{"-o", "--format", IsBenchFormatName, /*kept=*/true},
                              {"--output", "--format", IsBenchFormatName},
                              {"--out", "--output"}};
  if (sub == "eval") a.push_back({"--tasks", "--docs"});
  return a;
}

po::variables_map Parse(const Args& args, const po::options_description& desc) {
  po::variables_map vm;
  Args argv = ApplyFlagAliases(args, 2, BenchAliases(args[1]), "doge bench " + args[1]);
  // llama-bench spells the combined test -pg, which Boost would read as -p g: the same option.
  for (size_t i = 2; i < argv.size() && argv[i] != "--"; ++i) {
    if (argv[i] == "-pg") argv[i] = "--pg";
  }
  std::vector<std::string> rest(argv.begin() + 2, argv.end());
  po::store(po::command_line_parser(rest).options(desc).run(), vm);
  po::notify(vm);
  return vm;
}

// Under mpirun (more than one rank): csv and jsonl rows are not merged with their rank, so only
// md and json.
void CheckFormatAcrossRanks(const tasks::MpiSession* mpi, const std::string& format) {
  if (mpi && mpi->size() > 1 && (format == "csv" || format == "jsonl")) {
    throw Error(ErrorKind::kUsage, "", "--format", "under mpirun use md or json (" + format + " rows cannot carry their rank)");
  }
}

// Runs the measurement: alone, or under mpirun on every rank with the ranks of a host in turns.
void Measure(const tasks::MpiSession* mpi, const std::function<void()>& f) {
  if (mpi && mpi->size() > 1) {
    mpi->RunInHostTurns(f);
  } else {
    f();
  }
}

// Emit() of this process's output, or under mpirun rank 0's Emit() of every rank's: json rows
// gain "rank" (after "schema"), md tables a heading naming rank and host.
void EmitAcrossRanks(const tasks::MpiSession* mpi, const std::string& format, const std::string& text,
                     const std::string& out) {
  if (!mpi || mpi->size() == 1) return Emit(text, out);
  const std::vector<std::string> all = mpi->Gather(mpi->host() + "\n" + text);
  if (mpi->rank() != 0) return;
  std::string merged;
  if (format == "json") {
    JsonWriter w(/*pretty=*/true);
    w.BeginArray();
    for (size_t r = 0; r < all.size(); ++r) {
      simdjson::dom::parser parser;
      simdjson::dom::element rows = parser.parse(all[r].substr(all[r].find('\n') + 1));
      for (simdjson::dom::element row : rows.get_array()) {
        w.BeginObject();
        for (auto [k, v] : row.get_object()) {
          w.Key(k);
          CopyJson(w, v);
          if (k == "schema") w.Field("rank", static_cast<int64_t>(r));
        }
        w.EndObject();
      }
    }
    w.EndArray();
    merged = w.Take() + "\n";
  } else {
    for (size_t r = 0; r < all.size(); ++r) {
      const size_t nl = all[r].find('\n');
      merged += "## rank " + std::to_string(r) + " (host " + all[r].substr(0, nl) + ")\n\n" + all[r].substr(nl + 1) + "\n";
    }
  }
  Emit(merged, out);
}

#ifdef DOGE_HAVE_BENCH

int RunBenchKernels(const Args& args) {
  // Google Benchmark parses its own flags; argv[0] names the program in its messages.
  std::vector<std::string> storage;
  storage.push_back("doge bench kernels");
  for (size_t i = 2; i < args.size(); ++i) storage.push_back(args[i]);
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return RunKernelBenchmarks(static_cast<int>(storage.size()), argv.data());
}

// "512,128" (llama-bench's -pg) as a prompt and a generation length.
std::pair<int, int> ParsePromptGen(const std::string& text) {
  const std::vector<int> v = ParseIntList("--pg", text);
  if (v.size() != 2 || v[0] < 0 || v[1] < 0 || v[0] + v[1] == 0) {
    throw Error(ErrorKind::kUsage, "", "--pg",
                "expected PROMPT,GEN (two token counts >= 0, not both 0), e.g. 512,128; got '" + text + "'");
  }
  return {v[0], v[1]};
}

int RunBenchE2e(const Args& args, const tasks::MpiSession* mpi) {
  std::string model, shape, dtype, prompts, gens, threads, format, out, batches;
  std::vector<std::string> pgs;
  int reps = 5, probe_reps = 5;
  uint64_t seed = 1;
  po::options_description desc("doge bench e2e options");
  desc.add_options()("help,h", "this help")(
      "model", po::value(&model), "checkpoint folder (config.json + model.safetensors)")(
      "shape", po::value(&shape), "random checkpoint of doge-20m|doge-60m|doge-160m|doge-320m")(
      "dtype", po::value(&dtype)->default_value("f32"),
      "weights of the --shape checkpoint: f32 | bf16 | f16 (16-bit weights are widened inside the "
      "kernels' loops) | q8 (int8, doge quantize)")(
      "n-prompt,p", po::value(&prompts)->default_value("512"), "prompt lengths, e.g. 128,512 (0: none)")(
      "n-gen,n", po::value(&gens)->default_value("128"), "generation lengths (0: none)")(
      "pg", po::value(&pgs)->composing(),
      "PROMPT,GEN: a prompt then GEN generated tokens in one timed test (pp512+tg128), t/s = "
      "(PROMPT + GEN) / time; repeatable; llama-bench's -pg spelling works too")(
      "batch-size,b", po::value(&batches)->default_value("2048"),
      "tokens per prefill call (n_batch): longer prompts are fed in consecutive calls; a list "
      "repeats every test")(
      "threads,t", po::value(&threads)->default_value("1,2"), "thread counts, e.g. 1,2")(
      "repetitions,r", po::value(&reps)->default_value(5), "timed repetitions per test")(
      "format", po::value(&format)->default_value("md"), "md | json | jsonl | csv")(
      "output,o", po::value(&out), "write the output to this file (atomically) instead of stdout")(
      "seed", po::value(&seed)->default_value(1), "random weights (--shape) and token ids")(
      "probe-reps", po::value(&probe_reps)->default_value(5), "repetitions of each peak probe");
  po::variables_map vm = Parse(args, desc);
  if (vm.count("help")) {
    std::cout << kBenchUsage << "\n" << desc << "\n";
    return 0;
  }
  CheckFormat(format, {"md", "json", "jsonl", "csv"});
  CheckFormatAcrossRanks(mpi, format);
  E2eOptions o;
  o.n_prompt = PositiveList("--n-prompt", prompts, true);
  o.n_gen = PositiveList("--n-gen", gens, true);
  for (const std::string& pg : pgs) o.n_pg.push_back(ParsePromptGen(pg));
  o.n_batch = PositiveList("--batch-size", batches, false);
  // One line per finished test on a terminal, so a long run shows it is alive; never into a
  // log or pipe.
  if (isatty(fileno(stderr))) {
    o.on_row = [](const E2eRow& r, size_t i, size_t n) {
      std::fprintf(stderr, "doge bench e2e: [%zu/%zu] %s, %d threads, n_batch %d: %.2f ± %.2f t/s\n", i, n,
                   r.test.c_str(), r.n_threads, r.n_batch, r.avg_ts, r.stddev_ts);
    };
  }
  o.threads = PositiveList("--threads", threads, false);
  if (reps < 1) throw Error(ErrorKind::kUsage, "", "--repetitions", "must be >= 1");
  if (probe_reps < 1) throw Error(ErrorKind::kUsage, "", "--probe-reps", "must be >= 1");
  o.reps = reps;
  o.seed = seed;
  o.probe.repetitions = probe_reps;
  if (!vm["dtype"].defaulted() && shape.empty()) {
    throw Error(ErrorKind::kUsage, "", "--dtype", "only with --shape (a --model folder has its own)");
  }
  auto bm = BenchModel::Open(model, shape, seed, dtype);
  int64_t capacity = 1;
  for (int p : o.n_prompt) capacity = std::max<int64_t>(capacity, p);
  for (int g : o.n_gen) capacity = std::max<int64_t>(capacity, g);
  for (const auto& [p, g] : o.n_pg) capacity = std::max<int64_t>(capacity, int64_t{p} + g);
  EngineE2eTarget target(bm->model(), capacity);
  std::vector<E2eRow> rows;
  Measure(mpi, [&] { rows = RunE2e(target, bm->info(), o); });
  EmitAcrossRanks(mpi, format,
                  format == "json"    ? FormatE2eJson(rows)
                  : format == "jsonl" ? FormatE2eJsonl(rows)
                  : format == "csv"   ? FormatE2eCsv(rows)
                                      : FormatE2eMarkdown(rows),
                  out);
  return 0;
}

int RunBenchEval(const Args& args, const tasks::MpiSession* mpi) {
  std::string model, shape, dtype, threads, format, out;
  int reps = 5;
  uint64_t seed = 1;
  McWorkload w;
  po::options_description desc("doge bench eval options");
  desc.add_options()("help,h", "this help")(
      "model", po::value(&model), "checkpoint folder (config.json + model.safetensors)")(
      "shape", po::value(&shape), "random checkpoint of doge-20m|doge-60m|doge-160m|doge-320m")(
      "dtype", po::value(&dtype)->default_value("f32"),
      "weights of the --shape checkpoint: f32 | bf16 | f16 (16-bit weights are widened inside the "
      "kernels' loops) | q8 (int8, doge quantize)")(
      "threads,t", po::value(&threads)->default_value("1,2"), "thread counts, e.g. 1,2")(
      "repetitions,r", po::value(&reps)->default_value(5), "timed passes over the workload")(
      "docs", po::value(&w.n_tasks)->default_value(64), "documents (multiple-choice tasks) per pass")(
      "ctx", po::value(&w.n_ctx)->default_value(48), "context tokens per task (BOS included)")(
      "choices", po::value(&w.n_choices)->default_value(4), "endings per task")(
      "cont", po::value(&w.n_cont)->default_value(21), "tokens per ending")(
      "batch", po::value(&w.batch)->default_value(16), "tasks per Score() call")(
      "task", po::value<std::string>(),
      "a multiple-choice card task whose five-shot shape replaces --ctx/--choices/--cont")(
      "protocol", po::value<std::string>()->default_value("card-a"), "the protocol of --task")(
      "format", po::value(&format)->default_value("md"), "md | json | csv")(
      "output,o", po::value(&out), "write the output to this file (atomically) instead of stdout")(
      "seed", po::value(&seed)->default_value(1), "random weights (--shape) and token ids");
  po::variables_map vm = Parse(args, desc);
  if (vm.count("help")) {
    std::cout << kBenchUsage << "\n" << desc << "\n";
    return 0;
  }
  CheckFormat(format);
  CheckFormatAcrossRanks(mpi, format);
  std::vector<int> thread_list = PositiveList("--threads", threads, false);
  if (vm.count("task")) {
    const std::string task = vm["task"].as<std::string>(), protocol = vm["protocol"].as<std::string>();
    for (const char* f : {"ctx", "choices", "cont"}) {
      if (!vm[f].defaulted()) throw Error(ErrorKind::kUsage, "", std::string("--") + f, "not with --task (the task sets it)");
    }
    const CardTaskShape* shape = nullptr;
    std::vector<std::string> names;
    for (const CardTaskShape& s : CardTaskShapes(protocol)) {
      names.push_back(s.task);
      if (task == s.task) shape = &s;
    }
    if (shape == nullptr) throw Error(ErrorKind::kUsage, "", "--task", UnknownNameMessage("card task", task, names));
    if (std::string(shape->kind) != "multiple_choice") {
      throw Error(ErrorKind::kUsage, "", "--task",
                  task + " is scored as " + shape->kind + " in " + protocol + ", not by Score(); doge bench card measures it");
    }
    w.n_ctx = shape->ctx_tokens;
    w.n_choices = shape->n_choices;
    w.n_cont = shape->cont_tokens;
    w.test = protocol + "/" + task;
  } else if (!vm["protocol"].defaulted()) {
    throw Error(ErrorKind::kUsage, "", "--protocol", "only with --task");
  }
  if (reps < 1) throw Error(ErrorKind::kUsage, "", "--repetitions", "must be >= 1");
  if (w.n_tasks < 1) throw Error(ErrorKind::kUsage, "", "--docs", "must be >= 1");
  if (w.n_ctx < 1) throw Error(ErrorKind::kUsage, "", "--ctx", "must be >= 1 (BOS)");
  if (w.n_choices < 1) throw Error(ErrorKind::kUsage, "", "--choices", "must be >= 1");
  if (w.n_cont < 1) throw Error(ErrorKind::kUsage, "", "--cont", "must be >= 1");
  if (w.batch < 1) throw Error(ErrorKind::kUsage, "", "--batch", "must be >= 1");
  w.seed = seed;
  if (!vm["dtype"].defaulted() && shape.empty()) {
    throw Error(ErrorKind::kUsage, "", "--dtype", "only with --shape (a --model folder has its own)");
  }
  auto bm = BenchModel::Open(model, shape, seed, dtype);
  if (w.n_ctx + w.n_cont > bm->model().config().max_position_embeddings) {
    throw Error(ErrorKind::kUsage, "", "--ctx/--cont",
                "context + ending must fit max_position_embeddings (" +
                    std::to_string(bm->model().config().max_position_embeddings) + ")");
  }
  std::vector<EvalRow> rows;
  Measure(mpi, [&] { rows = RunEvalBenchOnEngine(*bm, w, thread_list, reps); });
  EmitAcrossRanks(mpi, format,
                  format == "json"  ? FormatEvalJson(rows)
                  : format == "csv" ? FormatEvalCsv(rows)
                                    : FormatEvalMarkdown(rows),
                  out);
  return 0;
}

int RunBenchCard(const Args& args) {
  std::string model, shape, dtype, threads, format, out, protocol;
  int docs = 16;
  uint64_t seed = 1;
  po::options_description desc("doge bench card options");
  desc.add_options()("help,h", "this help")(
      "model", po::value(&model), "checkpoint folder (config.json + model.safetensors)")(
      "shape", po::value(&shape), "random checkpoint of doge-20m|doge-60m|doge-160m|doge-320m")(
      "dtype", po::value(&dtype)->default_value("f32"), "weights of the --shape checkpoint: f32 | bf16 | f16 | q8")(
      "protocol", po::value(&protocol)->default_value("card-a"),
      "card-a (Doge-20M/60M) | card-b (Doge-160M/320M)")(
      "threads,t", po::value(&threads)->default_value("1,2"), "thread counts, e.g. 1,2")(
      "docs", po::value(&docs)->default_value(16), "documents measured per task and setting")(
      "format", po::value(&format)->default_value("md"), "md | json")(
      "output,o", po::value(&out), "write the output to this file (atomically) instead of stdout")(
      "seed", po::value(&seed)->default_value(1), "random weights (--shape) and token ids");
  po::variables_map vm = Parse(args, desc);
  if (vm.count("help")) {
    std::cout << kBenchUsage << "\n" << desc << "\n";
    return 0;
  }
  if (format != "md" && format != "json") {
    throw Error(ErrorKind::kUsage, "", "--format", UnknownNameMessage("format", format, {"md", "json"}));
  }
  CardTaskShapes(protocol);  // validates the name before loading anything
  std::vector<int> thread_list = PositiveList("--threads", threads, false);
  if (docs < 1) throw Error(ErrorKind::kUsage, "", "--docs", "must be >= 1");
  if (!vm["dtype"].defaulted() && shape.empty()) {
    throw Error(ErrorKind::kUsage, "", "--dtype", "only with --shape (a --model folder has its own)");
  }
  auto bm = BenchModel::Open(model, shape, seed, dtype);
  std::vector<CardRow> rows = RunCardBench(*bm, protocol, thread_list, docs, seed);
  Emit(format == "json" ? FormatCardJson(rows, protocol) : FormatCardMarkdown(rows, protocol), out);
  return 0;
}

#endif  // DOGE_HAVE_BENCH

}  // namespace

int RunBench(const Args& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
    std::fputs(kBenchUsage, args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  const std::string& sub = args[1];
#ifdef DOGE_HAVE_BENCH
  if (sub == "kernels") return RunBenchKernels(args);
  if ((sub == "e2e" || sub == "eval") && tasks::LaunchedByMpiLauncher()) {
    // One measurement per rank; any rank's failure ends the job with its message (RunEval does
    // the same).
    tasks::MpiSession mpi;
    const std::string who = mpi.size() > 1 ? "rank " + std::to_string(mpi.rank()) + " on host " + mpi.host() + ": " : "";
    try {
      return sub == "e2e" ? RunBenchE2e(args, &mpi) : RunBenchEval(args, &mpi);
    } catch (const Error& e) {
      mpi.Abort("doge: error: " + who + e.what(), ExitCodeFor(e.kind()));
    } catch (const boost::program_options::error& e) {
      mpi.Abort("doge bench: error: " + who + e.what() + " (see doge bench --help)", 2);
    } catch (const std::exception& e) {
      mpi.Abort("doge: internal error: " + who + e.what(), 1);
    }
  }
  if (sub == "e2e") return RunBenchE2e(args, nullptr);
  if (sub == "eval") return RunBenchEval(args, nullptr);
  if (sub == "card") return RunBenchCard(args);
#else
  if (sub == "kernels" || sub == "e2e" || sub == "eval" || sub == "card") {
    throw Error(ErrorKind::kUsage, "", "bench " + sub,
                "this doge was built with DOGE_BUILD_BENCHMARKS=OFF; reconfigure with it ON");
  }
#endif
  throw Error(ErrorKind::kUsage, "", "bench",
              UnknownNameMessage("bench subcommand", sub, {"kernels", "e2e", "eval", "card"}));
}

}  // namespace doge::cli
