// Task names as people write them (issue #18): ours, lighteval 0.7's task strings
// (suite|task|k|truncate_few_shots, the spellings of the Doge model card's evaluation) and
// lm-eval's names, each mapped to the task doge runs, with k taken from a lighteval string.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/base/error.h"
#include "tasks/task_names.h"

namespace doge::tasks {
namespace {

TaskSelection One(const std::string& name) {
  std::vector<TaskSelection> v = ResolveTaskNames({name});
  EXPECT_EQ(v.size(), 1u) << name;
  return v.empty() ? TaskSelection{} : v[0];
}

std::string ErrorOf(const std::vector<std::string>& names) {
  try {
    ResolveTaskNames(names);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_EQ(e.field(), "--tasks");
    return e.what();
  }
  ADD_FAILURE() << "no error for " << names[0];
  return "";
}

TEST(TaskNamesTest, OursAndTheGroups) {
  EXPECT_EQ(One("arc_easy").task, "arc_easy");
  EXPECT_EQ(One("arc_easy").num_fewshot, -1);
  EXPECT_EQ(One("mmlu:anatomy").task, "mmlu:anatomy");
  EXPECT_EQ(ResolveTaskNames({"card"}).size(), 8u);
  std::vector<TaskSelection> arc = ResolveTaskNames({"arc", "arc_easy"});  // de-duplicated
  ASSERT_EQ(arc.size(), 2u);
  EXPECT_EQ(arc[0].task, "arc_easy");
  EXPECT_EQ(arc[1].task, "arc_challenge");
}

TEST(TaskNamesTest, LightevalStringsOfTheModelCard) {
  // The suites the card used (tasks/specs/card-a/*.json "lighteval"): no note.
  const struct {
    const char* given;
    const char* task;
    int k;
  } cases[] = {
      {"lighteval|arc:easy|5|0", "arc_easy", 5},         {"leaderboard|arc:challenge|5|0", "arc_challenge", 5},
      {"leaderboard|hellaswag|5|0", "hellaswag", 5},     {"original|mmlu|5|0", "mmlu", 5},
      {"lighteval|piqa|5|0", "piqa", 5},                 {"lighteval|openbookqa|5|0", "openbookqa", 5},
      {"leaderboard|winogrande|5|0", "winogrande", 5},   {"lighteval|triviaqa|5|0", "triviaqa", 5},
      {"original|mmlu:anatomy|5|0", "mmlu:anatomy", 5},  {"lighteval|arc:easy|0|0", "arc_easy", 0},
      {"lighteval|arc:easy|25", "arc_easy", 25},  // the three-field form
  };
  for (const auto& c : cases) {
    const TaskSelection s = One(c.given);
    EXPECT_EQ(s.task, c.task) << c.given;
    EXPECT_EQ(s.num_fewshot, c.k) << c.given;
    EXPECT_EQ(s.note, "") << c.given;
    EXPECT_EQ(s.given, c.given);
  }
  // Another suite's name for the same task runs ours, and says so.
  const TaskSelection other = One("leaderboard|arc:easy|5|0");
  EXPECT_EQ(other.task, "arc_easy");
  EXPECT_NE(other.note.find("not leaderboard's prompt"), std::string::npos) << other.note;
  // lighteval's bare task part.
  EXPECT_EQ(One("arc:challenge").task, "arc_challenge");
}

TEST(TaskNamesTest, LmEvalNames) {
  for (const char* n : {"arc_easy", "arc_challenge", "hellaswag", "piqa", "openbookqa", "winogrande", "triviaqa", "mmlu"}) {
    EXPECT_EQ(One(n).task, n);
  }
  const TaskSelection s = One("mmlu_high_school_mathematics");
  EXPECT_EQ(s.task, "mmlu:high_school_mathematics");
  EXPECT_NE(s.note.find("not lm-eval's"), std::string::npos) << s.note;
}

TEST(TaskNamesTest, UnknownAndMalformedNamesSayWhatWasExpected) {
  EXPECT_NE(ErrorOf({"arc_esay"}).find("did you mean arc_easy?"), std::string::npos);
  EXPECT_NE(ErrorOf({"hellaswg"}).find("did you mean hellaswag?"), std::string::npos);
  EXPECT_NE(ErrorOf({"lighteval|arc:esay|5|0"}).find("did you mean"), std::string::npos);
  EXPECT_NE(ErrorOf({"helm|mmlu|5|0"}).find("unknown lighteval suite 'helm'"), std::string::npos);
  EXPECT_NE(ErrorOf({"lighteval|arc:easy|five|0"}).find("few-shot count 'five'"), std::string::npos);
  EXPECT_NE(ErrorOf({"lighteval|arc:easy|5|1"}).find("truncate_few_shots must be 0"), std::string::npos);
  EXPECT_NE(ErrorOf({"lighteval|arc:easy"}).find("suite|task|k|truncate_few_shots"), std::string::npos);
  EXPECT_NE(ErrorOf({"mmlu:anatomyy"}).find("did you mean anatomy?"), std::string::npos);
  EXPECT_NE(ErrorOf({"lighteval|arc:easy|5|0", "lighteval|arc:easy|25|0"}).find("different few-shot counts"),
            std::string::npos);
}

TEST(TaskNamesTest, ListingShowsEverySpelling) {
  const std::string text = TaskNamesListing();
  for (const char* s : {"lighteval|arc:easy|5|0", "leaderboard|arc:challenge|5|0", "leaderboard|hellaswag|5|0",
                        "original|mmlu|5|0", "lighteval|triviaqa|5|0", "mmlu_<subject>", "abstract_algebra",
                        "high_school_mathematics", "groups:"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  }
}

}  // namespace
}  // namespace doge::tasks
