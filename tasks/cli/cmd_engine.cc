// Engine subcommands: logits, generate, info, score, dev random-checkpoint.
// `doge logits` is an outside contract: a safetensors file holding one F32 tensor `logits` of
// shape [T, vocab], row t = the logits at position t.
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/hub_cache.h"
#include "engine/base/file_util.h"
#include "engine/base/json_writer.h"
#include "engine/base/kernel_isa.h"
#include "engine/model.h"
#include "engine/quantize.h"
#include "engine/random_checkpoint.h"
#include "engine/safetensors.h"
#include "engine/scoring.h"
#include "engine/tokenizer/tokenizer.h"
#include "tasks/cli/commands.h"
#include "tasks/cli/flags.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace po = boost::program_options;

namespace doge::cli {
namespace {

// Parses args[1..] against `desc`; prints help and returns false when --help was given.
bool Parse(const Args& args, const po::options_description& desc, const char* usage,
           const char* teach, po::variables_map* vm) {
  std::vector<std::string> rest(args.begin() + 1, args.end());
  po::store(po::command_line_parser(rest).options(desc).run(), *vm);
  if (vm->count("help")) {
    std::cout << "usage: " << usage << "\n\n" << teach << "\n\n" << desc << "\n";
    return false;
  }
  po::notify(*vm);
  return true;
}

// --json, the old switch of info, generate and score, is --format json now.
const FlagAlias kJsonAlias = {"--json", "--format=json"};

// --format text|json of info, generate and score.
bool JsonFormat(const po::variables_map& vm) {
  const std::string f = vm["format"].as<std::string>();
  if (f != "text" && f != "json") throw Error(ErrorKind::kUsage, "", "--format", UnknownNameMessage("format", f, {"text", "json"}));
  return f == "json";
}

void Require(const po::variables_map& vm, const char* flag) {
  if (!vm.count(flag)) {
    throw Error(ErrorKind::kUsage, "", std::string("--") + flag, "is required (see --help)");
  }
}

std::vector<int32_t> Ids(const std::string& flag, const std::string& text) {
  std::vector<int> v = ParseIntList(flag, text);
  return std::vector<int32_t>(v.begin(), v.end());
}

void SetThreads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(ResolveThreads(n));
#endif
}

std::unique_ptr<Tokenizer> MaybeTokenizer(const std::string& model) {
  const std::string dir = ResolveModelPath(model);
  if (!FileExists(dir + "/tokenizer.json") && !FileExists(dir + "/tokenizer.model")) return nullptr;
  return LoadTokenizer(dir);
}

// Tokens the embedding table has no row for: a tokenizer and checkpoint that disagree.
void WarnIdsBeyondVocab(const Tokenizer& tok, int64_t vocab_size) {
  const std::vector<int32_t> ids = IdsBeyondVocab(tok, vocab_size);
  constexpr size_t kShown = 5;
  for (size_t i = 0; i < ids.size() && i < kShown; ++i) {
    std::fprintf(stderr,
                 "doge info: warning: %s: token '%s' has id %d, but config.json vocab_size is %lld: "
                 "text that encodes to it cannot be scored\n",
                 tok.path().c_str(), tok.IdToPiece(ids[i]).c_str(), ids[i],
                 static_cast<long long>(vocab_size));
  }
  if (ids.size() > kShown) {
    std::fprintf(stderr, "doge info: warning: %s: %zu more token ids >= vocab_size %lld\n",
                 tok.path().c_str(), ids.size() - kShown, static_cast<long long>(vocab_size));
  }
}

}  // namespace

