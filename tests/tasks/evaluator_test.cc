// The evaluator against a fake tokenizer (bytes plus one merge) and a fake bigram language model
// written here, so that every number can be recomputed independently of the engine: pair
// tokenisation rules, scoring, single-token MMLU, generation with stops, aggregation, and the
// partial-file resume.
#include "tasks/eval_run.h"
#include "tasks/evaluator.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "tasks/requests.h"
#include "tasks/spec.h"

namespace doge::tasks {
namespace {

const std::string kData = std::string(DOGE_TEST_DATA) + "/datasets-canonical";

// Byte tokenizer: BOS 0, EOS 1, byte b -> b + 2, and the merge "ab" -> 258.
class FakeTokenizer : public Tokenizer {
 public:
  std::vector<int32_t> Encode(std::string_view text, bool add_special) const override {
    std::vector<int32_t> ids;
    if (add_special) ids.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == 'a' && i + 1 < text.size() && text[i + 1] == 'b') {
        ids.push_back(258);
        ++i;
      } else {
        ids.push_back(static_cast<unsigned char>(text[i]) + 2);
      }
    }
    return ids;
  }
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special, bool) const override {
    std::string s;
    for (int32_t id : ids) {
      if (id < 2) {
        if (!skip_special) s += id == 0 ? "<s>" : "</s>";
      } else if (id == 258) {
        s += "ab";
      } else {
        s.push_back(static_cast<char>(id - 2));
      }
    }
    return s;
  }
  int32_t vocab_size() const override { return 259; }
  int32_t bos_id() const override { return 0; }
  int32_t eos_id() const override { return 1; }
  std::string eos_token() const override { return "</s>"; }
  bool clean_up_tokenization_spaces() const override { return false; }
  std::string backend_name() const override { return "fake"; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_ = "fake-tokenizer";
};

// log p(t | prev) = log_softmax_v(((prev * 31 + v * 17) % 97) / 10)[t]: depends on the previous
// token only, so every expected number is a short sum.
class FakeLm : public LanguageModel {
 public:
  static double LogProb(int32_t prev, int32_t t) {
    double mx = -1e300;
    for (int v = 0; v < 259; ++v) mx = std::max(mx, Logit(prev, v));
    double z = 0;
    for (int v = 0; v < 259; ++v) z += std::exp(Logit(prev, v) - mx);
    return Logit(prev, t) - mx - std::log(z);
  }
  static int32_t Argmax(int32_t prev) {
    int32_t best = 0;
    for (int v = 1; v < 259; ++v) {
      if (Logit(prev, v) > Logit(prev, best)) best = v;
    }
    return best;
  }
  std::vector<std::vector<ContinuationScore>> Score(const std::vector<ScoreRequest>& reqs) const override {
    ++score_calls;
    std::vector<std::vector<ContinuationScore>> out;
    for (const ScoreRequest& r : reqs) {
      std::vector<ContinuationScore> row;
      for (const auto& cont : r.continuations) {
        std::vector<int32_t> full = r.context;
        full.insert(full.end(), cont.begin(), cont.end());
        ContinuationScore s;
        s.is_greedy = true;
        for (size_t i = r.context.size(); i < full.size(); ++i) {
          s.logprob += LogProb(full[i - 1], full[i]);
          s.is_greedy = s.is_greedy && Argmax(full[i - 1]) == full[i];
        }
        s.n_tokens = static_cast<int32_t>(cont.size());
        row.push_back(s);
      }
      out.push_back(row);
    }
    return out;
  }
  std::vector<std::vector<double>> NextTokenLogprobs(const std::vector<std::vector<int32_t>>& ctxs,
                                                     const std::vector<int32_t>& ids) const override {
    std::vector<std::vector<double>> out;
    for (const auto& c : ctxs) {
      std::vector<double> row;
      for (int32_t id : ids) row.push_back(LogProb(c.back(), id));
      out.push_back(row);
    }
    return out;
  }
  std::vector<std::vector<int32_t>> GenerateGreedy(const std::vector<std::vector<int32_t>>& prompts, int32_t max_new,
                                                   const std::function<bool(const std::vector<int32_t>&)>& stop) const override {
    std::vector<std::vector<int32_t>> out;
    for (const auto& p : prompts) {
      std::vector<int32_t> gen;
      int32_t prev = p.back();
      while (static_cast<int32_t>(gen.size()) < max_new) {
        prev = Argmax(prev);
        gen.push_back(prev);
        if (stop(gen)) break;
      }
      out.push_back(gen);
    }
    return out;
  }
  int32_t max_length() const override { return 2048; }
  int32_t vocab_size() const override { return 259; }
  mutable int score_calls = 0;

