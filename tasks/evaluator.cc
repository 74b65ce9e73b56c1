// The evaluator; see evaluator.h.
#include "tasks/evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "engine/base/error.h"
#include "engine/base/interrupt.h"
#include "engine/base/file_util.h"
#include "engine/base/json_writer.h"
#include "engine/base/progress.h"
#include "tasks/data/datasets.h"
#include "tasks/eval_run.h"
#include "tasks/generation.h"
#include "tasks/text_util.h"

namespace doge::tasks {

PairTokens EncodePair(const Tokenizer& tok, const std::string& context, const std::string& continuation) {
  PairTokens p;
  if (context.empty()) {
    // lighteval loglikelihood(): a request with an empty context scores tok_encode(choice)
    // (special tokens included) after a fake [eos] context.
    if (tok.eos_id() < 0) {
      throw Error(ErrorKind::kConfig, tok.path(), "eos_token", "an empty context needs an EOS token");
    }
    p.context = {tok.eos_id()};
    p.continuation = tok.Encode(continuation, true);
    return p;
  }
  const size_t n_spaces = TrailingWhitespaceBytes(context);
  const std::string ctx = context.substr(0, context.size() - n_spaces);
  const std::string cont = context.substr(context.size() - n_spaces) + continuation;
  std::vector<int32_t> whole = tok.Encode(ctx + cont, true);
  p.context = tok.Encode(ctx, true);
  size_t ctx_len = p.context.size();
  if (ctx_len == whole.size()) {
    // The continuation merged into the context's tokens: count the merged last token as the
    // continuation.
    ctx_len = ctx_len == 0 ? 0 : ctx_len - 1;
    p.context.assign(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(ctx_len));
  }
  if (ctx_len <= whole.size()) p.continuation.assign(whole.begin() + static_cast<std::ptrdiff_t>(ctx_len), whole.end());
  return p;
}

namespace {

std::string Key(const std::string& subtask, int64_t doc_index) {
  return subtask + "#" + std::to_string(doc_index);
}

// The metric that decides `prediction`/`correct` in the details: acc_norm when the task has it
// (what the card reports for ARC, PIQA, HellaSwag, OBQA, MMLU card-b), else acc or qem.
std::string PrimaryMetric(const TaskSpec& spec) {
  const std::vector<std::string> m = spec.ReportedMetrics();
  if (std::find(m.begin(), m.end(), "acc_norm") != m.end()) return "acc_norm";
  return m.front();
}

}  // namespace

void ComputeDocMetrics(const TaskSpec& spec, DocResult& r) {
  const std::string where = spec.task + " " + r.subtask + " doc " + std::to_string(r.doc_index);
  if (spec.output_type == OutputType::kGenerateUntil) {
    r.metrics = {{"qem", QuasiExactMatch(r.generation, r.choices)}};
    r.prediction = -1;
    return;
  }
  r.metrics = MultipleChoiceMetrics(spec.metrics, r.logprobs, r.choices, r.gold_index, where);
  const std::string primary = PrimaryMetric(spec);
  if (primary == "acc_norm") {
    const bool nospace = std::find(spec.metrics.begin(), spec.metrics.end(), "acc_norm_nospace") != spec.metrics.end();
    r.prediction = ArgMax(CharNormalized(r.logprobs, r.choices, nospace, where));
  } else {
    r.prediction = ArgMax(r.logprobs);
  }
}

void AggregateTask(const PreparedTask& task, const std::vector<DocResult>& results, TaskResult& out) {
  const TaskSpec& spec = *task.spec;
  const std::vector<std::string> names = spec.ReportedMetrics();
  auto summarize = [&](const std::vector<const DocResult*>& rs) {
    SubtaskSummary s;
    s.n = static_cast<int64_t>(rs.size());
    for (const std::string& m : names) {
      std::vector<double> v;
      v.reserve(rs.size());
      for (const DocResult* r : rs) v.push_back(r->metrics.at(m));
      s.metrics[m] = MeanAndStderr(v);
    }
    return s;
  };
  out.n = static_cast<int64_t>(results.size());
  out.subtasks.clear();
  std::vector<const DocResult*> all;
  for (const DocResult& r : results) all.push_back(&r);
  if (spec.aggregation == "macro") {
    // One lighteval task per unit; the group row averages the unit rows (metric and stderr keys
    // alike: info_loggers.py averages every key of the sub-task dicts).
    size_t i = 0;
    for (const TaskUnit& u : task.units) {
      std::vector<const DocResult*> rs;
      for (size_t j = 0; j < u.docs.size(); ++j) rs.push_back(&results[i + j]);
      i += u.docs.size();
      if (rs.empty()) continue;
      out.subtasks.emplace_back(u.name, summarize(rs));
    }
    for (const std::string& m : names) {
      double sum = 0, sum_se = 0;
      for (const auto& [n, s] : out.subtasks) {
        sum += s.metrics.at(m).value;
        sum_se += s.metrics.at(m).stderr;
      }
      const double k = static_cast<double>(out.subtasks.size());
      out.metrics[m] = MetricSummary{sum / k, sum_se / k};
    }
  } else {
    out.metrics = summarize(all).metrics;
    if (data::FindDatasetAdapter(spec.dataset).per_subject()) {
      // micro: one task; the per-subject rows are informational.
      std::vector<std::string> order;
      std::map<std::string, std::vector<const DocResult*>> by;
      for (const DocResult* r : all) {
        if (!by.count(r->subtask)) order.push_back(r->subtask);
        by[r->subtask].push_back(r);
      }
      for (const std::string& s : order) out.subtasks.emplace_back(s, summarize(by[s]));
    }
  }
}

namespace {

// Scores one batch of docs; fills results[idx[i]] for each.
class BatchScorer {
 public:
  BatchScorer(const TaskSpec& spec, const LanguageModel& lm, const Tokenizer& tok)
      : spec_(spec), lm_(lm), tok_(tok) {
    if (spec.output_type == OutputType::kSingleToken) {
      // lighteval encodes each choice without special tokens and requires exactly one token.
      for (const std::string& c : spec.choices.literal) {
        std::vector<int32_t> ids = tok.Encode(c, false);
        if (ids.size() != 1) {
          throw Error(ErrorKind::kConfig, spec.spec_file, "choices",
                      "single-token choice '" + c + "' encodes to " + std::to_string(ids.size()) +
                          " tokens with " + tok.path());
        }
        single_ids_.push_back(ids[0]);
      }
    }
    stops_ = spec.stop_sequence;
    if (spec.stop_on_eos && !tok.eos_token().empty()) stops_.push_back(tok.eos_token());
  }

