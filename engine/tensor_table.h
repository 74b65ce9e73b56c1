// The tensors of a Doge checkpoint, as one table: for a config and a weight layout, every
// tensor's name (and the other names loading accepts for it), its shape from the config, the
// dtypes it may be stored in, and whether it must be present. Loading (weights.cc), random
// checkpoints (random_checkpoint.cc) and parameter counting (benchmarks/model_cost.cc) all read
// this table, so a new layout or tensor is added here once.
#ifndef DOGE_ENGINE_TENSOR_TABLE_H_
#define DOGE_ENGINE_TENSOR_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/safetensors.h"

namespace doge {

// The three incompatible weight layouts that share model_type "doge" (doge-architecture.md §0;
// weights.cc detects which one a checkpoint has from its tensors).
enum class Layout {
  kB,       // transformers native: q/k RMSNorm, A/dt_proj per kv head
  kALate,   // small-doge HEAD naming, no q/k norm, A/dt_proj per attention head
  kAEarly,  // early small-doge naming (word_embed, pre_layernorm, ...), no top-k window
};
const char* LayoutName(Layout l);  // "B", "A-late", "A-early"

// Rows of A / dt_proj, which is also the number of dynamic-mask heads: nkv (B) or nh (A).
int64_t BiasHeads(const DogeConfig& c, Layout layout);

// Which DogeWeights / LayerWeights member a tensor fills.
enum class TensorRole {
  kEmbed, kFinalNorm, kLmHead,  // model-level
  kInputLayernorm, kInputResidual, kPostAttentionLayernorm, kPostAttentionResidual,
  kQProj, kKProj, kVProj, kOProj, kQNorm, kKNorm, kA, kDtProj,
  kGateProj, kUpProj, kDownProj,
  kRouterGate, kDownEmbed, kUpEmbed,  // CDMoE only
};

// What a tensor is: decides the dtypes it may be stored in (AcceptsWeightDType) and how a random
// checkpoint fills it.
enum class TensorKind {
  kEmbedding,  // [V, H] token embedding
  kMatrix,     // a projection (rows = outputs, cols = inputs) or a CDMoE expert table
  kGain,       // RMSNorm weights and residual scales, ~1
  kA,          // the dynamic-mask A, one signed value per bias head
};

struct TensorEntry {
  TensorRole role;
  int64_t layer = -1;  // decoder layer, -1 for model-level tensors
  // names[0] is the name this layout writes; every name is accepted when loading, first match
  // wins (a bare residual vector and its ".weight" form are the same parameter).
  std::vector<std::string> names;
  std::vector<int64_t> shape;
  const char* shape_what;  // the shape in config terms, for errors ("vocab_size x hidden_size")
  TensorKind kind;
  bool required = true;  // false: lm_head.weight (absent = tied to the embedding)

  int64_t numel() const;
};

// Every tensor of a `layout` checkpoint of config `c`, in load order: embedding, final norm,
// lm_head, then each layer's norms and residuals, attention, MLP and (is_moe) CDMoE tensors.
std::vector<TensorEntry> DogeTensorTable(const DogeConfig& c, Layout layout);

// The dtypes a checkpoint may store a weight of `kind` in (F32, BF16, F16 for every kind): the
// one place the loader's dtype rule lives.
bool AcceptsWeightDType(TensorKind kind, DType dtype);
// The same rule in words, for errors: "F32, BF16 or F16".
std::string AcceptedWeightDTypes(TensorKind kind);

}  // namespace doge

#endif  // DOGE_ENGINE_TENSOR_TABLE_H_
