// `doge eval` (score a checkpoint on the model-card tasks) and `doge tasks ls|render` (the task
// registry and its requests, without a model). `doge tasks render`'s JSONL (task, doc_index,
// query, choices, gold_index, fewshot_indices) is used by outside checks; keep it stable.
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/interrupt.h"
#include "engine/base/file_util.h"
#include "engine/base/fingerprint.h"
#include "engine/base/hub_cache.h"
#include "engine/base/json_writer.h"
#include "engine/scoring.h"
#include "engine/tokenizer/tokenizer.h"
#include "tasks/cli/commands.h"
#include "tasks/cli/flags.h"
#include "tasks/cli/run_folder.h"
#include "tasks/data/datasets.h"
#include "tasks/data/documents.h"
#include "tasks/distributed.h"
#include "tasks/eval_run.h"
#include "tasks/evaluator.h"
#include "tasks/export_formats.h"
#include "tasks/requests.h"
#include "tasks/spec.h"
#include "tasks/task_names.h"

namespace doge::cli {

namespace po = boost::program_options;
using tasks::TaskSpec;

namespace {

constexpr const char* kEvalHelp =
    "usage: doge eval --model DIR|ORG/NAME[@REV] --tasks card|LIST|list [options]\n"
    "       mpirun -np N doge eval ... (same options)\n"
    "       doge eval merge SHARD_DIR... --out-dir DIR\n\n"
    "Scores a Doge checkpoint the way the model card's numbers were made (lighteval 0.7.0,\n"
    "five-shot; see tasks/specs/README.md). Prints acc and acc_norm side by side with k and the\n"
    "evaluated split, and with --out-dir writes DIR/results.json and DIR/details/<task>.jsonl.\n"
    "TriviaQA generates greedily as lighteval does: one max_new_tokens for all prompts from the\n"
    "longest one (min(2048 - (longest + 20), 20), at least 1), EOS among the stops, and the\n"
    "fields of DIR/generation_config.json that transformers' generate would apply (each key is\n"
    "named on stderr; one doge cannot honour, e.g. num_beams > 1, is an error).\n\n"
    "  --tasks card            the card's columns: mmlu triviaqa arc_easy arc_challenge piqa\n"
    "                          hellaswag openbookqa winogrande (ARC = mean of easy and challenge)\n"
    "  --tasks arc_easy,mmlu   a list; mmlu:anatomy is one MMLU subject; lighteval's strings\n"
    "                          (lighteval|arc:easy|5|0, k from the string) and lm-eval's names\n"
    "                          work too; --tasks list shows them all (no --model needed)\n"
    "  --model M               a checkpoint folder, or a hub id resolved in the Hugging Face cache\n"
    "                          (HF_HUB_CACHE, else HF_HOME/hub; doge model fetch ORG/NAME)\n"
    "  --protocol auto         card-a (Doge-20M/60M: built-in lighteval tasks) for models under\n"
    "                          100M parameters, card-b (Doge-160M/320M: custom ARC with balanced\n"
    "                          shots, cloze MMLU over `all`, micro average) otherwise\n"
    "  --data-dir D            canonical datasets (doge data fetch/import); default\n"
    "                          $XDG_CACHE_HOME/doge/datasets\n"
    "  --num-fewshot K         override the protocol's k (5) for every task\n"
    "  --limit N               first N documents (dataset order) of each task / MMLU subject; "
    "their\n"
    "                          shots are the ones a full run gives them\n"
    "  --out-dir DIR           results.json + details/; per-doc results are appended to\n"
    "                          details/<task>.jsonl.partial as they are scored\n"
    "  --output-format F       doge (default: results.json + details/), lighteval, lm-eval; several\n"
    "                          with commas. lighteval: DIR/results/<model>/results_<time>.json and\n"
    "                          details/<model>/<time>/*.jsonl; lm-eval: DIR/<model>/results_<time>.json\n"
    "                          and samples_<task>_<time>.jsonl (needs --out-dir)\n"
    "  --resume                continue an interrupted run in --out-dir (same model, protocol, k, limit)\n"
    "  --overwrite             replace the run already in --out-dir (its results.json and details are\n"
    "                          removed first); without it or --resume such a folder is refused\n"
    "  -t, --threads N         engine threads (default: all cores; under mpirun: per rank)\n"
    "  --prefix-cache-mb MB    memory for the KV rows of shared prompt prefixes (the five shots\n"
    "                          every MMLU question of a subject repeats), reused across documents\n"
    "                          with bit-identical scores; 0 disables it; default: a quarter of RAM,\n"
    "                          at most 1024. The summary and results.json give each task's hit rate\n"
    "                          (prompt tokens reused / tokens scored)\n"
    "  --shard K/N             evaluate only shard K (0..N-1) of every task's documents (positions\n"
    "                          p with p % N == K) into --out-dir; `doge eval merge` joins the N shard\n"
    "                          folders into the results one run gives (Slurm job arrays: --shard\n"
    "                          $SLURM_ARRAY_TASK_ID/N with --array=0-(N-1))\n"
    "  --allow-count-mismatch  evaluate samples: warn instead of failing when a split's document\n"
    "                          count differs from datasets-manifest/ (a task with no data at all\n"
    "                          is still an error)\n"
    "  (--out DIR: the old spelling of --out-dir, accepted with a note until the next release)\n\n"
    "example:\n"
    "  doge eval --model tests/data/tiny-model --tasks card --data-dir "
    "tests/data/datasets-canonical \\\n"
    "            --out-dir /tmp/run --allow-count-mismatch\n"
    "  doge report card /tmp/run/results.json\n"
    "  doge eval --model SmallDoge/Doge-20M --tasks 'lighteval|arc:easy|5|0' --out-dir /tmp/run \\\n"
    "            --output-format doge,lm-eval     (the model from the Hugging Face cache: doge model fetch)\n\n"
    "Under mpirun (or srun with PMI), rank 0 reads the tasks, hands batches of documents to the\n"
    "ranks as they ask for them (scoring batches itself too) and writes the one results.json and\n"
    "details/, appending finished documents as they arrive (--resume works with any N). Every rank\n"
    "needs the model and the data at the same paths; their SHA-256 must match rank 0's.\n"
    "  mpirun -np 4 --hostfile hosts doge eval --model M --tasks card --threads 8 --out-dir /shared/run\n";

constexpr const char* kTasksHelp =
    "usage: doge tasks ls\n"
    "       doge tasks render --task T --protocol P --data-dir D [--num-fewshot K] [--limit N]\n"
    "                         -o FILE.jsonl\n\n"
    "render writes the requests without a model, one line per evaluated doc in dataset order:\n"
    "  {\"task\", \"doc_index\", \"query\", \"choices\", \"gold_index\", \"fewshot_indices\"}\n"
    "task is the sub-task (mmlu:anatomy, arc_easy); doc_index the row in the evaluation split of\n"
    "that sub-task; query the full context (instruction, shots, separators); choices the\n"
    "continuations (leading spaces included; [\"A\",\"B\",\"C\",\"D\"] for card-a MMLU; TriviaQA: its\n"
    "gold list); fewshot_indices the rows of the few-shot split in prompt order (card-b MMLU: rows\n"
    "of the `all` test split, the present subjects concatenated alphabetically).\n"
    "--task mmlu renders every subject present in D (absent ones are noted on stderr);\n"
    "--task mmlu:anatomy one subject. Counts are not checked (samples render as they are).\n"
    "(--out FILE: the old spelling of -o/--output, accepted with a note until the next release)\n\n"
    "example: doge tasks render --task arc_easy --protocol card-a --data-dir tests/data/datasets-canonical \\\n"
    "                           -o /tmp/arc_easy.jsonl\n";

po::variables_map Parse(const std::vector<std::string>& rest, const po::options_description& desc) {
  po::variables_map vm;
  po::store(po::command_line_parser(rest).options(desc).run(), vm);
  po::notify(vm);
  return vm;
}

// Pads to `width` terminal columns (printf's %-Ns counts bytes, and "±" is two).
std::string Pad(const std::string& s, size_t width) {
  size_t cols = 0;
  for (unsigned char c : s) cols += (c & 0xC0) != 0x80;
  return cols >= width ? s : s + std::string(width - cols, ' ');
}

std::string Fmt(double v, const char* f = "%.4f") {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

int RunTasksLs() {
  std::printf("%-14s %-7s %-3s %-11s %-9s %-27s %-2s %-26s %-6s %s\n", "task", "protocol", "ver", "split",
              "fewshot", "sampler", "k", "metrics", "aggr", "reproduces");
  for (const std::string& p : tasks::ProtocolNames()) {
    for (const std::string& t : tasks::CardTaskNames()) {
      const TaskSpec& s = tasks::FindTaskSpec(t, p);
      std::string metrics;
      for (const std::string& m : s.metrics) metrics += (metrics.empty() ? "" : ",") + m;
      std::printf("%-14s %-8s %-3d %-11s %-9s %-27s %-2d %-26s %-6s %s\n", s.task.c_str(), s.protocol.c_str(),
                  s.version, s.evaluation_split.c_str(), s.few_shots_split.c_str(), s.few_shots_select.c_str(),
                  s.num_fewshot, metrics.c_str(), s.aggregation.c_str(), s.lighteval.c_str());
    }
  }
  std::printf("\nsuite card = mmlu triviaqa arc_easy arc_challenge piqa hellaswag openbookqa winogrande\n");
  return 0;
}

int RunTasksRender(const std::vector<std::string>& rest) {
  po::options_description desc("doge tasks render");
  desc.add_options()("help,h", "")("task", po::value<std::string>(), "")("protocol", po::value<std::string>(), "")(
      "data-dir", po::value<std::string>(), "")("num-fewshot", po::value<int>()->default_value(-1), "")(
      "limit", po::value<int64_t>()->default_value(-1), "")("output,o", po::value<std::string>(), "");
  po::variables_map vm = Parse(ApplyFlagAliases(rest, 0, {{"--out", "--output"}}, "doge tasks render"), desc);
  if (vm.count("help")) {
    std::fputs(kTasksHelp, stdout);
    return 0;
  }
  for (const char* req : {"task", "protocol", "data-dir", "output"}) {
    if (!vm.count(req)) throw Error(ErrorKind::kUsage, "", std::string("--") + req, "required (see doge tasks --help)");
  }
  const auto [base, subject] = tasks::SplitSubtask(vm["task"].as<std::string>());
  const TaskSpec& spec = tasks::FindTaskSpec(base, vm["protocol"].as<std::string>());
  tasks::PrepareOptions opt;
  opt.data_dir = vm["data-dir"].as<std::string>();
  opt.subject = subject;
  opt.num_fewshot = vm["num-fewshot"].as<int>();
  opt.limit = vm["limit"].as<int64_t>();
  const tasks::PreparedTask t = tasks::PrepareTask(spec, opt);
  if (!t.skipped_subjects.empty()) {
    std::fprintf(stderr, "doge tasks render: note: %zu mmlu subjects have no %s split in %s; skipped\n",
                 t.skipped_subjects.size(), spec.evaluation_split.c_str(), opt.data_dir.c_str());
  }
  std::string out;
  for (const tasks::TaskUnit& u : t.units) {
    for (const tasks::EvalDoc& d : u.docs) out += tasks::RenderLine(d) + "\n";
  }
  WriteFileAtomic(vm["output"].as<std::string>(), out);
  std::fprintf(stderr, "doge tasks render: %lld docs of %s (%s, %d-shot) -> %s\n",
               static_cast<long long>(t.n_docs()), vm["task"].as<std::string>().c_str(), spec.protocol.c_str(),
               t.k, vm["output"].as<std::string>().c_str());
  NoteWrote("doge tasks render", vm["output"].as<std::string>());
  return 0;
}

// All *.safetensors of a model folder, sorted, with their hashes.
std::vector<std::pair<std::string, std::string>> WeightHashes(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 12 && n.substr(n.size() - 12) == ".safetensors") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& n : names) out.emplace_back(n, Sha256File(dir + "/" + n));
  return out;
}

}  // namespace

