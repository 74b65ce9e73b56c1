// Doc hooks, template rendering and context assembly; see prompt.h.
#include "tasks/prompt.h"

#include <algorithm>
#include <cctype>

#include "engine/base/error.h"
#include "tasks/text_util.h"

namespace doge::tasks {

const std::string& PromptDoc::Target() const {
  if (!golds.empty()) return golds.front();
  return choices.at(static_cast<size_t>(gold_index));
}

bool PromptDoc::SameDoc(const PromptDoc& o) const {
  return query == o.query && instruction == o.instruction && choices == o.choices &&
         gold_index == o.gold_index && golds == o.golds;
}

std::string RenderTemplate(std::string_view tmpl, const DocFields& f, const std::string& spec_file,
                           const std::string& field, const std::string* item) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find("{{", i);
    if (open == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    out.append(tmpl.substr(i, open - i));
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw Error(ErrorKind::kConfig, spec_file, field, "unterminated '{{' in template");
    }
    // {{name}}, {{name[i]}} or {{name|filter}}: deliberately not Jinja, only what the specs use,
    // so every expression a spec can hold is checked when document 0 is rendered at load.
    std::string expr(tmpl.substr(open + 2, close - open - 2));
    std::string filter;
    if (size_t bar = expr.find('|'); bar != std::string::npos) {
      filter = expr.substr(bar + 1);
      expr = expr.substr(0, bar);
    }
    std::string value;
    if (size_t lb = expr.find('['); lb != std::string::npos) {
      size_t rb = expr.find(']', lb);
      if (rb == std::string::npos || rb != expr.size() - 1) {
        throw Error(ErrorKind::kConfig, spec_file, field, "bad index in '{{" + expr + "}}'");
      }
      const std::string name = expr.substr(0, lb);
      const std::string idx_text = expr.substr(lb + 1, rb - lb - 1);
      if (idx_text.empty() || !std::all_of(idx_text.begin(), idx_text.end(), ::isdigit)) {
        throw Error(ErrorKind::kConfig, spec_file, field, "bad index in '{{" + expr + "}}'");
      }
      auto it = f.lists.find(name);
      if (it == f.lists.end()) {
        throw Error(ErrorKind::kConfig, spec_file, field, "unknown list field '" + name + "'");
      }
      const size_t idx = std::stoul(idx_text);
      // Out of range is the data's fault (a doc with fewer choices than the template names), not
      // the spec's: kDataset, so the error points at the dataset.
      if (idx >= it->second.size()) {
        throw Error(ErrorKind::kDataset, spec_file, field,
                    "'{{" + expr + "}}' out of range: the doc has " +
                        std::to_string(it->second.size()) + " items");
      }
      value = it->second[idx];
    } else if (expr == "item" && item) {
      value = *item;
    } else {
      auto it = f.scalars.find(expr);
      if (it == f.scalars.end()) {
        std::vector<std::string> names;
        for (const auto& [k, v] : f.scalars) names.push_back(k);
        throw Error(ErrorKind::kConfig, spec_file, field, UnknownNameMessage("field", expr, names));
      }
      value = it->second;
    }
    // lighteval's prompt functions call str.capitalize() on some fields (HellaSwag's activity
    // label); Python's rules, not C's toupper, hence PyCapitalize.
    if (filter == "capitalize") {
      value = PyCapitalize(value);
    } else if (!filter.empty()) {
      throw Error(ErrorKind::kConfig, spec_file, field, UnknownNameMessage("filter", filter, {"capitalize"}));
    }
    out += value;
    i = close + 2;
  }
  return out;
}