 private:
  static double Logit(int32_t prev, int32_t v) { return ((prev * 31 + v * 17) % 97) / 10.0; }
};

std::vector<int32_t> Bytes(const std::string& s, bool bos) {
  std::vector<int32_t> v;
  if (bos) v.push_back(0);
  for (unsigned char c : s) v.push_back(c + 2);
  return v;
}

TEST(EvaluatorTest, PairTokenisationMovesTrailingWhitespace) {
  FakeTokenizer tok;
  PairTokens p = EncodePair(tok, "Question: q\nAnswer:", " yes");
  EXPECT_EQ(p.context, Bytes("Question: q\nAnswer:", true));
  EXPECT_EQ(p.continuation, Bytes(" yes", false));
  // HellaSwag-style query ending in a space: the space starts the continuation.
  p = EncodePair(tok, "He ", "runs.");
  EXPECT_EQ(p.context, Bytes("He", true));
  EXPECT_EQ(p.continuation, Bytes(" runs.", false));
  // Winogrande with the blank at the start and shots: the "\n\n" separator moves too.
  p = EncodePair(tok, "Then Al sang.\n\n", "Ann won.");
  EXPECT_EQ(p.context, Bytes("Then Al sang.", true));
  EXPECT_EQ(p.continuation, Bytes("\n\nAnn won.", false));
}

TEST(EvaluatorTest, PairTokenisationMergedAndEmptyContexts) {
  FakeTokenizer tok;
  // "xa" + "b": whole = [BOS x ab] has the context's length, so the merged token is the
  // continuation and the context is whole[:-1].
  PairTokens p = EncodePair(tok, "xa", "b");
  EXPECT_EQ(p.context, (std::vector<int32_t>{0, 'x' + 2}));
  EXPECT_EQ(p.continuation, (std::vector<int32_t>{258}));
  // "ya" + "bc": whole = [BOS y ab c], context alone [BOS y a]: continuation = whole[3:] = [c]
  // after the separately encoded context, exactly as lighteval slices.
  p = EncodePair(tok, "ya", "bc");
  EXPECT_EQ(p.context, (std::vector<int32_t>{0, 'y' + 2, 'a' + 2}));
  EXPECT_EQ(p.continuation, (std::vector<int32_t>{'c' + 2}));
  // Empty context: [eos], and the choice encoded with special tokens.
  p = EncodePair(tok, "", "Ann won.");
  EXPECT_EQ(p.context, (std::vector<int32_t>{1}));
  EXPECT_EQ(p.continuation, Bytes("Ann won.", true));
}

PreparedTask Prepare(const std::string& task, const std::string& protocol, int64_t limit = -1) {
  PrepareOptions o;
  o.data_dir = kData;
  o.limit = limit;
  return PrepareTask(FindTaskSpec(task, protocol), o);
}

EvalOptions Quiet(const std::string& out_dir = "") {
  EvalOptions o;
  o.out_dir = out_dir;
  o.data_dir = kData;
  o.show_progress = false;
  o.batch_docs = 4;
  o.run_identity = "test";
  return o;
}

TEST(EvaluatorTest, MultipleChoiceScoresAndMetricsRecompute) {
  FakeTokenizer tok;
  FakeLm lm;
  const PreparedTask t = Prepare("arc_easy", "card-a");
  TaskResult r = EvaluateTask(t, lm, tok, Quiet());
  ASSERT_EQ(r.n, 25);
  EXPECT_EQ(lm.score_calls, 7);  // ceil(25 / 4) batches, one engine call each
  double acc = 0, acc_norm = 0;
  for (const EvalDoc& d : t.units[0].docs) {
    std::vector<double> lp, norm;
    for (const std::string& c : d.doc.choices) {
      // Independent recomputation: rstrip move + byte tokens (no "ab" merge across the boundary
      // here, checked by the assertion), then the bigram sum.
      ASSERT_EQ(d.context.back(), ':');
      std::vector<int32_t> full = tok.Encode(d.context + c, true);
      const size_t n_ctx = tok.Encode(d.context, true).size();
      double s = 0;
      for (size_t i = n_ctx; i < full.size(); ++i) s += FakeLm::LogProb(full[i - 1], full[i]);
      lp.push_back(s);
      norm.push_back(s / (static_cast<double>(c.size()) - 1));  // ASCII: bytes = code points
    }
    acc += std::max_element(lp.begin(), lp.end()) - lp.begin() == d.doc.gold_index;
    acc_norm += std::max_element(norm.begin(), norm.end()) - norm.begin() == d.doc.gold_index;
  }
  EXPECT_DOUBLE_EQ(r.metrics.at("acc").value, acc / 25);
  EXPECT_DOUBLE_EQ(r.metrics.at("acc_norm").value, acc_norm / 25);
  EXPECT_GT(r.tokens_processed, 0);
}

