// Perplexity windows, statistics and the KL-divergence baseline file; see perplexity.h.
#include "engine/perplexity.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include <simdjson.h>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_duplicate_keys.h"
#include "engine/base/json_writer.h"
#include "engine/base/utf8.h"

namespace doge {

std::vector<ScoringWindow> LlamaPerplexityWindows(const std::vector<int32_t>& tokens, int64_t ctx,
                                                  int32_t bos_id) {
  if (ctx < 2) throw Error(ErrorKind::kUsage, "", "--ctx", "must be >= 2 for the llama convention");
  std::vector<ScoringWindow> out;
  const int64_t n_chunks = static_cast<int64_t>(tokens.size()) / ctx;  // the tail is dropped
  const int64_t first = ctx / 2;
  for (int64_t c = 0; c < n_chunks; ++c) {
    ScoringWindow w;
    const auto begin = tokens.begin() + static_cast<std::ptrdiff_t>(c * ctx);
    w.input.assign(begin, begin + static_cast<std::ptrdiff_t>(ctx));
    if (bos_id >= 0) w.input[0] = bos_id;  // llama.cpp: "add BOS token for the first batch of each chunk"
    w.first_scored = first;
    // Rows first .. ctx-2 predict the chunk's original tokens first+1 .. ctx-1 (never the BOS).
    w.targets.assign(begin + static_cast<std::ptrdiff_t>(first + 1), begin + static_cast<std::ptrdiff_t>(ctx));
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<ScoringWindow> LmEvalRollingWindows(const std::vector<int32_t>& tokens,
                                                int32_t prefix_token, int64_t max_len) {
  if (max_len < 1) throw Error(ErrorKind::kUsage, "", "--ctx", "must be >= 1");
  std::vector<ScoringWindow> out;
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return out;
  // First window: [prefix] + tokens[:L-1] predicts tokens[:L].
  const int64_t first_len = std::min(max_len, n);
  {
    ScoringWindow w;
    w.input.push_back(prefix_token);
    w.input.insert(w.input.end(), tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(first_len - 1));
    w.first_scored = 0;
    w.targets.assign(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(first_len));
    out.push_back(std::move(w));
  }
  // Later windows (context_len = 1, so pred_len = max_len): the input is
  // tokens[end - max_len - 1 : end - 1] and the last pred tokens are scored. make_disjoint_window
  // only moves the unscored part into the context; the forward call is the same.
  int64_t predicted = first_len;
  while (predicted < n) {
    const int64_t pred = std::min(n - predicted, max_len);
    const int64_t end = predicted + pred;
    const int64_t in_begin = std::max<int64_t>(0, end - max_len - 1);  // Python slice clamps at 0
    ScoringWindow w;
    w.input.assign(tokens.begin() + static_cast<std::ptrdiff_t>(in_begin),
                   tokens.begin() + static_cast<std::ptrdiff_t>(end - 1));
    w.targets.assign(tokens.begin() + static_cast<std::ptrdiff_t>(predicted),
                     tokens.begin() + static_cast<std::ptrdiff_t>(end));
    w.first_scored = static_cast<int64_t>(w.input.size()) - pred;
    out.push_back(std::move(w));
    predicted = end;
  }
  return out;
}

namespace {

bool IsPythonSpace(uint32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace

int64_t LmEvalWordCount(std::string_view text) {
  // re.split(r"\s+", s) yields one more piece than there are maximal whitespace runs (leading and
  // trailing runs give empty pieces, which len() counts).
  int64_t runs = 0;
  bool in_space = false;
  size_t i = 0;
  while (i < text.size()) {
    const bool sp = IsPythonSpace(NextCodePoint(text, &i));
    if (sp && !in_space) ++runs;
    in_space = sp;
  }
  return runs + 1;
}

double LogSumExp(const float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - mx);
  return mx + std::log(sum);
}

void RunScoringWindows(const DogeModel& model, const std::vector<ScoringWindow>& windows,
                       const std::function<void(size_t, int64_t, const float*, int32_t)>& on_row,
                       const std::function<void(size_t)>& on_window_done) {
  const int64_t H = model.config().hidden_size, V = model.config().vocab_size;
  // The vocabulary projection of the scored rows runs as GEMMs of up to kRowBlock rows: one pass
  // over lm_head per block instead of one per row (lm_head is 32 MiB in float32 for Doge's
  // 32768 x 256, so per-row matvecs would be bound by memory bandwidth).
  constexpr int64_t kRowBlock = 64;
  const KernelSet& ks = OptimizedKernels();
  int64_t max_in = 0;
  for (const ScoringWindow& w : windows) max_in = std::max<int64_t>(max_in, w.input.size());
  KvCache cache = model.NewCache(std::max<int64_t>(max_in, 1));
  ForwardScratch scratch;
  std::vector<float> hidden;  // [n_scored, H] final-norm rows
  std::vector<float> logits(static_cast<size_t>(kRowBlock * V));  // [kRowBlock, V]
  std::vector<int64_t> rows;  // [n_scored]
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    const ScoringWindow& w = windows[wi];
    for (int32_t id : w.input) {
      if (id < 0 || id >= V) {
        throw Error(ErrorKind::kUsage, "", "tokens",
                    "id " + std::to_string(id) + " outside the model's vocabulary [0, " +
                        std::to_string(V) + ")");
      }
    }
    const int64_t n_scored = static_cast<int64_t>(w.targets.size());
    rows.resize(static_cast<size_t>(n_scored));
    for (int64_t i = 0; i < n_scored; ++i) rows[i] = w.first_scored + i;
    hidden.resize(static_cast<size_t>(n_scored * H));
    model.ResetCache(&cache, static_cast<int64_t>(w.input.size()));  // each window: empty cache
    model.Forward(w.input.data(), static_cast<int64_t>(w.input.size()), &cache, &scratch, rows,
                  hidden.data());
    for (int64_t b = 0; b < n_scored; b += kRowBlock) {
      const int64_t n = std::min(kRowBlock, n_scored - b);
      ks.matmul(model.weights().lm_head, model.weights().lm_head_packed, hidden.data() + b * H, n, V, H,
                logits.data());
      for (int64_t i = 0; i < n; ++i) {
        on_row(wi, b + i, logits.data() + i * V, w.targets[static_cast<size_t>(b + i)]);
      }
    }
    if (on_window_done) on_window_done(wi);
  }
}

PerplexityEstimate LlamaPerplexityEstimate(double sum_nll, double sum_nll2, int64_t count) {
  PerplexityEstimate e;
  if (count <= 0) {
    e.ppl = e.ppl_stderr = e.mean_nll = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  const double mean = sum_nll / count, mean2 = sum_nll2 / count;
  e.mean_nll = mean;
  e.ppl = std::exp(mean);
  const double var = mean2 - mean * mean;
  // llama.cpp: sqrt((E[nll^2] - E[nll]^2) / (count - 1)) times PPL (delta method).
  e.ppl_stderr = count < 2 ? std::numeric_limits<double>::quiet_NaN()
                           : e.ppl * std::sqrt(std::max(var, 0.0) / static_cast<double>(count - 1));
  return e;
}

double KlDivergenceFull(const double* base_logp, const double* new_logp, int64_t n) {
  double kl = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double lp = base_logp[i];
    const double p = std::exp(lp);
    if (p > 0) kl += p * (lp - new_logp[i]);
  }
  return kl;
}

double KlDivergenceTopK(const int32_t* ids, const double* base_logp, int64_t k, double base_log_rest,
                        const double* new_logp, int64_t vocab) {
  double kl = 0;
  for (int64_t j = 0; j < k; ++j) {
    const double lp = base_logp[j];
    const double p = std::exp(lp);
    if (p > 0) kl += p * (lp - new_logp[ids[j]]);
  }
  const double p_rest = std::exp(base_log_rest);
  if (p_rest > 0) {
    // Q_rest summed over the complement directly (1 - q_top would cancel catastrophically when the
    // top K hold almost all of Q's mass).
    std::vector<char> in_top(static_cast<size_t>(vocab), 0);
    for (int64_t j = 0; j < k; ++j) in_top[static_cast<size_t>(ids[j])] = 1;
    double q_rest = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      if (!in_top[static_cast<size_t>(i)]) q_rest += std::exp(new_logp[i]);
    }
    kl += p_rest * (base_log_rest - std::log(q_rest));
  }
  return kl;
}

// ---------------------------------------------------------------------------------------------
// Baseline file: "DOGEKLD1", uint64 header length, header JSON, then n_positions records, then
// "DOGEKEND". Record (little-endian): int32 target, int32 argmax, float64 target log-prob, then
// storage "full": float64[V] log-softmax; "top-k": K x (int32 id, float64 log-prob) in descending
// probability, float64 log of the rest's mass.

namespace {

constexpr char kMagic[9] = "DOGEKLD1";
constexpr char kEndMagic[9] = "DOGEKEND";

int64_t RecordBytes(const KldBaseHeader& h) {
  const int64_t fixed = 4 + 4 + 8;
  return h.storage == "full" ? fixed + 8 * h.vocab_size : fixed + 12 * h.top_k + 8;
}

std::string HeaderJson(const KldBaseHeader& h) {
  JsonWriter w(true);
  w.BeginObject();
  w.Field("schema", "doge.kld-base/1");
  w.Field("convention", h.convention).Field("ctx", h.ctx).Field("vocab_size", h.vocab_size);
  w.Field("n_positions", h.n_positions).Field("n_windows", h.n_windows);
  w.Field("storage", h.storage).Field("top_k", h.top_k);
  w.Field("model_shape", h.model_shape).Field("weights_sha256", h.weights_sha256);
  w.Field("tokenizer_sha256", h.tokenizer_sha256).Field("text_sha256", h.text_sha256);
  w.Field("text_bytes", h.text_bytes).Field("tokens_sha256", h.tokens_sha256);
  w.Field("model_path", h.model_path).Field("text_path", h.text_path);
  w.EndObject();
  return w.Take();
}

template <typename T>
void Append(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

}  // namespace

struct KldBaseWriter::Impl {
  KldBaseHeader header;
  AtomicFileWriter file;
  int64_t written = 0;
  std::string record;
  std::vector<double> logp;  // [V]
  std::vector<int32_t> order;
  explicit Impl(const std::string& path) : file(path) {}
};

KldBaseWriter::KldBaseWriter(const std::string& path, const KldBaseHeader& header)
    : impl_(std::make_unique<Impl>(path)) {
  impl_->header = header;
  if (header.storage != "full" && header.storage != "top-k") {
    throw Error(ErrorKind::kUsage, "", "storage", "expected full or top-k, got '" + header.storage + "'");
  }
  if (header.storage == "top-k" && (header.top_k < 1 || header.top_k > header.vocab_size)) {
    throw Error(ErrorKind::kUsage, "", "--kl-top-k",
                "must be in [1, " + std::to_string(header.vocab_size) + "], got " + std::to_string(header.top_k));
  }
  const std::string json = HeaderJson(header);
  std::string head(kMagic, 8);
  Append(&head, static_cast<uint64_t>(json.size()));
  head += json;
  impl_->file.Write(head);
}

KldBaseWriter::~KldBaseWriter() = default;

void KldBaseWriter::Add(const float* logits, int32_t target) {
  Impl& m = *impl_;
  const int64_t V = m.header.vocab_size;
  const double lse = LogSumExp(logits, V);
  int32_t argmax = 0;
  for (int64_t i = 1; i < V; ++i) {
    if (logits[i] > logits[argmax]) argmax = static_cast<int32_t>(i);  // first maximum, as argmax
  }
  m.record.clear();
  Append(&m.record, target);
  Append(&m.record, argmax);
  Append(&m.record, static_cast<double>(logits[target]) - lse);
  if (m.header.storage == "full") {
    for (int64_t i = 0; i < V; ++i) Append(&m.record, static_cast<double>(logits[i]) - lse);
  } else {
    const int64_t K = m.header.top_k;
    m.order.resize(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; ++i) m.order[i] = static_cast<int32_t>(i);
    // Descending logit, ties by id, so the file is deterministic.
    std::partial_sort(m.order.begin(), m.order.begin() + K, m.order.end(), [&](int32_t a, int32_t b) {
      return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
    });
    std::vector<char> in_top(static_cast<size_t>(V), 0);
    for (int64_t j = 0; j < K; ++j) {
      const int32_t id = m.order[j];
      in_top[id] = 1;
      Append(&m.record, id);
      Append(&m.record, static_cast<double>(logits[id]) - lse);
    }
    // log of the rest's mass: the complement's probabilities summed in index order in float64,
    // exactly as KlDivergenceTopK sums the new run's (so a self-comparison gives 0 exactly).
    double rest = 0;
    for (int64_t i = 0; i < V; ++i) {
      if (!in_top[i]) rest += std::exp(static_cast<double>(logits[i]) - lse);
    }
    const double log_rest = rest > 0 ? std::log(rest) : -std::numeric_limits<double>::infinity();
    Append(&m.record, log_rest);
  }
  m.file.Write(m.record);
  ++m.written;
}

void KldBaseWriter::Finish() {
  if (impl_->written != impl_->header.n_positions) {
    throw Error(ErrorKind::kUsage, "", "n_positions",
                "wrote " + std::to_string(impl_->written) + " positions, the header says " +
                    std::to_string(impl_->header.n_positions));
  }
  impl_->file.Write(std::string_view(kEndMagic, 8));
  impl_->file.Commit();
}

struct KldBaseReader::Impl {
  std::string path;
  KldBaseHeader header;
  const char* data = nullptr;
  size_t size = 0;
  size_t records_offset = 0;
  int64_t record_bytes = 0;
  ~Impl() {
    if (data) munmap(const_cast<char*>(data), size);
  }
};

KldBaseReader::KldBaseReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(ErrorKind::kIo, path, "", std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 16) {
    close(fd);
    throw Error(ErrorKind::kFormat, path, "magic", "not a doge KL-divergence baseline (too short)");
  }
  m.size = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, m.size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) throw Error(ErrorKind::kIo, path, "", std::string("cannot map: ") + std::strerror(errno));
  m.data = static_cast<const char*>(p);
  if (std::memcmp(m.data, kMagic, 8) != 0) {
    throw Error(ErrorKind::kFormat, path, "magic",
                "not a doge KL-divergence baseline (expected DOGEKLD1; write one with "
                "doge perplexity --save-logits)");
  }
  uint64_t hlen = 0;
  std::memcpy(&hlen, m.data + 8, 8);
  if (hlen > m.size - 16) throw Error(ErrorKind::kFormat, path, "header", "header length past the end of the file");
  const std::string json(m.data + 16, hlen);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS || !root.is_object()) {
    throw Error(ErrorKind::kFormat, path, "header", "is not a JSON object");
  }
  CheckDuplicateKeys(root, ErrorKind::kFormat, path, "header.");
  auto str = [&](const char* key) {
    std::string_view v;
    if (root[key].get_string().get(v) != simdjson::SUCCESS) {
      throw Error(ErrorKind::kFormat, path, std::string("header.") + key, "missing or not a string");
    }
    return std::string(v);
  };
  auto num = [&](const char* key) {
    int64_t v;
    if (root[key].get_int64().get(v) != simdjson::SUCCESS) {
      throw Error(ErrorKind::kFormat, path, std::string("header.") + key, "missing or not an integer");
    }
    return v;
  };
  if (str("schema") != "doge.kld-base/1") {
    throw Error(ErrorKind::kFormat, path, "header.schema", "expected doge.kld-base/1, found " + str("schema"));
  }
  KldBaseHeader& h = m.header;
  h.convention = str("convention");
  h.ctx = num("ctx");
  h.vocab_size = num("vocab_size");
  h.n_positions = num("n_positions");
  h.n_windows = num("n_windows");
  h.storage = str("storage");
  h.top_k = num("top_k");
  h.model_shape = str("model_shape");
  h.weights_sha256 = str("weights_sha256");
  h.tokenizer_sha256 = str("tokenizer_sha256");
  h.text_sha256 = str("text_sha256");
  h.text_bytes = num("text_bytes");
  h.tokens_sha256 = str("tokens_sha256");
  h.model_path = str("model_path");
  h.text_path = str("text_path");
  if (h.storage != "full" && h.storage != "top-k") {
    throw Error(ErrorKind::kFormat, path, "header.storage", "expected full or top-k, found " + h.storage);
  }
  if (h.vocab_size < 1 || h.n_positions < 0 || (h.storage == "top-k" && (h.top_k < 1 || h.top_k > h.vocab_size))) {
    throw Error(ErrorKind::kFormat, path, "header", "vocab_size / n_positions / top_k out of range");
  }
  // Token ids are stored as int32, so a larger vocabulary cannot have been written by
  // KldBaseWriter; the bound also keeps RecordBytes far from overflow.
  if (h.vocab_size > std::numeric_limits<int32_t>::max()) {
    throw Error(ErrorKind::kFormat, path, "header.vocab_size",
                "expected at most 2^31 - 1 (ids are int32), found " + std::to_string(h.vocab_size));
  }
  m.records_offset = 16 + hlen;
  m.record_bytes = RecordBytes(h);
  // Compared by division: n_positions * record_bytes can overflow for a corrupted header.
  const uint64_t room = m.size >= m.records_offset + 8 ? m.size - m.records_offset - 8 : 0;
  const uint64_t record_bytes = static_cast<uint64_t>(m.record_bytes);
  if (m.size < m.records_offset + 8 || static_cast<uint64_t>(h.n_positions) != room / record_bytes ||
      room % record_bytes != 0) {
    const double implied = static_cast<double>(m.records_offset) + 8 +
                           static_cast<double>(h.n_positions) * static_cast<double>(record_bytes);
    throw Error(ErrorKind::kFormat, path, "n_positions",
                "file has " + std::to_string(m.size) + " bytes, the header implies " +
                    (implied < 1e18 ? std::to_string(static_cast<uint64_t>(implied)) : std::string("more than 1e18")) +
                    " (truncated or not written by this version)");
  }
  if (std::memcmp(m.data + m.size - 8, kEndMagic, 8) != 0) {
    throw Error(ErrorKind::kFormat, path, "end", "missing end marker (truncated file)");
  }
}

