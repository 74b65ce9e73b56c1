// What the report commands add to the JSON reading layer (engine/base/json_read.h) for the files
// `doge eval` and `doge bench` write: the schema check every report command applies to its
// inputs, and the fingerprint parser (the inverse of engine/base/fingerprint.h
// WriteFingerprintJson).
#ifndef DOGE_REPORTS_SRC_JSON_READ_H_
#define DOGE_REPORTS_SRC_JSON_READ_H_

#include <string>

#include "engine/base/fingerprint.h"
#include "engine/base/json_read.h"

namespace doge::reports {

// The JSON reading layer is engine/base/json_read.h (errors Error(kFormat, file, path, ...)).
using doge::JsonDocument;
using doge::JsonNode;
using doge::LoadJsonFile;
using doge::ParseJsonText;

// Schema strings are "<name>/<version>" (e.g. "doge.results/1"). Throws when `found` is not
// exactly `expected`, telling an unknown version of the right kind ("unsupported schema version")
// apart from a different kind of file ("expected doge.results/1, found doge.bench.e2e/1").
void CheckSchema(const JsonNode& schema_node, const std::string& expected);

// Parses a "fingerprint" object (WriteFingerprintJson's output). All fields are required.
MachineFingerprint ParseFingerprint(const JsonNode& node);

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_JSON_READ_H_
