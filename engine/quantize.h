// `doge quantize`: writes a q8 copy of a checkpoint folder (engine/README.md, "q8 checkpoints").
// The projection matrices and the embedding / head become I8 tensors with float32 scales per 32
// columns (engine/kernels/q8.h); every other tensor and every non-weight file is copied as is.
#ifndef DOGE_ENGINE_QUANTIZE_H_
#define DOGE_ENGINE_QUANTIZE_H_

#include <cstdint>
#include <string>

namespace doge {

struct QuantizeStats {
  int64_t n_quantized = 0;   // tensors written as I8 + _scale
  int64_t n_kept = 0;        // tensors copied in their own dtype
  int64_t params_quantized = 0;
  int64_t params_kept = 0;
  int64_t bytes_out = 0;     // size of the written model.safetensors
};

// True for the tensors a q8 checkpoint stores as int8: the 2-D q/k/v/o and gate/up/down
// projections and the embedding / lm_head (both layouts' names). dt_proj, the norms, A, the
// residual scales and the CDMoE router and expert embeddings stay in their own dtype.
bool QuantizedInQ8(const std::string& tensor_name);

// Reads model_dir (any of F32/BF16/F16, sharded or not), writes out_dir/model.safetensors plus
// copies of the folder's other files (config, tokenizer, generation config...). The folder is
// built under a temporary name next to out_dir and renamed into place; out_dir must not exist.
// type: "q8" (the only one). Throws doge::Error (kUsage for a bad type or an existing out_dir,
// kFormat for an already-quantized input).
QuantizeStats QuantizeCheckpoint(const std::string& model_dir, const std::string& out_dir,
                                 const std::string& type);

// `doge dev random-checkpoint --dtype q8` / `doge bench --shape S --dtype q8`: the F32 random
// checkpoint of engine/random_checkpoint.h for (shape, seed), quantized into out_dir.
void WriteRandomQ8Checkpoint(const std::string& shape, const std::string& out_dir, uint64_t seed);

}  // namespace doge

#endif  // DOGE_ENGINE_QUANTIZE_H_