int RunLogits(const Args& args) {
  po::options_description desc("doge logits options");
  desc.add_options()("help,h", "show this help")
      ("model", po::value<std::string>(), "checkpoint folder (config.json + *.safetensors)")
      ("ids", po::value<std::string>(), "comma-separated token ids, e.g. 0,5,7")
      ("output,o", po::value<std::string>(), "output .safetensors file (tensor `logits`, F32 [T, vocab])")
      ("incremental", po::value<int>()->default_value(0),
       "K > 0: one call over the first K ids, then one call per remaining id (KV cache decode)")
      ("threads,t", po::value<int>()->default_value(0), "threads (0 = all cores)");
  po::variables_map vm;
  if (!Parse(ApplyFlagAliases(args, 1, {{"--out", "--output"}}, "doge logits"), desc,
             "doge logits --model DIR --ids 0,5,7,... -o FILE.safetensors [--incremental K]",
             "Runs the model over the ids and writes row t = the logits at position t (the\n"
             "prediction for token t+1). Without --incremental: one forward call over all ids,\n"
             "as transformers' model(ids).logits. With --incremental K: a prefill call over\n"
             "ids[:K] and then one cached call per token, as generate() does; past\n"
             "max_position_embeddings the two differ by design (dynamic NTK RoPE base per call).\n"
             "(--out FILE: the old spelling of -o/--output, accepted with a note until the next release)\n\n"
             "example: doge logits --model tests/data/tiny-model --ids 0,5,7 -o /tmp/logits.safetensors",
             &vm)) {
    return 0;
  }
  Require(vm, "model");
  Require(vm, "ids");
  Require(vm, "output");
  SetThreads(vm["threads"].as<int>());
  const std::string dir = vm["model"].as<std::string>();
  auto model = DogeModel::Load(dir);
  std::vector<int32_t> ids = Ids("--ids", vm["ids"].as<std::string>());
  const int64_t T = static_cast<int64_t>(ids.size()), V = model->config().vocab_size,
                H = model->config().hidden_size;
  if (T == 0) throw Error(ErrorKind::kUsage, "", "--ids", "no ids given");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= V) {
      throw Error(ErrorKind::kUsage, "", "--ids",
                  "id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                      " outside [0, " + std::to_string(V) + ")");
    }
  }
  const int k = vm["incremental"].as<int>();
  if (k < 0 || k > T) {
    throw Error(ErrorKind::kUsage, "", "--incremental",
                "must be in [0, " + std::to_string(T) + "], got " + std::to_string(k));
  }
  std::vector<int64_t> calls;
  if (k == 0) {
    calls.push_back(T);
  } else {
    calls.push_back(k);
    for (int64_t i = k; i < T; ++i) calls.push_back(1);
  }
  KvCache cache = model->NewCache(T);
  ForwardScratch scratch;
  std::vector<float> logits(static_cast<size_t>(T * V));
  int64_t pos = 0;
  for (int64_t n : calls) {
    std::vector<int64_t> rows(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) rows[i] = i;
    std::vector<float> h(static_cast<size_t>(n * H));
    model->Forward(ids.data() + pos, n, &cache, &scratch, rows, h.data());
    for (int64_t i = 0; i < n; ++i) model->Logits(h.data() + i * H, logits.data() + (pos + i) * V);
    pos += n;
  }
  WriteSafetensors(vm["output"].as<std::string>(), {{"logits", DType::kF32, {T, V}, logits.data()}});
  NoteWrote("doge logits", vm["output"].as<std::string>() + " (logits [" + std::to_string(T) + ", " +
                               std::to_string(V) + "])");
  return 0;
}

