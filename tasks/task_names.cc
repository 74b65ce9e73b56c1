#include "tasks/task_names.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>

#include "engine/base/error.h"
#include "tasks/data/documents.h"
#include "tasks/spec.h"

namespace doge::tasks {

namespace {

// lighteval's suites a task string may name. The card used lighteval/leaderboard/original
// (card-a) and the small-doge custom tasks (card-b); the others are refused rather than guessed.
const std::vector<std::string>& LightevalSuites() {
  static const std::vector<std::string> k = {"lighteval", "leaderboard", "original", "custom"};
  return k;
}

// Our task -> the lighteval task part ("arc:easy"), read from the card-a spec's `lighteval`
// field ("lighteval|arc:easy|5|0 (...)"), and the suites the card's specs name for it.
struct LightevalName {
  std::string task;
  std::set<std::string> card_suites;
};

std::vector<std::string> SplitBar(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    size_t j = s.find('|', i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

const std::map<std::string, LightevalName>& LightevalNames() {
  static const std::map<std::string, LightevalName> k = [] {
    std::map<std::string, LightevalName> m;
    for (const TaskSpec& s : AllTaskSpecs()) {
      const std::string first = s.lighteval.substr(0, s.lighteval.find(' '));
      const std::vector<std::string> parts = SplitBar(first);
      if (parts.size() < 2) continue;
      LightevalName& n = m[s.task];
      n.card_suites.insert(parts[0]);
      if (s.protocol == "card-a") n.task = parts[1];
    }
    return m;
  }();
  return k;
}

bool ParseK(const std::string& text, int* k) {
  if (text.empty() || text.size() > 3 || !std::all_of(text.begin(), text.end(), ::isdigit)) return false;
  *k = std::atoi(text.c_str());
  return true;
}

bool IsMmluSubject(const std::string& s) {
  const auto& subjects = data::MmluSubjects();
  return std::find(subjects.begin(), subjects.end(), s) != subjects.end();
}

// Every top-level spelling, for "did you mean" (MMLU subjects are left out: 57 x 3 names).
std::vector<std::string> KnownSpellings() {
  std::vector<std::string> out = {"card", "arc", "list"};
  for (const std::string& t : CardTaskNames()) {
    out.push_back(t);
    auto it = LightevalNames().find(t);
    if (it == LightevalNames().end()) continue;
    if (it->second.task != t) out.push_back(it->second.task);
    for (const std::string& suite : it->second.card_suites) {
      if (suite != "custom") out.push_back(suite + "|" + it->second.task + "|5|0");
    }
  }
  return out;
}

[[noreturn]] void Unknown(const std::string& name) {
  throw Error(ErrorKind::kUsage, "", "--tasks",
              UnknownNameMessage("task", name, KnownSpellings()) + " (doge eval --tasks list shows every spelling)");
}

// Our name for a lighteval task part ("arc:easy", "mmlu:anatomy") or "" when it is none.
std::string FromLightevalTask(const std::string& t) {
  for (const auto& [ours, n] : LightevalNames()) {
    if (n.task == t) return ours;
  }
  const size_t colon = t.find(':');
  if (colon != std::string::npos && t.substr(0, colon) == "mmlu" && IsMmluSubject(t.substr(colon + 1))) return t;
  return "";
}

// One name -> selection(s). Groups expand to several.
std::vector<TaskSelection> ResolveOne(const std::string& given) {
  std::vector<TaskSelection> out;
  auto one = [&](const std::string& task, int k, const std::string& note) {
    out.push_back(TaskSelection{task, k, given, note});
  };
  // lighteval: suite|task|k|truncate_few_shots (or suite|task|k).
  if (given.find('|') != std::string::npos) {
    const std::vector<std::string> parts = SplitBar(given);
    if (parts.size() != 3 && parts.size() != 4) {
      throw Error(ErrorKind::kUsage, "", "--tasks",
                  "'" + given + "': a lighteval task is suite|task|k|truncate_few_shots, e.g. lighteval|arc:easy|5|0");
    }
    const std::string& suite = parts[0];
    if (std::find(LightevalSuites().begin(), LightevalSuites().end(), suite) == LightevalSuites().end()) {
      throw Error(ErrorKind::kUsage, "", "--tasks",
                  "'" + given + "': " + UnknownNameMessage("lighteval suite", suite, LightevalSuites()));
    }
    int k = -1;
    if (!ParseK(parts[2], &k)) {
      throw Error(ErrorKind::kUsage, "", "--tasks", "'" + given + "': few-shot count '" + parts[2] + "' is not a number");
    }
    if (parts.size() == 4 && parts[3] != "0") {
      throw Error(ErrorKind::kUsage, "", "--tasks",
                  "'" + given + "': truncate_few_shots must be 0 (doge never drops shots to fit the context)");
    }
    const std::string task = FromLightevalTask(parts[1]);
    if (task.empty()) Unknown(given);
    const std::string base = task.substr(0, task.find(':'));
    const LightevalName& n = LightevalNames().at(base);
    std::string note;
    if (!n.card_suites.count(suite)) {
      std::string suites;
      for (const std::string& s : n.card_suites) suites += (suites.empty() ? "" : " or ") + s;
      note = given + " runs as doge's " + task + " (the card's " + suites + " protocol), not " + suite + "'s prompt";
    }
    one(task, k, note);
    return out;
  }
  // Ours, with the groups.
  if (given == "card" || given == "arc") {
    for (const std::string& t : ExpandTaskList({given})) one(t, -1, "");
    return out;
  }
  const std::vector<std::string>& card = CardTaskNames();
  const std::string base = given.substr(0, given.find(':'));
  if (std::find(card.begin(), card.end(), given) != card.end()) {
    one(given, -1, "");
    return out;
  }
  if (base == "mmlu" && given.size() > 5) {
    if (!IsMmluSubject(given.substr(5))) {
      throw Error(ErrorKind::kUsage, "", "--tasks", UnknownNameMessage("MMLU subject", given.substr(5), data::MmluSubjects()));
    }
    one(given, -1, "");
    return out;
  }
  // lighteval's bare task part (arc:easy, arc:challenge).
  if (const std::string t = FromLightevalTask(given); !t.empty()) {
    one(t, -1, "");
    return out;
  }
  // lm-eval: mmlu_<subject> (the card-task names above are lm-eval's too).
  if (given.rfind("mmlu_", 0) == 0 && IsMmluSubject(given.substr(5))) {
    one("mmlu:" + given.substr(5), -1, given + " runs as doge's mmlu:" + given.substr(5) + " (the card's lighteval prompt, not lm-eval's)");
    return out;
  }
  Unknown(given);
}

}  // namespace

std::vector<TaskSelection> ResolveTaskNames(const std::vector<std::string>& given) {
  std::vector<TaskSelection> out;
  for (const std::string& g : given) {
    for (TaskSelection& s : ResolveOne(g)) {
      auto same = std::find_if(out.begin(), out.end(), [&](const TaskSelection& o) { return o.task == s.task; });
      if (same == out.end()) {
        out.push_back(std::move(s));
      } else if (same->num_fewshot != s.num_fewshot) {
        throw Error(ErrorKind::kUsage, "", "--tasks",
                    "'" + same->given + "' and '" + s.given + "' ask for " + s.task + " with different few-shot counts");
      }
    }
  }
  return out;
}

std::string TaskNamesListing() {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-14s %-30s %-22s %s\n", "task", "lighteval (k from the string)", "lm-eval",
                "k (card)");
  out += line;
  for (const std::string& t : CardTaskNames()) {
    const LightevalName& n = LightevalNames().at(t);
    std::string lighteval;
    for (const std::string& suite : n.card_suites) {
      if (suite == "custom") continue;  // card-b's custom tasks: reached through --protocol card-b
      lighteval += (lighteval.empty() ? "" : ", ") + suite + "|" + n.task + "|5|0";
    }
    const std::string lm = t == "mmlu" ? "mmlu, mmlu_<subject>" : t;
    std::snprintf(line, sizeof line, "%-14s %-30s %-22s %d\n", t.c_str(), lighteval.c_str(), lm.c_str(),
                  FindTaskSpec(t, "card-a").num_fewshot);
    out += line;
  }
  out +=
      "\ngroups:   card = mmlu triviaqa arc_easy arc_challenge piqa hellaswag openbookqa winogrande;"
      " arc = arc_easy arc_challenge\n"
      "subjects: mmlu:<subject> (ours), original|mmlu:<subject>|5|0 (lighteval), mmlu_<subject> (lm-eval);\n"
      "          subjects: ";
  size_t col = 20;
  for (size_t i = 0; i < data::MmluSubjects().size(); ++i) {
    const std::string& s = data::MmluSubjects()[i];
    if (col + s.size() + 1 > 100) {
      if (!out.empty() && out.back() == ' ') out.pop_back();
      out += "\n                    ";
      col = 20;
    }
    out += s + (i + 1 < data::MmluSubjects().size() ? " " : "");
    col += s.size() + 1;
  }
  out +=
      "\n\nlighteval suites: lighteval, leaderboard, original, custom; a lighteval string's k overrides the\n"
      "protocol's 5 for that task. Every spelling runs doge's task under the card's protocol (another\n"
      "suite's or lm-eval's name selects the same data, not that tool's prompt; a note says so).\n"
      "example: doge eval --model SmallDoge/Doge-20M --tasks 'lighteval|arc:easy|5|0,leaderboard|hellaswag|5|0'\n";
  return out;
}

}  // namespace doge::tasks