  void Run(const std::vector<const EvalDoc*>& docs, std::vector<DocResult*>& out) {
    switch (spec_.output_type) {
      case OutputType::kMultipleChoice: MultipleChoice(docs, out); break;
      case OutputType::kSingleToken: SingleToken(docs, out); break;
      case OutputType::kGenerateUntil: Generate(docs, out); break;
    }
  }

 private:
  void MultipleChoice(const std::vector<const EvalDoc*>& docs, std::vector<DocResult*>& out) {
    std::vector<ScoreRequest> reqs;
    struct Slot { size_t req, cont; };
    std::vector<std::vector<Slot>> slots(docs.size());
    for (size_t d = 0; d < docs.size(); ++d) {
      const size_t first_req = reqs.size();
      for (const std::string& choice : docs[d]->doc.choices) {
        PairTokens p = EncodePair(tok_, docs[d]->context, choice);
        if (reqs.size() > first_req && reqs.back().context == p.context) {
          reqs.back().continuations.push_back(std::move(p.continuation));
        } else {
          ScoreRequest r;
          r.context = std::move(p.context);
          r.continuations.push_back(std::move(p.continuation));
          reqs.push_back(std::move(r));
        }
        slots[d].push_back({reqs.size() - 1, reqs.back().continuations.size() - 1});
      }
      out[d]->context_tokens = static_cast<int64_t>(reqs[first_req].context.size());
      int64_t processed = 0;
      for (size_t r = first_req; r < reqs.size(); ++r) {
        processed += static_cast<int64_t>(reqs[r].context.size());
        for (const auto& c : reqs[r].continuations) processed += static_cast<int64_t>(c.size());
      }
      out[d]->processed_tokens = processed;
    }
    const std::vector<std::vector<ContinuationScore>> scores = lm_.Score(reqs);
    for (size_t d = 0; d < docs.size(); ++d) {
      for (const Slot& s : slots[d]) {
        const ContinuationScore& c = scores.at(s.req).at(s.cont);
        out[d]->logprobs.push_back(c.logprob);
        out[d]->n_tokens.push_back(c.n_tokens);
        out[d]->is_greedy.push_back(c.is_greedy);
      }
    }
  }

  std::vector<int32_t> EncodeContext(const std::string& ctx) const {
    if (ctx.empty() && spec_.output_type != OutputType::kGenerateUntil) return {tok_.eos_id()};
    return tok_.Encode(ctx, true);
  }