int RunGenerate(const Args& args) {
  po::options_description desc("doge generate options");
  desc.add_options()("help,h", "show this help")
      ("model", po::value<std::string>(), "checkpoint folder")
      ("prompt", po::value<std::string>(), "prompt text (encoded with the folder's tokenizer, BOS added)")
      ("ids", po::value<std::string>(), "prompt as comma-separated token ids instead of text")
      ("max-new-tokens", po::value<int>()->default_value(32), "tokens to generate at most")
      ("temperature", po::value<double>()->default_value(0.0, HumanNumber(0.0)), "0 = greedy argmax")
      ("top-k", po::value<int64_t>()->default_value(0), "keep the k most likely tokens (0 = all)")
      ("top-p", po::value<double>()->default_value(1.0, HumanNumber(1.0)), "nucleus sampling mass (1 = off)")
      ("seed", po::value<uint64_t>()->default_value(0), "sampling seed (runs are reproducible)")
      ("ignore-eos", "do not stop at the EOS token")
      ("format", po::value<std::string>()->default_value("text"),
       "text | json (one JSON object with prompt ids, generated ids and text)")
      ("timing", "print prefill and decode tokens/s to stderr (rough; see benchmarks for real numbers)")
      ("threads,t", po::value<int>()->default_value(0), "threads (0 = all cores)");
  po::variables_map vm;
  if (!Parse(ApplyFlagAliases(args, 1, {kJsonAlias}, "doge generate"), desc,
             "doge generate --model DIR (--prompt TEXT | --ids LIST) --max-new-tokens N",
             "Greedy decoding by default; --temperature with --top-k/--top-p/--seed samples.\n"
             "Stops at max-new-tokens or at EOS (config eos_token_id) unless --ignore-eos.\n\n"
             "example: doge generate --model SmallDoge/Doge-20M --prompt 'The capital of France is' \\\n"
             "           --max-new-tokens 16",
             &vm)) {
    return 0;
  }
  const bool json = JsonFormat(vm);  // a bad --format fails before the model loads
  Require(vm, "model");
  if (vm.count("prompt") == vm.count("ids")) {
    throw Error(ErrorKind::kUsage, "", "--prompt", "give exactly one of --prompt and --ids");
  }
  const std::string dir = vm["model"].as<std::string>();
  auto lm = DogeLanguageModel::Load(dir, ResolveThreads(vm["threads"].as<int>()));
  std::unique_ptr<Tokenizer> tok =
      vm.count("prompt") ? LoadTokenizer(dir) : MaybeTokenizer(dir);
  std::vector<int32_t> prompt = vm.count("prompt")
                                    ? tok->Encode(vm["prompt"].as<std::string>(), true)
                                    : Ids("--ids", vm["ids"].as<std::string>());
  SamplerConfig sc;
  sc.temperature = vm["temperature"].as<double>();
  sc.top_k = vm["top-k"].as<int64_t>();
  sc.top_p = vm["top-p"].as<double>();
  sc.seed = vm["seed"].as<uint64_t>();
  if (sc.top_p <= 0 || sc.top_p > 1) {
    throw Error(ErrorKind::kUsage, "", "--top-p", "must be in (0, 1]");
  }
  const int64_t eos = vm.count("ignore-eos") ? -1 : lm->config().eos_token_id;
  auto stop = [eos](const std::vector<int32_t>& g) { return eos >= 0 && g.back() == eos; };
  DogeLanguageModel::GenerateStats st;
  std::vector<int32_t> gen = lm->Generate(prompt, vm["max-new-tokens"].as<int>(), sc, stop, &st);
  if (vm.count("timing")) {
    std::fprintf(stderr, "prefill: %lld tokens in %.4f s (%.1f tok/s); decode: %lld tokens in %.4f s (%.1f tok/s); threads %d\n",
                 (long long)st.prefill_tokens, st.prefill_seconds,
                 st.prefill_seconds > 0 ? st.prefill_tokens / st.prefill_seconds : 0.0,
                 (long long)st.decode_tokens, st.decode_seconds,
                 st.decode_seconds > 0 ? st.decode_tokens / st.decode_seconds : 0.0, lm->n_threads());
  }
  const std::string text = tok ? tok->Decode(gen, true, tok->clean_up_tokenization_spaces()) : "";
  if (json) {
    JsonWriter j;
    j.BeginObject();
    j.Key("prompt_ids").IntArray(prompt);
    j.Key("ids").IntArray(gen);
    if (tok) j.Field("text", text);
    j.EndObject();
    std::printf("%s\n", j.str().c_str());
  } else if (tok) {
    std::printf("%s\n", text.c_str());
  } else {
    for (size_t i = 0; i < gen.size(); ++i) std::printf("%s%d", i ? "," : "", gen[i]);
    std::printf("\n");
  }
  return 0;
}

