// Perplexity and KL divergence (issue #17).
//  - Unit: the windowing against lm-eval's own test gold (test_get_rolling_token_windows_v1) and
//    llama-perplexity's chunking written out by hand; lm-eval's word count against counts done by
//    hand; UTF-8 checking; KL divergence of hand-made distributions against the formula; the
//    top-K form against its closed form and as a lower bound.
//  - CLI: `doge perplexity --format json` on the bundled tiny model, both conventions, against
//    per-token log-probabilities computed here from `doge logits` (log-softmax in this file) and,
//    for lm-eval, against `doge score` on each disjoint window (lm-eval's own definition: one
//    loglikelihood request per window); --kl-divergence-base against itself (0, 100% top-1), F32
//    vs BF16 weights against a KLD computed here from both models' `doge logits`, and refusal of a
//    baseline for another context, text or model.
#include <gtest/gtest.h>
#include <unistd.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_writer.h"
#include "engine/perplexity.h"
#include "engine/safetensors.h"

namespace doge {
namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------------------------
// Unit tests.

TEST(PerplexityWindowsTest, LmEvalRollingMatchesLmEvalTestGold) {
  // lm-eval tests/test_utils.py test_get_rolling_token_windows_v1: range(34), prefix -100,
  // max_seq_len 10, context_len 1, after make_disjoint_window the forward inputs are
  // context + continuation[:-1]; the gold pairs (input window, predicted tokens) are:
  std::vector<int32_t> x(34);
  for (int i = 0; i < 34; ++i) x[i] = i;
  std::vector<ScoringWindow> w = LmEvalRollingWindows(x, -100, 10);
  ASSERT_EQ(w.size(), 4u);
  auto range = [](int a, int b) {
    std::vector<int32_t> v;
    for (int i = a; i < b; ++i) v.push_back(i);
    return v;
  };
  std::vector<int32_t> in0 = {-100};
  for (int i = 0; i < 9; ++i) in0.push_back(i);
  EXPECT_EQ(w[0].input, in0);
  EXPECT_EQ(w[0].targets, range(0, 10));
  EXPECT_EQ(w[0].first_scored, 0);
  EXPECT_EQ(w[1].input, range(9, 19));
  EXPECT_EQ(w[1].targets, range(10, 20));
  EXPECT_EQ(w[1].first_scored, 0);
  EXPECT_EQ(w[2].input, range(19, 29));
  EXPECT_EQ(w[2].targets, range(20, 30));
  // The last window predicts 4 tokens with the full 10-token input [23..32].
  EXPECT_EQ(w[3].input, range(23, 33));
  EXPECT_EQ(w[3].targets, range(30, 34));
  EXPECT_EQ(w[3].first_scored, 6);
  // Short documents: one window; empty: none.
  std::vector<ScoringWindow> s = LmEvalRollingWindows({7, 8, 9}, 0, 10);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].input, (std::vector<int32_t>{0, 7, 8}));
  EXPECT_EQ(s[0].targets, (std::vector<int32_t>{7, 8, 9}));
  EXPECT_TRUE(LmEvalRollingWindows({}, 0, 10).empty());
}

TEST(PerplexityWindowsTest, LlamaChunksScoreTheSecondHalfAfterBos) {
  std::vector<int32_t> t = {50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};  // 11 tokens, ctx 5: 2 chunks
  std::vector<ScoringWindow> w = LlamaPerplexityWindows(t, 5, 50);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].input, (std::vector<int32_t>{50, 1, 2, 3, 4}));
  EXPECT_EQ(w[0].first_scored, 2);  // first = ctx / 2
  EXPECT_EQ(w[0].targets, (std::vector<int32_t>{3, 4}));  // ctx - 1 - first tokens
  EXPECT_EQ(w[1].input, (std::vector<int32_t>{50, 6, 7, 8, 9}));  // token 5 replaced by BOS
  EXPECT_EQ(w[1].targets, (std::vector<int32_t>{8, 9}));
  // No BOS: the chunk keeps its first token.
  EXPECT_EQ(LlamaPerplexityWindows(t, 5, -1)[1].input, (std::vector<int32_t>{5, 6, 7, 8, 9}));
  EXPECT_TRUE(LlamaPerplexityWindows({1, 2, 3}, 4, 0).empty());
}

