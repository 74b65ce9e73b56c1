// `doge report card|compare|machines` (issue #7): the model-card table, the benchmark comparison
// verdict, and the cross-machine throughput table. The work is in reports/src; this file parses
// options, prints warnings to stderr and writes the output (stdout, or --out atomically).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/file_util.h"
#include "reports/src/card.h"
#include "reports/src/compare.h"
#include "reports/src/machines.h"
#include "tasks/cli/commands.h"

namespace doge::cli {

namespace {

namespace po = boost::program_options;

const char kReportUsage[] =
    "usage: doge report card RESULTS.json... [--bench E2E.json] [--format md|json|html] [--out F]\n"
    "                         [--published FILE] [--published-row [MODEL=]ROW] [--allow-missing]\n"
    "       doge report compare BASE.json NEW.json [--threshold PCT] [--alpha A] [--force]\n"
    "                         [--format md|json] [--out F]\n"
    "       doge report machines BENCH.json... [--format md|json|html] [--out F]\n";

// Parses `args` (args[0] = "card" etc.) with `desc` plus positional "inputs".
po::variables_map Parse(const Args& args, po::options_description& desc,
                        std::vector<std::string>& inputs) {
  desc.add_options()("help,h", "show this help")(
      "inputs", po::value<std::vector<std::string>>(&inputs), "input files");
  po::positional_options_description pos;
  pos.add("inputs", -1);
  std::vector<std::string> rest(args.begin() + 1, args.end());
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
      "out", po::value<std::string>(&out), "write here (atomically) instead of stdout")(
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

int RunCompare(const Args& args) {
  po::options_description desc("doge report compare options");
  std::string format, out;
  reports::CompareOptions options;
  std::vector<std::string> inputs;
  desc.add_options()("threshold", po::value<double>(&options.threshold_pct)->default_value(5),
                     "median change (percent) that counts as a regression/improvement")(
      "alpha", po::value<double>(&options.alpha)->default_value(0.05),
      "significance level of the Mann-Whitney U test")(
      "force", po::bool_switch(&options.force),
      "compare runs from different machines/builds (the difference is printed)")(
      "format", po::value<std::string>(&format)->default_value("md"), "md | json")(
      "out", po::value<std::string>(&out), "write here (atomically) instead of stdout");
  po::variables_map vm = Parse(args, desc, inputs);
  if (vm.count("help")) {
    std::cout << kReportUsage << "\n" << desc << "\n"
              << "exit status: 0 no regression, 1 a significant regression beyond the "
                 "threshold, 2 usage, 3 bad or mismatched input\n";
    return 0;
  }
  CheckFormat(format, {"md", "json"});
  if (inputs.size() != 2) {
    throw Error(ErrorKind::kUsage, "", "report compare",
                "expected BASE and NEW, got " + std::to_string(inputs.size()) + " file(s)");
  }
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
      "out", po::value<std::string>(&out), "write here (atomically) instead of stdout");
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
