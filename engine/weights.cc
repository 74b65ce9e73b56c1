// Weight resolution: layout detection from tensor names/shapes, the tensors of DogeTensorTable
// (tensor_table.h) resolved and checked, fp32 widening of BF16/F16, packing for the kernels.
#include "engine/weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "engine/base/error.h"
#include "engine/kernels/kernel_set.h"
#include "engine/kernels/q8.h"

namespace doge {

namespace {

class Resolver {
 public:
  Resolver(DogeWeights* w) : w_(w) {}

  // The first present name of `e` (nullptr if none and `e` is optional), shape- and
  // dtype-checked.
  const float* Get(const TensorEntry& e) {
    const TensorView* t = nullptr;
    for (const auto& n : e.names) {
      t = w_->tensors->Find(n);
      if (t) break;
    }
    if (t == nullptr) {
      if (!e.required) return nullptr;
      std::string alts;
      for (size_t i = 1; i < e.names.size(); ++i) alts += (i > 1 ? ", " : "") + e.names[i];
      throw Error(ErrorKind::kShape, w_->tensors->describe(), e.names[0],
                  std::string("missing tensor (") + e.shape_what + ")" +
                      (alts.empty() ? "" : "; also accepted: " + alts));
    }
    // A bare [H] parameter and a [H] `.weight` are the same; compare shapes exactly otherwise.
    if (t->shape != e.shape) {
      throw Error(ErrorKind::kShape, t->file, t->name,
                  "shape " + FormatShape(t->shape) + ", expected " + FormatShape(e.shape) + " (" +
                      e.shape_what + ")");
    }
    if (!AcceptsWeightDType(e.kind, t->dtype)) {
      throw Error(ErrorKind::kFormat, t->file, t->name,
                  std::string("unsupported dtype ") + DTypeName(t->dtype) +
                      " for a weight, expected " + AcceptedWeightDTypes(e.kind));
    }
    if (t->dtype == DType::kI8) {
      w_->n_params += t->numel();
      return Dequantize(*t);
    }
    w_->n_params += t->numel();
    return Widen(*t);
  }

 private:
  const float* Widen(const TensorView& t) {
    const int64_t n = t.numel();
    if (t.dtype == DType::kF32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0) {
      return reinterpret_cast<const float*>(t.data);  // in place from the mapping
    }
    auto buf = std::make_unique<float[]>(static_cast<size_t>(n));
    if (t.dtype == DType::kF32) {
      std::memcpy(buf.get(), t.data, static_cast<size_t>(n) * 4);
    } else {
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, t.data + 2 * i, 2);
        buf[i] = t.dtype == DType::kBF16 ? Bf16ToFloat(v) : F16ToFloat(v);
      }
    }
    w_->widened_bytes += n * 4;
    if (t.dtype != DType::kF32) w_->source16[buf.get()] = &t;
    w_->owned.push_back(std::move(buf));
    return w_->owned.back().get();
  }

  // A q8 matrix: int8 [rows, cols] and F32 "<name>_scale" [rows, ceil(cols / 32)]; its values
  // (float)q · scale as a float32 copy (what the reference path, the embedding lookup and the
  // router-free readers use); the kernels' q8 copy is packed from the int8 tensor itself.
  const float* Dequantize(const TensorView& t) {
    const int64_t rows = t.shape[0], cols = t.shape[1], nb = Q8Blocks(cols);
    const std::string sname = t.name + "_scale";
    const TensorView* s = w_->tensors->Find(sname);
    if (s == nullptr) {
      throw Error(ErrorKind::kFormat, t.file, sname,
                  "missing: the I8 tensor " + t.name + " needs its float32 scales [rows, ceil(cols/32)]");
    }
    if (s->dtype != DType::kF32 || s->shape != std::vector<int64_t>{rows, nb}) {
      throw Error(ErrorKind::kShape, s->file, sname,
                  std::string(DTypeName(s->dtype)) + " " + FormatShape(s->shape) + ", expected F32 " +
                      FormatShape({rows, nb}) + " (one scale per 32 columns of " + t.name + ")");
    }
    auto buf = std::make_unique<float[]>(static_cast<size_t>(rows * cols));
    const auto* q = reinterpret_cast<const int8_t*>(t.data);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t b = 0; b < nb; ++b) {
        float d;
        std::memcpy(&d, s->data + 4 * (r * nb + b), 4);
        for (int64_t k = b * kQ8Block; k < std::min(cols, (b + 1) * kQ8Block); ++k) {
          buf[r * cols + k] = static_cast<float>(q[r * cols + k]) * d;
        }
      }
    }
    w_->widened_bytes += rows * cols * 4;
    w_->source_q8[buf.get()] = {&t, s};
    w_->owned.push_back(std::move(buf));
    return w_->owned.back().get();
  }

  DogeWeights* w_;
};