TEST(EvaluatorTest, SingleTokenMmluReadsTheNextTokenRow) {
  FakeTokenizer tok;
  FakeLm lm;
  const PreparedTask t = Prepare("mmlu", "card-a");
  TaskResult r = EvaluateTask(t, lm, tok, Quiet());
  ASSERT_EQ(r.subtasks.size(), 3u);
  double macro = 0, macro_se = 0;
  for (size_t u = 0; u < t.units.size(); ++u) {
    double hits = 0;
    for (const EvalDoc& d : t.units[u].docs) {
      const int32_t last = tok.Encode(d.context, true).back();  // ':'
      std::vector<double> lp;
      for (char c : std::string("ABCD")) lp.push_back(FakeLm::LogProb(last, c + 2));
      hits += std::max_element(lp.begin(), lp.end()) - lp.begin() == d.doc.gold_index;
    }
    const double n = static_cast<double>(t.units[u].docs.size());
    EXPECT_EQ(r.subtasks[u].first, t.units[u].name);
    EXPECT_DOUBLE_EQ(r.subtasks[u].second.metrics.at("acc").value, hits / n);
    macro += hits / n;
    macro_se += r.subtasks[u].second.metrics.at("acc").stderr;
  }
  EXPECT_DOUBLE_EQ(r.metrics.at("acc").value, macro / 3);     // macro: mean of subject means
  EXPECT_DOUBLE_EQ(r.metrics.at("acc").stderr, macro_se / 3); // and of their stderrs (lighteval)
}

TEST(EvaluatorTest, MicroAggregationOverAllSubjects) {
  FakeTokenizer tok;
  FakeLm lm;
  const PreparedTask t = Prepare("mmlu", "card-b");
  const std::string out = std::filesystem::temp_directory_path() / ("doge_eval_micro_" + std::to_string(getpid()));
  TaskResult r = EvaluateTask(t, lm, tok, Quiet(out));
  ASSERT_EQ(r.n, 30);
  std::string details = ReadFileToString(out + "/details/mmlu.jsonl");
  double hits = 0;
  size_t pos = 0;
  int lines = 0;
  while ((pos = details.find('\n', pos)) != std::string::npos) {
    ++lines;
    ++pos;
  }
  EXPECT_EQ(lines, 30);
  for (const auto& [name, s] : r.subtasks) hits += s.metrics.at("acc_norm").value * s.n;
  EXPECT_DOUBLE_EQ(r.metrics.at("acc_norm").value, hits / 30);  // micro: weighted by size
  std::filesystem::remove_all(out);
}