int RunInfo(const Args& args) {
  po::options_description desc("doge info options");
  desc.add_options()("help,h", "show this help")("model", po::value<std::string>(), "checkpoint folder")
      ("format", po::value<std::string>()->default_value("text"), "text | json");
  po::variables_map vm;
  if (!Parse(ApplyFlagAliases(args, 1, {kJsonAlias}, "doge info"), desc, "doge info --model DIR",
             "Loads and validates the checkpoint, then prints the layout detected from the\n"
             "tensors (B / A-late / A-early), the shapes, the parameter count, the stored dtype\n"
             "and the memory it needs: mapped bytes, fp32 copies, KV cache bytes per token.\n\n"
             "(--json: the old spelling of --format json, accepted with a note until the next release)\n\n"
             "example: doge info --model SmallDoge/Doge-20M --format json",
             &vm)) {
    return 0;
  }
  const bool json = JsonFormat(vm);  // a bad --format fails before the model loads
  Require(vm, "model");
  auto m = DogeModel::Load(vm["model"].as<std::string>());
  const DogeConfig& c = m->config();
  if (std::unique_ptr<Tokenizer> tok = MaybeTokenizer(vm["model"].as<std::string>())) {
    WarnIdsBeyondVocab(*tok, c.vocab_size);
  }
  const DogeWeights& w = m->weights();
  KvCache probe;
  m->ResetCache(&probe, 0);
  const int64_t kv_tok = probe.bytes_per_token();
  const int64_t ctx = 2048;
  if (json) {
    JsonWriter j(true);
    j.BeginObject();
    j.Field("layout", LayoutName(w.layout)).Field("dtype", DTypeName(w.dtype));
    j.Field("tied_lm_head", w.tied).Field("n_params", w.n_params);
    j.Field("vocab_size", c.vocab_size).Field("hidden_size", c.hidden_size);
    j.Field("intermediate_size", c.intermediate_size).Field("num_hidden_layers", c.num_hidden_layers);
    j.Field("num_attention_heads", c.num_attention_heads).Field("num_key_value_heads", c.num_key_value_heads);
    j.Field("head_dim", c.head_dim()).Field("max_position_embeddings", c.max_position_embeddings);
    j.Field("keep_window_size", c.keep_window_size).Field("is_moe", c.is_moe);
    j.Field("rope_scaling_type", c.rope_scaling_type).Field("rope_scaling_factor", c.rope_scaling_factor);
    j.Field("mapped_bytes", w.mapped_bytes).Field("fp32_copy_bytes", w.widened_bytes);
    j.Field("packed_bytes", w.packed_bytes).Field("packed_type", PackedTypeName(w.packed_type));
    j.Field("kv_cache_bytes_per_token", kv_tok).Field("kv_cache_bytes_2048", kv_tok * ctx);
    j.Field("kernel_isa", KernelIsaName(ActiveKernelIsa()));
    j.EndObject();
    std::printf("%s\n", j.str().c_str());
    return 0;
  }
  std::printf("model:        %s\n", vm["model"].as<std::string>().c_str());
  std::printf("layout:       %s (detected from tensors)%s\n", LayoutName(w.layout),
              c.is_moe ? ", CDMoE" : "");
  std::printf("dtype:        %s%s\n", DTypeName(w.dtype),
              w.dtype == DType::kF32 ? " (used in place from the mmap)"
              : w.dtype == DType::kI8
                  ? " (q8: int8 + a float32 scale per 32 columns; activations quantized per row)"
                  : " (the kernels widen it in their loops; fp32 copies for the norms and the reference kernels)");
  std::printf("lm_head:      %s\n", w.tied ? "tied to model.embed_tokens" : "lm_head.weight (untied)");
  std::printf("parameters:   %lld\n", static_cast<long long>(w.n_params));
  std::printf("shapes:       vocab %lld, hidden %lld, intermediate %lld, layers %lld, heads %lld, kv heads %lld, head_dim %lld\n",
              (long long)c.vocab_size, (long long)c.hidden_size, (long long)c.intermediate_size,
              (long long)c.num_hidden_layers, (long long)c.num_attention_heads,
              (long long)c.num_key_value_heads, (long long)c.head_dim());
  if (c.is_moe) {
    std::printf("experts:      %lld, %lld per token\n", (long long)c.num_experts, (long long)c.num_experts_per_tok);
  }
  std::printf("positions:    max_position_embeddings %lld, rope %s (factor %g, theta %g), keep_window_size %lld%s\n",
              (long long)c.max_position_embeddings, c.rope_scaling_type.c_str(), c.rope_scaling_factor,
              c.rope_theta, (long long)c.keep_window_size,
              w.layout == Layout::kAEarly ? " (not applied: A-early has no window)" : "");
  std::printf("memory:       mapped %.2f MiB, fp32 copies %.2f MiB, packed %s copy %.2f MiB\n",
              w.mapped_bytes / 1048576.0, w.widened_bytes / 1048576.0,
              PackedTypeName(w.packed_type), w.packed_bytes / 1048576.0);
  std::printf("kv cache:     %lld bytes/token (keys + values + mask bias), %.2f MiB for %lld tokens\n",
              (long long)kv_tok, kv_tok * ctx / 1048576.0, (long long)ctx);
  const char* pinned = std::getenv("DOGE_KERNEL_ISA");
  std::printf("kernels:      %s (%s)\n", KernelIsaName(ActiveKernelIsa()),
              pinned && *pinned ? "pinned by DOGE_KERNEL_ISA"
                                : "the widest this CPU runs; DOGE_KERNEL_ISA=avx2|portable pins one");
  return 0;
}

