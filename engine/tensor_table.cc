// The Doge tensor table (tensor_table.h): names per layout, shapes from the config.
#include "engine/tensor_table.h"

namespace doge {

const char* LayoutName(Layout l) {
  switch (l) {
    case Layout::kB: return "B";
    case Layout::kALate: return "A-late";
    case Layout::kAEarly: return "A-early";
  }
  return "?";
}

int64_t BiasHeads(const DogeConfig& c, Layout layout) {
  return layout == Layout::kB ? c.num_key_value_heads : c.num_attention_heads;
}

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<TensorEntry> DogeTensorTable(const DogeConfig& c, Layout layout) {
  const bool early = layout == Layout::kAEarly, is_b = layout == Layout::kB;
  const int64_t H = c.hidden_size, D = c.head_dim(), nh = c.num_attention_heads,
                nkv = c.num_key_value_heads, I = c.intermediate_size, V = c.vocab_size,
                E = c.num_experts, K = c.expert_keys(), nb = BiasHeads(c, layout);
  using R = TensorRole;
  using T = TensorKind;
  std::vector<TensorEntry> t;
  auto add = [&t](R role, int64_t layer, std::vector<std::string> names, std::vector<int64_t> shape,
                  const char* what, T kind, bool required = true) {
    t.push_back({role, layer, std::move(names), std::move(shape), what, kind, required});
  };
  add(R::kEmbed, -1, {early ? "model.word_embed.weight" : "model.embed_tokens.weight"}, {V, H},
      "vocab_size x hidden_size", T::kEmbedding);
  add(R::kFinalNorm, -1, {early ? "model.final_layernorm.weight" : "model.norm.weight"}, {H},
      "hidden_size", T::kGain);
  add(R::kLmHead, -1, {"lm_head.weight"}, {V, H}, "vocab_size x hidden_size", T::kMatrix,
      /*required=*/false);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    if (early) {
      add(R::kInputLayernorm, i, {p + "pre_layernorm.weight"}, {H}, "hidden_size", T::kGain);
      add(R::kInputResidual, i, {p + "pre_residual.weight", p + "pre_residual"}, {H},
          "hidden_size", T::kGain);
      add(R::kPostAttentionLayernorm, i, {p + "post_layernorm.weight"}, {H}, "hidden_size",
          T::kGain);
      add(R::kPostAttentionResidual, i, {p + "post_residual.weight", p + "post_residual"}, {H},
          "hidden_size", T::kGain);
    } else {
      add(R::kInputLayernorm, i, {p + "input_layernorm.weight"}, {H}, "hidden_size", T::kGain);
      add(R::kInputResidual, i, {p + "input_residual", p + "input_residual.weight"}, {H},
          "hidden_size", T::kGain);
      add(R::kPostAttentionLayernorm, i, {p + "post_attention_layernorm.weight"}, {H},
          "hidden_size", T::kGain);
      add(R::kPostAttentionResidual, i,
          {p + "post_attention_residual", p + "post_attention_residual.weight"}, {H},
          "hidden_size", T::kGain);
    }
    const std::string a = p + "self_attn.";
    add(R::kQProj, i, {a + "q_proj.weight"}, {nh * D, H},
        "num_attention_heads*head_dim x hidden_size", T::kMatrix);
    add(R::kKProj, i, {a + "k_proj.weight"}, {nkv * D, H},
        "num_key_value_heads*head_dim x hidden_size", T::kMatrix);
    add(R::kVProj, i, {a + "v_proj.weight"}, {nkv * D, H},
        "num_key_value_heads*head_dim x hidden_size", T::kMatrix);
    add(R::kOProj, i, {a + "o_proj.weight"}, {H, nh * D},
        "hidden_size x num_attention_heads*head_dim", T::kMatrix);
    if (is_b) {
      add(R::kQNorm, i, {a + "q_norm.weight"}, {D}, "head_dim (variant B)", T::kGain);
      add(R::kKNorm, i, {a + "k_norm.weight"}, {D}, "head_dim (variant B)", T::kGain);
    }
    add(R::kA, i, {a + "A"}, {nb},
        is_b ? "num_key_value_heads (variant B)" : "num_attention_heads (variant A)", T::kA);
    add(R::kDtProj, i, {a + "dt_proj.weight"}, {nb, nkv * D},
        is_b ? "num_key_value_heads x num_key_value_heads*head_dim (variant B)"
             : "num_attention_heads x num_key_value_heads*head_dim (variant A)",
        T::kMatrix);
    const std::string m = p + (early ? "feed_forward." : "mlp.");
    add(R::kGateProj, i, {m + "gate_proj.weight"}, {I, H}, "intermediate_size x hidden_size",
        T::kMatrix);
    add(R::kUpProj, i, {m + "up_proj.weight"}, {I, H}, "intermediate_size x hidden_size",
        T::kMatrix);
    add(R::kDownProj, i, {m + "down_proj.weight"}, {H, I}, "hidden_size x intermediate_size",
        T::kMatrix);
    if (c.is_moe) {
      add(R::kRouterGate, i, {m + "router_gate.weight"}, {2 * K, H},
          "2*floor(sqrt(num_experts)) x hidden_size", T::kMatrix);
      add(R::kDownEmbed, i, {m + "down_embed.weight"}, {E, H}, "num_experts x hidden_size",
          T::kMatrix);
      add(R::kUpEmbed, i, {m + "up_embed.weight"}, {E, H}, "num_experts x hidden_size",
          T::kMatrix);
    }
  }
  return t;
}

// I8 (q8: int8 values with a "<name>_scale" F32 tensor, engine/README.md "q8") for the
// 2-D tensors only (projections, CDMoE tables, the embedding): gains and A stay in float.
bool AcceptsWeightDType(TensorKind kind, DType dtype) {
  if (dtype == DType::kI8) return kind == TensorKind::kMatrix || kind == TensorKind::kEmbedding;
  return dtype == DType::kF32 || dtype == DType::kBF16 || dtype == DType::kF16;
}

std::string AcceptedWeightDTypes(TensorKind kind) {
  return kind == TensorKind::kMatrix || kind == TensorKind::kEmbedding
             ? "F32, BF16, F16 or I8 (with its _scale tensor)"
             : "F32, BF16 or F16";
}

}  // namespace doge
