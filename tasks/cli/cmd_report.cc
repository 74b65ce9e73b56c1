// `doge report card|compare|machines`: the model-card table, the benchmark comparison
// verdict, and the cross-machine throughput table. The work is in reports/src; this file parses
// options, prints warnings to stderr and writes the output (stdout, or -o/--output atomically).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "reports/src/card.h"
#include "reports/src/compare.h"
#include "reports/src/eval_compare.h"
#include "reports/src/machines.h"
#include "tasks/cli/commands.h"
#include "tasks/cli/flags.h"

namespace doge::cli {

namespace {

namespace po = boost::program_options;

const char kReportUsage[] =
    "usage: doge report card RESULTS.json... [--bench E2E.json] [--format md|json|html] [-o F]\n"
    "                         [--published FILE] [--published-row [MODEL=]ROW] [--allow-missing]\n"
    "       doge report compare BASE.json NEW.json [--threshold PCT] [--alpha A] [--force]\n"
    "                         [--format md|json] [-o F]\n"
    "       doge report compare BASE_RUN NEW_RUN [--alpha A] [--max-logprob-drift D] [--force]\n"
    "                         [--format md|json|html] [-o F]     (doge eval folders or results.json)\n"
    "       doge report machines BENCH.json... [--format md|json|html] [-o F]\n\n"
    "  card      the model card's table from doge eval results (and lighteval results files),\n"
    "            each cell beside the published number; --bench adds a tokens/s column\n"
    "  compare   did a benchmark get slower, or did an eval run's outputs change?\n"
    "  machines  one column per machine (or MPI rank) of doge bench e2e|eval JSON files\n"
    "(--out F: the old spelling of -o/--output, accepted with a note until the next release)\n\n"
    "examples:\n"
    "  doge report card runs/doge-20m/results.json --format html -o card.html\n"
    "  doge report machines a.json b.json\n";

// Parses `args` (args[0] = "card" etc.) with `desc` plus positional "inputs".
po::variables_map Parse(const Args& args, po::options_description& desc,
                        std::vector<std::string>& inputs) {
  desc.add_options()("help,h", "show this help")(
      "inputs", po::value<std::vector<std::string>>(&inputs), "input files");
  po::positional_options_description pos;
  pos.add("inputs", -1);
  const Args argv = ApplyFlagAliases(args, 1, {{"--out", "--output"}}, "doge report " + args[0]);
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  po::variables_map vm;
  po::store(po::command_line_parser(rest).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

void CheckFormat(const std::string& format, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed) {
    if (format == a) return;
  }
  throw Error(ErrorKind::kUsage, "", "--format", UnknownNameMessage("format", format, allowed));
}

void Emit(const std::string& text, const std::string& out) {
  if (out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else {
    WriteFileAtomic(out, text);
    NoteWrote("doge report", out);
  }
}

void Warn(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::fprintf(stderr, "doge report: warning: %s\n", w.c_str());
}

int RunCard(const Args& args) {
  po::options_description desc("doge report card options");
  std::string format, out, published;
  reports::CardOptions options;
  desc.add_options()("bench", po::value<std::vector<std::string>>(&options.bench_files),
                     "doge bench e2e JSON for the tokens/s column (repeatable)")(
      "format", po::value<std::string>(&format)->default_value("md"), "md | json | html")(
      "output,o", po::value<std::string>(&out), "write here (atomically) instead of stdout")(
      "published", po::value<std::string>(&options.published_file),
      "published numbers (default: built-in reports/published/doge-model-card.json)")(
      "published-row", po::value<std::vector<std::string>>(&options.published_rows),
      "ROW (one model) or MODEL=ROW: published row to compare with (default: model folder name)")(
      "allow-missing", po::bool_switch(&options.allow_missing),
      "print missing task columns as a dash with a warning instead of failing");
  po::variables_map vm = Parse(args, desc, options.results_files);
  if (vm.count("help")) {
    std::cout << kReportUsage << "\n" << desc << "\n";
    return 0;
  }
  CheckFormat(format, {"md", "json", "html"});
  if (options.results_files.empty()) {
    throw Error(ErrorKind::kUsage, "", "report card", "give one results.json per model");
  }
  reports::ModelCard card = reports::BuildModelCard(options);
  Warn(card.warnings);
  Emit(format == "md"     ? reports::RenderCardMarkdown(card)
       : format == "json" ? reports::RenderCardJson(card)
                          : reports::RenderCardHtml(card),
       out);
  return 0;
}

const char kEvalCompareHelp[] =
    "Two kinds of input, told apart by what BASE is:\n"
    "  benchmark JSON (doge bench kernels|e2e|eval): did it get slower? Mann-Whitney U over the\n"
    "    repetitions, --threshold and --alpha; exit 1 on a significant regression.\n"
    "  doge eval runs (an --out folder, or its results.json, with details/ next to it): did the\n"
    "    outputs change? Per task and metric, base vs new with an exact McNemar test on the\n"
    "    per-document correct/incorrect pairs (--alpha); the documents whose prediction flipped;\n"
    "    the per-choice log-likelihood drift |new - base| (max, 99th percentile, the worst\n"
    "    documents). Exit 1 when a metric moved significantly or any drift exceeds\n"
    "    --max-logprob-drift (default 1e-4: 'same math'; bit-identical kernels give 0). Runs of\n"
    "    another protocol, task version, k, split, limit, model weights, tokenizer or data are\n"
    "    refused (exit 3) naming each difference, unless --force. --format html adds a scatter of\n"
    "    base vs new log-likelihood per task.\n"
    "\n"
    "example: doge report compare runs/before runs/after --format html -o cmp.html\n";

int RunCompare(const Args& args) {
  po::options_description desc("doge report compare options");
  std::string format, out;
  reports::CompareOptions options;
  reports::EvalCompareOptions eval_options;
  std::vector<std::string> inputs;
  desc.add_options()("threshold", po::value<double>(&options.threshold_pct)->default_value(5, HumanNumber(5)),
                     "bench: median change (percent) that counts as a regression/improvement")(
      "alpha", po::value<double>(&options.alpha)->default_value(0.05, HumanNumber(0.05)),
      "significance level (bench: Mann-Whitney U; eval: McNemar)")(
      "max-logprob-drift", po::value<double>(&eval_options.max_logprob_drift)->default_value(1e-4, HumanNumber(1e-4)),
      "eval: largest per-choice |Δ log-likelihood| that passes")(
      "force", po::bool_switch(&options.force),
      "compare runs from different machines/builds or eval setups (the differences are printed)")(
      "format", po::value<std::string>(&format)->default_value("md"), "md | json | html (html: eval runs)")(
      "output,o", po::value<std::string>(&out), "write here (atomically) instead of stdout");
  po::variables_map vm = Parse(args, desc, inputs);
  if (vm.count("help")) {
    std::cout << kReportUsage << "\n" << kEvalCompareHelp << "\n" << desc << "\n"
              << "exit status: 0 no regression / no change, 1 a significant regression beyond the "
                 "threshold / a changed metric or drift over the limit, 2 usage, 3 bad or mismatched input\n";
    return 0;
  }
  if (inputs.size() != 2) {
    throw Error(ErrorKind::kUsage, "", "report compare",
                "expected BASE and NEW, got " + std::to_string(inputs.size()) + " file(s)");
  }
  // BASE decides the kind; a benchmark BASE keeps the benchmark comparison's behaviour (and its
  // errors) whatever NEW is.
  const bool base_eval = reports::IsEvalRunInput(inputs[0]);
  if (base_eval && !reports::IsEvalRunInput(inputs[1])) {
    throw Error(ErrorKind::kFormat, inputs[1], "",
                "is not a doge eval run but BASE (" + inputs[0] +
                    ") is; compare two eval runs or two benchmark files");
  }
  if (base_eval) {
    CheckFormat(format, {"md", "json", "html"});
    eval_options.base_path = inputs[0];
    eval_options.new_path = inputs[1];
    eval_options.alpha = options.alpha;
    eval_options.force = options.force;
    reports::EvalCompareReport report = reports::CompareEvalRuns(eval_options);
    for (const auto& d : report.mismatches) {
      std::fprintf(stderr, "doge report: warning: setup difference: %s\n", d.c_str());
    }
    Warn(report.warnings);
    Emit(format == "md"     ? reports::RenderEvalCompareMarkdown(report)
         : format == "json" ? reports::RenderEvalCompareJson(report)
                            : reports::RenderEvalCompareHtml(report),
         out);
    return report.failed ? 1 : 0;
  }
  CheckFormat(format, {"md", "json"});
  options.base_file = inputs[0];
  options.new_file = inputs[1];
  reports::CompareReport report = reports::CompareRuns(options);
  for (const auto& d : report.differences) {
    std::fprintf(stderr, "doge report: warning: machine/build difference: %s\n", d.c_str());
  }
  Warn(report.warnings);
  Emit(format == "md" ? reports::RenderCompareMarkdown(report)
                      : reports::RenderCompareJson(report),
       out);
  // Exit 1 on a significant regression so CI can gate on it.
  return report.n_regressions > 0 ? 1 : 0;
}

int RunMachines(const Args& args) {
  po::options_description desc("doge report machines options");
  std::string format, out;
  std::vector<std::string> inputs;
  desc.add_options()("format", po::value<std::string>(&format)->default_value("md"),
                     "md | json | html")(
      "output,o", po::value<std::string>(&out), "write here (atomically) instead of stdout");
  po::variables_map vm = Parse(args, desc, inputs);
  if (vm.count("help")) {
    std::cout << kReportUsage << "\n" << desc << "\n";
    return 0;
  }
  CheckFormat(format, {"md", "json", "html"});
  reports::MachinesReport report = reports::BuildMachinesReport(inputs);
  Emit(format == "md"     ? reports::RenderMachinesMarkdown(report)
       : format == "json" ? reports::RenderMachinesJson(report)
                          : reports::RenderMachinesHtml(report),
       out);
  return 0;
}

}  // namespace

int RunReport(const Args& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    std::fputs(kReportUsage, args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  const std::string& sub = args[1];
  Args rest(args.begin() + 1, args.end());
  if (sub == "card") return RunCard(rest);
  if (sub == "compare") return RunCompare(rest);
  if (sub == "machines") return RunMachines(rest);
  throw Error(ErrorKind::kUsage, "", "report",
              UnknownNameMessage("report", sub, {"card", "compare", "machines"}));
}

}  // namespace doge::cli