// The member of `w` that table entry `e` fills.
const float** Slot(DogeWeights* w, const TensorEntry& e) {
  LayerWeights* l = e.layer >= 0 ? &w->layers[static_cast<size_t>(e.layer)] : nullptr;
  switch (e.role) {
    case TensorRole::kEmbed: return &w->embed;
    case TensorRole::kFinalNorm: return &w->final_norm;
    case TensorRole::kLmHead: return &w->lm_head;
    case TensorRole::kInputLayernorm: return &l->input_layernorm;
    case TensorRole::kInputResidual: return &l->input_residual;
    case TensorRole::kPostAttentionLayernorm: return &l->post_attention_layernorm;
    case TensorRole::kPostAttentionResidual: return &l->post_attention_residual;
    case TensorRole::kQProj: return &l->q_proj;
    case TensorRole::kKProj: return &l->k_proj;
    case TensorRole::kVProj: return &l->v_proj;
    case TensorRole::kOProj: return &l->o_proj;
    case TensorRole::kQNorm: return &l->q_norm;
    case TensorRole::kKNorm: return &l->k_norm;
    case TensorRole::kA: return &l->a;
    case TensorRole::kDtProj: return &l->dt_proj;
    case TensorRole::kGateProj: return &l->gate_proj;
    case TensorRole::kUpProj: return &l->up_proj;
    case TensorRole::kDownProj: return &l->down_proj;
    case TensorRole::kRouterGate: return &l->router_gate;
    case TensorRole::kDownEmbed: return &l->down_embed;
    case TensorRole::kUpEmbed: return &l->up_embed;
  }
  return nullptr;  // unreachable: every role is listed
}

}  // namespace

DogeWeights LoadWeights(const std::string& model_dir, const DogeConfig& c) {
  DogeWeights w;
  w.tensors = TensorSet::Open(model_dir);
  w.mapped_bytes = w.tensors->mapped_bytes();
  const TensorSet& ts = *w.tensors;

  // Layout detection (doge-architecture.md §0): names decide early vs late; q_norm or the size of
  // A decides B vs A.
  const bool early = ts.Find("model.word_embed.weight") != nullptr;
  const std::string p0 = "model.layers.0.";
  const bool has_qnorm = ts.Find(p0 + "self_attn.q_norm.weight") != nullptr;
  const TensorView* a0 = ts.Find(p0 + "self_attn.A");
  if (early) {
    w.layout = Layout::kAEarly;
  } else if (has_qnorm) {
    w.layout = Layout::kB;
  } else if (a0 != nullptr && a0->numel() == c.num_key_value_heads &&
             c.num_key_value_heads != c.num_attention_heads) {
    w.layout = Layout::kB;  // B without q/k norm tensors: rejected below as a missing tensor
  } else {
    w.layout = Layout::kALate;
  }
  w.n_bias_heads = BiasHeads(c, w.layout);
  w.layers.resize(static_cast<size_t>(c.num_hidden_layers));

  Resolver r(&w);
  const std::vector<TensorEntry> table = DogeTensorTable(c, w.layout);
  const TensorView* emb = ts.Find(table[0].names[0]);
  w.dtype = emb ? emb->dtype : DType::kF32;
  for (const TensorEntry& e : table) *Slot(&w, e) = r.Get(e);
  w.tied = w.lm_head == nullptr;
  if (w.tied) w.lm_head = w.embed;
  return w;
}

namespace {

// Packs w [rows, cols] into dst, 16 blocks at a time; when the source is the mapping (not one of
// the widened heap copies, whose contents would be lost) each slice's pages are released right
// after it is packed, so the peak stays near one copy of the weights.
// Drops the whole pages inside [p, p + bytes) of the mapping from memory (madvise DONTNEED: the
// mapping stays valid and re-reads them from the page cache if touched again). Best effort: a
// failure only leaves the pages resident.
void ReleaseMappedPages(const void* p, size_t bytes) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void PackOne(DogeWeights* weights, const float* w, int64_t rows, int64_t cols, float* dst) {
  bool heap = false;
  for (const auto& o : weights->owned) heap = heap || o.get() == w;
  constexpr int64_t kSlice = 16 * kPackRows;
  for (int64_t r0 = 0; r0 < rows; r0 += kSlice) {
    const int64_t nr = std::min(kSlice, rows - r0);
    PackWeights(w + r0 * cols, nr, cols, dst + r0 * cols);
    if (!heap) ReleaseMappedPages(w + r0 * cols, static_cast<size_t>(nr * cols) * sizeof(float));
  }
}

// The 16-bit source of a widened matrix (its BF16/F16 tensor's values, as stored), or null.
const uint16_t* Source16(const DogeWeights& w, const float* m, DType* dtype) {
  auto it = w.source16.find(m);
  if (it == w.source16.end()) return nullptr;
  *dtype = it->second->dtype;
  return reinterpret_cast<const uint16_t*>(it->second->data);
}

}  // namespace

void DogeWeights::FreeDeleter::operator()(float* p) const { std::free(p); }

