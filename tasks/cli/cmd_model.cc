// `doge model fetch|ls|path`: Doge checkpoints in the Hugging Face cache (engine/base/hub_cache.h for
// the layout and the lookup every --model goes through, tasks/data/hub_fetch.h for downloads).
#include <unistd.h>

#include <boost/program_options.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/hub_cache.h"
#include "tasks/cli/commands.h"
#include "tasks/cli/flags.h"
#include "tasks/data/hub_fetch.h"

namespace doge::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "usage: doge model <command> [options]\n\n"
    "Doge checkpoints in the Hugging Face cache, shared with transformers: every --model accepts\n"
    "a folder or a hub id ORG/NAME[@REVISION], looked up in the cache offline.\n\n"
    "  fetch ORG/NAME [--revision R]   download config, weights (sharded too) and tokenizer files\n"
    "                                  into the cache; verifies each weight file's SHA-256\n"
    "  ls [--all]                      cached Doge models (--all: every cached model with a config)\n"
    "  path ORG/NAME[@REVISION]        print the snapshot folder a --model value resolves to\n\n"
    "cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub\n"
    "hub:   $HF_ENDPOINT (default https://huggingface.co), token $HF_TOKEN when set;\n"
    "       HF_HUB_OFFLINE=1 refuses fetch (lookups never use the network)\n\n"
    "example: doge model fetch SmallDoge/Doge-20M && doge info --model SmallDoge/Doge-20M\n";

constexpr const char* kFetchHelp =
    "usage: doge model fetch ORG/NAME [--revision R] [--cache-dir D]\n\n"
    "Downloads config.json, generation_config.json, model.safetensors (or the index and every\n"
    "shard), tokenizer.json / tokenizer.model and the tokenizer configs of a hub model into the\n"
    "Hugging Face cache, laid out as huggingface_hub does (blobs/<etag>, snapshots/<commit>/,\n"
    "refs/<revision>). Partial downloads (blobs/<etag>.incomplete) are resumed; a weight file whose\n"
    "SHA-256 differs from the hub's X-Linked-Etag is refused. Prints the snapshot folder on stdout.\n\n"
    "  --revision R     branch, tag or commit (default main)\n"
    "  --cache-dir D    cache folder (default $HF_HUB_CACHE, else $HF_HOME/hub, else\n"
    "                   ~/.cache/huggingface/hub)\n\n"
    "example: doge model fetch SmallDoge/Doge-20M\n"
    "         HF_ENDPOINT=https://hf-mirror.com doge model fetch SmallDoge/Doge-60M --revision main\n";

po::variables_map Parse(const Args& args, const po::options_description& desc, const po::positional_options_description* pos) {
  po::variables_map vm;
  std::vector<std::string> rest(args.begin() + 2, args.end());
  po::command_line_parser p(rest);
  p.options(desc);
  if (pos) p.positional(*pos);
  po::store(p.run(), vm);
  po::notify(vm);
  return vm;
}

std::string HumanBytes(int64_t b) {
  char buf[32];
  if (b >= (int64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / 1073741824.0);
  } else if (b >= (1 << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1048576.0);
  } else {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
  }
  return buf;
}