int RunScore(const Args& args) {
  po::options_description desc("doge score options");
  desc.add_options()("help,h", "show this help")("model", po::value<std::string>(), "checkpoint folder")
      ("context", po::value<std::string>(), "context text (encoded with BOS)")
      ("continuation", po::value<std::string>(), "continuation text (encoded without special tokens)")
      ("context-ids", po::value<std::string>(), "context as token ids instead of text")
      ("continuation-ids", po::value<std::string>(), "continuation as token ids instead of text")
      ("format", po::value<std::string>()->default_value("text"), "text | json")
      ("threads,t", po::value<int>()->default_value(0), "threads (0 = all cores)");
  po::variables_map vm;
  if (!Parse(ApplyFlagAliases(args, 1, {kJsonAlias}, "doge score"), desc,
             "doge score --model DIR --context TEXT --continuation TEXT",
             "Prints log p(continuation | context) = the sum of the continuation tokens'\n"
             "log-probabilities, and whether every token was the argmax (greedy), as the\n"
             "evaluator's loglikelihood requests compute them. For debugging single requests.\n\n"
             "example: doge score --model SmallDoge/Doge-20M --context 'Paris is in' --continuation ' France'",
             &vm)) {
    return 0;
  }
  const bool json = JsonFormat(vm);  // a bad --format fails before the model loads
  Require(vm, "model");
  const std::string dir = vm["model"].as<std::string>();
  auto lm = DogeLanguageModel::Load(dir, ResolveThreads(vm["threads"].as<int>()));
  std::unique_ptr<Tokenizer> tok;
  auto text_or_ids = [&](const char* text_flag, const char* ids_flag, bool bos) {
    if (vm.count(ids_flag)) return Ids(std::string("--") + ids_flag, vm[ids_flag].as<std::string>());
    if (!vm.count(text_flag)) {
      throw Error(ErrorKind::kUsage, "", std::string("--") + text_flag,
                  std::string("is required (or --") + ids_flag + ")");
    }
    if (!tok) tok = LoadTokenizer(dir);
    return tok->Encode(vm[text_flag].as<std::string>(), bos);
  };
  ScoreRequest req;
  req.context = text_or_ids("context", "context-ids", true);
  req.continuations.push_back(text_or_ids("continuation", "continuation-ids", false));
  ContinuationScore s = lm->Score({req})[0][0];
  if (json) {
    JsonWriter j;
    j.BeginObject();
    j.Key("context_ids").IntArray(req.context);
    j.Key("continuation_ids").IntArray(req.continuations[0]);
    j.Field("logprob", s.logprob).Field("is_greedy", s.is_greedy).Field("n_tokens", static_cast<int64_t>(s.n_tokens));
    j.EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("logprob %.6f  is_greedy %s  tokens %d\n", s.logprob, s.is_greedy ? "true" : "false",
                s.n_tokens);
  }
  return 0;
}