KldBaseReader::~KldBaseReader() = default;

const KldBaseHeader& KldBaseReader::header() const { return impl_->header; }

void KldBaseReader::CheckCompatible(const KldBaseHeader& run) const {
  const KldBaseHeader& b = impl_->header;
  auto check = [&](const char* field, const std::string& base, const std::string& now, const char* why) {
    if (base == now) return;
    throw Error(ErrorKind::kFormat, impl_->path, field,
                "the baseline was made with " + base + ", this run has " + now + " (" + why +
                    "); make a new baseline with --save-logits for this setup");
  };
  check("convention", b.convention, run.convention, "another scoring convention");
  check("ctx", std::to_string(b.ctx), std::to_string(run.ctx), "another context size");
  check("text_sha256", b.text_sha256, run.text_sha256, "another text file");
  check("tokenizer_sha256", b.tokenizer_sha256, run.tokenizer_sha256, "another tokenizer");
  check("model_shape", b.model_shape, run.model_shape, "another model: only the weights' values may differ");
  check("vocab_size", std::to_string(b.vocab_size), std::to_string(run.vocab_size), "another vocabulary");
  check("tokens_sha256", b.tokens_sha256, run.tokens_sha256, "the text tokenized differently");
  check("n_positions", std::to_string(b.n_positions), std::to_string(run.n_positions), "another number of scored positions");
}