int RunFetch(const Args& args) {
  po::options_description desc("doge model fetch");
  desc.add_options()("help,h", "")("model", po::value<std::string>(), "")(
      "revision", po::value<std::string>()->default_value("main"), "")("cache-dir", po::value<std::string>(), "");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm = Parse(args, desc, &pos);
  if (vm.count("help")) {
    std::fputs(kFetchHelp, stdout);
    return 0;
  }
  if (!vm.count("model")) throw Error(ErrorKind::kUsage, "", "model", "give the hub id: doge model fetch ORG/NAME");
  data::HubFetchOptions opt;
  std::string model = vm["model"].as<std::string>();
  opt.revision = vm["revision"].as<std::string>();
  // ORG/NAME@REV is accepted too, as everywhere else; --revision must then agree.
  const size_t at = model.find('@');
  if (at != std::string::npos) {
    const std::string rev = model.substr(at + 1);
    if (!vm["revision"].defaulted() && rev != opt.revision) {
      throw Error(ErrorKind::kUsage, "", "--revision", "'" + opt.revision + "' disagrees with '" + model + "'");
    }
    opt.revision = rev;
    model = model.substr(0, at);
  }
  opt.repo_id = model;
  if (vm.count("cache-dir")) opt.cache_dir = vm["cache-dir"].as<std::string>();
  std::fprintf(stderr, "doge model fetch: %s@%s into %s\n", opt.repo_id.c_str(), opt.revision.c_str(),
               opt.cache_dir.empty() ? HubCacheDir().c_str() : opt.cache_dir.c_str());
  const data::HubFetchResult r = data::FetchHubModel(opt);
  int64_t total = 0, fetched = 0;
  for (const data::HubFetchedFile& f : r.files) {
    total += f.bytes;
    fetched += f.downloaded ? f.bytes : 0;
    std::fprintf(stderr, "  %-32s %12s  %s%s\n", f.name.c_str(), HumanBytes(f.bytes).c_str(),
                 f.downloaded ? "downloaded" : "cached", f.sha256_checked ? ", sha256 ok" : "");
  }
  std::fprintf(stderr, "doge model fetch: %zu files, %s (%s downloaded), commit %s\n", r.files.size(),
               HumanBytes(total).c_str(), HumanBytes(fetched).c_str(), r.commit.c_str());
  NoteWrote("doge model fetch", r.snapshot_dir);
  std::printf("%s\n", r.snapshot_dir.c_str());
  return 0;
}

int RunLs(const Args& args) {
  po::options_description desc("doge model ls");
  desc.add_options()("help,h", "")("all", "")("cache-dir", po::value<std::string>(), "");
  po::variables_map vm = Parse(args, desc, nullptr);
  if (vm.count("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const std::string cache = vm.count("cache-dir") ? vm["cache-dir"].as<std::string>() : HubCacheDir();
  const bool all = vm.count("all") > 0;
  int shown = 0;
  for (const CachedModel& m : ListCachedModels(cache)) {
    if (!all && m.model_type != "doge") continue;
    if (shown++ == 0) std::printf("%-36s %-10s %-10s %-14s %s\n", "model", "type", "size", "revisions", "snapshot");
    std::string revs;
    for (const auto& [rev, commit] : m.refs) revs += (revs.empty() ? "" : ",") + rev;
    if (revs.empty()) revs = "-";
    auto main = m.refs.find("main");
    const std::string snap = main != m.refs.end() ? main->second : m.snapshots.back();
    std::printf("%-36s %-10s %-10s %-14s %s\n", m.repo_id.c_str(), m.model_type.empty() ? "?" : m.model_type.c_str(),
                HumanBytes(m.blob_bytes).c_str(), revs.c_str(), snap.c_str());
  }
  if (shown == 0) std::fprintf(stderr, "doge model ls: no %smodels in %s\n", all ? "" : "Doge ", cache.c_str());
  return 0;
}

int RunPath(const Args& args) {
  po::options_description desc("doge model path");
  desc.add_options()("help,h", "")("model", po::value<std::string>(), "");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm = Parse(args, desc, &pos);
  if (vm.count("help") || !vm.count("model")) {
    std::fputs(kUsage, vm.count("help") ? stdout : stderr);
    return vm.count("help") ? 0 : 2;
  }
  std::printf("%s\n", ResolveModelPath(vm["model"].as<std::string>()).c_str());
  return 0;
}

}  // namespace

int RunModel(const Args& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const std::string& cmd = args[1];
  if (cmd == "fetch") return RunFetch(args);
  if (cmd == "ls") return RunLs(args);
  if (cmd == "path") return RunPath(args);
  throw Error(ErrorKind::kUsage, "", "model", UnknownNameMessage("model command", cmd, {"fetch", "ls", "path"}));
}

}  // namespace doge::cli
