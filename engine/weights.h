// DogeWeights: every parameter of a Doge checkpoint as fp32 pointers, resolved from the tensors
// (layout detection per doge-architecture.md §0) and shape-checked at load. F32 tensors are used in
// place from the mmap; BF16/F16 tensors are widened to fp32 copies at load (what the reference
// kernels, norms and embedding read), and their projection matrices are also packed as 16-bit
// values, which the optimized kernels widen inside their loops.
#ifndef DOGE_ENGINE_WEIGHTS_H_
#define DOGE_ENGINE_WEIGHTS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/kernels/kernel_set.h"
#include "engine/safetensors.h"
#include "engine/tensor_table.h"

namespace doge {

struct LayerWeights {
  const float* input_layernorm = nullptr;           // [H]
  const float* q_proj = nullptr;                    // [nh*D, H]
  const float* k_proj = nullptr;                    // [nkv*D, H]
  const float* v_proj = nullptr;                    // [nkv*D, H]
  const float* q_norm = nullptr;                    // [D] (B only, else null)
  const float* k_norm = nullptr;                    // [D] (B only, else null)
  const float* a = nullptr;                         // [n_bias_heads]  (self_attn.A)
  const float* dt_proj = nullptr;                   // [n_bias_heads, nkv*D]
  const float* o_proj = nullptr;                    // [H, nh*D]
  const float* input_residual = nullptr;            // [H]
  const float* post_attention_layernorm = nullptr;  // [H]
  const float* gate_proj = nullptr;                 // [I, H]
  const float* up_proj = nullptr;                   // [I, H]
  const float* down_proj = nullptr;                 // [H, I]
  const float* post_attention_residual = nullptr;   // [H]
  // The matrices above in the kernels' packed layout (PackWeights, kernel_set.h), F32 or the
  // checkpoint's BF16/F16: what the optimized kernels read. Set by PackWeightsForKernels.
  PackedWeights q_proj_packed;
  PackedWeights k_proj_packed;
  PackedWeights v_proj_packed;
  PackedWeights dt_proj_packed;
  PackedWeights o_proj_packed;
  PackedWeights gate_proj_packed;
  PackedWeights up_proj_packed;
  PackedWeights down_proj_packed;
  // CDMoE only (is_moe): product-key router and rank-1 experts.
  const float* router_gate = nullptr;  // [2*K, H], K = config.expert_keys()
  const float* down_embed = nullptr;   // [E, H]
  const float* up_embed = nullptr;     // [E, H]
};

struct DogeWeights {
  Layout layout = Layout::kB;
  // n_bias_heads: rows of A/dt_proj = nkv (B) or nh (A); equals the number of mask heads.
  int64_t n_bias_heads = 0;
  bool tied = true;            // lm_head.weight absent: the head reuses the embedding
  DType dtype = DType::kF32;   // dtype of the embedding tensor as stored
  const float* embed = nullptr;    // [V, H]
  const float* final_norm = nullptr;  // [H]
  const float* lm_head = nullptr;  // [V, H] (== embed when tied)
  PackedWeights lm_head_packed;  // lm_head in the kernels' packed layout
  int64_t packed_bytes = 0;  // heap bytes of the packed copies
  // The element type of the packed copies: F32, or the checkpoint's BF16/F16 when every packed
  // matrix is stored so (the kernels widen them in their loops; half the bytes per decode step),
  // or Q8 when the checkpoint's matrices are int8 (those packed q8, the others F32).
  PackedType packed_type = PackedType::kF32;
  std::vector<LayerWeights> layers;
  int64_t n_params = 0;  // stored parameters (tied head counted once)
  int64_t mapped_bytes = 0;   // bytes of the mmap'd files
  int64_t widened_bytes = 0;  // heap bytes of fp32 copies (BF16/F16/misaligned tensors)

  // Keeps the mapping and the widened copies alive.
  std::unique_ptr<TensorSet> tensors;
  std::vector<std::unique_ptr<float[]>> owned;
  // All packed copies, in one 2 MiB-aligned region marked for transparent huge pages.
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, FreeDeleter> packed_region;
  // BF16/F16 tensors: the widened float32 copy -> the 16-bit tensor it came from (packed as is).
  std::map<const float*, const TensorView*> source16;
  // q8 tensors (I8 + "<name>_scale", engine/README.md): the dequantized float32 copy -> the int8
  // values and their scales (packed in the q8 layout, engine/kernels/q8.h).
  struct Q8Source {
    const TensorView* q = nullptr;
    const TensorView* scale = nullptr;
  };
  std::map<const float*, Q8Source> source_q8;
};

// Detects the layout, then resolves and validates every tensor of DogeTensorTable(config, layout);
// Error(kShape/kFormat) names the file and the tensor.
DogeWeights LoadWeights(const std::string& model_dir, const DogeConfig& config);

// Adds the packed copy of every projection matrix and of the head (the optimized kernels read
// only those). Tensors read in place from the mapping have their pages released afterwards
// (madvise MADV_DONTNEED: the mapping stays valid and re-reads from the page cache if the
// row-major values are needed again, e.g. by the reference kernels or the embedding lookup), so
// resident memory stays about one copy of the weights.
void PackWeightsForKernels(DogeWeights* w, const DogeConfig& config);

}  // namespace doge

#endif  // DOGE_ENGINE_WEIGHTS_H_