  void SingleToken(const std::vector<const EvalDoc*>& docs, std::vector<DocResult*>& out) {
    std::vector<std::vector<int32_t>> contexts;
    for (size_t d = 0; d < docs.size(); ++d) {
      contexts.push_back(EncodeContext(docs[d]->context));
      out[d]->context_tokens = static_cast<int64_t>(contexts.back().size());
      out[d]->processed_tokens = std::min<int64_t>(out[d]->context_tokens, lm_.max_length());
    }
    const std::vector<std::vector<double>> lp = lm_.NextTokenLogprobs(contexts, single_ids_);
    for (size_t d = 0; d < docs.size(); ++d) {
      out[d]->logprobs = lp.at(d);
      out[d]->n_tokens.assign(single_ids_.size(), 1);
    }
  }

  void Generate(const std::vector<const EvalDoc*>& docs, std::vector<DocResult*>& out) {
    // One max_new_tokens for every prompt of the task (lighteval's padded-length rule, set by
    // EvaluateTask through set_max_new_tokens; tasks/generation.h).
    std::vector<std::vector<int32_t>> prompts(docs.size());
    for (size_t d = 0; d < docs.size(); ++d) {
      prompts[d] = EncodeContext(docs[d]->context);
      out[d]->context_tokens = static_cast<int64_t>(prompts[d].size());
    }
    const Tokenizer& tok = tok_;
    const std::vector<std::string>& stops = stops_;
    const int32_t eos = tok.eos_id();
    auto stop = [&tok, &stops, eos](const std::vector<int32_t>& gen) {
      if (gen.empty()) return false;
      if (eos >= 0 && gen.back() == eos) return true;
      const std::string text = tok.Decode(gen, true, tok.clean_up_tokenization_spaces());
      for (const std::string& s : stops) {
        if (text.find(s) != std::string::npos) return true;
      }
      return false;
    };
    const std::vector<std::vector<int32_t>> gens =
        lm_.GenerateGreedy(prompts, max_new_tokens_, stop);
    for (size_t d = 0; d < docs.size(); ++d) {
      DocResult* r = out[d];
      const std::vector<int32_t>& g = gens.at(d);
      r->generation = CutAtStops(tok.Decode(g, true, tok.clean_up_tokenization_spaces()), stops);
      r->n_tokens = {static_cast<int32_t>(g.size())};
      r->processed_tokens =
          std::min<int64_t>(r->context_tokens, lm_.max_length()) + static_cast<int64_t>(g.size());
    }
  }

  const TaskSpec& spec_;
  const LanguageModel& lm_;
  const Tokenizer& tok_;
  std::vector<int32_t> single_ids_;
  std::vector<std::string> stops_;
  int32_t max_new_tokens_ = 1;  // generate_until: the task-level budget

