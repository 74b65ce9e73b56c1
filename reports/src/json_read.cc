#include "reports/src/json_read.h"

#include "engine/base/error.h"

namespace doge::reports {

void CheckSchema(const JsonNode& schema_node, const std::string& expected) {
  if (!schema_node.IsString()) {
    schema_node.Fail("expected the schema string '" + expected + "', found " +
                     schema_node.TypeName());
  }
  std::string found = schema_node.String();
  if (found == expected) return;
  // Same kind, other version: the file is newer (or older) than this build understands.
  std::string kind = expected.substr(0, expected.rfind('/'));
  if (found.rfind(kind + "/", 0) == 0) {
    schema_node.Fail("unsupported schema version '" + found + "'; this build reads '" + expected +
                     "'");
  }
  schema_node.Fail("expected a '" + expected + "' file, found schema '" + found + "'");
}

MachineFingerprint ParseFingerprint(const JsonNode& node) {
  MachineFingerprint f;
  f.cpu_model = node.GetString("cpu_model");
  f.n_cores = static_cast<int32_t>(node.GetInt("n_cores"));
  f.isa = node.GetStringArray("isa");
  f.isa_compiled = node.GetStringArray("isa_compiled");
  if (auto k = node.Find("kernel_isa")) f.kernel_isa = k->String();  // absent before it existed
  f.memory_bytes = node.GetInt("memory_bytes");
  f.compiler = node.GetString("compiler");
  f.build_type = node.GetString("build_type");
  f.flags = node.GetString("flags");
  f.git_revision = node.GetString("git_revision");
  f.hostname = node.GetString("hostname");
  f.os = node.GetString("os");
  return f;
}

}  // namespace doge::reports