TEST(EvaluatorTest, GenerationStopsAndQem) {
  FakeTokenizer tok;
  FakeLm lm;
  const PreparedTask t = Prepare("triviaqa", "card-a");
  const std::string out = std::filesystem::temp_directory_path() / ("doge_eval_gen_" + std::to_string(getpid()));
  TaskResult r = EvaluateTask(t, lm, tok, Quiet(out));
  ASSERT_EQ(r.n, 5);
  std::vector<std::string> lines;
  {
    std::string all = ReadFileToString(out + "/details/triviaqa.jsonl");
    size_t i = 0, j;
    while ((j = all.find('\n', i)) != std::string::npos) {
      lines.push_back(all.substr(i, j - i));
      i = j + 1;
    }
  }
  ASSERT_EQ(lines.size(), 5u);
  for (size_t d = 0; d < 5; ++d) {
    const DocResult got = ParseDetailLine(lines[d], "details");
    // Reference: greedy bigram decoding from the prompt's last token, at most 20 tokens, stopping
    // once the text holds "\n", "." or "," or EOS is produced; then cut at each stop in turn.
    int32_t prev = tok.Encode(t.units[0].docs[d].context, true).back();
    std::string text;
    for (int i = 0; i < 20; ++i) {
      prev = FakeLm::Argmax(prev);
      if (prev == 1) break;
      text += tok.Decode({prev}, true, false);
      if (text.find_first_of("\n.,") != std::string::npos) break;
    }
    EXPECT_EQ(got.generation, CutAtStops(text, {"\n", ".", ",", "</s>"}));
    EXPECT_EQ(got.prediction, -1);
  }
  EXPECT_DOUBLE_EQ(r.metrics.at("qem").value, 0.0);  // a bigram model does not know trivia
  std::filesystem::remove_all(out);
}

TEST(EvaluatorTest, GenerationBudgetIsLightevalsPaddedLengthRule) {
  // padded = min(longest + 20, 2048); max_new = max(1, min(2048 - padded, 20)).
  GenerationBudget b = LightevalGenerationBudget({100, 150, 120}, 20, 2048);
  EXPECT_EQ(b.longest_context, 150);
  EXPECT_EQ(b.padded_length, 170);
  EXPECT_EQ(b.max_new_tokens, 20);
  b = LightevalGenerationBudget({100, 2020}, 20, 2048);  // 2040 padded: 8 left for every prompt
  EXPECT_EQ(b.padded_length, 2040);
  EXPECT_EQ(b.max_new_tokens, 8);
  b = LightevalGenerationBudget({2028}, 20, 2048);  // exactly full: room 0, at least 1
  EXPECT_EQ(b.padded_length, 2048);
  EXPECT_EQ(b.max_new_tokens, 1);
  b = LightevalGenerationBudget({5000}, 20, 2048);  // longer than the model: truncated, 1 token
  EXPECT_EQ(b.padded_length, 2048);
  EXPECT_EQ(b.max_new_tokens, 1);
}

// Records the max_new_tokens of every GenerateGreedy call.
class RecordingLm : public FakeLm {
 public:
  std::vector<std::vector<int32_t>> GenerateGreedy(const std::vector<std::vector<int32_t>>& prompts, int32_t max_new,
                                                   const std::function<bool(const std::vector<int32_t>&)>& stop) const override {
    for (size_t i = 0; i < prompts.size(); ++i) caps.push_back(max_new);
    return FakeLm::GenerateGreedy(prompts, max_new, stop);
  }
  mutable std::vector<int32_t> caps;
};

TEST(EvaluatorTest, ALongTriviaqaPromptShrinksEveryPromptsBudget) {
  // Three 0-shot TriviaQA docs; the third question is long. FakeTokenizer: BOS + one token per
  // byte, so a context "Question: " + q + "\nAnswer:" is 19 + len(q) tokens.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("doge_eval_budget_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "triviaqa");
  auto row = [](const std::string& q) {
    return R"({"question":")" + q + R"(","question_id":"q","answer":{"aliases":["Paris"],"normalized_aliases":["paris"],"value":"Paris","normalized_value":"paris"}})" "\n";
  };
  auto run = [&](size_t long_question) {
    {
      std::ofstream f(dir / "triviaqa" / "validation.jsonl");
      f << row("Capital of France?") << row("Capital of Peru?") << row(std::string(long_question, 'x'));
      std::ofstream(dir / "triviaqa" / "train.jsonl") << row("Capital of Chad?");
    }
    PrepareOptions o;
    o.data_dir = dir.string();
    o.num_fewshot = 0;
    const PreparedTask t = PrepareTask(FindTaskSpec("triviaqa", "card-a"), o);
    FakeTokenizer tok;
    RecordingLm lm;
    EvalOptions e = Quiet();
    e.data_dir = dir.string();
    const TaskResult r = EvaluateTask(t, lm, tok, e);
    EXPECT_EQ(r.generation_budget.longest_context, static_cast<int64_t>(19 + long_question));
    return std::make_pair(r.generation_budget, lm.caps);
  };
  // Short prompts: padded to 19 + 40 + 20 = 79, the full 20 tokens for all three.
  auto [b, caps] = run(40);
  EXPECT_EQ(b.padded_length, 79);
  EXPECT_EQ(caps, (std::vector<int32_t>{20, 20, 20}));
  // Longest 2020 tokens: all prompts, the 37-token ones too, are padded to 2040 and get 8 new
  // tokens (doge's old per-prompt rule gave the short ones 20, the long one 20 as well).
  std::tie(b, caps) = run(2001);
  EXPECT_EQ(b.padded_length, 2040);
  EXPECT_EQ(caps, (std::vector<int32_t>{8, 8, 8}));
  // Longest 2030 tokens: padded to the 2048 limit; one token each (the old rule gave 20, 20, 18).
  std::tie(b, caps) = run(2011);
  EXPECT_EQ(b.padded_length, 2048);
  EXPECT_EQ(caps, (std::vector<int32_t>{1, 1, 1}));
  std::filesystem::remove_all(dir);
}