 public:
  void set_max_new_tokens(int32_t n) { max_new_tokens_ = n; }
  // Token counts of the encoded contexts (what lighteval sorts and pads by).
  std::vector<int64_t> ContextLengths(const std::vector<const EvalDoc*>& docs) const {
    std::vector<int64_t> n;
    for (const EvalDoc* d : docs)
      n.push_back(static_cast<int64_t>(EncodeContext(d->context).size()));
    return n;
  }
};

// Scores `positions` of `docs` into `results` (metrics included); with `want_lines` returns their
// details lines.
std::vector<std::string> ScorePositions(BatchScorer& scorer, const TaskSpec& spec,
                                        const std::vector<const EvalDoc*>& docs, std::vector<DocResult>& results,
                                        const std::vector<size_t>& positions, bool want_lines) {
  std::vector<const EvalDoc*> bd;
  std::vector<DocResult*> br;
  for (size_t p : positions) {
    bd.push_back(docs.at(p));
    br.push_back(&results.at(p));
  }
  scorer.Run(bd, br);
  std::vector<std::string> lines;
  for (DocResult* r : br) {
    ComputeDocMetrics(spec, *r);
    if (want_lines) lines.push_back(DetailLine(*r));
  }
  return lines;
}

// Puts a document scored by another process in place. The line must be for the document this
// process built (same key, query and shots: a rank with other data or another build is refused)
// and must survive the round trip exactly, so the details written here are the ones it computed.
void AcceptRemoteLine(const TaskSpec& spec, const std::string& line, DocResult& slot) {
  const std::string where = spec.task + " details line from another rank";
  DocResult r = ParseDetailLine(line, where);
  if (r.subtask != slot.subtask || r.doc_index != slot.doc_index || r.query != slot.query ||
      r.fewshot_indices != slot.fewshot_indices || r.choices != slot.choices) {
    throw Error(ErrorKind::kDataset, where, Key(r.subtask, r.doc_index),
                "differs from the request rank 0 built for " + Key(slot.subtask, slot.doc_index) +
                    " (another data set or doge build on that rank?)");
  }
  ComputeDocMetrics(spec, r);
  if (DetailLine(r) != line) {
    throw Error(ErrorKind::kFormat, where, Key(r.subtask, r.doc_index), "does not round-trip: " + line);
  }
  slot = std::move(r);
}

// ---- EvaluateTask's steps ----

// The task's documents in dataset order (units concatenated): what positions index.
std::vector<const EvalDoc*> TaskDocs(const PreparedTask& task) {
  std::vector<const EvalDoc*> docs;
  for (const TaskUnit& u : task.units) {
    for (const EvalDoc& d : u.docs) docs.push_back(&d);
  }
  return docs;
}

// One result slot per document, holding its request until it is scored (or resumed).
std::vector<DocResult> RequestSlots(const std::vector<const EvalDoc*>& docs) {
  std::vector<DocResult> results(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    DocResult& r = results[i];
    r.subtask = docs[i]->subtask;
    r.doc_index = docs[i]->doc_index;
    r.query = docs[i]->context;
    r.choices = docs[i]->doc.golds.empty() ? docs[i]->doc.choices : docs[i]->doc.golds;
    r.gold_index = docs[i]->doc.gold_index;
    r.fewshot_indices = docs[i]->fewshot_indices;
  }
  return results;
}

// lighteval's generation budget is one for the whole split: over every doc of the task (resumed
// ones included, so a resume generates with the same budget; a shard's whole task, so a shard or
// an MPI worker generates what a single run does).
GenerationBudget TaskGenerationBudget(const PreparedTask& task, const LanguageModel& lm, const Tokenizer& tok) {
  const TaskSpec& spec = *task.spec;
  std::vector<const EvalDoc*> all;
  for (const TaskUnit& u : (task.whole ? *task.whole : task).units) {
    for (const EvalDoc& d : u.docs) all.push_back(&d);
  }
  return LightevalGenerationBudget(BatchScorer(spec, lm, tok).ContextLengths(all), spec.generation_size,
                                   lm.max_length());
}

// Scores `pending` in this process, in batches of at most `max_batch` documents sized so that one
// takes about kBatchSeconds: the partial file then never lags more than that behind the work, and
// a Ctrl-C (engine/base/interrupt.h), honoured between batches, is answered within it. The first batch
// is small because nothing is measured yet. Results do not depend on batch sizes. `saved_to`: the
// partial file named in the interruption message ("" when nothing is kept).
void ScoreLocally(BatchScorer& scorer, const TaskSpec& spec, const std::vector<const EvalDoc*>& docs,
                  std::vector<DocResult>& results, const std::vector<size_t>& pending, size_t max_batch,
                  const std::string& saved_to, const DocDispatcher::FinishFn& finished) {
  constexpr double kBatchSeconds = 2.0;
  size_t n = std::min<size_t>(max_batch, 4);
  for (size_t b = 0; b < pending.size();) {
    if (InterruptRequested()) {
      const int64_t total = static_cast<int64_t>(docs.size());
      const int64_t kept = total - static_cast<int64_t>(pending.size() - b);
      throw Error(ErrorKind::kInterrupted, saved_to, spec.task,
                  "stopped after " + std::to_string(kept) + " of " + std::to_string(total) + " documents" +
                      (!saved_to.empty()
                           ? "; the finished ones are saved: run the same command with --resume to continue"
                           : " (nothing saved: no --out-dir)"));
    }
    const size_t e = std::min(pending.size(), b + n);
    const std::vector<size_t> positions(pending.begin() + static_cast<std::ptrdiff_t>(b),
                                        pending.begin() + static_cast<std::ptrdiff_t>(e));
    const auto tb = std::chrono::steady_clock::now();
    ScorePositions(scorer, spec, docs, results, positions, false);
    finished(positions, {}, false);
    const double per_doc =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - tb).count() / static_cast<double>(e - b);
    n = static_cast<size_t>(std::clamp(kBatchSeconds / std::max(per_doc, 1e-6), 1.0, static_cast<double>(max_batch)));
    b = e;
  }
}

}  // namespace