void KldBaseReader::Read(int64_t i, Position* p) const {
  const Impl& m = *impl_;
  if (i < 0 || i >= m.header.n_positions) {
    throw Error(ErrorKind::kUsage, m.path, "n_positions", "position " + std::to_string(i) + " out of range");
  }
  // Records start at arbitrary byte offsets (the header is not padded): copy, never cast.
  const char* r = m.data + m.records_offset + static_cast<size_t>(i) * m.record_bytes;
  std::memcpy(&p->target, r, 4);
  std::memcpy(&p->argmax, r + 4, 4);
  std::memcpy(&p->target_logprob, r + 8, 8);
  // Every id indexes the run's logits [vocab_size]: a corrupted record must not read past them.
  const int64_t vocab = m.header.vocab_size;
  auto check_id = [&](int32_t id, const std::string& field) {
    if (id < 0 || id >= vocab) {
      throw Error(ErrorKind::kFormat, m.path, "position " + std::to_string(i) + "." + field,
                  "token id " + std::to_string(id) + " outside [0, " + std::to_string(vocab) +
                      ") (corrupted file?)");
    }
  };
  check_id(p->target, "target");
  check_id(p->argmax, "argmax");
  const char* payload = r + 16;
  if (m.header.storage == "full") {
    p->full_logp.resize(static_cast<size_t>(m.header.vocab_size));
    std::memcpy(p->full_logp.data(), payload, 8 * p->full_logp.size());
    p->top_ids.clear();
    p->top_logp.clear();
  } else {
    const int64_t K = m.header.top_k;
    p->full_logp.clear();
    p->top_ids.resize(static_cast<size_t>(K));
    p->top_logp.resize(static_cast<size_t>(K));
    for (int64_t j = 0; j < K; ++j) {
      std::memcpy(&p->top_ids[j], payload + 12 * j, 4);
      std::memcpy(&p->top_logp[j], payload + 12 * j + 4, 8);
      check_id(p->top_ids[j], "top_ids[" + std::to_string(j) + "]");
    }
    std::memcpy(&p->log_rest, payload + 12 * K, 8);
  }
}

