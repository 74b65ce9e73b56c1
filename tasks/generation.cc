// lighteval's split-level generation budget; see generation.h.
#include "tasks/generation.h"

#include <algorithm>

namespace doge::tasks {

GenerationBudget LightevalGenerationBudget(const std::vector<int64_t>& context_lengths,
                                           int32_t generation_size, int32_t max_length) {
  GenerationBudget b;
  for (int64_t n : context_lengths) b.longest_context = std::max(b.longest_context, n);
  b.padded_length = std::min<int64_t>(b.longest_context + generation_size, max_length);
  const int64_t room = static_cast<int64_t>(max_length) - b.padded_length;
  b.max_new_tokens =
      static_cast<int32_t>(std::max<int64_t>(1, std::min<int64_t>(room, generation_size)));
  return b;
}

}  // namespace doge::tasks