TaskResult EvaluateTask(const PreparedTask& task, const LanguageModel& lm, const Tokenizer& tok,
                        const EvalOptions& opt) {
  const TaskSpec& spec = *task.spec;
  TaskResult result;
  result.spec = &spec;
  result.k = task.k;
  result.skipped_subjects = task.skipped_subjects;
  for (const std::string& f : task.data_files) {
    result.dataset_sha256.emplace_back(f, Sha256File(opt.data_dir + "/" + f));
  }
  const std::vector<const EvalDoc*> docs = TaskDocs(task);
  std::vector<DocResult> results = RequestSlots(docs);
  std::vector<bool> done(docs.size(), false);
  if (spec.output_type == OutputType::kGenerateUntil) result.generation_budget = TaskGenerationBudget(task, lm, tok);

  if (opt.dispatcher && !opt.dispatcher->coordinator()) {
    // Another process keeps the files and the aggregate: only score what it hands out.
    BatchScorer scorer(spec, lm, tok);
    scorer.set_max_new_tokens(result.generation_budget.max_new_tokens);
    opt.dispatcher->Serve([&](const std::vector<size_t>& positions) {
      return ScorePositions(scorer, spec, docs, results, positions, true);
    });
    return result;
  }

  // The details files: with --resume the saved documents of this run are put in place first.
  const bool keep = !opt.out_dir.empty();
  std::unique_ptr<TaskDetailsFiles> files;
  if (keep) {
    files = std::make_unique<TaskDetailsFiles>(opt.out_dir, spec.task,
                                               TaskDetailsFiles::PartialHeader(task, opt.run_identity));
    files->StartPartial(opt.resume ? files->Resume(results, done) : std::vector<std::string>{});
  }

  std::vector<size_t> pending;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!done[i]) pending.push_back(i);
  }
  const std::string label = spec.task + " (" + spec.protocol + ", " + std::to_string(task.k) + "-shot)";
  Progress progress(label, static_cast<int64_t>(docs.size()), Progress::Unit::kCount, "docs");
  if (!opt.show_progress) progress.set_terminal(false);
  progress.Set(static_cast<int64_t>(docs.size() - pending.size()));
  BatchScorer scorer(spec, lm, tok);
  scorer.set_max_new_tokens(result.generation_budget.max_new_tokens);
  const auto t0 = std::chrono::steady_clock::now();
  const size_t batch = static_cast<size_t>(std::max(1, opt.batch_docs));
  // A batch is scored: its lines go to the partial file (one write + flush per batch: a kill
  // loses at most this batch, and a torn last line is dropped on resume), counters and progress
  // move on. Batches from other processes (opt.dispatcher) arrive as details lines and are put in
  // place first.
  auto finished = [&](const std::vector<size_t>& positions, const std::vector<std::string>& lines, bool remote) {
    std::string text;
    for (size_t j = 0; j < positions.size(); ++j) {
      if (remote) AcceptRemoteLine(spec, lines.at(j), results.at(positions[j]));
      const DocResult& r = results[positions[j]];
      result.tokens_processed += r.processed_tokens;
      if (keep) text += (lines.empty() ? DetailLine(r) : lines[j]) + "\n";
    }
    if (files) files->AppendPartial(text);
    result.docs_scored += static_cast<int64_t>(positions.size());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char suffix[64];
    std::snprintf(suffix, sizeof suffix, "%.0f tok/s", secs > 0 ? result.tokens_processed / secs : 0.0);
    progress.SetSuffix(suffix);
    progress.Add(static_cast<int64_t>(positions.size()));
    if (opt.after_batch) opt.after_batch(result.docs_scored);
  };
  if (opt.dispatcher) {
    opt.dispatcher->Run(pending, batch, [&](const std::vector<size_t>& positions) {
      return ScorePositions(scorer, spec, docs, results, positions, true);
    }, finished);
  } else {
    ScoreLocally(scorer, spec, docs, results, pending, batch, keep ? files->partial_path() : "", finished);
  }
  progress.Finish();

  result.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (result.wall_time_s > 0 && result.docs_scored > 0) {
    result.docs_per_s = result.docs_scored / result.wall_time_s;
    result.scored_tokens_per_s = result.tokens_processed / result.wall_time_s;
  }
  // Resumed docs get their metrics from their recorded numbers, by the same code as fresh ones.
  for (size_t i = 0; i < docs.size(); ++i) {
    if (done[i]) ComputeDocMetrics(spec, results[i]);
  }
  if (files) files->Finish(results);
  AggregateTask(task, results, result);
  return result;
}

}  // namespace doge::tasks
