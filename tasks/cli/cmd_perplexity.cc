// `doge perplexity`: perplexity of a text file in llama-perplexity's or lm-eval's
// convention, and the KL divergence of the model's next-token distributions against a baseline
// saved by an earlier run (--save-logits / --kl-divergence-base), as llama-perplexity does. The
// windows, statistics and baseline file live in engine/perplexity.h; this file reads the text,
// tokenizes it, checks the options and prints the result.
#include <boost/program_options.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/fingerprint.h"
#include "engine/base/json_writer.h"
#include "engine/base/utf8.h"
#include "engine/base/kernel_isa.h"
#include "engine/model.h"
#include "engine/perplexity.h"
#include "engine/base/progress.h"
#include "engine/tokenizer/tokenizer.h"
#include "tasks/cli/commands.h"
#include "tasks/cli/flags.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace po = boost::program_options;

namespace doge::cli {
namespace {

const char kUsage[] =
    "usage: doge perplexity --model DIR --file TEXT [--convention llama|lm-eval] [--ctx N]\n"
    "                       [--format md|json] [-o F] [--save-logits BASE.bin]\n"
    "                       [--kl-divergence-base BASE.bin] [--kl-top-k K] [-t N]\n"
    "(--out F: the old spelling of -o/--output, accepted with a note until the next release)\n";

const char kTeach[] =
    "Perplexity of a UTF-8 text file, in the two conventions people compare against:\n"
    "\n"
    "  llama    llama-perplexity's: the text is tokenized with BOS and cut into chunks of --ctx\n"
    "           tokens (the tail shorter than a chunk is dropped); each chunk starts from an\n"
    "           empty cache with its first token replaced by BOS, and the second half of each\n"
    "           chunk is scored (tokens ctx/2+1 .. ctx-1). Prints PPL +/- its standard error\n"
    "           (PPL * sqrt(var(nll) / (n - 1))), as llama.cpp's 'Final estimate'. --ctx default\n"
    "           512 (at most max_position_embeddings).\n"
    "  lm-eval  lm-eval's loglikelihood_rolling on the whole file as one document (the wikitext\n"
    "           task): tokens without special tokens, the BOS token as prefix, disjoint windows\n"
    "           of --ctx tokens (default max_position_embeddings, lm-eval's max_length);\n"
    "           word_perplexity = exp(-LL / words), byte_perplexity = exp(-LL / bytes),\n"
    "           bits_per_byte = -LL / bytes / ln 2, with words = len(re.split(r\"\\s+\", text))\n"
    "           and bytes = the UTF-8 bytes of the file.\n"
    "\n"
    "KL divergence against a saved baseline (like llama-perplexity --kl-divergence-base):\n"
    "  1. doge perplexity --model F32 --file T --save-logits base.bin      (the reference)\n"
    "  2. doge perplexity --model BF16 --file T --kl-divergence-base base.bin\n"
    "prints mean KLD +/- se, median / 99th / 99.9th percentile / max, top-1 agreement, both\n"
    "perplexities and their difference. The baseline records the text, tokenizer, token stream,\n"
    "model shape, --ctx and convention, and is refused for any other (the weights' values may\n"
    "differ: that is what is measured). It stores per scored position the full log-softmax\n"
    "(--kl-top-k 0, the default for vocabularies up to 4096: 8 bytes per entry) or the top-K\n"
    "log-probs plus the rest's mass (default K = 256 above 4096; 12 bytes per entry). Top-K gives a lower bound\n"
    "on KLD: the part left out is P_rest * KL(base tail || new tail); the mean P_rest is\n"
    "printed with the result.\n"
    "\n"
    "Progress (running PPL) goes to stderr. Exit 0 on success, 2 usage, 3 bad input (not\n"
    "UTF-8, too short, a baseline for another setup).\n"
    "\n"
    "example: doge perplexity --model tests/data/tiny-model --file README.md --ctx 32 --format json";

int64_t ModelMaxPositions(const DogeModel& m) { return m.config().max_position_embeddings; }

std::string ModelShape(const DogeModel& m) {
  const DogeConfig& c = m.config();
  return "vocab=" + std::to_string(c.vocab_size) + " hidden=" + std::to_string(c.hidden_size) +
         " intermediate=" + std::to_string(c.intermediate_size) + " layers=" +
         std::to_string(c.num_hidden_layers) + " heads=" + std::to_string(c.num_attention_heads) +
         " kv_heads=" + std::to_string(c.num_key_value_heads) + " window=" +
         std::to_string(c.keep_window_size) + " max_pos=" + std::to_string(c.max_position_embeddings) +
         " layout=" + LayoutName(m.layout()) + (c.is_moe ? " moe" : "");
}

// SHA-256 over "name=sha256\n" of every *.safetensors in the folder, sorted by name.
std::string WeightsSha256(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 12 && n.substr(n.size() - 12) == ".safetensors") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  std::string all;
  for (const std::string& n : names) all += n + "=" + Sha256File(dir + "/" + n) + "\n";
  return Sha256Hex(all);
}

// "line L, column C" (1-based, columns in bytes) of byte offset `off`.
std::string LineColumn(const std::string& text, int64_t off) {
  int64_t line = 1, col = 1;
  for (int64_t i = 0; i < off; ++i) {
    if (text[static_cast<size_t>(i)] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// llama.cpp's "%.4f" for perplexities, switching to "%.6e" past 1e9 (random-weight models reach
// 1e40 and more, which "%.4f" prints with dozens of digits).
std::string Ppl(double v) { return std::fabs(v) < 1e9 ? Fmt("%.4f", v) : Fmt("%.6e", v); }

// The text: read, check UTF-8 (clear error with the position of the first bad byte).
std::string ReadUtf8Text(const std::string& file) {
  const std::string text = ReadFileToString(file);
  const size_t invalid = FindInvalidUtf8(text);
  if (invalid != std::string_view::npos) {
    const auto bad = static_cast<int64_t>(invalid);
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[invalid]));
    throw Error(ErrorKind::kFormat, file, "byte " + std::to_string(bad) + " (" + LineColumn(text, bad) + ")",
                std::string("is not valid UTF-8 (found byte ") + hex +
                    "); convert the file to UTF-8 first, e.g. iconv -f latin1 -t utf-8");
  }
  if (text.empty()) throw Error(ErrorKind::kFormat, file, "", "is empty: nothing to score");
  return text;
}

// The text's tokens (into `tokens`) and the windows the convention scores them in.
std::vector<ScoringWindow> MakeWindows(const std::string& convention, const std::string& text, const std::string& file,
                                       int64_t ctx, const Tokenizer& tok, std::vector<int32_t>& tokens) {
  std::vector<ScoringWindow> windows;
  if (convention == "llama") {
    tokens = tok.Encode(text, true);  // common_tokenize(..., add_special = true)
    const std::vector<int32_t> empty = tok.Encode("", true);
    const bool add_bos = !empty.empty() && tok.bos_id() >= 0 && empty.front() == tok.bos_id();
    if (static_cast<int64_t>(tokens.size()) < ctx) {
      throw Error(ErrorKind::kFormat, file, "",
                  "tokenizes to " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of --ctx " +
                      std::to_string(ctx) + " (llama-perplexity itself asks for 2 x ctx); use a longer text or a smaller --ctx");
    }
    windows = LlamaPerplexityWindows(tokens, ctx, add_bos ? tok.bos_id() : -1);
  } else {
    tokens = tok.Encode(text, false);  // HFLM.tok_encode: add_special_tokens = False
    const int32_t prefix = tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id();
    if (prefix < 0) {
      throw Error(ErrorKind::kConfig, tok.path(), "bos_token", "the lm-eval convention needs a BOS (or EOS) token as prefix");
    }
    windows = LmEvalRollingWindows(tokens, prefix, ctx);
  }
  return windows;
}

// Everything the report prints, gathered after scoring.
struct PerplexityReport {
  std::string convention, model_dir, file;
  int64_t ctx = 0;
  KldBaseHeader identity;  // the run's identity (hashes, shape) as a baseline file records it
  int64_t n_text_tokens = 0, n_windows = 0;
  int64_t count = 0;  // scored tokens
  PerplexityEstimate est;
  double ll = 0;  // total log-likelihood
  int64_t n_words = 0, n_bytes = 0;
  double word_ppl = 0, byte_ppl = 0, bpb = 0;
  std::string save_path;  // "" unless --save-logits
  std::string base_path;  // "" unless --kl-divergence-base
  KldBaseHeader base_header;
  KldAccumulator::Summary ks;
  int threads = 0;
  double wall = 0;
};

// Identity of this run, for the baseline file: what a --kl-divergence-base comparison requires
// to be the same (convention, windows, tokens, text) and what it reports (model, tokenizer).
KldBaseHeader RunIdentity(const std::string& convention, int64_t ctx, int64_t n_scored,
                          const std::vector<ScoringWindow>& windows, const DogeModel& model,
                          const std::string& model_dir, const Tokenizer& tok, const std::string& text,
                          const std::string& file) {
  KldBaseHeader identity;
  identity.convention = convention;
  identity.ctx = ctx;
  identity.vocab_size = model.config().vocab_size;
  identity.n_positions = n_scored;
  identity.n_windows = static_cast<int64_t>(windows.size());
  identity.model_shape = ModelShape(model);
  identity.weights_sha256 = WeightsSha256(model_dir);
  identity.tokenizer_sha256 = Sha256File(tok.path());
  identity.text_sha256 = Sha256Hex(text);
  identity.text_bytes = static_cast<int64_t>(text.size());
  std::string raw;
  for (const ScoringWindow& w : windows) {
    raw.append(reinterpret_cast<const char*>(w.input.data()), 4 * w.input.size());
    raw.append(reinterpret_cast<const char*>(w.targets.data()), 4 * w.targets.size());
  }
  identity.tokens_sha256 = Sha256Hex(raw);
  identity.model_path = model_dir;
  identity.text_path = file;
  return identity;
}

// Sums over the scored positions (negative log-likelihoods, and the KL divergence against a
// baseline when one is given).
struct ScoreSums {
  double sum_nll = 0, sum_nll2 = 0;
  int64_t count = 0;
  KldAccumulator kld;
};

// Scores every window, feeding `writer` (--save-logits) and comparing with `base`
// (--kl-divergence-base) position by position.
ScoreSums ScoreWindows(const DogeModel& model, const std::vector<ScoringWindow>& windows,
                       const PerplexityReport& r, int64_t n_scored, KldBaseWriter* writer, KldBaseReader* base) {
  const int64_t V = model.config().vocab_size;
  ScoreSums s;
  KldBaseReader::Position pos;
  Progress progress("perplexity (" + r.convention + ", ctx " + std::to_string(r.ctx) + ")", n_scored,
                    Progress::Unit::kCount, "tokens");
  RunScoringWindows(
      model, windows,
      [&](size_t, int64_t, const float* logits, int32_t target) {
        const double nll = LogSumExp(logits, V) - static_cast<double>(logits[target]);
        s.sum_nll += nll;
        s.sum_nll2 += nll * nll;
        if (writer) writer->Add(logits, target);
        if (base) {
          base->Read(s.count, &pos);
          if (pos.target != target) {
            throw Error(ErrorKind::kFormat, r.base_path, "position " + std::to_string(s.count),
                        "baseline target " + std::to_string(pos.target) + ", this run " + std::to_string(target));
          }
          s.kld.Add(logits, V, pos);
        }
        ++s.count;
      },
      [&](size_t) {
        progress.SetSuffix("ppl " + Ppl(std::exp(s.sum_nll / std::max<int64_t>(s.count, 1))));
        progress.Set(s.count);
      });
  progress.Finish();
  return s;
}

std::string PerplexityJson(const PerplexityReport& r) {
  const KldAccumulator::Summary& ks = r.ks;
  JsonWriter w(true);
  w.BeginObject();
  w.Field("schema", "doge.perplexity/1");
  w.Field("convention", r.convention);
  w.Field("ctx", r.ctx);
  w.Key("model").BeginObject().Field("path", r.model_dir).Field("weights_sha256", r.identity.weights_sha256)
      .Field("shape", r.identity.model_shape).EndObject();
  w.Key("file").BeginObject().Field("path", r.file).Field("sha256", r.identity.text_sha256)
      .Field("bytes", r.n_bytes).EndObject();
  w.Field("tokenizer_sha256", r.identity.tokenizer_sha256);
  w.Field("n_text_tokens", r.n_text_tokens);
  w.Field("n_windows", r.n_windows);
  w.Field("n_tokens", r.count);  // scored tokens
  w.Field("mean_nll", r.est.mean_nll);
  if (r.convention == "llama") {
    w.Field("ppl", r.est.ppl).Field("ppl_stderr", r.est.ppl_stderr);
  } else {
    w.Field("loglikelihood", r.ll).Field("n_words", r.n_words).Field("n_bytes", r.n_bytes);
    w.Field("word_perplexity", r.word_ppl).Field("byte_perplexity", r.byte_ppl).Field("bits_per_byte", r.bpb);
    w.Field("token_perplexity", r.est.ppl);
  }
  if (!r.save_path.empty()) w.Field("saved_logits", r.save_path);
  if (!r.base_path.empty()) {
    w.Key("kl_divergence").BeginObject();
    w.Field("base", r.base_path).Field("base_weights_sha256", r.base_header.weights_sha256);
    w.Field("storage", r.base_header.storage).Field("top_k", r.base_header.top_k);
    w.Field("n", ks.n).Field("mean", ks.kld_mean).Field("stderr", ks.kld_stderr);
    w.Field("median", ks.kld_median).Field("p99", ks.kld_p99).Field("p99_9", ks.kld_p999).Field("max", ks.kld_max);
    w.Field("top1_agreement", ks.top1_agreement).Field("top1_agreement_stderr", ks.top1_agreement_stderr);
    w.Field("ppl_base", ks.ppl_base).Field("ppl_new", ks.ppl_new).Field("delta_ppl", ks.delta_ppl);
    w.Field("ln_ppl_ratio", ks.ln_ppl_ratio).Field("ln_ppl_ratio_stderr", ks.ln_ppl_ratio_stderr);
    w.Field("mean_rest_mass", ks.mean_rest_mass);
    w.EndObject();
  }
  w.Field("kernel_isa", KernelIsaName(ActiveKernelIsa()));
  w.Field("threads", r.threads);
  w.Field("wall_time_s", r.wall);
  w.EndObject();
  return w.Take() + "\n";
}

std::string PerplexityMarkdown(const PerplexityReport& r) {
  const KldAccumulator::Summary& ks = r.ks;
  const PerplexityEstimate& est = r.est;
  std::string output;
  output += "doge perplexity: " + r.file + " (" + std::to_string(r.n_bytes) + " bytes, " +
            std::to_string(r.n_text_tokens) + " tokens), model " + r.model_dir + ", convention " +
            r.convention + ", ctx " + std::to_string(r.ctx) + "\n\n";
  if (r.convention == "llama") {
    output += "Final estimate: PPL = " + Ppl(est.ppl) + " +/- " + (std::fabs(est.ppl_stderr) < 1e9 ? Fmt("%.5f", est.ppl_stderr) : Fmt("%.6e", est.ppl_stderr)) + "  (" +
              std::to_string(r.count) + " tokens scored in " + std::to_string(r.n_windows) + " chunks)\n";
  } else {
    output += "| metric | value |\n|---|---|\n";
    output += "| word_perplexity | " + Ppl(r.word_ppl) + " |\n";
    output += "| byte_perplexity | " + Ppl(r.byte_ppl) + " |\n";
    output += "| bits_per_byte | " + Fmt("%.4f", r.bpb) + " |\n";
    output += "| loglikelihood | " + Fmt("%.4f", r.ll) + " |\n";
    output += "| words / bytes / tokens | " + std::to_string(r.n_words) + " / " + std::to_string(r.n_bytes) + " / " +
              std::to_string(r.count) + " |\n";
  }
  if (!r.save_path.empty()) output += "\nsaved the baseline to " + r.save_path + "\n";
  if (!r.base_path.empty()) {
    const KldBaseHeader& bh = r.base_header;
    output += "\nKL divergence against " + r.base_path + " (" + bh.storage +
              (bh.storage == "top-k" ? " " + std::to_string(bh.top_k) : "") + ", " +
              std::to_string(ks.n) + " positions)\n\n| statistic | value |\n|---|---|\n";
    output += "| Mean PPL(new) | " + Ppl(ks.ppl_new) + " |\n";
    output += "| Mean PPL(base) | " + Ppl(ks.ppl_base) + " |\n";
    output += "| Δppl | " + Ppl(ks.delta_ppl) + " |\n";
    output += "| ln(PPL(new)/PPL(base)) | " + Fmt("%.6f", ks.ln_ppl_ratio) + " ± " + Fmt("%.6f", ks.ln_ppl_ratio_stderr) + " |\n";
    output += "| Mean KLD | " + Fmt("%.6g", ks.kld_mean) + " ± " + Fmt("%.3g", ks.kld_stderr) + " |\n";
    output += "| Median KLD | " + Fmt("%.6g", ks.kld_median) + " |\n";
    output += "| 99.0% KLD | " + Fmt("%.6g", ks.kld_p99) + " |\n";
    output += "| 99.9% KLD | " + Fmt("%.6g", ks.kld_p999) + " |\n";
    output += "| Maximum KLD | " + Fmt("%.6g", ks.kld_max) + " |\n";
    output += "| Same top-1 | " + Fmt("%.3f", 100 * ks.top1_agreement) + " ± " + Fmt("%.3f", 100 * ks.top1_agreement_stderr) + " % |\n";
    if (bh.storage == "top-k") {
      output += "| mean base mass outside top-K | " + Fmt("%.4g", ks.mean_rest_mass) +
                " (KLD is a lower bound; see --help) |\n";
    }
  }
  return output;
}

}  // namespace

int RunPerplexity(const Args& args) {
  po::options_description desc("doge perplexity options");
  std::string model_dir, file, convention, format, out, save_path, base_path;
  int64_t ctx = 0, top_k = -1;
  int threads = 0;
  desc.add_options()("help,h", "show this help")(
      "model", po::value<std::string>(&model_dir), "checkpoint folder (with its tokenizer)")(
      "file", po::value<std::string>(&file), "UTF-8 text file to score")(
      "convention", po::value<std::string>(&convention)->default_value("llama"), "llama | lm-eval")(
      "ctx", po::value<int64_t>(&ctx)->default_value(0),
      "tokens per chunk / window (0 = the convention's default, see above)")(
      "format", po::value<std::string>(&format)->default_value("md"), "md | json (one JSON object)")(
      "output,o", po::value<std::string>(&out), "write the output here (atomically) instead of stdout")(
      "save-logits", po::value<std::string>(&save_path),
      "write a KL-divergence baseline of this run to this file")(
      "kl-divergence-base", po::value<std::string>(&base_path),
      "compare this run's distributions with a baseline written by --save-logits")(
      "kl-top-k", po::value<int64_t>(&top_k)->default_value(-1),
      "with --save-logits: 0 = full log-softmax, K = top-K + rest (default: full up to 4096 "
      "entries, else 256)")(
      "threads,t", po::value<int>(&threads)->default_value(0), "threads (0 = all cores)");
  const Args argv = ApplyFlagAliases(args, 1, {{"--out", "--output"}}, "doge perplexity");
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  po::variables_map vm;
  po::store(po::command_line_parser(rest).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << kTeach << "\n\n" << desc << "\n";
    return 0;
  }
  po::notify(vm);
  if (model_dir.empty()) throw Error(ErrorKind::kUsage, "", "--model", "is required (see --help)");
  if (file.empty()) throw Error(ErrorKind::kUsage, "", "--file", "is required (see --help)");
  if (convention != "llama" && convention != "lm-eval") {
    throw Error(ErrorKind::kUsage, "", "--convention",
                UnknownNameMessage("convention", convention, {"llama", "lm-eval"}));
  }
  if (format != "md" && format != "json") {
    throw Error(ErrorKind::kUsage, "", "--format", UnknownNameMessage("format", format, {"md", "json"}));
  }
  if (ctx < 0) throw Error(ErrorKind::kUsage, "", "--ctx", "must be > 0 (or 0 for the default)");
  if (!save_path.empty() && !base_path.empty() && save_path == base_path) {
    throw Error(ErrorKind::kUsage, "", "--save-logits", "must not be the --kl-divergence-base file");
  }
  if (top_k < -1) throw Error(ErrorKind::kUsage, "", "--kl-top-k", "must be >= 0");
  if (top_k != -1 && save_path.empty()) {
    throw Error(ErrorKind::kUsage, "", "--kl-top-k", "only applies with --save-logits (the baseline's storage)");
  }
#ifdef _OPENMP
  omp_set_num_threads(ResolveThreads(threads));
#endif
  const auto t0 = std::chrono::steady_clock::now();

  const std::string text = ReadUtf8Text(file);

  auto model = DogeModel::Load(model_dir);
  std::unique_ptr<Tokenizer> tok = LoadTokenizer(model_dir);
  const int64_t V = model->config().vocab_size;
  const int64_t max_pos = ModelMaxPositions(*model);
  if (ctx == 0) ctx = convention == "llama" ? std::min<int64_t>(512, max_pos) : max_pos;

  // Tokens and windows.
  std::vector<int32_t> tokens;
  const std::vector<ScoringWindow> windows = MakeWindows(convention, text, file, ctx, *tok, tokens);
  int64_t n_scored = 0;
  for (const ScoringWindow& w : windows) n_scored += static_cast<int64_t>(w.targets.size());
  if (n_scored == 0) throw Error(ErrorKind::kFormat, file, "", "no token to score");

  PerplexityReport report;
  report.convention = convention;
  report.model_dir = model_dir;
  report.file = file;
  report.ctx = ctx;
  report.identity = RunIdentity(convention, ctx, n_scored, windows, *model, model_dir, *tok, text, file);
  report.n_text_tokens = static_cast<int64_t>(tokens.size());
  report.n_windows = static_cast<int64_t>(windows.size());

  std::unique_ptr<KldBaseReader> base;
  if (!base_path.empty()) {
    base = std::make_unique<KldBaseReader>(base_path);
    base->CheckCompatible(report.identity);
    report.base_path = base_path;
    report.base_header = base->header();
  }
  std::unique_ptr<KldBaseWriter> writer;
  if (!save_path.empty()) {
    KldBaseHeader h = report.identity;
    const int64_t k = top_k >= 0 ? top_k : (V <= 4096 ? 0 : 256);
    h.storage = k == 0 ? "full" : "top-k";
    h.top_k = k;
    writer = std::make_unique<KldBaseWriter>(save_path, h);
    report.save_path = save_path;
  }

  const ScoreSums sums = ScoreWindows(*model, windows, report, n_scored, writer.get(), base.get());
  report.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.count = sums.count;
  report.est = LlamaPerplexityEstimate(sums.sum_nll, sums.sum_nll2, sums.count);
  if (writer) {
    writer->Finish();
    NoteWrote("doge perplexity", save_path);
  }
  report.ll = -sums.sum_nll;
  report.n_words = LmEvalWordCount(text);
  report.n_bytes = static_cast<int64_t>(text.size());
  report.word_ppl = std::exp(-report.ll / report.n_words);
  report.byte_ppl = std::exp(-report.ll / report.n_bytes);
  report.bpb = -report.ll / report.n_bytes / std::log(2.0);
  if (base) report.ks = sums.kld.Summarize();
  report.threads = ResolveThreads(threads);
  const std::string output = format == "json" ? PerplexityJson(report) : PerplexityMarkdown(report);
  if (out.empty()) {
    std::fwrite(output.data(), 1, output.size(), stdout);
    std::fflush(stdout);
  } else {
    WriteFileAtomic(out, output);
    NoteWrote("doge perplexity", out);
  }
  return 0;
}

}  // namespace doge::cli
