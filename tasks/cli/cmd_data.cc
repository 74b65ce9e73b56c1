// `doge data fetch|import|verify|ls`: getting the evaluation datasets into the
// canonical layout of tasks/data/documents.h, and checking what a data directory holds. The
// `import` contract (--dataset NAME --split SPLIT --from PATH [--data-dir D]; --dir D until the
// next release) is used by outside checks; keep it stable.
#include <boost/program_options.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "engine/base/error.h"
#include "tasks/cli/commands.h"
#include "tasks/data/datasets.h"
#include "tasks/cli/flags.h"
#include "tasks/data/documents.h"
#include "tasks/data/fetch.h"
#include "tasks/data/import.h"
#include "tasks/data/inventory.h"
#include "tasks/data/manifest.h"

namespace doge::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "usage: doge data <command> [options]\n\n"
    "  fetch   [--tasks arc_easy,mmlu,...] [--data-dir D]   download, verify, convert (all by default)\n"
    "  import  --dataset NAME --split SPLIT --from PATH [--data-dir D]\n"
    "                                                 convert a local file in the original format\n"
    "          (triviaqa: --from the UW release folder, or --from qa/web-dev.json --from\n"
    "          qa/wikipedia-dev.json; rc.nocontext = web then wikipedia, as HF builds it)\n"
    "  verify  [--data-dir D] [--allow-count-mismatch] parse every split, check counts and hashes\n"
    "  ls      [--data-dir D]                          what is present: counts, hashes\n\n"
    "D defaults to $XDG_CACHE_HOME/doge/datasets (~/.cache/doge/datasets), the folder doge eval\n"
    "reads by default. (--dir D: the old spelling of --data-dir, accepted with a note until the\n"
    "next release.)\n"
    "datasets: arc_easy arc_challenge piqa hellaswag openbookqa winogrande mmlu triviaqa\n\n"
    "examples:\n"
    "  doge data fetch                        every card dataset into the default folder\n"
    "  doge data import --dataset piqa --split validation --from valid.jsonl --data-dir data/\n"
    "  doge data verify --data-dir data/\n";

po::variables_map Parse(const Args& args, const po::options_description& desc) {
  po::variables_map vm;
  const Args argv = ApplyFlagAliases(args, 2, {{"--dir", "--data-dir"}}, "doge " + args[0] + " " + args[1]);
  std::vector<std::string> rest(argv.begin() + 2, argv.end());
  po::store(po::command_line_parser(rest).options(desc).run(), vm);
  po::notify(vm);
  return vm;
}

std::string DirOption(const po::variables_map& vm) {
  return vm.count("data-dir") ? vm["data-dir"].as<std::string>() : data::DefaultDataDir();
}

std::string ManifestDirOption(const po::variables_map& vm) {
  return vm.count("manifest-dir") ? vm["manifest-dir"].as<std::string>() : data::DefaultManifestDir();
}

// Prints a warning for each imported file whose count differs from the manifest (import of a
// sample must succeed; the strict check is verify's and the evaluator's).
void WarnCounts(const std::string& manifest_dir, const std::string& dataset, const std::string& split,
                const std::vector<data::ImportedFile>& files) {
  data::DatasetManifest m = data::LoadDatasetManifest(manifest_dir, dataset);
  for (const auto& f : files) {
    int64_t expected = data::ExpectedCount(m, split, f.subject);
    if (expected >= 0 && expected != f.rows) {
      std::fprintf(stderr,
                   "doge: warning: %s has %lld documents, the manifest (%s) expects %lld; fine for a "
                   "sample, but `doge data verify` and evaluation will refuse it without "
                   "--allow-count-mismatch\n",
                   f.path.c_str(), static_cast<long long>(f.rows), m.path.c_str(),
                   static_cast<long long>(expected));
    }
  }
  const data::DatasetAdapter& adapter = data::FindDatasetAdapter(dataset);
  if (adapter.per_subject() && files.size() < adapter.subjects().size()) {
    std::fprintf(stderr, "doge: warning: imported %zu of %zu MMLU subjects for split %s\n", files.size(),
                 adapter.subjects().size(), split.c_str());
  }
}

int RunImport(const Args& args) {
  po::options_description desc("doge data import");
  desc.add_options()("help,h", "this help")(
      "dataset", po::value<std::string>(), "arc_easy arc_challenge piqa hellaswag openbookqa winogrande mmlu triviaqa")(
      "split", po::value<std::string>(), "train | validation | test (mmlu: dev | validation | test)")(
      "from", po::value<std::vector<std::string>>()->composing(),
      "original-format file (mmlu: folder of <subject>_<split>.csv; triviaqa: the UW release "
      "folder, or qa/web-<s>.json and/or qa/wikipedia-<s>.json, --from once per file)")(
      "data-dir", po::value<std::string>(), "data directory (default: the cache dir)")(
      "manifest-dir", po::value<std::string>(), "manifest folder (default: datasets-manifest/)");
  auto vm = Parse(args, desc);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << desc;
    return 0;
  }
  for (const char* required : {"dataset", "split", "from"}) {
    if (!vm.count(required)) throw Error(ErrorKind::kUsage, "", std::string("--") + required, "required");
  }
  std::string dataset = vm["dataset"].as<std::string>(), split = vm["split"].as<std::string>();
  std::string dir = DirOption(vm);
  auto files = data::ImportSplit(dataset, split, vm["from"].as<std::vector<std::string>>(), dir);
  for (const auto& f : files) {
    std::printf("%s\t%lld documents\tsha256 %s\n", f.path.c_str(), static_cast<long long>(f.rows),
                f.sha256.c_str());
    NoteWrote("doge data", f.path);
  }
  WarnCounts(ManifestDirOption(vm), dataset, split, files);
  return 0;
}