TEST(EvaluatorTest, ResumeAfterACrashGivesIdenticalDetails) {
  FakeTokenizer tok;
  FakeLm lm;
  const PreparedTask t = Prepare("piqa", "card-a");
  const std::string base = std::filesystem::temp_directory_path() / ("doge_eval_resume_" + std::to_string(getpid()));
  const std::string full_dir = base + "/full", cut_dir = base + "/cut";
  TaskResult full = EvaluateTask(t, lm, tok, Quiet(full_dir));

  EvalOptions crash = Quiet(cut_dir);
  crash.after_batch = [](int64_t done) {
    if (done >= 8) throw std::runtime_error("simulated crash");
  };
  EXPECT_THROW(EvaluateTask(t, lm, tok, crash), std::runtime_error);
  const std::string partial = cut_dir + "/details/piqa.jsonl.partial";
  ASSERT_TRUE(FileExists(partial));
  EXPECT_FALSE(FileExists(cut_dir + "/details/piqa.jsonl"));
  // A torn last line (killed mid-write) is dropped on resume.
  {
    std::FILE* f = std::fopen(partial.c_str(), "ab");
    std::fputs("{\"task\":\"piqa\",\"doc_in", f);
    std::fclose(f);
  }
  // A different run identity refuses the partial file.
  EvalOptions other = Quiet(cut_dir);
  other.resume = true;
  other.run_identity = "another model";
  EXPECT_THROW(EvaluateTask(t, lm, tok, other), Error);

  EvalOptions resume = Quiet(cut_dir);
  resume.resume = true;
  TaskResult resumed = EvaluateTask(t, lm, tok, resume);
  EXPECT_EQ(resumed.docs_scored, 25 - 8);
  EXPECT_EQ(ReadFileToString(cut_dir + "/details/piqa.jsonl"), ReadFileToString(full_dir + "/details/piqa.jsonl"));
  EXPECT_FALSE(FileExists(partial));
  for (const char* m : {"acc", "acc_norm"}) {
    EXPECT_EQ(resumed.metrics.at(m).value, full.metrics.at(m).value);
    EXPECT_EQ(resumed.metrics.at(m).stderr, full.metrics.at(m).stderr);
  }
  std::filesystem::remove_all(base);
}

TEST(EvaluatorTest, DetailLineRoundTrips) {
  DocResult r;
  r.subtask = "mmlu:anatomy";
  r.doc_index = 7;
  r.query = "Q\n\"x\"";
  r.choices = {" a", " b"};
  r.gold_index = 1;
  r.fewshot_indices = {3, 1};
  r.logprobs = {-1.2345678901234567, -0.1};
  r.n_tokens = {2, 3};
  r.is_greedy = {false, true};
  r.prediction = 1;
  r.metrics = {{"acc", 1}};
  r.context_tokens = 10;
  r.processed_tokens = 15;
  const DocResult back = ParseDetailLine(DetailLine(r), "x");
  EXPECT_EQ(back.query, r.query);
  EXPECT_EQ(back.logprobs, r.logprobs);  // exact: shortest round-trip doubles
  EXPECT_EQ(back.fewshot_indices, r.fewshot_indices);
  EXPECT_EQ(back.is_greedy, r.is_greedy);
  EXPECT_EQ(back.prediction, 1);
  EXPECT_THROW(ParseDetailLine("{\"task\":1}", "x"), Error);
}

}  // namespace
}  // namespace doge::tasks