void PackWeightsForKernels(DogeWeights* w, const DogeConfig& c) {
  const int64_t H = c.hidden_size, D = c.head_dim(), I = c.intermediate_size;
  const int64_t qd = c.num_attention_heads * D, kvd = c.num_key_value_heads * D;
  struct Job {
    const float* src;
    int64_t rows, cols;
    PackedWeights* dst;
  };
  std::vector<Job> jobs;
  for (LayerWeights& l : w->layers) {
    jobs.push_back({l.q_proj, qd, H, &l.q_proj_packed});
    jobs.push_back({l.k_proj, kvd, H, &l.k_proj_packed});
    jobs.push_back({l.v_proj, kvd, H, &l.v_proj_packed});
    jobs.push_back({l.dt_proj, w->n_bias_heads, kvd, &l.dt_proj_packed});
    jobs.push_back({l.o_proj, H, qd, &l.o_proj_packed});
    jobs.push_back({l.gate_proj, I, H, &l.gate_proj_packed});
    jobs.push_back({l.up_proj, I, H, &l.up_proj_packed});
    jobs.push_back({l.down_proj, H, I, &l.down_proj_packed});
  }
  jobs.push_back({w->lm_head, c.vocab_size, H, &w->lm_head_packed});
  // The element type: the checkpoint's own BF16/F16 when every packed matrix is stored in the
  // same 16-bit type (a 16-bit source whose values need no conversion), else F32.
  DType d16 = DType::kF32;
  bool all16 = true;
  for (const Job& j : jobs) {
    DType dt = DType::kF32;
    if (Source16(*w, j.src, &dt) == nullptr || (d16 != DType::kF32 && dt != d16)) all16 = false;
    d16 = dt;
  }
  PackedType type = !all16 ? PackedType::kF32
                    : d16 == DType::kBF16 ? PackedType::kBF16 : PackedType::kF16;
  // A q8 checkpoint: its int8 matrices packed q8, the others (dt_proj) F32.
  bool any_q8 = false;
  for (const Job& j : jobs) any_q8 = any_q8 || w->source_q8.count(j.src) != 0;
  if (any_q8) type = PackedType::kQ8;
  auto job_type = [&](const Job& j) {
    if (type != PackedType::kQ8) return type;
    return w->source_q8.count(j.src) ? PackedType::kQ8 : PackedType::kF32;
  };
  auto job_bytes = [&](const Job& j) {
    const PackedType t = job_type(j);
    return t == PackedType::kQ8 ? Q8PackedBytes(j.rows, j.cols)
                                : PackedWeightFloats(j.rows, j.cols) * PackedTypeBytes(t);
  };
  // One region in the order the forward pass reads them (one long stream per decode step, as
  // the checkpoint's own layout gives), 2 MiB-aligned and marked for transparent huge pages:
  // scattered 4 KiB anonymous pages streamed measurably slower than the page cache's pages.
  int64_t total = 0;
  for (const Job& j : jobs) total += job_bytes(j);
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = (static_cast<size_t>(total) + kHuge - 1) / kHuge * kHuge;
  float* region = static_cast<float*>(std::aligned_alloc(kHuge, bytes));
  if (region == nullptr) {
    throw Error(ErrorKind::kIo, "", "packed weights", "out of memory for " + std::to_string(bytes) + " bytes");
  }
  madvise(region, bytes, MADV_HUGEPAGE);  // best effort
  w->packed_region.reset(region);
  w->packed_bytes = static_cast<int64_t>(bytes);
  w->packed_type = type;
  char* at = reinterpret_cast<char*>(region);
  for (const Job& j : jobs) {
    const PackedType jt = job_type(j);
    j.dst->type = jt;
    j.dst->data = at;
    if (jt == PackedType::kQ8) {
      const DogeWeights::Q8Source& src = w->source_q8.at(j.src);
      std::vector<float> scales(static_cast<size_t>(j.rows * Q8Blocks(j.cols)));
      std::memcpy(scales.data(), src.scale->data, scales.size() * 4);  // any alignment
      PackQ8(reinterpret_cast<const int8_t*>(src.q->data), scales.data(), j.rows, j.cols, at);
      ReleaseMappedPages(src.q->data, static_cast<size_t>(j.rows * j.cols));
    } else if (jt == PackedType::kF32) {
      PackOne(w, j.src, j.rows, j.cols, reinterpret_cast<float*>(at));
    } else {
      // The mapped 16-bit tensor was read twice (widened at load, packed now) and is not needed
      // again: its pages go, as the F32 path's do.
      DType dt;
      const uint16_t* src = Source16(*w, j.src, &dt);
      PackWeights16(src, j.rows, j.cols, reinterpret_cast<uint16_t*>(at));
      ReleaseMappedPages(src, static_cast<size_t>(j.rows * j.cols) * 2);
    }
    at += job_bytes(j);
  }
}

}  // namespace doge
