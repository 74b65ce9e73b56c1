// `doge report card`: the markdown table from checked-in results.json samples against expected
// text written by hand (tests/data/reports/card/expected-card.md), the published numbers against
// the card's table, and clear errors for malformed or mismatched inputs.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/base/error.h"
#include "reports/src/card.h"
#include "tests/reports/report_test_util.h"

namespace doge::reports {
namespace {

using testing::ReplaceAll;
using testing::ReportsData;
using testing::Slurp;
using testing::Spit;
using testing::TempDir;

std::string CardFile(const std::string& name) { return ReportsData() + "/card/" + name; }

CardOptions FullOptions() {
  CardOptions o;
  o.results_files = {CardFile("doge-20m.json"), CardFile("doge-160m.json"), CardFile("tiny.json")};
  o.bench_files = {CardFile("bench-e2e.json")};
  return o;
}

// Expects BuildModelCard to throw an Error whose text contains every needle.
void ExpectCardError(const CardOptions& o, const std::vector<std::string>& needles) {
  try {
    BuildModelCard(o);
    ADD_FAILURE() << "no error; expected one containing " << needles.front();
  } catch (const Error& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
        << "message: " << e.what() << "\nmissing: " << n;
  }
}

TEST(CardTest, MarkdownMatchesHandWrittenExpectation) {
  ModelCard card = BuildModelCard(FullOptions());
  std::string md = testing::Relativize(RenderCardMarkdown(card));
  EXPECT_EQ(md, Slurp(CardFile("expected-card.md")));
}

TEST(CardTest, PublishedNumbersAreTheCardTable) {
  // eval-protocol.md §0 / small-doge README @ f1468ea, typed in here independently of the JSON.
  const std::map<std::string, std::vector<std::string>> expected = {
      {"Doge-20M", {"25.4", "0.03", "29.8", "58.4", "27.3", "25.6", "50.2", "142"}},
      {"Doge-60M", {"26.4", "0.2", "37.9", "61.4", "31.5", "28.0", "50.8", "62"}},
      {"Doge-160M", {"29.2", "4.8", "44.4", "70.1", "43.4", "34.4", "52.2", "28"}},
      {"Doge-320M", {"33.8", "9.4", "52.1", "73.9", "52.7", "37.9", "55.0", "16"}},
  };
  const std::map<std::string, std::string> protocol = {
      {"Doge-20M", "card-a"}, {"Doge-60M", "card-a"}, {"Doge-160M", "card-b"},
      {"Doge-320M", "card-b"}};
  PublishedCard builtin = LoadPublishedCard("");
  PublishedCard on_disk =
      LoadPublishedCard(std::string(DOGE_SOURCE_DIR) + "/reports/published/doge-model-card.json");
  ASSERT_EQ(builtin.rows.size(), 4u);
  ASSERT_EQ(on_disk.rows.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const PublishedRow& row = builtin.rows[i];
    ASSERT_TRUE(expected.count(row.model)) << row.model;
    const auto& want = expected.at(row.model);
    for (size_t c = 0; c < CardColumns().size(); ++c) {
      EXPECT_EQ(row.values.at(CardColumns()[c]), want[c]) << row.model << " " << CardColumns()[c];
    }
    EXPECT_EQ(row.tokens_per_s, want[7]);
    EXPECT_EQ(row.protocol, protocol.at(row.model));
    // The compiled-in copy is the file in reports/published (CMake regenerates it).
    EXPECT_EQ(on_disk.rows[i].values, row.values);
  }
  EXPECT_NE(builtin.source_url.find(builtin.source_commit), std::string::npos);
}

TEST(CardTest, JsonCarriesSchemaFingerprintAndCells) {
  ModelCard card = BuildModelCard(FullOptions());
  std::string json = RenderCardJson(card);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(std::string(doc["schema"].get_string().value()), "doge.report.card/1");
  EXPECT_TRUE(doc["fingerprint"]["cpu_model"].is_string());
  simdjson::dom::element piqa = doc["rows"].at(0)["cells"]["PIQA"];
  EXPECT_EQ(std::string(piqa["ours_text"].get_string().value()), "61.5");
  EXPECT_EQ(std::string(piqa["card_text"].get_string().value()), "58.4");
  EXPECT_TRUE(piqa["flagged"].get_bool().value());
  EXPECT_NEAR(piqa["delta_percent"].get_double().value(), 3.1, 1e-12);
  EXPECT_NEAR(doc["rows"].at(0)["tokens_per_s"]["value"].get_double().value(), 153.46, 1e-12);
  EXPECT_TRUE(doc["rows"].at(2)["published_row"].is_null());
}

TEST(CardTest, WrongSchemaNamesFileAndField) {
  TempDir dir;
  std::string text = Slurp(CardFile("doge-20m.json"));
  Spit(dir.File("v2.json"), ReplaceAll(text, "\"doge.results/1\"", "\"doge.results/2\""));
  CardOptions o;
  o.results_files = {dir.File("v2.json")};
  ExpectCardError(o, {dir.File("v2.json"), "schema", "unsupported schema version 'doge.results/2'",
                      "doge.results/1"});
  // Another kind of file: a bench row array, and an object with another schema.
  o.results_files = {CardFile("bench-e2e.json")};
  ExpectCardError(o, {"bench-e2e.json", "expected a results.json object, found array"});
  Spit(dir.File("other.json"), ReplaceAll(text, "\"doge.results/1\"", "\"doge.bench.eval/1\""));
  o.results_files = {dir.File("other.json")};
  ExpectCardError(o, {"schema", "expected a 'doge.results/1' file, found schema 'doge.bench.eval/1'"});
  // And a bench file of the wrong kind for --bench.
  o.results_files = {CardFile("doge-20m.json")};
  o.bench_files = {CardFile("doge-160m.json")};
  ExpectCardError(o, {"doge-160m.json", "expected a JSON array of doge bench rows"});
}

TEST(CardTest, KeyGivenTwiceWithDifferentValuesNamesFileAndPath) {
  TempDir dir;
  const std::string results = Slurp(CardFile("doge-20m.json"));
  const std::string bench = Slurp(CardFile("bench-e2e.json"));
  struct Case {
    std::string file, from, to, path;
  };
  const Case cases[] = {
      {"doge-20m.json", "\"acc\": 0.2543,", "\"acc\": 0.2543, \"acc\": 0.3,", "tasks.mmlu.metrics.acc"},
      {"doge-20m.json", "\"protocol\": \"card-a\",", "\"protocol\": \"card-a\", \"protocol\": \"card-b\",",
       "protocol"},
      {"bench-e2e.json", "\"avg_ts\": 450.0", "\"avg_ts\": 450.0, \"avg_ts\": 500.0", "[0].avg_ts"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.to);
    std::string edited = c.file == "bench-e2e.json" ? bench : results;
    ASSERT_NE(edited.find(c.from), std::string::npos);
    edited.replace(edited.find(c.from), c.from.size(), c.to);
    const std::string bad = dir.File("dup-" + c.file);
    Spit(bad, edited);
    auto r = c.file == "bench-e2e.json"
                 ? testing::RunDoge("report card " + CardFile("doge-20m.json") + " --bench " + bad)
                 : testing::RunDoge("report card " + bad);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find(bad + ": " + c.path + ": appears twice in one object with different values"),
              std::string::npos)
        << r.err;
  }
  // The same value repeated is accepted.
  std::string same = results;
  same.replace(same.find("\"acc\": 0.2543,"), 14, "\"acc\": 0.2543, \"acc\": 0.2543,");
  Spit(dir.File("same.json"), same);
  auto r = testing::RunDoge("report card " + dir.File("same.json"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("25.4"), std::string::npos) << r.out;
}

TEST(CardTest, MissingTaskIsAnErrorUnlessAllowed) {
  TempDir dir;
  std::string text = Slurp(CardFile("doge-20m.json"));
  // Rename the task so the card's PIQA column has no input.
  Spit(dir.File("Doge-20M.json"), ReplaceAll(text, "\"piqa\":", "\"piqa_x\":"));
  CardOptions o;
  o.results_files = {dir.File("Doge-20M.json")};
  ExpectCardError(o, {dir.File("Doge-20M.json"), "tasks", "task piqa missing",
                      "PIQA column", "--allow-missing"});
  o.allow_missing = true;
  ModelCard card = BuildModelCard(o);
  ASSERT_EQ(card.rows.size(), 1u);
  EXPECT_FALSE(card.rows[0].cells[3].present);
  ASSERT_EQ(card.warnings.size(), 1u);
  EXPECT_NE(card.warnings[0].find("piqa missing"), std::string::npos);
  std::string md = RenderCardMarkdown(card);
  EXPECT_NE(md.find("| Doge-20M | ours | 25.4 | 0.03 | 29.8 | \xE2\x80\x94 | 27.3 |"),
            std::string::npos)
      << md;
  // ARC needs both halves.
  Spit(dir.File("arc.json"), ReplaceAll(text, "\"arc_challenge\":", "\"arc_c\":"));
  o.results_files = {dir.File("arc.json")};
  o.allow_missing = false;
  ExpectCardError(o, {"task arc_challenge missing (needed for the ARC column)"});
}

TEST(CardTest, MissingMetricOrStderrOrBadFractionIsAnError) {
  TempDir dir;
  std::string text = Slurp(CardFile("doge-20m.json"));
  Spit(dir.File("a.json"), ReplaceAll(text, "\"qem\": 0.0003", "\"em\": 0.0003"));
  CardOptions o;
  o.results_files = {dir.File("a.json")};
  ExpectCardError(o, {"tasks.triviaqa.metrics.qem", "missing"});
  Spit(dir.File("b.json"), ReplaceAll(text, "\"acc\": 0.5075", "\"acc\": 50.75"));
  o.results_files = {dir.File("b.json")};
  ExpectCardError(o, {"tasks.winogrande.metrics.acc", "expected a fraction in [0, 1]"});
  Spit(dir.File("c.json"), ReplaceAll(text, "\"qem\": 0.00013", "\"em\": 0.00013"));
  o.results_files = {dir.File("c.json")};
  ExpectCardError(o, {"tasks.triviaqa.stderr.qem", "missing"});
  Spit(dir.File("d.json"), ReplaceAll(text, "\"protocol\": \"card-a\",\n      \"version\"",
                                      "\"protocol\": \"card-z\",\n      \"version\""));
  o.results_files = {dir.File("d.json")};
  ExpectCardError(o, {"tasks.mmlu.protocol", "unknown protocol 'card-z'"});
  Spit(dir.File("e.json"), "{\"schema\": \"doge.results/1\", \"tasks\": ");
  o.results_files = {dir.File("e.json")};
  ExpectCardError(o, {dir.File("e.json"), "not valid JSON"});
  o.results_files = {dir.File("does-not-exist.json")};
  ExpectCardError(o, {"does-not-exist.json"});
}

TEST(CardTest, UnknownStandardErrorPrintsNaAndNeverFlags) {
  // JsonWriter writes a NaN stderr (one document) as null.
  TempDir dir;
  std::string text = Slurp(CardFile("doge-20m.json"));
  text = ReplaceAll(text, "\"acc_norm\": 0.0113", "\"acc_norm\": null");
  Spit(dir.File("Doge-20M.json"), text);
  CardOptions o;
  o.results_files = {dir.File("Doge-20M.json")};
  ModelCard card = BuildModelCard(o);
  EXPECT_FALSE(card.rows[0].cells[3].flagged);  // PIQA, flagged when se was 1.13
  EXPECT_NE(RenderCardMarkdown(card).find("| +3.1 \xC2\xB1 n/a |"), std::string::npos);
}

TEST(CardTest, SameModelTwiceIsAnError) {
  CardOptions o;
  o.results_files = {CardFile("doge-20m.json"), CardFile("doge-20m.json")};
  ExpectCardError(o, {"model.name", "model 'Doge-20M' is already in this card"});
  // Same weights under another folder name.
  TempDir dir;
  std::string text = Slurp(CardFile("doge-20m.json"));
  Spit(dir.File("copy.json"), ReplaceAll(text, "\"name\": \"Doge-20M\"", "\"name\": \"copy\""));
  o.results_files = {CardFile("doge-20m.json"), dir.File("copy.json")};
  ExpectCardError(o, {"model.sha256.model.safetensors", "same weights as"});
}

TEST(CardTest, PublishedRowOverrideAndMatching) {
  CardOptions o;
  o.results_files = {CardFile("tiny.json")};
  o.published_rows = {"doge-20m"};  // case-insensitive, as folder names are
  ModelCard card = BuildModelCard(o);
  ASSERT_TRUE(card.rows[0].published.has_value());
  EXPECT_EQ(card.rows[0].published->model, "Doge-20M");
  EXPECT_EQ(card.rows[0].cells[0].delta.Format(1, true), "-0.4");  // 25.0 - 25.4
  o.published_rows = {"Doge-21M"};
  ExpectCardError(o, {"--published-row", "unknown published row 'Doge-21M'; did you mean Doge-20M"});
  o.results_files = {CardFile("tiny.json"), CardFile("doge-20m.json")};
  o.published_rows = {"Doge-60M"};
  ExpectCardError(o, {"needs exactly one results file"});
  o.published_rows = {"tiny-random=Doge-60M"};
  card = BuildModelCard(o);
  EXPECT_EQ(card.rows[0].published->model, "Doge-60M");
  EXPECT_EQ(card.rows[1].published->model, "Doge-20M");
  o.published_rows = {"nobody=Doge-60M"};
  ExpectCardError(o, {"no results for model 'nobody'"});
}

TEST(CardTest, ProtocolMismatchWithTheCardRowIsWarned) {
  CardOptions o;
  o.results_files = {CardFile("doge-20m.json")};
  o.published_rows = {"Doge-160M"};
  ModelCard card = BuildModelCard(o);
  ASSERT_EQ(card.warnings.size(), 1u);
  EXPECT_NE(card.warnings[0].find("ran protocol card-a, but the card's Doge-160M row was "
                                  "produced by card-b"),
            std::string::npos);
}

TEST(CardTest, CliWritesTheSameMarkdownAndMapsErrorsToExitCodes) {
  TempDir dir;
  auto r = testing::RunDoge("report card " + CardFile("doge-20m.json") + " " +
                            CardFile("doge-160m.json") + " " + CardFile("tiny.json") +
                            " --bench " + CardFile("bench-e2e.json") + " -o " +
                            dir.File("card.md"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::Relativize(Slurp(dir.File("card.md"))), Slurp(CardFile("expected-card.md")));
  EXPECT_NE(r.err.find("warning: tiny-random: results were run with limit 8"), std::string::npos);
  r = testing::RunDoge("report card " + CardFile("doge-20m.json") + " --format json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"schema\": \"doge.report.card/1\""), std::string::npos) << r.out;
  r = testing::RunDoge("report card " + CardFile("bench-e2e.json"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("doge: error: "), std::string::npos);
  r = testing::RunDoge("report card " + CardFile("doge-20m.json") + " --format pdf");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown format 'pdf'"), std::string::npos) << r.err;
  r = testing::RunDoge("report cards");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean card"), std::string::npos) << r.err;
}

// Issue 19: a bench number out of range (1e13 tokens/s, a negative one, a string, null where
// JsonWriter wrote a NaN) used to reach Decimal::FromDouble and come back as an internal error
// naming neither file nor field. Now a format error (exit 3) naming both, at read time.
TEST(CardTest, OutOfRangeBenchNumbersNameFileAndField) {
  TempDir dir;
  const std::string text = Slurp(CardFile("bench-e2e.json"));
  const std::string bad = dir.File("bench-bad.json");
  struct Case {
    std::string from, to, needle;
  };
  const Case cases[] = {
      {"\"avg_ts\": 450.0", "\"avg_ts\": 1e13", "avg_ts: expected tokens/s in [0, 1e+12], found 1e+13"},
      {"\"avg_ts\": 450.0", "\"avg_ts\": -5", "avg_ts: expected tokens/s in [0, 1e+12], found -5"},
      {"\"avg_ts\": 450.0", "\"avg_ts\": \"fast\"", "avg_ts: expected a number, found string"},
      {"\"avg_ts\": 450.0", "\"avg_ts\": null", "avg_ts: expected a number, found null"},
      // Beyond double range: handed on as a marked string (engine/base/json_numbers.h), named as such.
      {"\"avg_ts\": 450.0", "\"avg_ts\": 1e400",
       "avg_ts: expected a number, found a number beyond double range (1e400)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.to);
    ASSERT_NE(text.find(c.from), std::string::npos);
    std::string edited = text;
    edited.replace(edited.find(c.from), c.from.size(), c.to);
    Spit(bad, edited);
    auto r = testing::RunDoge("report card " + CardFile("doge-20m.json") + " --bench " + bad);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Decimal::"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace doge::reports
