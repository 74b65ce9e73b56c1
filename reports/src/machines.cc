#include "reports/src/machines.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "engine/base/error.h"
#include "engine/base/json_writer.h"
#include "reports/src/bench_rows.h"
#include "reports/src/card.h"
#include "reports/src/render.h"

namespace doge::reports {

namespace {

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s.empty() ? "-" : s;
}

std::string GiB(int64_t bytes) { return Fixed(bytes / (1024.0 * 1024 * 1024), 1) + " GiB"; }

std::string Dash() { return "\xE2\x80\x94"; }

std::string Params(int64_t n) { return n > 0 ? Fixed(n / 1e6, 1) + "M" : Dash(); }

}  // namespace

MachinesReport BuildMachinesReport(const std::vector<std::string>& files) {
  if (files.empty()) {
    throw Error(ErrorKind::kUsage, "", "BENCH", "give at least one doge bench e2e JSON file");
  }
  MachinesReport report;
  // Key: (n_params, model_type, test kind order, n_prompt + n_gen, test, threads).
  using Key = std::tuple<int64_t, std::string, int, int64_t, std::string, int64_t>;
  std::map<Key, MachineLine> lines;
  for (size_t f = 0; f < files.size(); ++f) {
    std::vector<BenchRow> all = LoadBenchRows(files[f], kBenchE2eSchema);
    if (all.empty()) throw Error(ErrorKind::kFormat, files[f], "", "no benchmark rows");
    // One machine per file, or per MPI rank in a file written by `mpirun doge bench e2e`.
    std::map<int64_t, std::vector<BenchRow>> by_rank;
    for (BenchRow& r : all) by_rank[r.rank].push_back(std::move(r));
    for (auto& [rank, rows] : by_rank) {
      const size_t m = report.machines.size();
      for (const BenchRow& r : rows) {
        std::vector<std::string> d = FingerprintDifferences(rows.front().fingerprint, r.fingerprint);
        if (!d.empty()) {
          throw Error(ErrorKind::kFormat, files[f],
                      "[" + std::to_string(r.index) + "].fingerprint",
                      "rows from different machines in one file (" + d.front() +
                          "); pass one file per machine");
        }
      }
      report.machines.push_back({"m" + std::to_string(m + 1),
                                 rank < 0 ? files[f] : files[f] + " (rank " + std::to_string(rank) + ")",
                                 rows.front().fingerprint, rows.front().cpu_info});
      for (const BenchRow& r : rows) {
        // pp, then tg, then pp+tg tests (llama-bench's order).
        const int kind = r.n_gen == 0 ? 0 : r.n_prompt == 0 ? 1 : 2;
        Key key{r.n_params, r.model_type, kind,
                r.n_prompt + r.n_gen, r.test, r.n_threads};
        MachineLine& line = lines[key];
        if (line.cells.empty()) {
          line.model_type = r.model_type;
          line.n_params = r.n_params;
          line.test = r.test;
          line.n_threads = r.n_threads;
        }
        if (line.cells.size() <= m) line.cells.resize(m + 1);
        if (line.cells[m]) {
          throw Error(ErrorKind::kFormat, files[f], "[" + std::to_string(r.index) + "]",
                      "second row for " + r.model_type + " " + r.test + " at " +
                          std::to_string(r.n_threads) + " threads");
        }
        const double se = r.samples.size() > 1 ? r.stddev / std::sqrt(static_cast<double>(r.samples.size())) : 0.0;
        line.cells[m] = MachineCell{r.avg, r.stddev, se, 1, false};
      }
    }
  }
  for (auto& [key, line] : lines) {
    line.cells.resize(report.machines.size());
    for (auto& c : line.cells) {
      if (c && line.cells[0]) {
        c->relative = c->avg_ts / line.cells[0]->avg_ts;
        c->has_relative = true;
      }
    }
    report.lines.push_back(line);
  }
  return report;
}

