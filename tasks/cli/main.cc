// `doge`: one binary, one subcommand per job. This file only dispatches and prints errors; each
// subcommand parses its own options (Boost.Program_options) in its cmd_*.cc.
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options/errors.hpp>

#include "engine/base/error.h"
#include "engine/base/fingerprint.h"
#include "engine/base/kernel_isa.h"
#include "engine/base/machine_load.h"
#include "tasks/cli/commands.h"

namespace doge::cli {

std::vector<int> ParseIntList(const std::string& flag, const std::string& text) {
  std::vector<int> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    std::string item = text.substr(i, j - i);
    size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    if (a == std::string::npos) {
      throw Error(ErrorKind::kUsage, "", flag, "empty item in list '" + text + "'");
    }
    item = item.substr(a, b - a + 1);
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(item.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE || v < INT32_MIN || v > INT32_MAX) {
      throw Error(ErrorKind::kUsage, "", flag, "expected an integer, got '" + item + "'");
    }
    out.push_back(static_cast<int>(v));
    i = j + 1;
  }
  return out;
}

std::vector<std::string> ParseStringList(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    std::string item = text.substr(i, j - i);
    size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    if (a != std::string::npos) out.push_back(item.substr(a, b - a + 1));
    i = j + 1;
  }
  return out;
}

int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

namespace {

struct Command {
  const char* name;
  int (*run)(const Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"eval", RunEval, "score a checkpoint on the model-card tasks (5-shot, lighteval 0.7.0 protocol)"},
    {"tasks", RunTasks, "list tasks, render their requests without a model"},
    {"model", RunModel, "fetch Doge models into the Hugging Face cache, list cached ones"},
    {"data", RunData, "fetch, import, verify and list evaluation datasets"},
    {"generate", RunGenerate, "generate text (greedy by default)"},
    {"logits", RunLogits, "write the logits of an id sequence to a .safetensors file"},
    {"perplexity", RunPerplexity, "perplexity of a text (llama / lm-eval conventions), KL divergence vs a baseline"},
    {"score", RunScore, "log-likelihood of one continuation given a context"},
    {"quantize", RunQuantize, "write an int8 (q8) copy of a checkpoint folder"},
    {"info", RunInfo, "describe a checkpoint: layout, shapes, parameters, memory"},
    {"tokenize", RunTokenize, "text -> token ids (tokenizer.json or tokenizer.model)"},
    {"detokenize", RunDetokenize, "token ids -> text"},
    {"bench", RunBench, "kernel, end-to-end and evaluation-throughput benchmarks"},
    {"report", RunReport, "model-card table, run comparison, machine comparison"},
    {"dev", RunDev, "developer tools (random-checkpoint)"},
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "doge %s (%s): evaluation harness and benchmarks for the SmallDoge Doge models\n\n"
               "usage: doge <command> [options]     doge <command> --help for its options\n\n"
               "commands:\n",
               DOGE_VERSION, GitRevision());
  for (const auto& c : kCommands) std::fprintf(out, "  %-11s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\nexample: doge eval --model tests/data/tiny-model --tasks card "
               "--data-dir tests/data/datasets-canonical\n");
}

}  // namespace
}  // namespace doge::cli

int main(int argc, char** argv) {
  using namespace doge;
  using namespace doge::cli;
  // Before any OpenMP work: how idle threads wait (may re-execute this program once).
  ConfigureOpenMpWaiting(argv);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    PrintUsage(stdout);  // bare `doge` too: help on stdout, exit 0, as other tools do
    return 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("doge %s (%s)\n", DOGE_VERSION, GitRevision());
    // The kernels this CPU would run (DOGE_KERNEL_ISA pins one) and how the binary was built.
    try {
      const MachineFingerprint& fp = GetMachineFingerprint();
      std::printf("kernel isa: %s\nbuild type: %s (%s, %s)\n", KernelIsaName(ActiveKernelIsa()), fp.build_type.c_str(),
                  fp.compiler.c_str(), fp.flags.c_str());
    } catch (const Error& e) {
      std::fprintf(stderr, "doge: error: %s\n", e.what());
      return ExitCodeFor(e.kind());
    }
    return 0;
  }
  std::vector<std::string> names;
  for (const auto& c : kCommands) {
    names.push_back(c.name);
    if (std::strcmp(argv[1], c.name) != 0) continue;
    Args args(argv + 1, argv + argc);
    try {
      ActiveKernelIsa();  // a bad DOGE_KERNEL_ISA fails here, before any work or output
      return c.run(args);
    } catch (const Error& e) {
      std::fprintf(stderr, "doge: %s: %s\n", e.kind() == ErrorKind::kInterrupted ? "interrupted" : "error",
                   e.what());
      return ExitCodeFor(e.kind());
    } catch (const boost::program_options::error& e) {
      std::fprintf(stderr, "doge %s: error: %s (see doge %s --help)\n", c.name, e.what(), c.name);
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "doge: internal error: %s\n", e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "doge: error: %s\n", UnknownNameMessage("command", argv[1], names).c_str());
  return 2;
}
