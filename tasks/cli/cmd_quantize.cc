// `doge quantize`: a q8 copy of a checkpoint folder (engine/quantize.h).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "engine/base/error.h"
#include "engine/quantize.h"
#include "tasks/cli/commands.h"

namespace po = boost::program_options;

namespace doge::cli {

int RunQuantize(const Args& args) {
  po::options_description desc("doge quantize options");
  desc.add_options()("help,h", "show this help")(
      "model", po::value<std::string>(), "checkpoint folder (config.json + *.safetensors)")(
      "out-dir", po::value<std::string>(), "output folder (must not exist; built then renamed)")(
      "out", po::value<std::string>(), "same as --out-dir")(
      "type", po::value<std::string>()->default_value("q8"),
      "q8: int8 weights, a float32 scale per 32 columns (engine/README.md)");
  std::vector<std::string> rest(args.begin() + 1, args.end());
  po::variables_map vm;
  po::store(po::command_line_parser(rest).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: doge quantize --model DIR --out-dir DIR2 [--type q8]\n\n"
                 "Writes DIR2/model.safetensors with the projection matrices and the embedding /\n"
                 "head as I8 tensors plus float32 '<name>_scale' tensors (one scale per 32\n"
                 "columns), every other tensor unchanged, and copies DIR's other files (config,\n"
                 "tokenizer, generation config). Every doge command loads DIR2 like any checkpoint.\n\n"
              << desc << "\n";
    return 0;
  }
  po::notify(vm);
  if (!vm.count("model")) throw Error(ErrorKind::kUsage, "", "--model", "is required (see --help)");
  if (vm.count("out-dir") && vm.count("out")) {
    throw Error(ErrorKind::kUsage, "", "--out-dir", "give --out-dir or its alias --out, not both");
  }
  if (!vm.count("out-dir") && !vm.count("out")) {
    throw Error(ErrorKind::kUsage, "", "--out-dir", "is required (see --help)");
  }
  const std::string out =
      vm.count("out-dir") ? vm["out-dir"].as<std::string>() : vm["out"].as<std::string>();
  const QuantizeStats st =
      QuantizeCheckpoint(vm["model"].as<std::string>(), out, vm["type"].as<std::string>());
  std::fprintf(stderr,
               "wrote %s/model.safetensors (%.1f MB): %lld tensors as q8 (%lld parameters), %lld "
               "kept (%lld parameters)\n",
               out.c_str(), st.bytes_out / 1e6, static_cast<long long>(st.n_quantized),
               static_cast<long long>(st.params_quantized), static_cast<long long>(st.n_kept),
               static_cast<long long>(st.params_kept));
  return 0;
}

}  // namespace doge::cli
