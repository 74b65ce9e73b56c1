// lighteval 0.7.0's token budget for generate_until requests (models/transformers/
// transformers_model.py greedy_until): every prompt of a "split" is left-padded to one length and
// max_new_tokens follows from that length, not from each prompt's own.
#ifndef DOGE_TASKS_GENERATION_H_
#define DOGE_TASKS_GENERATION_H_

#include <cstdint>
#include <vector>

namespace doge::tasks {

// lighteval groups generative requests by (do_sample, use_logits, stop sequences, generation
// size) and sorts each group longest first; for the card that is one group per task: all the
// TriviaQA docs evaluated. Then, per group:
//   padded_length  = min(longest tokenized context + generation_size, max_length)
//                    (the tokenizer call pads every context to it: padding="max_length")
//   max_new_tokens = min(max_length - padded_length, generation_size), at least 1
// Contexts are tokenized with special tokens (BOS), as lighteval's tok_encode.
struct GenerationBudget {
  int64_t longest_context = 0;  // tokens of the longest context in the group
  int64_t padded_length = 0;    // what every prompt is padded to
  int32_t max_new_tokens = 0;   // the same for every prompt of the group
};

GenerationBudget LightevalGenerationBudget(const std::vector<int64_t>& context_lengths,
                                           int32_t generation_size, int32_t max_length);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_GENERATION_H_