int RunVerifyOrLs(const Args& args, bool verify) {
  po::options_description desc(verify ? "doge data verify" : "doge data ls");
  desc.add_options()("help,h", "this help")("data-dir", po::value<std::string>(), "data directory (default: the cache dir)")(
      "manifest-dir", po::value<std::string>(), "manifest folder")(
      "allow-count-mismatch", "report count mismatches without failing (partial copies)");
  auto vm = Parse(args, desc);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << desc;
    return 0;
  }
  std::string dir = DirOption(vm);
  // ls only describes; verify is strict (count mismatches fail unless allowed).
  auto reports = data::InspectDataDir(dir, ManifestDirOption(vm), /*validate=*/verify,
                                      !verify || vm.count("allow-count-mismatch") > 0);
  std::printf("data dir: %s\n", dir.c_str());
  if (reports.empty()) {
    std::printf("(no canonical splits here; see `doge data fetch` / `doge data import`)\n");
    if (verify) throw Error(ErrorKind::kDataset, dir, "", "no datasets to verify");
    return 0;
  }
  std::printf("%-14s %-34s %10s %10s  %-14s %s\n", "dataset", "split", "docs", "expected", "sha256",
              verify ? "status" : "lock");
  int problems = 0;
  for (const auto& r : reports) {
    std::string split = r.subject.empty() ? r.split : r.subject + "/" + r.split;
    std::string expected = r.expected < 0 ? "?" : std::to_string(r.expected);
    std::string status;
    if (!r.problem.empty()) {
      status = "FAIL: " + r.problem;
      ++problems;
    } else if (r.count_mismatch) {
      status = "count differs (allowed)";
    } else {
      status = r.locked_sha256.empty() ? "ok (not in lock: imported)" : "ok (matches lock)";
    }
    if (!verify) {
      status = !r.problem.empty()      ? "FAIL: " + r.problem
               : r.locked_sha256.empty() ? "-"
                                         : "locked";
      if (r.count_mismatch) status += " (partial: count differs from the manifest)";
    }
    std::printf("%-14s %-34s %10lld %10s  %-14s %s\n", r.dataset.c_str(), split.c_str(),
                static_cast<long long>(r.rows), expected.c_str(), r.sha256.substr(0, 12).c_str(),
                status.c_str());
  }
  if (verify && problems > 0) {
    throw Error(ErrorKind::kDataset, dir, "", std::to_string(problems) + " split(s) failed verification");
  }
  return 0;
}

int RunFetch(const Args& args) {
  po::options_description desc("doge data fetch");
  desc.add_options()("help,h", "this help")(
      "tasks", po::value<std::string>(), "comma-separated datasets (task names; 'arc' = both ARC); default all")(
      "data-dir", po::value<std::string>(), "data directory (default: the cache dir)")(
      "manifest-dir", po::value<std::string>(), "manifest folder (default: datasets-manifest/)")(
      "base-url", po::value<std::string>(), "mirror: replace scheme://host of every URL (also $DOGE_DATA_MIRROR)")(
      "allow-count-mismatch", "convert even when a split's count differs from the manifest")(
      "force", "download again even when a verified copy is cached")(
      "retries", po::value<int>()->default_value(5), "retries per download")(
      "retry-backoff-ms", po::value<int>()->default_value(1000), "first retry wait (doubles)")(
      "timeout", po::value<int>()->default_value(60), "seconds under 1 byte/s before a retry");
  auto vm = Parse(args, desc);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << desc;
    return 0;
  }
  data::FetchOptions opt;
  opt.dir = DirOption(vm);
  opt.manifest_dir = ManifestDirOption(vm);
  if (vm.count("base-url")) {
    opt.base_url = vm["base-url"].as<std::string>();
  } else if (const char* env = std::getenv("DOGE_DATA_MIRROR")) {
    opt.base_url = env;
  }
  if (vm.count("tasks")) {
    for (const std::string& t : ParseStringList(vm["tasks"].as<std::string>())) {
      if (t == "arc") {
        opt.datasets.push_back("arc_easy");
        opt.datasets.push_back("arc_challenge");
      } else {
        opt.datasets.push_back(t);
      }
    }
    // An empty list would otherwise mean "all": a typo such as `--tasks $UNSET` must not fetch
    // eight datasets (or, in a script that expected one, succeed having fetched the wrong ones).
    if (opt.datasets.empty()) {
      throw Error(ErrorKind::kUsage, "", "--tasks", "names no dataset; leave the option out to fetch all");
    }
  }
  opt.allow_count_mismatch = vm.count("allow-count-mismatch") > 0;
  opt.force = vm.count("force") > 0;
  opt.download.retries = vm["retries"].as<int>();
  opt.download.backoff_ms = vm["retry-backoff-ms"].as<int>();
  opt.download.low_speed_time_s = vm["timeout"].as<int>();
  auto files = data::FetchDatasets(opt);
  for (const auto& f : files) {
    std::printf("%s\t%lld documents\tsha256 %s\n", f.path.c_str(), static_cast<long long>(f.rows),
                f.sha256.c_str());
  }
  return 0;
}

}  // namespace

int RunData(const Args& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
    std::fputs(kUsage, args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  const std::string& cmd = args[1];
  if (cmd == "import") return RunImport(args);
  if (cmd == "verify") return RunVerifyOrLs(args, true);
  if (cmd == "ls") return RunVerifyOrLs(args, false);
  if (cmd == "fetch") return RunFetch(args);
  throw Error(ErrorKind::kUsage, "", "data", UnknownNameMessage("data command", cmd, {"fetch", "import", "verify", "ls"}));
}

}  // namespace doge::cli
