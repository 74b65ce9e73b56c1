// doge tokenize / doge detokenize. The contract is checked from outside; keep it:
//   doge tokenize   --tokenizer PATH (--text STR | --input FILE.jsonl) [--no-special]
//     --text: prints one line {"ids": [...]}. --input: each line {"text": ...} gives one line
//     {"ids": [...]}, in order. add_special_tokens is on unless --no-special (Doge: BOS first).
//   doge detokenize --tokenizer PATH (--ids LIST | --input FILE.jsonl) [--skip-special] [--no-cleanup]
//     --ids 0,15916,1158 prints {"text": "..."}; --input lines {"ids": [...]} give {"text": ...}.
//     Defaults are transformers' tokenizer.decode(ids): special tokens kept, clean-up of
//     tokenization spaces as tokenizer_config.json says (Doge: on). Ids the vocabulary does not
//     have are dropped, as the Rust library does; negative ids are an error.
// PATH is a model folder (tokenizer.json, else tokenizer.model) or a tokenizer file.
#include <simdjson.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_read.h"
#include "engine/base/json_writer.h"
#include "engine/tokenizer/tokenizer.h"
#include "tasks/cli/commands.h"
#include "tasks/data/jsonl.h"

namespace doge::cli {

namespace po = boost::program_options;

namespace {

po::variables_map Parse(const Args& args, const po::options_description& desc) {
  po::variables_map vm;
  std::vector<std::string> rest(args.begin() + 1, args.end());
  po::store(po::command_line_parser(rest).options(desc).run(), vm);
  po::notify(vm);
  return vm;
}

void WriteLine(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

std::string IdsLine(const std::vector<int32_t>& ids) {
  JsonWriter w;
  w.BeginObject().Key("ids").IntArray(ids).EndObject();
  return w.Take();
}

std::string TextLine(const std::string& text) {
  JsonWriter w;
  w.BeginObject().Field("text", text).EndObject();
  return w.Take();
}

// Calls `fn(row)` for each line of a JSONL file, through the JSON reading layer (errors name the
// file, the line and the field). Every line is one record, a blank one included (an error), so
// the output's lines stay in step with the input's.
template <typename Fn>
void ForEachJsonLine(const std::string& path, Fn fn) {
  if (IsDirectory(path)) throw Error(ErrorKind::kIo, path, "", "is a directory, expected a JSONL file");
  data::LineReader reader(path, ErrorKind::kFormat);
  simdjson::dom::parser parser;
  JsonOrigin origin{path, ErrorKind::kFormat, 0};
  std::string_view line;
  while (reader.Next(&line)) {
    origin.line = reader.line_number();
    fn(ParseJsonlRow(parser, line, &origin));
  }
  // Nothing to do is not success: an empty input is almost always the wrong file.
  if (reader.line_number() == 0) throw Error(ErrorKind::kFormat, path, "", "no lines (empty file)");
}

void CheckExclusive(const po::variables_map& vm, const char* a, const char* b, const char* cmd) {
  if (vm.count(a) == vm.count(b)) {
    throw Error(ErrorKind::kUsage, "", cmd,
                std::string("give exactly one of --") + a + " and --" + b + " (see doge " + cmd +
                    " --help)");
  }
}

}  // namespace

int RunTokenize(const Args& args) {
  po::options_description desc(
      "usage: doge tokenize --tokenizer PATH (--text STR | --input FILE.jsonl) [--no-special]\n"
      "prints {\"ids\": [...]} per text (--input: one output line per {\"text\": ...} line)\n"
      "example: doge tokenize --tokenizer tests/data/tiny-model --text 'Hello world'\n\noptions");
  desc.add_options()("help,h", "this help")(
      "tokenizer", po::value<std::string>(), "model folder, tokenizer.json or tokenizer.model")(
      "text", po::value<std::string>(), "the text to encode")(
      "input", po::value<std::string>(), "JSONL file of {\"text\": ...} lines")(
      "no-special", "encode without special tokens (no BOS): add_special_tokens=False");
  const po::variables_map vm = Parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (!vm.count("tokenizer")) throw Error(ErrorKind::kUsage, "", "--tokenizer", "required");
  CheckExclusive(vm, "text", "input", "tokenize");
  const auto tokenizer = LoadTokenizer(vm["tokenizer"].as<std::string>());
  const bool add_special = !vm.count("no-special");
  if (vm.count("text")) {
    WriteLine(IdsLine(tokenizer->Encode(vm["text"].as<std::string>(), add_special)));
    return 0;
  }
  const std::string input = vm["input"].as<std::string>();
  ForEachJsonLine(input, [&](const JsonNode& row) {
    WriteLine(IdsLine(tokenizer->Encode(row.Get("text").StringView(), add_special)));
  });
  std::fflush(stdout);
  return 0;
}

int RunDetokenize(const Args& args) {
  po::options_description desc(
      "usage: doge detokenize --tokenizer PATH (--ids LIST | --input FILE.jsonl) [--skip-special] "
      "[--no-cleanup]\nprints {\"text\": ...} per id list; defaults = transformers' "
      "tokenizer.decode(ids)\nexample: doge detokenize --tokenizer tests/data/tiny-model --ids 0,15916,1158\n\noptions");
  desc.add_options()("help,h", "this help")(
      "tokenizer", po::value<std::string>(), "model folder, tokenizer.json or tokenizer.model")(
      "ids", po::value<std::string>(), "comma-separated ids, e.g. 0,15916,1158")(
      "input", po::value<std::string>(), "JSONL file of {\"ids\": [...]} lines")(
      "skip-special", "drop special tokens (skip_special_tokens=True)")(
      "no-cleanup",
      "do not apply clean_up_tokenization (default: as tokenizer_config.json says)");
  const po::variables_map vm = Parse(args, desc);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (!vm.count("tokenizer")) throw Error(ErrorKind::kUsage, "", "--tokenizer", "required");
  CheckExclusive(vm, "ids", "input", "detokenize");
  const auto tokenizer = LoadTokenizer(vm["tokenizer"].as<std::string>());
  const bool skip = vm.count("skip-special") > 0;
  const bool clean_up = !vm.count("no-cleanup") && tokenizer->clean_up_tokenization_spaces();
  if (vm.count("ids")) {
    const std::vector<int> parsed = ParseIntList("--ids", vm["ids"].as<std::string>());
    for (int id : parsed) {
      if (id < 0) throw Error(ErrorKind::kUsage, "", "--ids", "negative id " + std::to_string(id));
    }
    WriteLine(TextLine(tokenizer->Decode(std::vector<int32_t>(parsed.begin(), parsed.end()), skip, clean_up)));
    return 0;
  }
  const std::string input = vm["input"].as<std::string>();
  ForEachJsonLine(input, [&](const JsonNode& row) {
    std::vector<int32_t> ids;
    for (const JsonNode& id : row.Get("ids").Items()) {
      ids.push_back(static_cast<int32_t>(id.IntIn(0, INT32_MAX, "a token id")));
    }
    WriteLine(TextLine(tokenizer->Decode(ids, skip, clean_up)));
  });
  std::fflush(stdout);
  return 0;
}

}  // namespace doge::cli
