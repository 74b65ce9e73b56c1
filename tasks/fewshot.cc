// lighteval 0.7.0 FewShotSampler port; see fewshot.h.
#include "tasks/fewshot.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "engine/base/error.h"
#include "tasks/py_random.h"

namespace doge::tasks {

namespace {

// sample_fewshot_examples: [x for x in samples if x != doc][:k]
std::vector<int64_t> DropCurrent(const std::vector<int64_t>& samples, const std::vector<PromptDoc>& pool,
                                 const PromptDoc& doc, int k) {
  std::vector<int64_t> out;
  for (int64_t i : samples) {
    if (static_cast<int>(out.size()) == k) break;
    if (!pool[i].SameDoc(doc)) out.push_back(i);
  }
  return out;
}

// _init_fewshot_sampling_balanced with variance seed 0.
std::vector<int64_t> BalancedList(int k, const std::vector<PromptDoc>& pool) {
  PyRandom rng(0);  // random.seed(0) on the global generator
  // label_to_instances: sorting class (= the target string) -> pool indices in pool order.
  std::map<std::string, std::vector<int64_t>> by_label;  // std::map iterates in sorted order
  for (size_t i = 0; i < pool.size(); ++i) by_label[pool[i].Target()].push_back(static_cast<int64_t>(i));
  // counts_to_labels, filled in sorted label order.
  std::map<size_t, std::vector<std::string>> by_count;
  for (const auto& [label, members] : by_label) by_count[members.size()].push_back(label);
  std::vector<std::string> sorted_labels;
  for (auto it = by_count.rbegin(); it != by_count.rend(); ++it) {
    std::vector<std::string> labels = it->second;
    rng.Shuffle(labels);  // ties broken by random.shuffle
    sorted_labels.insert(sorted_labels.end(), labels.begin(), labels.end());
  }
  std::vector<int64_t> examples;
  int64_t remaining = std::min<int64_t>(static_cast<int64_t>(pool.size()), k + 1);
  size_t cursor = 0;
  while (remaining > 0 && !sorted_labels.empty()) {
    const std::string& label = sorted_labels[cursor];
    cursor = (cursor + 1) % sorted_labels.size();
    if (label.empty()) break;  // `if not next_label: break` (lighteval PR #1379)
    std::vector<int64_t>& members = by_label[label];
    if (members.empty()) continue;
    const size_t j = static_cast<size_t>(rng.RandRange(members.size()));
    examples.push_back(members[j]);
    members.erase(members.begin() + static_cast<std::ptrdiff_t>(j));  // list.pop(j)
    --remaining;
  }
  return examples;
}

}  // namespace

std::vector<std::vector<int64_t>> SelectFewshots(Sampler sampler, int k,
                                                 const std::vector<PromptDoc>& eval_docs,
                                                 const std::vector<PromptDoc>& pool,
                                                 const std::string& where) {
  std::vector<std::vector<int64_t>> shots(eval_docs.size());
  if (k == 0) return shots;  // sample_fewshot_examples returns [] before touching any RNG
  switch (sampler) {
    case Sampler::kSequential:
    case Sampler::kRandom: {
      // Seed 0: sequential rotates by k*0 and random does not shuffle, so both are pool order.
      std::vector<int64_t> all(pool.size());
      std::iota(all.begin(), all.end(), 0);
      for (size_t d = 0; d < eval_docs.size(); ++d) shots[d] = DropCurrent(all, pool, eval_docs[d], k);
      break;
    }
    case Sampler::kBalanced: {
      const std::vector<int64_t> list = BalancedList(k, pool);
      for (size_t d = 0; d < eval_docs.size(); ++d) shots[d] = DropCurrent(list, pool, eval_docs[d], k);
      break;
    }
    case Sampler::kRandomSamplingFromTrain:
    case Sampler::kRandomSampling: {
      const int64_t draw = sampler == Sampler::kRandomSampling ? k + 1 : k;
      if (draw > static_cast<int64_t>(pool.size())) {
        throw Error(ErrorKind::kDataset, where, "few-shot pool",
                    "has " + std::to_string(pool.size()) + " docs; " + SamplerName(sampler) +
                        " draws " + std::to_string(draw));
      }
      // create_requests_from_tasks: rnd = Random(); rnd.seed(42); rnd.shuffle(task_docs)
      PyRandom rnd(42);
      std::vector<int64_t> order(eval_docs.size());
      std::iota(order.begin(), order.end(), 0);
      rnd.Shuffle(order);
      for (int64_t d : order) {
        std::vector<int64_t> drawn = rnd.SampleIndices(static_cast<int64_t>(pool.size()), draw);
        shots[d] = DropCurrent(drawn, pool, eval_docs[d], k);
      }
      break;
    }
  }
  return shots;
}

}  // namespace doge::tasks
