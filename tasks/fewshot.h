// Few-shot selection identical to lighteval 0.7.0's FewShotSampler (eval-protocol.md §2.3), with
// the one few-shot seed (0) of the card runs. Returns indices into the few-shot pool so that the
// prompts, the details files and `doge tasks render` can name the shots.
#ifndef DOGE_TASKS_FEWSHOT_H_
#define DOGE_TASKS_FEWSHOT_H_

#include <cstdint>
#include <vector>

#include "tasks/prompt.h"
#include "tasks/spec.h"

namespace doge::tasks {

// For every eval doc (in dataset order), the pool indices of its k shots in prompt order.
//  sequential / random (seed 0 does not shuffle): the pool in order, minus the current doc.
//  balanced: one list of min(|pool|, k+1) docs built once from the global random seeded with 0
//    (group by target string, groups by descending size, ties shuffled, cycle popping a
//    randrange member; an empty target string stops the cycle, as lighteval does), then the
//    current doc is dropped and the first k kept.
//  random_sampling_from_train / random_sampling: one Random(42) shuffles the eval docs, then
//    draws sample(pool, k) / sample(pool, k+1) for each doc in shuffled order; drawn docs equal
//    to the current doc are dropped and the first k kept.
// Every eval doc gets its draws even when only some are evaluated (--limit), so a doc's shots
// never depend on the limit. Throws Error(kDataset) when the pool is too small to sample from.
std::vector<std::vector<int64_t>> SelectFewshots(Sampler sampler, int k,
                                                 const std::vector<PromptDoc>& eval_docs,
                                                 const std::vector<PromptDoc>& pool,
                                                 const std::string& where);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_FEWSHOT_H_