TEST(PerplexityTextTest, WordCountIsLenOfPythonSplitOnWhitespace) {
  // Counted by hand: pieces of re.split(r"\s+", s), empty pieces included.
  EXPECT_EQ(LmEvalWordCount(""), 1);
  EXPECT_EQ(LmEvalWordCount("word"), 1);
  EXPECT_EQ(LmEvalWordCount("a b\n"), 3);         // ['a', 'b', '']
  EXPECT_EQ(LmEvalWordCount("  x"), 2);           // ['', 'x']
  EXPECT_EQ(LmEvalWordCount("a \t\n b"), 2);      // one run
  EXPECT_EQ(LmEvalWordCount("a\xC2\xA0" "b"), 2);  // U+00A0 is \s in Python 3
  EXPECT_EQ(LmEvalWordCount("a\xE2\x80\x83" "b"), 2);  // U+2003 EM SPACE
  EXPECT_EQ(LmEvalWordCount("a\xE2\x80\x8B" "b"), 1);  // U+200B ZERO WIDTH SPACE is not
  EXPECT_EQ(LmEvalWordCount("a\x1C" "b\x1F" "c"), 3);  // \x1c-\x1f are (str.isspace)
  EXPECT_EQ(LmEvalWordCount("caf\xC3\xA9 cr\xC3\xA8me"), 2);
}

TEST(PerplexityStatsTest, LlamaEstimateIsTheFormula) {
  // nll = {1, 2, 4}: mean 7/3, E[nll^2] = 7, var = 7 - 49/9 = 14/9; se = ppl * sqrt(var / 2).
  const PerplexityEstimate e = LlamaPerplexityEstimate(7, 21, 3);
  EXPECT_DOUBLE_EQ(e.ppl, std::exp(7.0 / 3));
  EXPECT_DOUBLE_EQ(e.ppl_stderr, std::exp(7.0 / 3) * std::sqrt(14.0 / 9 / 2));
  EXPECT_TRUE(std::isnan(LlamaPerplexityEstimate(1, 1, 1).ppl_stderr));
}

TEST(KlDivergenceTest, TwoHandMadeDistributionsMatchTheFormula) {
  // P = (1/2, 1/4, 1/4), Q = (1/4, 1/2, 1/4): KL(P||Q) = 1/2 ln 2 + 1/4 ln(1/2) = ln(2) / 4.
  const double p[3] = {std::log(0.5), std::log(0.25), std::log(0.25)};
  const double q[3] = {std::log(0.25), std::log(0.5), std::log(0.25)};
  EXPECT_NEAR(KlDivergenceFull(p, q, 3), std::log(2.0) / 4, 1e-15);
  EXPECT_NEAR(KlDivergenceFull(q, p, 3), std::log(2.0) / 4, 1e-15);  // symmetric here by chance
  EXPECT_EQ(KlDivergenceFull(p, p, 3), 0.0);
  // A zero-probability base entry contributes nothing (0 log 0 = 0).
  const double p0[2] = {0.0, -std::numeric_limits<double>::infinity()};
  const double q0[2] = {std::log(0.9), std::log(0.1)};
  EXPECT_NEAR(KlDivergenceFull(p0, q0, 2), -std::log(0.9), 1e-15);
}

