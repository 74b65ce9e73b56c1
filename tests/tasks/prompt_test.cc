// Rendered requests checked against strings written out by hand from the protocol
// (eval-protocol.md §3), on the bundled real samples (tests/data/datasets-canonical, see its
// README for attribution) and on a few hand-written rows for the corner cases. The exhaustive
// cross-check against an independent Python model of lighteval is in cli_test.cc.
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "tasks/prompt.h"
#include "tasks/requests.h"
#include "tasks/spec.h"

namespace doge::tasks {
namespace {

const std::string kData = std::string(DOGE_TEST_DATA) + "/datasets-canonical";

PreparedTask Prepare(const std::string& task, const std::string& protocol, int k, const std::string& dir = kData,
                     const std::string& subject = "") {
  PrepareOptions o;
  o.data_dir = dir;
  o.num_fewshot = k;
  o.subject = subject;
  return PrepareTask(FindTaskSpec(task, protocol), o);
}

// By value: callers bind it to a reference while the PreparedTask is a temporary.
EvalDoc Doc0(const PreparedTask& t, size_t i = 0) { return t.units.at(0).docs.at(i); }

// A scratch canonical data dir with hand-written rows.
class ScratchData {
 public:
  ScratchData() {
    dir_ = std::filesystem::temp_directory_path() / ("doge_prompt_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  ~ScratchData() { std::filesystem::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  std::string dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

TEST(PromptTest, ArcZeroShotBothProtocols) {
  for (const char* p : {"card-a", "card-b"}) {
    const EvalDoc& d = Doc0(Prepare("arc_easy", p, 0));
    EXPECT_EQ(d.context,
              "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:");
    EXPECT_EQ(d.doc.choices, (std::vector<std::string>{
                                 " Sunlight is the source of energy for nearly all ecosystems.",
                                 " Most ecosystems are found on land instead of in water.",
                                 " Carbon dioxide is more available than other gases.",
                                 " The producers in all ecosystems are plants."}));
    EXPECT_EQ(d.doc.gold_index, 0);
    EXPECT_TRUE(d.fewshot_indices.empty());
  }
  const EvalDoc& c = Doc0(Prepare("arc_challenge", "card-a", 0));
  EXPECT_EQ(c.doc.gold_index, 2);  // answerKey "C"
}

TEST(PromptTest, ArcNumericLabelsPickTheGoldByLabel) {
  ScratchData s;
  s.Write("arc_challenge/test.jsonl",
          R"({"id":"x","question":"Which is a gas?","choices":{"text":["ice","steam","rock","wood"],"label":["1","2","3","4"]},"answerKey":"2"})"
          "\n");
  s.Write("arc_challenge/train.jsonl",
          R"({"id":"t1","question":"What melts ice?","choices":{"text":["heat","cold"],"label":["1","2"]},"answerKey":"1"})"
          "\n"
          R"({"id":"t2","question":"Which is wet?","choices":{"text":["sand","water","salt"],"label":["A","B","C"]},"answerKey":"B"})"
          "\n");
  // k = 2 from a pool of 2: random_sampling_from_train draws both, in the order of the seed-42
  // stream (shuffle of 1 doc draws nothing; sample(2 of 2) -> randbelow(2), randbelow(1)).
  const PreparedTask t = Prepare("arc_challenge", "card-a", 2, s.dir());
  const EvalDoc& d = Doc0(t);
  EXPECT_EQ(d.doc.gold_index, 1);
  EXPECT_EQ(d.doc.choices, (std::vector<std::string>{" ice", " steam", " rock", " wood"}));
  ASSERT_EQ(d.fewshot_indices.size(), 2u);
  const std::string shot0 = "Question: What melts ice?\nAnswer: heat";
  const std::string shot1 = "Question: Which is wet?\nAnswer: water";
  const std::string q = "Question: Which is a gas?\nAnswer:";
  EXPECT_EQ(d.context, d.fewshot_indices[0] == 0 ? shot0 + "\n\n" + shot1 + "\n\n" + q
                                                 : shot1 + "\n\n" + shot0 + "\n\n" + q);
  s.Write("arc_challenge/test.jsonl",
          R"({"id":"x","question":"Q","choices":{"text":["a","b"],"label":["1","2"]},"answerKey":"5"})" "\n");
  EXPECT_THROW(Prepare("arc_challenge", "card-a", 0, s.dir()), Error);
}

TEST(PromptTest, MmluCardAZeroShotHasTwoSpacesAndLetterChoices) {
  const PreparedTask t = Prepare("mmlu", "card-a", 0);
  ASSERT_EQ(t.units.size(), 3u);  // the three bundled subjects, one lighteval task each
  EXPECT_EQ(t.units[0].name, "mmlu:anatomy");
  const EvalDoc& d = Doc0(t);
  EXPECT_EQ(d.subtask, "mmlu:anatomy");
  EXPECT_EQ(d.context,
            "The following are multiple choice questions (with answers) about  anatomy.\n\n"
            "A lesion causing compression of the facial nerve at the stylomastoid foramen will cause ipsilateral\n"
            "A. paralysis of the facial muscles.\n"
            "B. paralysis of the facial muscles and loss of taste.\n"
            "C. paralysis of the facial muscles, loss of taste and lacrimation.\n"
            "D. paralysis of the facial muscles, loss of taste, lacrimation and decreased salivation.\n"
            "Answer:");
  EXPECT_EQ(d.doc.choices, (std::vector<std::string>{"A", "B", "C", "D"}));
  EXPECT_EQ(d.doc.gold_index, 0);
  EXPECT_EQ(t.units[1].name, "mmlu:high_school_mathematics");
  EXPECT_NE(t.units[1].docs[0].context.find("about  high school mathematics.\n\n"), std::string::npos);
}

TEST(PromptTest, MmluCardAFiveShotIsTheDevSplitInOrderWithSpacedLetters) {
  const EvalDoc& d = Doc0(Prepare("mmlu", "card-a", 5, kData, "anatomy"));
  EXPECT_EQ(d.fewshot_indices, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(d.context,
            "The following are multiple choice questions (with answers) about  anatomy.\n\n"
            "What is the embryological origin of the hyoid bone?\n"
            "A. The first pharyngeal arch\nB. The first and second pharyngeal arches\n"
            "C. The second pharyngeal arch\nD. The second and third pharyngeal arches\nAnswer: D\n\n"
            "Which of these branches of the trigeminal nerve contain somatic motor processes?\n"
            "A. The supraorbital nerve\nB. The infraorbital nerve\nC. The mental nerve\nD. None of the above\n"
            "Answer: D\n\n"
            "The pleura\nA. have no sensory innervation.\nB. are separated by a 2 mm space.\n"
            "C. extend into the neck.\nD. are composed of respiratory epithelium.\nAnswer: C\n\n"
            "In Angle's Class II Div 2 occlusion there is\nA. excess overbite of the upper lateral incisors.\n"
            "B. negative overjet of the upper central incisors.\nC. excess overjet of the upper lateral incisors.\n"
            "D. excess overjet of the upper central incisors.\nAnswer: C\n\n"
            "Which of the following is the body cavity that contains the pituitary gland?\n"
            "A. Abdominal\nB. Cranial\nC. Pleural\nD. Spinal\nAnswer: B\n\n"
            "A lesion causing compression of the facial nerve at the stylomastoid foramen will cause ipsilateral\n"
            "A. paralysis of the facial muscles.\nB. paralysis of the facial muscles and loss of taste.\n"
            "C. paralysis of the facial muscles, loss of taste and lacrimation.\n"
            "D. paralysis of the facial muscles, loss of taste, lacrimation and decreased salivation.\nAnswer:");
}

TEST(PromptTest, MmluCardBIsClozeWithTheCurrentSubjectsInstruction) {
  const PreparedTask t = Prepare("mmlu", "card-b", 0);
  ASSERT_EQ(t.units.size(), 1u);  // one task over `all`
  EXPECT_EQ(t.units[0].docs.size(), 30u);
  const EvalDoc& d = Doc0(t);
  EXPECT_EQ(d.context,
            "The following are questions about anatomy.\n"
            "Question: A lesion causing compression of the facial nerve at the stylomastoid foramen will cause ipsilateral\n"
            "Answer:");
  EXPECT_EQ(d.doc.choices[3], " paralysis of the facial muscles, loss of taste, lacrimation and decreased salivation.");
  // 5-shot: the instruction appears once, from the evaluated doc's subject; shots are from the
  // test split itself ("Question: ..\nAnswer: <gold text>") and never the evaluated doc.
  const PreparedTask t5 = Prepare("mmlu", "card-b", 5);
  for (const EvalDoc& e : t5.units[0].docs) {
    const std::string subj = e.subtask.substr(5);
    std::string words = subj;
    for (char& c : words) c = c == '_' ? ' ' : c;
    EXPECT_EQ(e.context.rfind("The following are questions about " + words + ".\nQuestion: ", 0), 0u);
    EXPECT_EQ(e.context.find("The following are questions", 10), std::string::npos);
    EXPECT_EQ(e.fewshot_indices.size(), 5u);
  }
}

TEST(PromptTest, TriviaqaShotAnswersHaveNoSpaceAndUseTheFirstGold) {
  const PreparedTask t = Prepare("triviaqa", "card-a", 5);
  const EvalDoc& d = Doc0(t);
  // Balanced over five distinct first-gold strings: all five train docs are shots (k+1 = 6 > 5);
  // their order comes from random.seed(0)'s shuffle of the single-member label groups.
  EXPECT_EQ(d.fewshot_indices, (std::vector<int64_t>{0, 1, 2, 4, 3}));
  EXPECT_EQ(d.context,
            "Question: Which American-born Sinclair won the Nobel Prize for Literature in 1930?\nAnswer:harry sinclair lewis\n\n"
            "Question: Where in England was Dame Judi Dench born?\nAnswer:eboracum\n\n"
            "Question: In which decade did Billboard magazine first publish and American hit chart?\nAnswer:1930s\n\n"
            "Question: In which Swiss city is the FIFA headquarters?\nAnswer:zurich\n\n"
            "Question: From which country did Angola achieve independence in 1975?\nAnswer:portugal\n\n"
            "Question: Which Lloyd Webber musical premiered in the US on 10th December 1993?\nAnswer:");
  // Gold list: sorted, "Sunset Blvd." dropped (starts with "Sunset Blvd"), lower-cased,
  // punctuation removed.
  EXPECT_EQ(d.doc.golds, (std::vector<std::string>{"sunset blvd", "sunset boulevard", "sunset bulevard",
                                                   "west sunset boulevard"}));
  const EvalDoc& d0 = Doc0(Prepare("triviaqa", "card-b", 0));
  EXPECT_EQ(d0.context, "Question: Which Lloyd Webber musical premiered in the US on 10th December 1993?\nAnswer:");
}

TEST(PromptTest, TriviaqaGoldList) {
  EXPECT_EQ(TriviaqaGoldList({"Sinclair Lewis", "Harry Sinclair Lewis", "(Harry) Sinclair Lewis"}),
            (std::vector<std::string>{"harry sinclair lewis", "harry sinclair lewis", "sinclair lewis"}));
  EXPECT_EQ(TriviaqaGoldList({"Zürich", "Zurich"}), (std::vector<std::string>{"zurich", "zürich"}));
  EXPECT_EQ(TriviaqaGoldList({"U.S.", "U.S.A.", "US"}), (std::vector<std::string>{"us", "us"}));
}

TEST(PromptTest, HellaswagQueryCapitalisesCtxBAndEndsWithASpace) {
  const EvalDoc& d = Doc0(Prepare("hellaswag", "card-a", 0));
  EXPECT_EQ(d.context, "Roof shingle removal: A man is sitting on a roof. He ");
  EXPECT_EQ(d.doc.choices, (std::vector<std::string>{"is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
                                                     "is holding a rubik's cube.", "starts pulling up roofing on a roof."}));
  EXPECT_EQ(d.doc.gold_index, 3);
  EXPECT_EQ(Doc0(Prepare("hellaswag", "card-b", 0), 1).context,
            "Clean and jerk: A lady walks to a barbell. She bends down and grabs the pole. The lady ");
}

TEST(PromptTest, NonLatinNamesRenderAsLighteval) {
  // Expected strings derived by hand from lighteval 0.7.0's prompt functions with Python's
  // str.capitalize()/str.lower() (full Unicode case mapping):
  //   hellaswag_harness: preprocess(activity_label + ": " + f"{ctx_a} {ctx_b.capitalize()} ")
  //   triviaqa: golds = [a.lower().translate(no punctuation) for a in sorted aliases, prefixes dropped]
  // "ș" (U+0219, Latin Extended-B) capitalizes to "Ș"; the rest of ctx_b is lowered, Greek with a
  // final sigma. "İ" lowers to "i" + U+0307; sorting is by code point (T < İ < Greek < Cyrillic).
  ScratchData s;
  const std::string hs =
      R"({"ind":1,"activity_label":"Gătit românesc","ctx_a":"Ștefan pune oala pe foc.",)"
      R"("ctx_b":"ștefan ÎNCEPE să GĂTEASCĂ ΟΔΥΣΣΕΥΣ","ctx":"x","endings":["ÎI PLACE.","Σ","c","d"],)"
      R"("source_id":"s","split":"val","split_type":"indomain","label":"0"})"
      "\n";
  s.Write("hellaswag/validation.jsonl", hs);
  s.Write("hellaswag/train.jsonl", hs);
  const std::string tq =
      R"({"question":"Which names?","question_id":"q1","answer":{"aliases":["Россия","İstanbul","TIMIȘOARA",)"
      R"("Ελλάδα","ΟΔΥΣΣΕΥΣ"],"normalized_aliases":["россия"],"value":"Россия","normalized_value":"россия"}})"
      "\n";
  s.Write("triviaqa/validation.jsonl", tq);
  s.Write("triviaqa/train.jsonl", tq);
  for (const std::string protocol : {"card-a", "card-b"}) {
    const EvalDoc h = Doc0(Prepare("hellaswag", protocol, 0, s.dir()));
    EXPECT_EQ(h.context, "Gătit românesc: Ștefan pune oala pe foc. Ștefan începe să gătească οδυσσευς ");
    EXPECT_EQ(h.doc.choices, (std::vector<std::string>{"ÎI PLACE.", "Σ", "c", "d"}));
    const EvalDoc t = Doc0(Prepare("triviaqa", protocol, 0, s.dir()));
    EXPECT_EQ(t.context, "Question: Which names?\nAnswer:");
    EXPECT_EQ(t.doc.golds,
              (std::vector<std::string>{"timișoara", "i\u0307stanbul", "ελλάδα", "οδυσσευς", "россия"}));
  }
}

TEST(PromptTest, HellaswagBracketRemoval) {
  // train row 4 of the bundled sample (WikiHow): ctx_b is empty, so the query ends "seeds." + " "
  // + "" + " ", and the double space collapses.
  EXPECT_EQ(HellaswagPreprocess("Food and Entertaining: [header] How to grow cherry tomatoes [title] Obtain seedlings "
                                "or seeds. [step] It is possible to grow cherry tomatoes from seedlings or seeds. "
                                "Growing from seedling will produce cherry tomatoes faster than growing from seeds.  "),
            "Food and Entertaining: How to grow cherry tomatoes. Obtain seedlings or seeds. It is possible to grow "
            "cherry tomatoes from seedlings or seeds. Growing from seedling will produce cherry tomatoes faster than "
            "growing from seeds. ");
  // No space before the leading "[title]": it is removed as a tag, not turned into ". ".
  EXPECT_EQ(HellaswagPreprocess("[title] Choose a spot. [substeps] Dig."), " Choose a spot. Dig.");
  // One left-to-right pass: three spaces become two.
  EXPECT_EQ(HellaswagPreprocess("a   b"), "a  b");
  EXPECT_EQ(HellaswagPreprocess("keep [unclosed\nand] this"), "keep [unclosed\nand] this");
  // The 5-shot query of a validation doc contains the preprocessed WikiHow shots, no tags.
  const PreparedTask t = Prepare("hellaswag", "card-a", 5);
  for (const EvalDoc& e : t.units[0].docs) {
    EXPECT_EQ(e.context.find('['), std::string::npos) << e.context;
    EXPECT_EQ(e.context.find("  "), std::string::npos);
  }
  EXPECT_NE(Doc0(t).context.find("Food and Entertaining: How to grow cherry tomatoes. Obtain seedlings or seeds."),
            std::string::npos);
}

TEST(PromptTest, WinograndeScoresOptionPlusRestAfterThePrefix) {
  const EvalDoc& d = Doc0(Prepare("winogrande", "card-a", 0));
  EXPECT_EQ(d.context, "Sarah was a much better surgeon than Maria so ");
  EXPECT_EQ(d.doc.choices,
            (std::vector<std::string>{"Sarah always got the easier cases.", "Maria always got the easier cases."}));
  EXPECT_EQ(d.doc.gold_index, 1);
}

TEST(PromptTest, WinograndeBlankAtSentenceStart) {
  ScratchData s;
  s.Write("winogrande/validation.jsonl",
          R"({"qID":"q1","sentence":"_ was late because Anna's bus broke down.","option1":"Anna","option2":"Ben","answer":"1"})" "\n");
  const EvalDoc& d0 = Doc0(Prepare("winogrande", "card-a", 0, s.dir()));
  EXPECT_EQ(d0.context, "");  // empty context: lighteval scores the choice after [eos]
  EXPECT_EQ(d0.doc.choices, (std::vector<std::string>{"Anna was late because Anna's bus broke down.",
                                                      "Ben was late because Anna's bus broke down."}));
  EXPECT_EQ(d0.doc.gold_index, 0);
  std::string train;
  const char* names[] = {"Al", "Bo", "Cy", "Di", "Ed", "Fa", "Gu"};
  for (int i = 0; i < 7; ++i) {
    train += std::string(R"({"qID":"t)") + std::to_string(i) + R"(","sentence":"Then _ sang.","option1":")" + names[i] +
             R"(","option2":"Zed","answer":"1"})" "\n";
  }
  s.Write("winogrande/train.jsonl", train);
  const EvalDoc& d5 = Doc0(Prepare("winogrande", "card-a", 5, s.dir()));
  ASSERT_EQ(d5.fewshot_indices.size(), 5u);
  std::string expect;
  for (int64_t i : d5.fewshot_indices) expect += std::string("Then ") + names[i] + " sang.\n\n";
  // The empty query leaves the context ending in "\n\n": the pair rule moves it into the
  // continuation (evaluator_test checks that part).
  EXPECT_EQ(d5.context, expect);
  s.Write("winogrande/validation.jsonl",
          R"({"qID":"q1","sentence":"No blank here.","option1":"A","option2":"B","answer":"1"})" "\n");
  EXPECT_THROW(Prepare("winogrande", "card-a", 0, s.dir()), Error);
}

TEST(PromptTest, PiqaKeepsRawSolutionSpacing) {
  const EvalDoc& d = Doc0(Prepare("piqa", "card-a", 0), 1);
  EXPECT_EQ(d.context, "Question: dresser\nAnswer:");
  EXPECT_EQ(d.doc.choices, (std::vector<std::string>{" replace drawer with bobby pin ", " finish, woodgrain with  bobby pin "}));
  EXPECT_EQ(d.doc.gold_index, 1);
}

TEST(PromptTest, OpenbookqaIsTheBareStem) {
  const EvalDoc& d = Doc0(Prepare("openbookqa", "card-b", 0), 1);
  EXPECT_EQ(d.context, "There is most likely going to be fog around:");
  EXPECT_EQ(d.doc.choices, (std::vector<std::string>{" a marsh", " a tundra", " the plains", " a desert"}));
  EXPECT_EQ(d.doc.gold_index, 0);
}

TEST(PromptTest, BalancedShotsAreTheSameForEveryDoc) {
  for (const char* task : {"piqa", "openbookqa", "triviaqa"}) {
    const PreparedTask t = Prepare(task, "card-a", 5);
    for (const EvalDoc& d : t.units[0].docs) EXPECT_EQ(d.fewshot_indices, Doc0(t).fewshot_indices) << task;
  }
  const PreparedTask arc_b = Prepare("arc_easy", "card-b", 5);
  for (const EvalDoc& d : arc_b.units[0].docs) EXPECT_EQ(d.fewshot_indices, Doc0(arc_b).fewshot_indices);
  // card-a ARC draws per doc.
  const PreparedTask arc_a = Prepare("arc_easy", "card-a", 5);
  EXPECT_NE(Doc0(arc_a, 0).fewshot_indices, Doc0(arc_a, 1).fewshot_indices);
}

TEST(PromptTest, LimitKeepsTheShotsOfAFullRun) {
  PrepareOptions o;
  o.data_dir = kData;
  o.limit = 3;
  const PreparedTask lim = PrepareTask(FindTaskSpec("arc_challenge", "card-a"), o);
  const PreparedTask full = Prepare("arc_challenge", "card-a", 5);
  ASSERT_EQ(lim.units[0].docs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lim.units[0].docs[i].context, full.units[0].docs[i].context);
    EXPECT_EQ(lim.units[0].docs[i].fewshot_indices, full.units[0].docs[i].fewshot_indices);
  }
}

TEST(PromptTest, TemplateErrorsNameTheSpecField) {
  DocFields f;
  f.scalars["question"] = "q";
  f.lists["choices"] = {"a"};
  EXPECT_EQ(RenderTemplate("Q: {{question}} / {{choices[0]}} / {{question|capitalize}}", f, "s.json", "query"),
            "Q: q / a / Q");
  try {
    RenderTemplate("{{questoin}}", f, "s.json", "query");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "s.json");
    EXPECT_EQ(e.field(), "query");
    EXPECT_NE(std::string(e.what()).find("did you mean question"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RenderTemplate("{{choices[3]}}", f, "s.json", "query"), Error);
  EXPECT_THROW(RenderTemplate("{{question", f, "s.json", "query"), Error);
}

TEST(PromptTest, SpecRegistryAndErrors) {
  EXPECT_EQ(AllTaskSpecs().size(), 16u);  // 8 tasks x 2 protocols
  EXPECT_EQ(FindTaskSpec("mmlu", "card-a").sampler, Sampler::kSequential);
  EXPECT_EQ(FindTaskSpec("mmlu", "card-b").aggregation, "micro");
  EXPECT_EQ(FindTaskSpec("arc_easy", "card-b").sampler, Sampler::kBalanced);
  EXPECT_EQ(FindTaskSpec("winogrande", "card-a").sampler, Sampler::kRandomSampling);
  EXPECT_THROW(FindTaskSpec("arc_esay", "card-a"), Error);
  EXPECT_THROW(FindTaskSpec("arc_easy", "card-c"), Error);
  EXPECT_EQ(ExpandTaskList({"card"}).size(), 8u);
  EXPECT_THROW(ParseTaskSpec(R"({"task":"x"})", "x.json"), Error);
  EXPECT_THROW(ParseTaskSpec("{not json", "x.json"), Error);
  try {
    ParseTaskSpec(R"({"task":"x","protocl":"card-a"})", "x.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "protocl");
  }
}

}  // namespace
}  // namespace doge::tasks