int RunTasks(const Args& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    std::fputs(kTasksHelp, args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 2, args.end());
  if (args[1] == "ls") return RunTasksLs();
  if (args[1] == "render") return RunTasksRender(rest);
  throw Error(ErrorKind::kUsage, "", "tasks", UnknownNameMessage("tasks command", args[1], {"ls", "render"}));
}

namespace {

// `doge eval`'s command line, every value checked against its domain.
struct EvalFlags {
  std::string model_arg;  // --model as given
  std::string model_dir;  // a folder, or ORG/NAME[@REV] resolved in the Hugging Face cache
  std::string data_dir, out_dir, protocol;
  bool allow = false, resume = false, overwrite = false, sharded = false;
  int64_t limit = -1;
  int num_fewshot = -1;
  int threads = 0;
  int batch_docs = 64;
  int64_t prefix_cache_bytes = 0;
  std::vector<std::string> formats;  // doge|lighteval|lm-eval (tasks/export_formats.h)
  tasks::ShardSpec shard;
};

// --model and --tasks are present (checked by the caller).
EvalFlags ReadEvalFlags(const po::variables_map& vm) {
  EvalFlags f;
  f.model_arg = vm["model"].as<std::string>();
  // A folder, or ORG/NAME[@REV] resolved in the Hugging Face cache (engine/base/hub_cache.h).
  f.model_dir = ResolveModelPath(f.model_arg);
  f.data_dir = vm.count("data-dir") ? vm["data-dir"].as<std::string>() : data::DefaultDataDir();
  f.allow = vm.count("allow-count-mismatch") > 0;
  f.limit = vm["limit"].as<int64_t>();
  f.num_fewshot = vm["num-fewshot"].as<int>();
  f.out_dir = vm.count("out-dir") ? vm["out-dir"].as<std::string>() : "";
  f.resume = vm.count("resume") > 0;
  if (f.resume && f.out_dir.empty()) throw Error(ErrorKind::kUsage, "", "--resume", "needs --out-dir DIR");
  // Values outside their domain are usage errors, never a silent default (-1 means "the
  // protocol's k" / "everything" only when the flag is left out).
  if (!vm["num-fewshot"].defaulted() && (f.num_fewshot < 0 || f.num_fewshot > 1000)) {
    throw Error(ErrorKind::kUsage, "", "--num-fewshot",
                "expected a shot count in [0, 1000], got " + std::to_string(f.num_fewshot));
  }
  if (!vm["limit"].defaulted() && f.limit < 1) {
    throw Error(ErrorKind::kUsage, "", "--limit",
                "expected a document count >= 1 (leave it out for every document), got " + std::to_string(f.limit));
  }
  if (vm["threads"].as<int>() < 0) {
    throw Error(ErrorKind::kUsage, "", "--threads",
                "expected >= 0 (0 = all cores), got " + std::to_string(vm["threads"].as<int>()));
  }
  if (vm["batch-docs"].as<int>() < 1) throw Error(ErrorKind::kUsage, "", "--batch-docs", "expected >= 1");
  f.batch_docs = vm["batch-docs"].as<int>();
  f.overwrite = vm.count("overwrite") > 0;
  if (f.overwrite && f.resume) throw Error(ErrorKind::kUsage, "", "--overwrite", "give --resume or --overwrite, not both");
  if (f.overwrite && f.out_dir.empty()) throw Error(ErrorKind::kUsage, "", "--overwrite", "needs --out-dir DIR");
  f.threads = ResolveThreads(vm["threads"].as<int>());
  f.prefix_cache_bytes = DefaultPrefixCacheBytes();
  if (vm.count("prefix-cache-mb")) {
    const int64_t mb = vm["prefix-cache-mb"].as<int64_t>();
    if (mb < 0 || mb > (int64_t{1} << 40)) {
      throw Error(ErrorKind::kUsage, "", "--prefix-cache-mb",
                  "expected MiB in [0, 2^40] (0 disables), got " + std::to_string(mb));
    }
    f.prefix_cache_bytes = mb << 20;
  }
  f.formats = tasks::ParseOutputFormats(vm["output-format"].as<std::string>());
  if (f.out_dir.empty() && (f.formats.size() > 1 || f.formats[0] != "doge")) {
    throw Error(ErrorKind::kUsage, "", "--output-format", "needs --out-dir DIR (the files are written inside it)");
  }
  f.sharded = vm.count("shard") > 0;
  if (f.sharded) f.shard = tasks::ParseShard(vm["shard"].as<std::string>());
  if (f.sharded && f.out_dir.empty()) throw Error(ErrorKind::kUsage, "", "--shard", "needs --out-dir DIR (one folder per shard)");
  f.protocol = vm["protocol"].as<std::string>();
  return f;
}

// The model side of a run: engine, tokenizer, generation config and the hashes that identify them.
struct EvalModel {
  LoadedGenerationConfig gen_config;
  std::unique_ptr<DogeLanguageModel> lm;
  std::unique_ptr<Tokenizer> tok;
  std::vector<std::pair<std::string, std::string>> weights;  // file -> sha256
  std::string tok_sha;
};

EvalModel LoadEvalModel(const EvalFlags& f) {
  EvalModel m;
  // transformers' generate applies the checkpoint's generation_config.json for every field
  // lighteval does not pass; read it first so an unsupported field fails before the weights load.
  m.gen_config = LoadGenerationConfig(f.model_dir);
  m.lm = DogeLanguageModel::Load(f.model_dir, f.threads);
  m.lm->SetPrefixCacheBytes(f.prefix_cache_bytes);
  m.tok = LoadTokenizer(f.model_dir);
  if (m.gen_config.present) {
    m.gen_config.config.eos_token_id = m.tok->eos_id();  // lighteval passes the tokenizer's EOS
    m.lm->set_generation_config(m.gen_config.config);
    std::string applied;
    for (const std::string& a : m.gen_config.applied) applied += (applied.empty() ? "" : ", ") + a;
    std::fprintf(stderr, "doge eval: %s: applied to generation: %s\n", m.gen_config.path.c_str(),
                 applied.empty() ? "nothing (plain greedy)" : applied.c_str());
    for (const std::string& note : m.gen_config.notes) {
      std::fprintf(stderr, "doge eval: %s: %s\n", m.gen_config.path.c_str(), note.c_str());
    }
  }
  m.weights = WeightHashes(f.model_dir);
  m.tok_sha = Sha256File(m.tok->path());
  return m;
}

// Every rank must run the same command (tasks and settings: they decide which collective steps
// follow) with the same build, model and tokenizer as rank 0. Returns the dispatcher that hands
// out documents; `ranks` gets each rank's host and threads.
std::unique_ptr<tasks::MpiDispatcher> StartDistributed(tasks::MpiSession& mpi, const po::variables_map& vm,
                                                       const EvalFlags& f, const tasks::EvalTaskPlan& plan,
                                                       const std::string& protocol, const EvalModel& m,
                                                       std::vector<tasks::RankInfo>& ranks) {
  std::string task_list;
  for (const std::string& n : plan.names) task_list += (task_list.empty() ? "" : ",") + n;
  std::vector<std::pair<std::string, std::string>> same = {
      {"doge git revision", GitRevision()},
      {"--tasks", task_list},
      {"protocol, limit, shard",
       protocol + " limit=" + std::to_string(f.limit) + (f.sharded ? " shard=" + tasks::ShardName(f.shard) : "")},
      {"--num-fewshot", std::to_string(f.num_fewshot)},
      {"generation_config.json", m.gen_config.present ? Sha256File(m.gen_config.path) : "absent"},
      {"--allow-count-mismatch", f.allow ? "given" : "not given"},
      {std::filesystem::path(m.tok->path()).filename().string(), m.tok_sha}};
  for (const auto& [n, h] : m.weights) same.emplace_back(n, h);
  mpi.VerifySame(f.model_dir, same);
  ranks = mpi.GatherRankInfo(f.threads, GetMachineFingerprint().cpu_model);
  auto dispatcher = std::make_unique<tasks::MpiDispatcher>(mpi);
  if (vm.count("debug-delay-ms-per-doc")) dispatcher->set_debug_delay_ms_per_doc(vm["debug-delay-ms-per-doc"].as<int>());
  return dispatcher;
}

// The hidden test flags: a SIGKILL or a real SIGINT of this process after N documents (counted
// over the run through `docs_before`), or under mpirun a worker rank that kills itself.
void InstallDebugHooks(const po::variables_map& vm, tasks::MpiSession* mpi, bool lead,
                       tasks::MpiDispatcher* dispatcher, const int64_t& docs_before, tasks::EvalOptions& opt) {
  const int kill_rank = vm["debug-kill-rank"].as<int>();
  if (vm.count("debug-kill-after-docs") && kill_rank > 0) {
    if (dispatcher && mpi->rank() == kill_rank) dispatcher->set_debug_kill_after_docs(vm["debug-kill-after-docs"].as<int64_t>());
  } else if (vm.count("debug-sigint-after-docs") && lead) {
    // A Ctrl-C at a known point (the interrupt test): the real signal, through the real handler.
    const int64_t after = vm["debug-sigint-after-docs"].as<int64_t>();
    opt.after_batch = [after, &docs_before](int64_t done) {
      if (docs_before + done >= after) kill(getpid(), SIGINT);
    };
  } else if (vm.count("debug-kill-after-docs") && lead) {
    const int64_t kill_after = vm["debug-kill-after-docs"].as<int64_t>();
    opt.after_batch = [kill_after, &docs_before](int64_t done) {
      if (docs_before + done >= kill_after) kill(getpid(), SIGKILL);
    };
  }
}

// Summary: acc and acc_norm side by side, with k and the split (eval-protocol.md §6.1, §6.9).
void PrintEvalSummary(const std::string& model_name, const std::string& protocol, const EvalFlags& f,
                      const tasks::EvalRunRecord& run) {
  std::printf("\n%s, protocol %s (lighteval 0.7.0 %s)%s\n", model_name.c_str(), protocol.c_str(),
              protocol == "card-a" ? "protocol A" : "protocol B",
              f.limit >= 0 ? (", limit " + std::to_string(f.limit)).c_str() : "");
  std::printf("%-14s %-2s %-11s %6s  %-16s %-16s %-16s %-7s %8s %10s %7s\n", "task", "k", "split", "n", "acc", "acc_norm", "qem",
              "aggr", "docs/s", "tokens/s", "prefix");
  for (size_t ri = 0; ri < run.results.size(); ++ri) {
    const tasks::TaskResult& r = run.results[ri];
    auto cell = [&](const char* m) -> std::string {
      auto it = r.metrics.find(m);
      if (it == r.metrics.end()) return "-";
      return Fmt(it->second.value) + " ± " + Fmt(it->second.stderr);
    };
    std::printf("%-14s %-2d %-11s %6lld  %s %s %s %-7s %8.1f %10.0f %6.1f%%\n", r.spec->task.c_str(), r.k,
                r.spec->evaluation_split.c_str(), static_cast<long long>(r.n), Pad(cell("acc"), 16).c_str(),
                Pad(cell("acc_norm"), 16).c_str(), Pad(cell("qem"), 16).c_str(), r.spec->aggregation.c_str(),
                r.docs_per_s, r.scored_tokens_per_s, 100.0 * run.reuse[ri].rate());
  }
  std::printf("prefix: share of the scored prompt tokens reused from the prefix cache (--prefix-cache-mb %lld; "
              "scores are identical without it).\n",
              static_cast<long long>(f.prefix_cache_bytes >> 20));
  std::printf("acc_norm: ÷ characters of the choice, not counting its leading space (ARC, PIQA, OBQA, "
              "MMLU card-b); ÷ characters of the ending (HellaSwag).\n");
}

// What results.json records besides the task results: model, tokenizer, settings, shards.
void DescribeRun(const EvalFlags& f, const EvalModel& m, const std::string& model_name, const std::string& protocol,
                 const std::string& identity, const std::vector<tasks::PreparedTask>& prepared,
                 tasks::EvalRunRecord& run) {
  run.model_path = f.model_dir;
  run.model_id = f.model_arg;
  run.model_name = model_name;
  run.n_params = m.lm->n_params();
  run.layout = m.lm->layout_name();
  run.weights_sha256 = m.weights;
  run.tokenizer_path = m.tok->path();
  run.tokenizer_sha256 = m.tok_sha;
  run.protocol = protocol;
  run.threads = f.threads;
  run.limit = f.limit;
  run.sharded = f.sharded;
  run.shard = f.shard;
  run.run_identity = identity;
  for (const tasks::PreparedTask& t : prepared) run.n_total.emplace_back(t.spec->task, t.n_docs());
}

int RunEvalIn(const Args& args, tasks::MpiSession* mpi) {
  po::options_description desc("doge eval");
  desc.add_options()("help,h", "")("model", po::value<std::string>(), "")("tasks", po::value<std::string>(), "")(
      "protocol", po::value<std::string>()->default_value("auto"), "")("data-dir", po::value<std::string>(), "")(
      "num-fewshot", po::value<int>()->default_value(-1), "")("limit", po::value<int64_t>()->default_value(-1), "")(
      "out-dir", po::value<std::string>(), "")("resume", "")("threads,t", po::value<int>()->default_value(0), "")(
      "prefix-cache-mb", po::value<int64_t>(), "")(
      "allow-count-mismatch", "")("output-format", po::value<std::string>()->default_value("doge"), "")(
      "shard", po::value<std::string>(), "")("overwrite", "")
      // Hidden, for tests: documents per engine call, and a SIGKILL of this process after N docs
      // are flushed (the resume test kills a real run at a known point); under mpirun,
      // --debug-kill-rank R > 0 makes rank R kill itself after scoring N docs instead; a worker
      // rank given --debug-delay-ms-per-doc plays a slow host (the load-balancing test);
      // --debug-sigint-after-docs N sends this process a real SIGINT (Ctrl-C) after N docs.
      ("batch-docs", po::value<int>()->default_value(64), "")("debug-kill-after-docs", po::value<int64_t>(), "")(
          "debug-sigint-after-docs", po::value<int64_t>(), "")(
          "debug-kill-rank", po::value<int>()->default_value(0), "")("debug-delay-ms-per-doc", po::value<int>(), "");
  const Args argv = ApplyFlagAliases(args, 1, {{"--out", "--out-dir"}}, "doge eval");
  po::variables_map vm = Parse(std::vector<std::string>(argv.begin() + 1, argv.end()), desc);
  if (vm.count("help")) {
    std::fputs(kEvalHelp, stdout);
    return 0;
  }
  if (vm.count("tasks") && vm["tasks"].as<std::string>() == "list") {  // no model needed
    std::fputs(tasks::TaskNamesListing().c_str(), stdout);
    return 0;
  }
  for (const char* req : {"model", "tasks"}) {
    if (!vm.count(req)) throw Error(ErrorKind::kUsage, "", std::string("--") + req, "required (see doge eval --help)");
  }
  const EvalFlags f = ReadEvalFlags(vm);
  // Under mpirun with more than one rank: rank 0 coordinates and writes, the others only score.
  const bool distributed = mpi && mpi->size() > 1;
  const bool lead = !mpi || mpi->rank() == 0;
  const tasks::EvalTaskPlan plan =
      tasks::PlanEvalTasks(ParseStringList(vm["tasks"].as<std::string>()), f.num_fewshot, f.protocol, f.data_dir,
                           [](const std::string& note) { std::fprintf(stderr, "doge eval: note: %s\n", note.c_str()); });
  // Never mix two runs in one folder (tasks/cli/run_folder.h); rank 0 owns the files. Only now,
  // after every check of the command line, does --overwrite remove anything.
  if (lead && !f.out_dir.empty()) PrepareRunFolder(f.out_dir, f.resume, f.overwrite, "doge eval");

  const auto t_start = std::chrono::steady_clock::now();
  EvalModel m = LoadEvalModel(f);
  const std::string protocol = f.protocol == "auto" ? tasks::AutoProtocol(m.lm->n_params()) : f.protocol;
  const std::string model_name = ModelDisplayName(f.model_arg);
  if (lead) {
    std::fprintf(stderr, "doge eval: %s (%lld params, layout %s), protocol %s, %d threads%s, data %s\n",
                 model_name.c_str(), static_cast<long long>(m.lm->n_params()), m.lm->layout_name().c_str(),
                 protocol.c_str(), f.threads,
                 distributed ? (" per rank, " + std::to_string(mpi->size()) + " ranks").c_str() : "",
                 f.data_dir.c_str());
  }
  std::string identity = protocol + " limit=" + std::to_string(f.limit) + " tok=" + m.tok_sha;
  for (const auto& [n, h] : m.weights) identity += " " + n + "=" + h;
  if (m.gen_config.present) identity += " generation_config=" + Sha256File(m.gen_config.path);
  // A shard resumes only into the same shard; `doge eval merge` drops this suffix again.
  if (f.sharded) identity += " shard=" + tasks::ShardName(f.shard);
  std::unique_ptr<tasks::MpiDispatcher> dispatcher;
  std::vector<tasks::RankInfo> ranks;
  if (distributed) {
    dispatcher = StartDistributed(*mpi, vm, f, plan, protocol, m, ranks);
  }

  tasks::EvalRunRecord run;
  std::vector<tasks::PreparedTask> prepared;
  prepared.reserve(plan.names.size());
  tasks::EvalOptions opt;
  opt.out_dir = lead ? f.out_dir : "";  // rank 0 keeps the files
  opt.data_dir = f.data_dir;
  opt.resume = f.resume;
  opt.batch_docs = f.batch_docs;
  opt.show_progress = isatty(fileno(stderr));
  opt.run_identity = identity;
  opt.dispatcher = dispatcher.get();
  int64_t docs_before = 0;
  InstallDebugHooks(vm, mpi, lead, dispatcher.get(), docs_before, opt);
  for (const std::string& n : plan.names) {
    // Under mpirun the other ranks' files are compared with rank 0's by hash below, so the
    // counts (and their warnings, once rather than once per rank) are rank 0's to check.
    prepared.push_back(tasks::PrepareEvalTask(n, protocol, plan.NumFewshot(n, f.num_fewshot), f.limit, f.data_dir,
                                              f.allow, lead));
    const tasks::PreparedTask& t = prepared.back();
    if (distributed) {
      // Same documents everywhere: the files each rank read must hash as rank 0's do.
      std::vector<std::pair<std::string, std::string>> same = {{n, "evaluated"}};
      for (const std::string& file : t.data_files) same.emplace_back(file, Sha256File(f.data_dir + "/" + file));
      mpi->VerifySame(f.data_dir, same);
    }
    const PrefixCacheStats before = m.lm->prefix_cache_stats();
    run.results.push_back(tasks::EvaluateTask(f.sharded ? tasks::ShardTask(t, f.shard) : t, *m.lm, *m.tok, opt));
    const PrefixCacheStats after = m.lm->prefix_cache_stats();
    run.reuse.push_back({after.tokens_reused - before.tokens_reused, after.tokens_scored - before.tokens_scored});
    docs_before += run.results.back().docs_scored;
  }
  run.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  if (!lead) return 0;
  if (dispatcher) {
    for (tasks::RankInfo& r : ranks) r.docs_scored = dispatcher->docs_by_rank().at(static_cast<size_t>(r.rank));
  }
  PrintEvalSummary(model_name, protocol, f, run);
  if (f.out_dir.empty()) return 0;

  DescribeRun(f, m, model_name, protocol, identity, prepared, run);
  if (distributed) run.n_ranks = mpi->size();
  run.ranks = ranks;
  tasks::WriteResultsJson(f.out_dir, run);
  NoteWrote("doge eval", f.out_dir + "/results.json");
  NoteWrote("doge eval", f.out_dir + "/details/");
  for (const std::string& format : f.formats) {
    for (const std::string& p : tasks::ExportResults(f.out_dir, format)) NoteWrote("doge eval", p + " (" + format + ")");
  }
  return 0;
}

}  // namespace

int RunEval(const Args& args) {
  if (args.size() >= 2 && args[1] == "merge") return RunEvalMerge(Args(args.begin() + 1, args.end()));
  if (!tasks::LaunchedByMpiLauncher()) {
    // Ctrl-C stops at the next batch boundary with the finished documents saved (exit 130); under
    // mpirun the launcher owns the signals and ends every rank.
    InstallInterruptHandler();
    return RunEvalIn(args, nullptr);
  }
  // Under an MPI launcher: any rank's failure ends the whole job with that rank's message (a rank
  // left waiting for a dead peer would hang); main() never sees the error.
  tasks::MpiSession mpi;
  const std::string who = mpi.size() > 1 ? "rank " + std::to_string(mpi.rank()) + " on host " + mpi.host() + ": " : "";
  try {
    return RunEvalIn(args, &mpi);
  } catch (const Error& e) {
    mpi.Abort("doge: error: " + who + e.what(), ExitCodeFor(e.kind()));
  } catch (const boost::program_options::error& e) {
    mpi.Abort("doge eval: error: " + who + e.what() + " (see doge eval --help)", 2);
  } catch (const std::exception& e) {
    mpi.Abort("doge: internal error: " + who + e.what(), 1);
  }
}

}  // namespace doge::cli