namespace {

std::vector<std::string> ThroughputHeader(const MachinesReport& r) {
  std::vector<std::string> h = {"Model", "Params", "Test", "Threads"};
  for (const auto& m : r.machines) h.push_back(m.label + " tok/s");
  return h;
}

std::vector<std::vector<std::string>> ThroughputRows(const MachinesReport& r) {
  std::vector<std::vector<std::string>> rows;
  for (const MachineLine& l : r.lines) {
    std::vector<std::string> row = {l.model_type, Params(l.n_params), l.test,
                                    std::to_string(l.n_threads)};
    for (size_t m = 0; m < l.cells.size(); ++m) {
      const auto& c = l.cells[m];
      if (!c) {
        row.push_back(Dash());
        continue;
      }
      std::string s = Fixed(c->avg_ts, 1) + " \xC2\xB1 " + Fixed(c->stddev_ts, 1);
      if (m > 0) s += c->has_relative ? " (" + Fixed(c->relative, 2) + "\xC3\x97)" : " (\xE2\x80\x94)";
      row.push_back(s);
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<std::string> MachineHeader() {
  return {"Machine", "File", "CPU", "Cores", "Kernels ran", "ISA compiled", "ISA available", "Memory",
          "Compiler", "Build", "Flags", "Git", "Host"};
}

std::vector<std::vector<std::string>> MachineRows(const MachinesReport& r) {
  std::vector<std::vector<std::string>> rows;
  for (const MachineRun& m : r.machines) {
    const MachineFingerprint& f = m.fingerprint;
    // The kernels pick their instruction set at start-up (engine/base/kernel_isa.h), so the compile
    // target says little; files written before the fingerprint recorded it show "?".
    rows.push_back({m.label, m.file, m.cpu_info.empty() ? f.cpu_model : m.cpu_info, std::to_string(f.n_cores),
                    f.kernel_isa.empty() ? "?" : f.kernel_isa, Join(f.isa_compiled),
                    Join(f.isa), GiB(f.memory_bytes), f.compiler, f.build_type,
                    f.flags.empty() ? "-" : f.flags, f.git_revision, f.hostname});
  }
  return rows;
}

const char kLegend[] =
    "Cells: mean tokens/s \xC2\xB1 stddev over the repetitions of `doge bench e2e` (avg_ts, "
    "stddev_ts); (N\xC3\x97) = speed relative to m1 on the same model, test and thread count.";

}  // namespace

std::string RenderMachinesMarkdown(const MachinesReport& r) {
  std::string out = "# End-to-end throughput across machines\n\n";
  out += MarkdownTable(ThroughputHeader(r), ThroughputRows(r));
  out += "\n" + std::string(kLegend) + "\n\n## Machines\n\n";
  out += MarkdownTable(MachineHeader(), MachineRows(r));
  return out;
}

std::string RenderMachinesJson(const MachinesReport& r) {
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Field("schema", std::string(kMachinesReportSchema));
  w.Key("fingerprint");
  WriteFingerprintJson(w, GetMachineFingerprint());
  w.Key("machines").BeginArray();
  for (const MachineRun& m : r.machines) {
    w.BeginObject();
    w.Field("label", m.label);
    w.Field("file", m.file);
    w.Field("cpu_info", m.cpu_info);
    w.Key("fingerprint");
    WriteFingerprintJson(w, m.fingerprint);
    w.EndObject();
  }
  w.EndArray();
  w.Key("rows").BeginArray();
  for (const MachineLine& l : r.lines) {
    w.BeginObject();
    w.Field("model_type", l.model_type);
    w.Field("n_params", l.n_params);
    w.Field("test", l.test);
    w.Field("n_threads", l.n_threads);
    w.Key("machines").BeginArray();
    for (const auto& c : l.cells) {
      if (!c) {
        w.Null();
        continue;
      }
      w.BeginObject();
      w.Field("avg_ts", c->avg_ts);
      w.Field("stddev_ts", c->stddev_ts);
      w.Key("relative_to_first");
      if (c->has_relative) {
        w.Double(c->relative);
      } else {
        w.Null();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take() + "\n";
}

std::string RenderMachinesHtml(const MachinesReport& r) {
  std::string body = HtmlTable(ThroughputHeader(r), ThroughputRows(r));
  body += "<p>" + HtmlEscape(kLegend) + "</p>\n";
  std::vector<std::string> series;
  for (const auto& m : r.machines) series.push_back(m.label + " " + m.fingerprint.hostname);
  // Prefill, decode and prompt+generation differ by an order of magnitude: one chart each.
  for (const char* kind : {"pp", "tg", "pg"}) {
    std::vector<BarGroup> groups;
    for (const MachineLine& l : r.lines) {
      const bool pg = l.test.find('+') != std::string::npos;
      if (pg != (std::string(kind) == "pg") || (!pg && l.test.rfind(kind, 0) != 0)) continue;
      BarGroup g;
      g.label = l.model_type + "\n" + l.test + "\nt" + std::to_string(l.n_threads);
      for (const auto& c : l.cells) {
        g.values.push_back(c ? std::optional<double>(c->avg_ts) : std::nullopt);
        g.errors.push_back(c ? std::optional<double>(c->se_ts) : std::nullopt);
      }
      groups.push_back(g);
    }
    if (groups.empty()) continue;
    body += "<div class=\"chart\">\n" +
            SvgBarChart(std::string(std::string(kind) == "pg" ? "Prompt + generation" : kind[0] == 'p' ? "Prefill" : "Decode") +
                            " tokens/s (\xC2\xB1 se)",
                        "tokens/s", series, groups, 0) +
            "</div>\n";
  }
  body += "<h2>Machines</h2>\n" + HtmlTable(MachineHeader(), MachineRows(r));
  return HtmlPage("End-to-end throughput across machines", body);
}

}  // namespace doge::reports
