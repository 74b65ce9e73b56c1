#include "reports/src/bench_rows.h"

#include <map>

#include "engine/base/error.h"
#include "reports/src/json_read.h"

namespace doge::reports {

namespace {

// Bounds for the numbers a bench file may hold: far above any machine (a petaflop CPU decoding a
// 20M model is ~1e8 tokens/s), and far below where the report's decimal formatting stops
// (reports/src/decimal.h: |x| < 1e13). Outside them the file is wrong, and the error says where.
constexpr double kMaxThroughput = 1e12;         // tokens/s, tasks/s
constexpr int64_t kMaxThreads = 1 << 20;
constexpr int64_t kMaxCount = int64_t{1} << 50;  // tokens, bytes, parameters, batch
constexpr double kMaxNanoseconds = 1e18;         // a kernel benchmark's time per iteration

std::vector<double> ThroughputSamples(const JsonNode& node) {
  std::vector<double> out;
  for (const JsonNode& v : node.Items()) {
    const double s = v.NumberIn(0, kMaxThroughput, "a throughput sample (per second)");
    if (!(s > 0)) v.Fail("expected positive throughput samples, found " + std::to_string(s));
    out.push_back(s);
  }
  return out;
}

// Google Benchmark time_unit -> nanoseconds per unit.
double NsPerUnit(const JsonNode& unit_node) {
  std::string unit = unit_node.String();
  if (unit == "ns") return 1;
  if (unit == "us") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  unit_node.Fail("unknown time unit '" + unit + "' (expected ns, us, ms or s)");
}

}  // namespace

std::vector<BenchRow> LoadBenchRows(const std::string& path, const std::string& expected_schema) {
  auto doc = LoadJsonFile(path);
  JsonNode root = doc->root();
  if (!root.IsArray()) {
    root.Fail("expected a JSON array of doge bench rows (" +
              (expected_schema.empty() ? std::string("doge.bench.e2e/1 or doge.bench.eval/1")
                                       : expected_schema) +
              "), found " + root.TypeName());
  }
  std::vector<BenchRow> rows;
  for (const JsonNode& r : root.Items()) {
    BenchRow row;
    row.file = path;
    row.index = rows.size();
    JsonNode schema = r.Get("schema");
    if (!expected_schema.empty()) {
      CheckSchema(schema, expected_schema);
    } else if (!rows.empty()) {
      CheckSchema(schema, rows.front().schema);
    } else if (schema.IsString() && schema.String() != kBenchE2eSchema) {
      CheckSchema(schema, kBenchEvalSchema);
    }
    row.schema = schema.String();
    row.fingerprint = ParseFingerprint(r.Get("fingerprint"));
    row.build_commit = r.GetString("build_commit");
    row.model = r.GetString("model");
    row.model_type = r.GetString("model_type");
    row.test = r.GetString("test");
    row.n_threads = r.Get("n_threads").IntIn(1, kMaxThreads, "a positive thread count");
    if (auto n = r.Find("n_params")) row.n_params = n->IntIn(0, kMaxCount, "a parameter count");
    if (auto n = r.Find("rank")) row.rank = n->IntIn(0, kMaxThreads, "an MPI rank");
    if (r.Find("cpu_info")) row.cpu_info = r.GetString("cpu_info");
    if (row.schema == kBenchE2eSchema) {
      row.model_size = r.Get("model_size").IntIn(0, kMaxCount, "a size in bytes");
      row.n_prompt = r.Get("n_prompt").IntIn(0, kMaxCount, "a token count");
      row.n_gen = r.Get("n_gen").IntIn(0, kMaxCount, "a token count");
      row.avg = r.Get("avg_ts").NumberIn(0, kMaxThroughput, "tokens/s");
      row.stddev = r.Get("stddev_ts").NumberIn(0, kMaxThroughput, "a standard deviation (tokens/s)");
      row.samples = ThroughputSamples(r.Get("samples_ts"));
    } else {
      if (auto b = r.Find("batch")) row.batch = b->IntIn(0, kMaxCount, "a batch size");
      row.avg = r.Get("tasks_per_s").NumberIn(0, kMaxThroughput, "tasks/s");
      row.stddev = r.Get("stddev").NumberIn(0, kMaxThroughput, "a standard deviation (tasks/s)");
      row.samples = ThroughputSamples(r.Get("samples"));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

KernelBenchFile LoadKernelBench(const std::string& path) {
  auto doc = LoadJsonFile(path);
  JsonNode root = doc->root();
  if (!root.IsObject()) {
    root.Fail("expected a Google Benchmark JSON object with \"context\" and \"benchmarks\", "
              "found " + root.TypeName());
  }
  KernelBenchFile out;
  out.file = path;
  JsonNode context = root.Get("context");
  CheckSchema(context.Get("doge_schema"), kBenchKernelsSchema);
  // The fingerprint travels as a JSON string (AddCustomContext only takes strings).
  JsonNode fp_string = context.Get("doge_fingerprint");
  auto fp_doc = ParseJsonText(path + " (context.doge_fingerprint)", fp_string.String());
  out.fingerprint = ParseFingerprint(fp_doc->root());

  std::map<std::string, size_t> index;
  bool saw_aggregate = false;
  for (const JsonNode& b : root.Get("benchmarks").Items()) {
    std::string run_type = "iteration";
    if (auto rt = b.Find("run_type")) run_type = rt->String();
    if (run_type == "aggregate") {
      saw_aggregate = true;
      continue;  // we compute medians from the repetitions ourselves
    }
    std::string name = b.Find("run_name") ? b.GetString("run_name") : b.GetString("name");
    auto [it, inserted] = index.emplace(name, out.benchmarks.size());
    if (inserted) out.benchmarks.push_back(KernelBenchmark{name, {}, {}, false, ""});
    KernelBenchmark& kb = out.benchmarks[it->second];
    bool failed = false;
    if (auto e = b.Find("error_occurred")) failed = failed || e->Bool();
    if (auto s = b.Find("skipped")) failed = failed || s->Bool();
    if (failed) {
      kb.error = true;
      if (auto m = b.Find("error_message")) kb.error_message = m->String();
      continue;
    }
    double scale = NsPerUnit(b.Get("time_unit"));
    kb.real_ns.push_back(b.Get("real_time").NumberIn(0, kMaxNanoseconds / scale, "a time") * scale);
    kb.cpu_ns.push_back(b.Get("cpu_time").NumberIn(0, kMaxNanoseconds / scale, "a time") * scale);
  }
  if (out.benchmarks.empty() && saw_aggregate) {
    root.Get("benchmarks").Fail(
        "only aggregate entries (mean/median/stddev); the significance test needs the "
        "repetitions: rerun without --benchmark_report_aggregates_only");
  }
  return out;
}

std::string DetectBenchSchema(const std::string& path) {
  auto doc = LoadJsonFile(path);
  JsonNode root = doc->root();
  if (root.IsArray()) {
    std::vector<JsonNode> items = root.Items();
    if (items.empty()) root.Fail("empty array: no doge bench rows");
    JsonNode schema = items[0].Get("schema");
    std::string s = schema.IsString() ? schema.String() : "";
    if (s == kBenchE2eSchema || s == kBenchEvalSchema) return s;
    // Another version of a bench schema: "unsupported schema version ..." from CheckSchema.
    if (s.rfind("doge.bench.e2e/", 0) == 0) CheckSchema(schema, kBenchE2eSchema);
    if (s.rfind("doge.bench.eval/", 0) == 0) CheckSchema(schema, kBenchEvalSchema);
    schema.Fail("expected doge bench rows (doge.bench.e2e/1 or doge.bench.eval/1), found " +
                (schema.IsString() ? "schema '" + s + "'" : schema.TypeName()));
  }
  if (root.IsObject()) {
    if (auto context = root.Find("context")) {
      CheckSchema(context->Get("doge_schema"), kBenchKernelsSchema);
      return kBenchKernelsSchema;
    }
    if (auto schema = root.Find("schema")) {
      schema->Fail("expected a benchmark file (doge bench e2e/eval rows or Google Benchmark "
                   "JSON), found schema '" +
                   (schema->IsString() ? schema->String() : schema->TypeName()) + "'");
    }
  }
  root.Fail("not a benchmark file: expected a JSON array of doge bench rows or a Google "
            "Benchmark JSON object with \"context\"");
}

}  // namespace doge::reports