TEST(KlDivergenceTest, TopKIsTheCoarseKlAndALowerBound) {
  // P = (0.5, 0.3, 0.15, 0.05), Q uniform. Top-1 of P: token 0, P_rest = 0.5, Q_rest = 0.75:
  // KL_coarse = 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75).
  const double pv[4] = {0.5, 0.3, 0.15, 0.05};
  double p[4], q[4];
  for (int i = 0; i < 4; ++i) {
    p[i] = std::log(pv[i]);
    q[i] = std::log(0.25);
  }
  const int32_t ids[2] = {0, 1};
  const double coarse1 = KlDivergenceTopK(ids, p, 1, std::log(0.5), q, 4);
  EXPECT_NEAR(coarse1, 0.5 * std::log(2.0) + 0.5 * std::log(0.5 / 0.75), 1e-15);
  // Top-2: {0}, {1}, rest {2, 3} with P_rest 0.2, Q_rest 0.5.
  const double coarse2 = KlDivergenceTopK(ids, p, 2, std::log(0.2), q, 4);
  EXPECT_NEAR(coarse2, 0.5 * std::log(2.0) + 0.3 * std::log(0.3 / 0.25) + 0.2 * std::log(0.2 / 0.5), 1e-15);
  const double full = KlDivergenceFull(p, q, 4);
  EXPECT_LE(coarse1, coarse2);
  EXPECT_LE(coarse2, full);
  // The gap is P_rest * KL(P|rest || Q|rest): (0.15, 0.05)/0.2 against (1/2, 1/2).
  EXPECT_NEAR(full - coarse2, 0.2 * (0.75 * std::log(0.75 / 0.5) + 0.25 * std::log(0.25 / 0.5)), 1e-15);
}

TEST(KlDivergenceTest, PercentileInterpolatesLikeNumpy) {
  // numpy.percentile([1, 2, 3, 4], 50) = 2.5; 99 -> 3.97.
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_NEAR(Percentile({4, 1, 3, 2}, 0.99), 3.97, 1e-12);
}

// ------------------------------------------------------------------------------------------------
// CLI tests against independent computations.

struct CliRun {
  int code = -1;
  std::string out, err;
};

std::string Tmp(const std::string& name) {
  const std::string d = std::string(::testing::TempDir()) + "/doge_perplexity_test";
  MakeDirs(d);
  return d + "/" + name;
}

CliRun Doge(const std::string& args) {
  // One file per process: ctest -j runs this binary's tests in parallel processes.
  const std::string err = Tmp("stderr." + std::to_string(getpid()) + ".txt");
  const std::string cmd = std::string(DOGE_BINARY) + " " + args + " 2>" + err;
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = ReadFileToString(err);
  return r;
}

const char kTinyModel[] = DOGE_TEST_DATA "/tiny-model";

// 219 bytes, 43 words (by hand: 9 + 8 + 8 + 3 + 14 + the empty piece after the final newline);
// non-ASCII letters, a no-break space and an em space (both \s in Python), a tab, a blank line.
const char kText[] =
    "The quick brown fox jumps over the lazy dog.\nA caf\xC3\xA9 serves cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e"
    "\xC2\xA0" "daily;  prices vary.\n\nNumbers: 1, 22, 333 and 4444 appear here. Tabs\there too."
    "\xE2\x80\x83" "The end of the story is near, and the fox sleeps in the sun.\n";

std::string TextFile() {
  const std::string path = Tmp("text.txt");
  WriteFileAtomic(path, kText);
  return path;
}