void KldAccumulator::Add(const float* logits, int64_t vocab, const KldBaseReader::Position& base) {
  new_logp_.resize(static_cast<size_t>(vocab));
  const double lse = LogSumExp(logits, vocab);
  int32_t argmax = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    new_logp_[i] = static_cast<double>(logits[i]) - lse;
    if (logits[i] > logits[argmax]) argmax = static_cast<int32_t>(i);
  }
  double kld;
  if (!base.full_logp.empty()) {
    kld = KlDivergenceFull(base.full_logp.data(), new_logp_.data(), vocab);
  } else {
    kld = KlDivergenceTopK(base.top_ids.data(), base.top_logp.data(),
                           static_cast<int64_t>(base.top_ids.size()), base.log_rest, new_logp_.data(), vocab);
    sum_rest_ += std::exp(base.log_rest);
  }
  kld_.push_back(kld);
  const double nll_new = -new_logp_[base.target], nll_base = -base.target_logprob;
  sum_nll_new_ += nll_new;
  sum_nll_base_ += nll_base;
  nll_diff_.push_back(nll_new - nll_base);
  if (argmax == base.argmax) ++n_same_top_;
}

KldAccumulator::Summary KldAccumulator::Summarize() const {
  Summary s;
  const int64_t n = static_cast<int64_t>(kld_.size());
  s.n = n;
  if (n == 0) return s;
  auto mean_se = [n](const std::vector<double>& v, double* mean, double* se) {
    double sum = 0, sum2 = 0;
    for (double x : v) sum += x;
    *mean = sum / n;
    for (double x : v) sum2 += (x - *mean) * (x - *mean);
    // Sample standard deviation / sqrt(n); NaN for a single position.
    *se = n > 1 ? std::sqrt(sum2 / (n - 1) / n) : std::numeric_limits<double>::quiet_NaN();
  };
  mean_se(kld_, &s.kld_mean, &s.kld_stderr);
  mean_se(nll_diff_, &s.ln_ppl_ratio, &s.ln_ppl_ratio_stderr);
  s.kld_median = Percentile(kld_, 0.5);
  s.kld_p99 = Percentile(kld_, 0.99);
  s.kld_p999 = Percentile(kld_, 0.999);
  s.kld_max = *std::max_element(kld_.begin(), kld_.end());
  s.top1_agreement = static_cast<double>(n_same_top_) / n;
  s.top1_agreement_stderr = std::sqrt(s.top1_agreement * (1 - s.top1_agreement) / n);
  s.ppl_base = std::exp(sum_nll_base_ / n);
  s.ppl_new = std::exp(sum_nll_new_ / n);
  s.delta_ppl = s.ppl_new - s.ppl_base;
  s.mean_rest_mass = sum_rest_ / n;
  return s;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace doge