namespace {

std::string ApplyTransform(const std::string& name, const std::string& text, const TaskSpec& spec,
                           const std::string& field) {
  if (name.empty()) return text;
  if (name == "hellaswag_preprocess") return HellaswagPreprocess(text);
  throw Error(ErrorKind::kConfig, spec.spec_file, field,
              UnknownNameMessage("transform", name, {"hellaswag_preprocess"}));
}

std::vector<std::string> RenderChoices(const TaskSpec& spec, const ChoiceSpec& c, const DocFields& f,
                                       const std::string& field) {
  std::vector<std::string> out;
  if (!c.literal.empty()) {
    out = c.literal;
  } else if (!c.templates.empty()) {
    for (const std::string& t : c.templates) out.push_back(RenderTemplate(t, f, spec.spec_file, field));
  } else {
    auto it = f.lists.find(c.from);
    if (it == f.lists.end()) {
      throw Error(ErrorKind::kConfig, spec.spec_file, field + ".from", "unknown list field '" + c.from + "'");
    }
    for (const std::string& item : it->second) {
      out.push_back(RenderTemplate(c.item_template, f, spec.spec_file, field + ".template", &item));
    }
  }
  for (std::string& s : out) s = ApplyTransform(c.transform, s, spec, field + ".transform");
  return out;
}

}  // namespace

PromptDoc BuildPromptDoc(const TaskSpec& spec, const DocFields& f, bool as_fewshot) {
  PromptDoc d;
  d.instruction = RenderTemplate(spec.instruction, f, spec.spec_file, "instruction");
  // The hook applies to the whole query string the prompt function builds.
  d.query = ApplyTransform(spec.query_transform, RenderTemplate(spec.query, f, spec.spec_file, "query"),
                           spec, "query_transform");
  d.gold_index = f.gold_index;
  // generate_until (TriviaQA) has no choices: the gold list is what the generation is matched
  // against, and the first alias is the shots' target.
  if (spec.output_type == OutputType::kGenerateUntil) {
    auto it = f.lists.find(spec.golds);
    if (it == f.lists.end()) {
      throw Error(ErrorKind::kConfig, spec.spec_file, "golds", "unknown list field '" + spec.golds + "'");
    }
    d.golds = it->second;
    d.gold_index = 0;
    return d;
  }
  // A shot may show its answer differently from how the evaluated doc is scored (card-a MMLU:
  // shots end in " A".." D", the evaluated doc is scored on "A".."D"), so shots can have their
  // own choices.
  const ChoiceSpec& c = as_fewshot && !spec.fewshot_choices.empty() ? spec.fewshot_choices : spec.choices;
  d.choices = RenderChoices(spec, c, f, as_fewshot && !spec.fewshot_choices.empty() ? "fewshot_choices" : "choices");
  if (d.gold_index < 0 || d.gold_index >= static_cast<int>(d.choices.size())) {
    throw Error(ErrorKind::kDataset, spec.spec_file, "gold",
                "gold index " + std::to_string(d.gold_index) + " outside the " +
                    std::to_string(d.choices.size()) + " choices");
  }
  return d;
}

std::string BuildContext(const PromptDoc& doc, const std::vector<const PromptDoc*>& shots) {
  std::string out = doc.instruction;
  for (const PromptDoc* s : shots) {
    out += s->query;
    out += s->Target();
    out += "\n\n";
  }
  out += doc.query;
  // As lighteval's get_examples (prompt.h): a context that is only the separator is empty, and
  // an empty context is scored after [eos] (EncodePair), not after two newlines.
  if (out == "\n\n") return "";
  return out;
}

std::string HellaswagPreprocess(std::string_view text) {
  std::string t = ReplaceAll(text, " [title]", ". ");
  // re.sub("\\[.*?\\]", "", t): '.' does not match a newline, so a tag never spans lines.
  std::string no_tags;
  size_t i = 0;
  while (i < t.size()) {
    if (t[i] == '[') {
      size_t j = i + 1;
      while (j < t.size() && t[j] != ']' && t[j] != '\n') ++j;
      if (j < t.size() && t[j] == ']') {
        i = j + 1;
        continue;
      }
    }
    no_tags.push_back(t[i]);
    ++i;
  }
  return ReplaceAll(no_tags, "  ", " ");
}

std::vector<DocFields> LoadDocFields(const TaskSpec& spec, const std::string& dir,
                                     const std::string& split, const std::string& subject) {
  const data::DatasetAdapter* adapter = data::FindAdapterByDocHook(spec.doc_hook);
  if (!adapter) {
    throw Error(ErrorKind::kConfig, spec.spec_file, "doc_hook",
                UnknownNameMessage("doc hook", spec.doc_hook, data::DocHookNames()));
  }
  return adapter->load_fields(dir, spec.dataset, split, subject);
}

}  // namespace doge::tasks
