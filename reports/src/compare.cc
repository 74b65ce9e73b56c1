#include "reports/src/compare.h"

#include <cmath>
#include <cstdio>
#include <map>

#include "engine/base/error.h"
#include "engine/base/json_writer.h"
#include "reports/src/bench_rows.h"
#include "reports/src/render.h"
#include "reports/src/stats.h"

namespace doge::reports {

namespace {

// One benchmark's samples, whatever the input format.
struct Series {
  std::string name;
  std::string unit;
  bool higher_is_better = false;
  std::vector<double> samples;
  bool error = false;
  std::string error_message;
};

struct Run {
  std::string kind;
  MachineFingerprint fp;
  std::vector<Series> series;
};

// All rows of a doge bench file must come from one machine and build.
void CheckOneMachine(const std::vector<BenchRow>& rows) {
  for (const BenchRow& r : rows) {
    std::vector<std::string> d = FingerprintDifferences(rows.front().fingerprint, r.fingerprint);
    if (r.fingerprint.git_revision != rows.front().fingerprint.git_revision) {
      d.push_back("git_revision: '" + rows.front().fingerprint.git_revision + "' vs '" +
                  r.fingerprint.git_revision + "'");
    }
    if (!d.empty()) {
      throw Error(ErrorKind::kFormat, r.file, "[" + std::to_string(r.index) + "].fingerprint",
                  "rows of one file come from different machines/builds (" + d.front() +
                      "); compare one run per file");
    }
  }
}

Run LoadRun(const std::string& path) {
  Run run;
  run.kind = DetectBenchSchema(path);
  if (run.kind == kBenchKernelsSchema) {
    KernelBenchFile f = LoadKernelBench(path);
    run.fp = f.fingerprint;
    for (const KernelBenchmark& b : f.benchmarks) {
      // Real time, as the kernel benchmarks use UseRealTime() (OpenMP threads).
      run.series.push_back({b.name, "ns", false, b.real_ns, b.error, b.error_message});
    }
    return run;
  }
  std::vector<BenchRow> rows = LoadBenchRows(path, run.kind);
  if (rows.empty()) {
    throw Error(ErrorKind::kFormat, path, "", "no benchmark rows");
  }
  CheckOneMachine(rows);
  run.fp = rows.front().fingerprint;
  const bool e2e = run.kind == kBenchE2eSchema;
  std::map<std::string, size_t> seen;
  for (const BenchRow& r : rows) {
    std::string name = (e2e ? "e2e/" : "eval/") + r.model_type + "/" + r.test + "/t" +
                       std::to_string(r.n_threads) +
                       (r.batch > 0 ? "/b" + std::to_string(r.batch) : std::string());
    if (!seen.emplace(name, r.index).second) {
      throw Error(ErrorKind::kFormat, path, "[" + std::to_string(r.index) + "]",
                  "second row for " + name + " (first at [" + std::to_string(seen[name]) + "])");
    }
    run.series.push_back({name, e2e ? "tok/s" : "tasks/s", true, r.samples, false, ""});
  }
  return run;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string FormatValue(double v, const std::string& unit) {
  if (unit != "ns") return Fixed(v, v >= 100 ? 1 : 2) + " " + unit;
  if (v >= 1e9) return Fixed(v / 1e9, 3) + " s";
  if (v >= 1e6) return Fixed(v / 1e6, 3) + " ms";
  if (v >= 1e3) return Fixed(v / 1e3, 3) + " us";
  return Fixed(v, 3) + " ns";
}

std::string FormatP(double p) {
  char buf[64];
  if (p < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.1e", p);
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", p);
  }
  return buf;
}

}  // namespace

CompareReport CompareRuns(const CompareOptions& options) {
  if (!(options.threshold_pct >= 0)) {
    throw Error(ErrorKind::kUsage, "", "--threshold", "expected a percentage >= 0");
  }
  if (!(options.alpha > 0 && options.alpha < 1)) {
    throw Error(ErrorKind::kUsage, "", "--alpha", "expected a significance level in (0, 1)");
  }
  Run base = LoadRun(options.base_file);
  Run neu = LoadRun(options.new_file);
  if (base.kind != neu.kind) {
    throw Error(ErrorKind::kFormat, options.new_file, "schema",
                "is a " + neu.kind + " file but BASE (" + options.base_file + ") is " +
                    base.kind + "; compare files of the same kind");
  }
  CompareReport report;
  report.kind = base.kind;
  report.options = options;
  report.base_fp = base.fp;
  report.new_fp = neu.fp;
  report.differences = FingerprintDifferences(base.fp, neu.fp);
  if (!report.differences.empty() && !options.force) {
    std::string msg = "BASE and NEW come from different machines/builds:";
    for (const auto& d : report.differences) msg += "\n  " + d;
    msg += "\npass --force to compare them anyway";
    throw Error(ErrorKind::kFormat, options.new_file, "fingerprint", msg);
  }
  if (!report.differences.empty()) {
    report.warnings.push_back("--force: comparing runs from different machines/builds");
  }

  std::map<std::string, const Series*> new_by_name;
  for (const Series& s : neu.series) new_by_name[s.name] = &s;
  std::map<std::string, bool> in_base;
  for (const Series& b : base.series) {
    in_base[b.name] = true;
    auto it = new_by_name.find(b.name);
    if (it == new_by_name.end()) {
      report.only_base.push_back(b.name);
      continue;
    }
    const Series& n = *it->second;
    if (b.error || n.error || b.samples.empty() || n.samples.empty()) {
      report.warnings.push_back(b.name + ": skipped (benchmark error: " +
                                (b.error ? b.error_message : n.error_message) + ")");
      continue;
    }
    BenchComparison c;
    c.name = b.name;
    c.unit = b.unit;
    c.higher_is_better = b.higher_is_better;
    c.n_base = static_cast<int>(b.samples.size());
    c.n_new = static_cast<int>(n.samples.size());
    c.median_base = Median(b.samples);
    c.median_new = Median(n.samples);
    c.change_pct = (c.median_new / c.median_base - 1) * 100;
    MannWhitneyResult u = MannWhitneyU(b.samples, n.samples);
    c.p_value = u.p_value;
    c.exact = u.exact;
    c.testable = MannWhitneyMinP(c.n_base, c.n_new) < options.alpha;
    // Worse = slower: time up, or throughput down.
    const double worse_pct = c.higher_is_better ? -c.change_pct : c.change_pct;
    const bool significant = c.p_value < options.alpha;
    if (significant && worse_pct > options.threshold_pct) {
      c.verdict = "REGRESSION";
      ++report.n_regressions;
    } else if (significant && -worse_pct > options.threshold_pct) {
      c.verdict = "improvement";
    } else {
      c.verdict = "noise";
    }
    if (!c.testable) {
      report.warnings.push_back(c.name + ": " + std::to_string(c.n_base) + " vs " +
                                std::to_string(c.n_new) +
                                " repetitions cannot reach p < alpha in the U test; use at "
                                "least 4 per side (--benchmark_repetitions / -r)");
    }
    report.rows.push_back(c);
  }
  for (const Series& n : neu.series) {
    if (!in_base.count(n.name)) report.only_new.push_back(n.name);
  }
  // A gate that compared nothing must not pass: "0 regression(s)" would read as a green light.
  if (report.rows.empty()) {
    auto first = [](const std::vector<std::string>& v) {
      std::string out;
      for (size_t i = 0; i < v.size() && i < 3; ++i) out += (i ? ", " : "") + v[i];
      return out + (v.size() > 3 ? ", ..." : "");
    };
    throw Error(ErrorKind::kFormat, options.new_file, "",
                "nothing compared: no benchmark of BASE (" + options.base_file +
                    ") has a usable counterpart here (BASE only: " + first(report.only_base) +
                    "; NEW only: " + first(report.only_new) + "; " +
                    std::to_string(report.warnings.size()) + " warning(s))");
  }
  return report;
}

std::string RenderCompareMarkdown(const CompareReport& r) {
  std::string out = "# Benchmark comparison (" + r.kind + ")\n\n";
  out += "- base: " + r.options.base_file + " (git " + r.base_fp.git_revision + ", " +
         r.base_fp.cpu_model + ", " + std::to_string(r.base_fp.n_cores) + " cores)\n";
  out += "- new: " + r.options.new_file + " (git " + r.new_fp.git_revision + ", " +
         r.new_fp.cpu_model + ", " + std::to_string(r.new_fp.n_cores) + " cores)\n";
  for (const auto& d : r.differences) out += "- machine/build difference: " + d + "\n";
  out += "- test: two-sided Mann-Whitney U over the repetitions, alpha " + Fixed(r.options.alpha, 2) +
         " (exact when there are no ties and each side has at most " +
         std::to_string(kMannWhitneyExactMaxN) +
         " repetitions, else normal approximation with tie and continuity correction); "
         "threshold " + Fixed(r.options.threshold_pct, 1) + "% change of the median\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const BenchComparison& c : r.rows) {
    rows.push_back({c.name, FormatValue(c.median_base, c.unit), FormatValue(c.median_new, c.unit),
                    (c.change_pct >= 0 ? "+" : "") + Fixed(c.change_pct, 1) + "%",
                    std::to_string(c.n_base) + "/" + std::to_string(c.n_new),
                    FormatP(c.p_value) + (c.exact ? "" : " (normal)"), c.verdict});
  }
  out += MarkdownTable({"Benchmark", "base median", "new median", "change", "reps", "p", "verdict"},
                       rows);
  out += "\n" + std::to_string(r.n_regressions) + " regression(s) beyond " +
         Fixed(r.options.threshold_pct, 1) + "%.\n";
  if (!r.only_base.empty() || !r.only_new.empty() || !r.warnings.empty()) out += "\n";
  for (const auto& n : r.only_base) out += "- only in base: " + n + "\n";
  for (const auto& n : r.only_new) out += "- only in new: " + n + "\n";
  for (const auto& w : r.warnings) out += "- warning: " + w + "\n";
  return out;
}

std::string RenderCompareJson(const CompareReport& r) {
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Field("schema", std::string(kCompareReportSchema));
  w.Key("fingerprint");
  WriteFingerprintJson(w, GetMachineFingerprint());
  w.Field("kind", r.kind);
  w.Field("base_file", r.options.base_file);
  w.Field("new_file", r.options.new_file);
  w.Key("base_fingerprint");
  WriteFingerprintJson(w, r.base_fp);
  w.Key("new_fingerprint");
  WriteFingerprintJson(w, r.new_fp);
  w.Key("differences").BeginArray();
  for (const auto& d : r.differences) w.String(d);
  w.EndArray();
  w.Field("threshold_pct", r.options.threshold_pct);
  w.Field("alpha", r.options.alpha);
  w.Key("benchmarks").BeginArray();
  for (const BenchComparison& c : r.rows) {
    w.BeginObject();
    w.Field("name", c.name);
    w.Field("unit", c.unit);
    w.Field("higher_is_better", c.higher_is_better);
    w.Field("n_base", c.n_base);
    w.Field("n_new", c.n_new);
    w.Field("median_base", c.median_base);
    w.Field("median_new", c.median_new);
    w.Field("change_pct", c.change_pct);
    w.Field("p_value", c.p_value);
    w.Field("exact", c.exact);
    w.Field("testable", c.testable);
    w.Field("verdict", c.verdict);
    w.EndObject();
  }
  w.EndArray();
  w.Key("only_base").BeginArray();
  for (const auto& n : r.only_base) w.String(n);
  w.EndArray();
  w.Key("only_new").BeginArray();
  for (const auto& n : r.only_new) w.String(n);
  w.EndArray();
  w.Key("warnings").BeginArray();
  for (const auto& s : r.warnings) w.String(s);
  w.EndArray();
  w.Field("n_regressions", r.n_regressions);
  w.EndObject();
  return w.Take() + "\n";
}

}  // namespace doge::reports
