// Random-weight checkpoints with the real Doge shapes (doge-architecture.md §2), so benchmarks and
// demos have a full-size model without the hub: config.json + model.safetensors (F32 as published,
// or BF16/F16 to exercise 16-bit checkpoints), variant B, tied head.
#ifndef DOGE_ENGINE_RANDOM_CHECKPOINT_H_
#define DOGE_ENGINE_RANDOM_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config.h"

namespace doge {

// shape: doge-20m | doge-60m | doge-160m | doge-320m. Norm weights and residual scales ~1,
// A = ±[0.3, 1], linear weights uniform with std 0.5/sqrt(fan_in). Deterministic for a seed.
// dtype "f32" | "bf16" | "f16": every tensor stored so (rounded to nearest even). Throws
// Error(kUsage) for an unknown shape or dtype.
void WriteRandomCheckpoint(const std::string& shape, const std::string& out_dir, uint64_t seed,
                           const std::string& dtype = "f32");

std::vector<std::string> RandomCheckpointShapes();

// The config a published shape is written with (vocab 32768, layout B, tied, no CDMoE; the shape
// keys of doge-architecture.md §2.1). Throws Error(kUsage) naming --shape for an unknown one.
DogeConfig PublishedShapeConfig(const std::string& shape);

}  // namespace doge

#endif  // DOGE_ENGINE_RANDOM_CHECKPOINT_H_