int RunDev(const Args& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    std::printf("usage: doge dev random-checkpoint --shape doge-20m --out-dir DIR [--seed S] [--dtype f32]\n\n"
                "Developer tools.\n  random-checkpoint  write config.json + model.safetensors with the real\n"
                "                     Doge shapes and random weights (F32/BF16/F16, variant B, tied)\n\n"
                "example: doge dev random-checkpoint --shape doge-20m --out-dir /tmp/d20m\n");
    return args.size() < 2 ? 2 : 0;
  }
  if (args[1] != "random-checkpoint") {
    throw Error(ErrorKind::kUsage, "", "dev", UnknownNameMessage("dev tool", args[1], {"random-checkpoint"}));
  }
  Args sub(args.begin() + 1, args.end());
  po::options_description desc("doge dev random-checkpoint options");
  desc.add_options()("help,h", "show this help")
      ("shape", po::value<std::string>(), "doge-20m | doge-60m | doge-160m | doge-320m")
      ("out-dir", po::value<std::string>(), "output folder (created)")
      ("seed", po::value<uint64_t>()->default_value(0), "weights seed")
      ("dtype", po::value<std::string>()->default_value("f32"),
       "f32 (as the published checkpoints) | bf16 | f16 | q8 (the f32 weights through doge quantize)");
  po::variables_map vm;
  if (!Parse(ApplyFlagAliases(sub, 1, {{"--out", "--out-dir"}}, "doge dev random-checkpoint"), desc,
             "doge dev random-checkpoint --shape doge-20m --out-dir DIR [--seed S] [--dtype f32]",
             "Writes a full-size random Doge checkpoint (shapes of doge-architecture.md §2),\n"
             "loadable by every other command, for benchmarks and demos without the hub.\n"
             "Norm weights and residual scales ~1, A = ±[0.3, 1]. Copy a tokenizer.json next\n"
             "to it if you want text in and out.\n"
             "(--out DIR: the old spelling of --out-dir, accepted with a note until the next release)\n\n"
             "example: doge dev random-checkpoint --shape doge-20m --out-dir /tmp/d20m",
             &vm)) {
    return 0;
  }
  Require(vm, "shape");
  Require(vm, "out-dir");
  const std::string out_dir = vm["out-dir"].as<std::string>();
  if (vm["dtype"].as<std::string>() == "q8") {
    WriteRandomQ8Checkpoint(vm["shape"].as<std::string>(), out_dir, vm["seed"].as<uint64_t>());
  } else {
    WriteRandomCheckpoint(vm["shape"].as<std::string>(), out_dir, vm["seed"].as<uint64_t>(),
                          vm["dtype"].as<std::string>());
  }
  NoteWrote("doge dev random-checkpoint", out_dir + "/config.json");
  NoteWrote("doge dev random-checkpoint", out_dir + "/model.safetensors");
  return 0;
}

}  // namespace doge::cli