std::string Join(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

// `doge tokenize` of kText, with or without BOS.
std::vector<int32_t> Tokenize(bool special) {
  const std::string input = Tmp("text.jsonl");
  std::string line = "{\"text\":";
  AppendJsonString(line, kText);
  WriteFileAtomic(input, line + "}\n");
  CliRun r = Doge(std::string("tokenize --tokenizer ") + kTinyModel + " --input " + input +
                  (special ? "" : " --no-special"));
  EXPECT_EQ(r.code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(r.out);
  std::vector<int32_t> ids;
  for (int64_t v : root["ids"].get_array()) ids.push_back(static_cast<int32_t>(v));
  return ids;
}

// Row-major [T, V] logits of one forward call over `ids` (doge logits, no --incremental).
std::vector<float> Logits(const std::string& model, const std::vector<int32_t>& ids, int64_t* vocab) {
  const std::string out = Tmp("logits.safetensors");
  CliRun r = Doge("logits --model " + model + " --ids " + Join(ids) + " -o " + out);
  EXPECT_EQ(r.code, 0) << r.err;
  SafetensorsFile f(out);
  const TensorView* t = f.Find("logits");
  *vocab = t->shape[1];
  std::vector<float> v(static_cast<size_t>(t->numel()));
  std::memcpy(v.data(), t->data, v.size() * 4);
  return v;
}

// log-softmax of one row at `token`, in long double (independent of the engine's helpers).
double LogProb(const float* row, int64_t V, int32_t token) {
  long double mx = row[0];
  for (int64_t i = 1; i < V; ++i) mx = std::max<long double>(mx, row[i]);
  long double s = 0;
  for (int64_t i = 0; i < V; ++i) s += std::exp(static_cast<long double>(row[i]) - mx);
  return static_cast<double>(static_cast<long double>(row[token]) - mx - std::log(s));
}

simdjson::dom::element ParseJson(simdjson::dom::parser& parser, const std::string& text) {
  return parser.parse(text);
}

TEST(PerplexityCliTest, LlamaConventionMatchesPerTokenLogprobsFromDogeLogits) {
  const int64_t ctx = 32;
  CliRun r = Doge(std::string("perplexity --model ") + kTinyModel + " --file " + TextFile() +
                  " --convention llama --ctx 32 --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element j = ParseJson(parser, r.out);

  // Independent: llama-perplexity's procedure written out here over `doge logits` rows.
  std::vector<int32_t> tokens = Tokenize(true);
  ASSERT_EQ(tokens[0], 0);  // the tiny tokenizer adds BOS (id 0)
  const int64_t n_chunks = static_cast<int64_t>(tokens.size()) / ctx;
  ASSERT_GE(n_chunks, 2);
  double sum = 0, sum2 = 0;
  int64_t count = 0;
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * ctx, tokens.begin() + (c + 1) * ctx);
    const std::vector<int32_t> original = chunk;
    chunk[0] = 0;  // BOS
    int64_t V = 0;
    std::vector<float> logits = Logits(kTinyModel, chunk, &V);
    for (int64_t j = ctx / 2; j <= ctx - 2; ++j) {
      const double nll = -LogProb(logits.data() + j * V, V, original[j + 1]);
      sum += nll;
      sum2 += nll * nll;
      ++count;
    }
  }
  const double mean = sum / count;
  const double ppl = std::exp(mean);
  const double se = ppl * std::sqrt((sum2 / count - mean * mean) / (count - 1));
  EXPECT_EQ(int64_t(j["n_tokens"]), count);
  EXPECT_EQ(int64_t(j["n_windows"]), n_chunks);
  // Same forward rows, log-softmax summed in another precision here: agreement to ~1e-12.
  EXPECT_NEAR(double(j["ppl"]), ppl, 1e-9 * ppl);
  EXPECT_NEAR(double(j["ppl_stderr"]), se, 1e-7 * se);
}

TEST(PerplexityCliTest, LmEvalConventionMatchesDogeScoreOnEachDisjointWindow) {
  const int64_t max_len = 48;  // lm-eval's max_length = max_position_embeddings of the tiny model
  CliRun r = Doge(std::string("perplexity --model ") + kTinyModel + " --file " + TextFile() +
                  " --convention lm-eval --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element j = ParseJson(parser, r.out);
  EXPECT_EQ(int64_t(j["ctx"]), max_len);

  // Independent: lm-eval's get_rolling_token_windows + make_disjoint_window transliterated, each
  // window scored as one loglikelihood request with `doge score`.
  std::vector<int32_t> t = Tokenize(false);
  ASSERT_NE(t[0], 0);  // no BOS
  std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> windows;
  const int64_t n = static_cast<int64_t>(t.size());
  const int64_t first_len = std::min(max_len, n);
  std::vector<int32_t> a = {0};  // prefix: BOS
  a.insert(a.end(), t.begin(), t.begin() + first_len - 1);
  windows.push_back({a, std::vector<int32_t>(t.begin(), t.begin() + first_len)});
  for (int64_t predicted = first_len; predicted < n;) {
    const int64_t pred = std::min(n - predicted, max_len);
    const int64_t end = predicted + pred;
    windows.push_back({std::vector<int32_t>(t.begin() + std::max<int64_t>(0, end - max_len - 1), t.begin() + end - 1),
                       std::vector<int32_t>(t.begin() + end - pred, t.begin() + end)});
    predicted += pred;
  }
  ASSERT_GE(windows.size(), 3u);
  double ll = 0;
  int64_t scored = 0;
  for (auto& [ctx, cont] : windows) {
    ctx.resize(ctx.size() - (cont.size() - 1));  // make_disjoint_window
    CliRun s = Doge(std::string("score --model ") + kTinyModel + " --context-ids " + Join(ctx) +
                    " --continuation-ids " + Join(cont) + " --format json");
    ASSERT_EQ(s.code, 0) << s.err;
    simdjson::dom::parser p2;
    simdjson::dom::element sj = p2.parse(s.out);
    ll += double(sj["logprob"]);
    scored += int64_t(sj["n_tokens"]);
  }
  const double words = 43, bytes = 219;
  EXPECT_EQ(int64_t(j["n_words"]), 43);
  EXPECT_EQ(int64_t(j["n_bytes"]), 219);
  EXPECT_EQ(int64_t(j["n_tokens"]), scored);
  EXPECT_EQ(int64_t(j["n_windows"]), static_cast<int64_t>(windows.size()));
  // doge score runs the prefill + continuation-branch path, whose GEMMs batch the rows
  // differently (float32 logits summed in another order): ~1e-9 relative on the log-likelihood
  // here, so 1e-8 leaves room across kernel ISAs while still catching any window or token error
  // (one token of this model moves it by ~7 / 955 = 7e-3).
  const double tool_ll = double(j["loglikelihood"]);
  EXPECT_NEAR(tool_ll, ll, 1e-8 * std::fabs(ll));
  // lm-eval's aggregations applied to the reported log-likelihood.
  EXPECT_NEAR(double(j["word_perplexity"]), std::exp(-tool_ll / words), 1e-12 * std::exp(-tool_ll / words));
  EXPECT_NEAR(double(j["byte_perplexity"]), std::exp(-tool_ll / bytes), 1e-12 * std::exp(-tool_ll / bytes));
  EXPECT_NEAR(double(j["bits_per_byte"]), -tool_ll / bytes / std::log(2.0), 1e-12);
}

TEST(PerplexityCliTest, RejectsTextThatIsNotUtf8) {
  const std::string bad = Tmp("latin1.txt");
  WriteFileAtomic(bad, "first line\ncaf\xE9 au lait\n");
  CliRun r = Doge(std::string("perplexity --model ") + kTinyModel + " --file " + bad);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("byte 14 (line 2, column 4)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not valid UTF-8"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(PerplexityCliTest, KlDivergenceOfABaselineAgainstItselfIsZero) {
  const std::string text = TextFile();
  for (const std::string storage : {"0", "16"}) {
    const std::string base = Tmp("self" + storage + ".bin");
    CliRun s = Doge(std::string("perplexity --model ") + kTinyModel + " --file " + text +
                    " --ctx 32 --format json --kl-top-k " + storage + " --save-logits " + base);
    ASSERT_EQ(s.code, 0) << s.err;
    CliRun r = Doge(std::string("perplexity --model ") + kTinyModel + " --file " + text +
                    " --ctx 32 --format json --kl-divergence-base " + base);
    ASSERT_EQ(r.code, 0) << r.err;
    simdjson::dom::parser parser;
    simdjson::dom::element k = ParseJson(parser, r.out)["kl_divergence"];
    EXPECT_EQ(std::string(std::string_view(k["storage"])), storage == "0" ? "full" : "top-k");
    EXPECT_EQ(double(k["mean"]), 0.0);
    EXPECT_EQ(double(k["max"]), 0.0);
    EXPECT_EQ(double(k["top1_agreement"]), 1.0);
    EXPECT_EQ(double(k["delta_ppl"]), 0.0);
  }
}

// A model folder with `weights_dir`'s config and weights and the tiny model's tokenizer.
std::string WithTokenizer(const std::string& weights_dir, const std::string& name) {
  const std::string dir = Tmp(name);
  MakeDirs(dir);
  for (const char* f : {"config.json", "model.safetensors"}) {
    fs::copy_file(weights_dir + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
  }
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    fs::copy_file(std::string(kTinyModel) + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
  }
  return dir;
}

TEST(PerplexityCliTest, Bf16AgainstF32MatchesKlComputedFromBothModelsLogits) {
  // b-dense-bf16 holds b-dense's weights rounded to BF16 (tests/data/doge-tiny/README.md).
  const std::string f32 = WithTokenizer(DOGE_TEST_DATA "/doge-tiny/b-dense", "f32-model");
  const std::string bf16 = WithTokenizer(DOGE_TEST_DATA "/doge-tiny/b-dense-bf16", "bf16-model");
  const std::string text = TextFile(), base = Tmp("f32.bin"), base_top = Tmp("f32-top8.bin");
  const int64_t ctx = 32;
  ASSERT_EQ(Doge("perplexity --model " + f32 + " --file " + text + " --ctx 32 --save-logits " + base).code, 0);
  ASSERT_EQ(Doge("perplexity --model " + f32 + " --file " + text + " --ctx 32 --kl-top-k 8 --save-logits " + base_top).code, 0);
  CliRun r = Doge("perplexity --model " + bf16 + " --file " + text + " --ctx 32 --format json --kl-divergence-base " + base);
  ASSERT_EQ(r.code, 0) << r.err;
  CliRun rt = Doge("perplexity --model " + bf16 + " --file " + text + " --ctx 32 --format json --kl-divergence-base " + base_top);
  ASSERT_EQ(rt.code, 0) << rt.err;
  simdjson::dom::parser parser, parser_t;
  simdjson::dom::element k = ParseJson(parser, r.out)["kl_divergence"];
  simdjson::dom::element kt = ParseJson(parser_t, rt.out)["kl_divergence"];

  // Independent: full KL(P_f32 || Q_bf16) per scored position from both models' doge logits.
  std::vector<int32_t> tokens = Tokenize(true);
  const int64_t n_chunks = static_cast<int64_t>(tokens.size()) / ctx;
  std::vector<double> klds;
  int64_t same_top = 0;
  double nll_p = 0, nll_q = 0;
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * ctx, tokens.begin() + (c + 1) * ctx);
    const std::vector<int32_t> original = chunk;
    chunk[0] = 0;
    int64_t V = 0;
    std::vector<float> lp = Logits(f32, chunk, &V), lq = Logits(bf16, chunk, &V);
    for (int64_t j = ctx / 2; j <= ctx - 2; ++j) {
      const float* P = lp.data() + j * V;
      const float* Q = lq.data() + j * V;
      long double kl = 0;
      int64_t ap = 0, aq = 0;
      for (int64_t i = 0; i < V; ++i) {
        const double a = LogProb(P, V, static_cast<int32_t>(i)), b = LogProb(Q, V, static_cast<int32_t>(i));
        kl += std::exp(static_cast<long double>(a)) * (a - b);
        if (P[i] > P[ap]) ap = i;
        if (Q[i] > Q[aq]) aq = i;
      }
      klds.push_back(static_cast<double>(kl));
      same_top += ap == aq;
      nll_p -= LogProb(P, V, original[j + 1]);
      nll_q -= LogProb(Q, V, original[j + 1]);
    }
  }
  double mean = 0, mx = 0;
  for (double v : klds) {
    mean += v / klds.size();
    mx = std::max(mx, v);
  }
  ASSERT_GT(mean, 0);  // BF16 rounding does move the distributions
  EXPECT_EQ(int64_t(k["n"]), static_cast<int64_t>(klds.size()));
  EXPECT_NEAR(double(k["mean"]), mean, 1e-6 * mean + 1e-15);
  EXPECT_NEAR(double(k["max"]), mx, 1e-6 * mx + 1e-15);
  EXPECT_DOUBLE_EQ(double(k["top1_agreement"]), static_cast<double>(same_top) / klds.size());
  const double ppl_p = std::exp(nll_p / klds.size()), ppl_q = std::exp(nll_q / klds.size());
  EXPECT_NEAR(double(k["ppl_base"]), ppl_p, 1e-9 * ppl_p);
  EXPECT_NEAR(double(k["ppl_new"]), ppl_q, 1e-9 * ppl_q);
  EXPECT_NEAR(double(k["delta_ppl"]), ppl_q - ppl_p, 1e-9 * ppl_p);
  // Top-8 storage: a lower bound on the full KLD, same perplexities and top-1 agreement.
  EXPECT_LE(double(kt["mean"]), double(k["mean"]) * (1 + 1e-12));
  EXPECT_GT(double(kt["mean_rest_mass"]), 0);
  EXPECT_EQ(double(kt["top1_agreement"]), double(k["top1_agreement"]));
  EXPECT_EQ(double(kt["ppl_base"]), double(k["ppl_base"]));
}

// fuzz_kld_base found this: a top-k record whose token id lies outside the vocabulary was used
// as an index into the run's logits (an out-of-bounds read). Every id of a record is now checked.
TEST(KldBaseReaderTest, RecordIdOutsideTheVocabularyIsAFormatError) {
  const std::string path = DOGE_TEST_DATA "/fuzz-regressions/kld-base-top-id-out-of-range.kld";
  try {
    KldBaseReader reader(path);
    KldBaseReader::Position p;
    for (int64_t i = 0; i < reader.header().n_positions; ++i) reader.Read(i, &p);
    FAIL() << "read every position";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat) << e.what();
    EXPECT_EQ(e.field().rfind("position ", 0), 0u) << e.what();
    EXPECT_NE(e.message().find("outside [0, 16)"), std::string::npos) << e.what();
  }
}

// Header numbers whose record arithmetic would overflow are refused before any record is read.
TEST(KldBaseReaderTest, HeaderSizesThatWouldOverflowAreFormatErrors) {
  const std::string text = TextFile(), base = Tmp("overflow-base.bin");
  ASSERT_EQ(Doge(std::string("perplexity --model ") + kTinyModel + " --file " + text + " --ctx 32 --save-logits " + base).code, 0);
  const std::string whole = ReadFileToString(base);
  uint64_t hlen = 0;
  std::memcpy(&hlen, whole.data() + 8, 8);
  const std::string json = whole.substr(16, hlen), records = whole.substr(16 + hlen);
  auto with = [&](const std::string& key, const std::string& value) {
    std::string h = json;
    const size_t at = h.find("\"" + key + "\":");
    EXPECT_NE(at, std::string::npos) << key;
    const size_t from = at + key.size() + 3, to = h.find_first_of(",}", from);
    h.replace(from, to - from, value);
    std::string out = whole.substr(0, 8) + std::string(8, '\0') + h + records;
    const uint64_t n = h.size();
    std::memcpy(&out[8], &n, 8);
    const std::string path = Tmp("overflow.bin");
    WriteFileAtomic(path, out);
    return path;
  };
  struct Case {
    std::string key, value, field;
  };
  const Case cases[] = {{"vocab_size", "1099511627776", "header.vocab_size"},
                        {"n_positions", "2305843009213693952", "n_positions"},
                        {"n_positions", "9223372036854775807", "n_positions"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key + "=" + c.value);
    try {
      KldBaseReader reader(with(c.key, c.value));
      FAIL() << "opened";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kFormat) << e.what();
      EXPECT_EQ(e.field(), c.field) << e.what();
    }
  }
}

TEST(PerplexityCliTest, BaselineHeaderKeyGivenTwiceWithDifferentValuesIsNamed) {
  const std::string text = TextFile(), base = Tmp("dup-base.bin");
  ASSERT_EQ(Doge(std::string("perplexity --model ") + kTinyModel + " --file " + text + " --ctx 32 --save-logits " + base).code, 0);
  const std::string whole = ReadFileToString(base);
  uint64_t hlen = 0;
  std::memcpy(&hlen, whole.data() + 8, 8);
  const std::string json = whole.substr(16, hlen), records = whole.substr(16 + hlen);
  auto rebuilt = [&](const std::string& header) {
    std::string out = whole.substr(0, 8) + std::string(8, '\0') + header + records;
    const uint64_t n = header.size();
    std::memcpy(&out[8], &n, 8);
    return out;
  };
  ASSERT_EQ(json[0], '{');
  struct Case {
    std::string insert, field;
  };
  const Case cases[] = {{"\"ctx\":16,", "header.ctx"}, {"\"storage\":\"top-k\",", "header.storage"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.insert);
    ASSERT_NE(json.find(c.field.substr(7) + "\""), std::string::npos) << json;
    const std::string dup = Tmp("dup.bin");
    WriteFileAtomic(dup, rebuilt("{" + c.insert + json.substr(1)));
    try {
      KldBaseReader reader(dup);
      FAIL() << "read";
    } catch (const Error& e) {
      EXPECT_EQ(e.file(), dup);
      EXPECT_EQ(e.field(), c.field) << e.what();
    }
  }
  // Rebuilding with the header unchanged reads (the test's own rewriting is sound).
  const std::string same = Tmp("same.bin");
  WriteFileAtomic(same, rebuilt(json));
  EXPECT_EQ(KldBaseReader(same).header().ctx, 32);
}

TEST(PerplexityCliTest, RefusesABaselineOfAnotherContextTextOrModel) {
  const std::string text = TextFile(), base = Tmp("refuse.bin");
  ASSERT_EQ(Doge(std::string("perplexity --model ") + kTinyModel + " --file " + text + " --ctx 32 --save-logits " + base).code, 0);
  CliRun r = Doge(std::string("perplexity --model ") + kTinyModel + " --file " + text + " --ctx 16 --kl-divergence-base " + base);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find(base + ": ctx: the baseline was made with 32, this run has 16"), std::string::npos) << r.err;

  const std::string other = Tmp("other.txt");
  WriteFileAtomic(other, std::string(kText) + "One more sentence.\n");
  r = Doge(std::string("perplexity --model ") + kTinyModel + " --file " + other + " --ctx 32 --kl-divergence-base " + base);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find(": text_sha256: "), std::string::npos) << r.err;

  const std::string moe = WithTokenizer(DOGE_TEST_DATA "/doge-tiny/b-moe", "moe-model");
  r = Doge("perplexity --model " + moe + " --file " + text + " --ctx 32 --kl-divergence-base " + base);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find(": model_shape: "), std::string::npos) << r.err;

  r = Doge(std::string("perplexity --model ") + kTinyModel + " --file " + text + " --ctx 32 --kl-divergence-base " + text);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("not a doge KL-divergence baseline"), std::string::npos) << r.err;

  // A truncated baseline (an interrupted copy) is refused, not read past its end.
  const std::string whole = ReadFileToString(base), cut = Tmp("truncated.bin");
  WriteFileAtomic(cut, whole.substr(0, whole.size() - 100));
  r = Doge(std::string("perplexity --model ") + kTinyModel + " --file " + text + " --ctx 32 --kl-divergence-base " + cut);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find(cut + ": n_positions: file has"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace doge
