// CopyJson: re-emits a parsed JSON value through JsonWriter, keys in their order, numbers with
// their exact value (so JsonWriter's text of them). `doge eval merge` and `mpirun doge bench` use
// it to rewrite files that doge wrote, changing a few fields.
#ifndef DOGE_TASKS_CLI_JSON_COPY_H_
#define DOGE_TASKS_CLI_JSON_COPY_H_

#include <simdjson.h>

#include "engine/base/json_writer.h"

namespace doge::cli {

void CopyJson(JsonWriter& w, simdjson::dom::element e);

}  // namespace doge::cli

#endif  // DOGE_TASKS_CLI_JSON_COPY_H_
