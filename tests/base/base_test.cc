// Tests of the shared helpers: errors, JSON writing, duplicate JSON keys, atomic files, SHA-256.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <filesystem>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_duplicate_keys.h"
#include "engine/base/json_numbers.h"
#include "engine/base/json_writer.h"
#include "engine/base/progress.h"

namespace doge {
namespace {

TEST(ErrorTest, MessageNamesFileAndField) {
  Error e(ErrorKind::kConfig, "m/config.json", "num_key_value_heads", "must divide 8, got 3");
  EXPECT_STREQ(e.what(), "m/config.json: num_key_value_heads: must divide 8, got 3");
  EXPECT_EQ(ExitCodeFor(ErrorKind::kUsage), 2);
  EXPECT_EQ(ExitCodeFor(ErrorKind::kDataset), 3);
  EXPECT_EQ(ExitCodeFor(ErrorKind::kInternal), 1);
  EXPECT_EQ(ExitCodeFor(ErrorKind::kInterrupted), 130);  // 128 + SIGINT, as the shell reports it
}

TEST(ErrorTest, UnknownNameSuggestsClosest) {
  std::string m = UnknownNameMessage("task", "arc_esay", {"arc_easy", "piqa"});
  EXPECT_EQ(m, "unknown task 'arc_esay'; did you mean arc_easy? available: arc_easy, piqa");
  EXPECT_EQ(UnknownNameMessage("task", "zzzzzzzz", {"piqa"}),
            "unknown task 'zzzzzzzz' available: piqa");
}

TEST(ErrorTest, FormatShape) { EXPECT_EQ(FormatShape({1024, 512}), "[1024, 512]"); }

TEST(JsonWriterTest, EscapesAndRoundTripsThroughSimdjson) {
  JsonWriter w;
  w.BeginObject();
  w.Field("text", std::string("a\"b\\c\n\x01 é"));
  w.Key("ids").IntArray(std::vector<int32_t>{0, 5, 7});
  w.Field("x", 0.1);
  w.Field("ok", true);
  w.Key("nothing").Null();
  w.EndObject();
  EXPECT_EQ(w.str(), "{\"text\":\"a\\\"b\\\\c\\n\\u0001 é\",\"ids\":[0,5,7],\"x\":0.1,"
                     "\"ok\":true,\"nothing\":null}");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(w.str());
  EXPECT_EQ(std::string(doc["text"].get_string().value()), "a\"b\\c\n\x01 é");
  EXPECT_EQ(double(doc["x"]), 0.1);
}

TEST(JsonWriterTest, NumbersRoundTripExactly) {
  for (double v : {1.0 / 3.0, -2.5e-300, 123456789.123456789, 0.0}) {
    std::string s;
    AppendJsonNumber(s, v);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
  }
  std::string s;
  AppendJsonNumber(s, 1.0 / 0.0);
  EXPECT_EQ(s, "null");
}

TEST(JsonWriterTest, PrettyNesting) {
  JsonWriter w(true);
  w.BeginObject().Key("a").BeginArray().Int(1).Int(2).EndArray().Key("b").BeginObject().EndObject();
  w.EndObject();
  EXPECT_EQ(w.str(), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}");
}

TEST(FileUtilTest, AtomicWriteAndSha256) {
  auto dir = std::filesystem::temp_directory_path() / ("doge_base_test_" + std::to_string(getpid()));
  std::string path = (dir / "sub" / "f.txt").string();
  WriteFileAtomic(path, "abc");
  EXPECT_EQ(ReadFileToString(path), "abc");
  // FIPS 180-2 test vector.
  EXPECT_EQ(Sha256File(path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  {
    AtomicFileWriter w(path);
    w.Write("partial");
    // destroyed without Commit(): the old contents stay, the temp file is gone
  }
  EXPECT_EQ(ReadFileToString(path), "abc");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "sub"),
                          std::filesystem::directory_iterator()),
            1);
  std::filesystem::remove_all(dir);
}

TEST(FileUtilTest, MissingFileIsIoError) {
  try {
    ReadFileToString("/nonexistent/x.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_EQ(e.file(), "/nonexistent/x.json");
  }
}

TEST(ProgressTest, Formatting) {
  EXPECT_EQ(Progress::FormatBytes(512), "512 B");
  EXPECT_EQ(Progress::FormatBytes(1.5e6), "1.5 MB");
  EXPECT_EQ(Progress::FormatDuration(7), "0:07");
  EXPECT_EQ(Progress::FormatDuration(3723), "1:02:03");
}

}  // namespace
}  // namespace doge

#include "engine/base/fingerprint.h"

namespace doge {
namespace {
TEST(FingerprintTest, ReadsThisMachine) {
  const MachineFingerprint& f = GetMachineFingerprint();
  EXPECT_FALSE(f.cpu_model.empty());
  EXPECT_GE(f.n_cores, 1);
  EXPECT_GT(f.memory_bytes, 0);
  EXPECT_FALSE(f.compiler.empty());
  EXPECT_TRUE(FingerprintDifferences(f, f).empty());
  MachineFingerprint g = f;
  g.cpu_model = "Other CPU";
  g.hostname = "elsewhere";  // not a difference that matters
  auto d = FingerprintDifferences(f, g);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0], "cpu_model: '" + f.cpu_model + "' vs 'Other CPU'");
}
// Issue 15: numbers simdjson cannot hold (beyond 64-bit integers or double range) no longer make
// a whole file "not valid JSON"; strings are never touched.
TEST(JsonNumbersTest, RewritesOnlyUnrepresentableLiterals) {
  EXPECT_EQ(RewriteUnrepresentableNumbers(
                R"({"a": 1000000000000000019884624838656, "s": "99999999999999999999999",)"
                R"( "b": 1e400, "c": -99999999999999999999, "d": [5, -3, 18446744073709551615],)"
                R"( "e": 1.5e-3, "q\"1e999": 0})"),
            R"({"a": 1000000000000000019884624838656.0, "s": "99999999999999999999999",)"
            R"( "b": "number beyond double range: 1e400", "c": -99999999999999999999.0, "d": [5, -3, 18446744073709551615],)"
            R"( "e": 1.5e-3, "q\"1e999": 0})");
  // Nothing to rewrite: empty result (no retry).
  EXPECT_EQ(RewriteUnrepresentableNumbers(R"({"a": 1, "b": "1e999", "c": -2.5E+10})"), "");
}

TEST(JsonNumbersTest, TolerantParseReadsWhatTheStrictParseRefuses) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const std::string text = R"({"model_max_length": 1000000000000000019884624838656, "x": 1e400, "k": 7})";
  ASSERT_NE(parser.parse(text).get(root), simdjson::SUCCESS);  // the strict parse
  ASSERT_EQ(ParseJsonTolerant(parser, text, &root), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(double(root["model_max_length"]), 1e30);
  EXPECT_EQ(std::string_view(root["x"]), "number beyond double range: 1e400");
  EXPECT_EQ(int64_t(root["k"]), 7);
  // Truly broken JSON stays an error.
  EXPECT_NE(ParseJsonTolerant(parser, R"({"a": 12-3})", &root), simdjson::SUCCESS);
  EXPECT_NE(ParseJsonTolerant(parser, R"({"a": 1e400)", &root), simdjson::SUCCESS);
}

// The path of the conflicting duplicate in `text`, or "" when it has none.
std::string DuplicatePath(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(text).get(root), simdjson::SUCCESS) << text;
  auto d = FindConflictingDuplicateKey(root);
  return d ? d->path : "";
}

TEST(JsonDuplicateKeysTest, DifferentValuesNameTheKeyPath) {
  EXPECT_EQ(DuplicatePath(R"({"vocab_size": 512, "hidden_size": 8, "vocab_size": 513})"), "vocab_size");
  EXPECT_EQ(DuplicatePath(R"({"added_tokens": [{"id": 0, "content": "<s>"}, {"id": 1},)"
                          R"( {"id": 2}, {"content": "a", "id": 3, "content": "b"}]})"),
            "added_tokens[3].content");
  EXPECT_EQ(DuplicatePath(R"({"model": {"vocab": {"a": 0, "b": 1, "a": 2}}})"), "model.vocab.a");
  EXPECT_EQ(DuplicatePath(R"([[1], [2, {"x": {"y": true, "y": false}}]])"), "[1][1].x.y");
  // Type differences count: 1 vs "1", null vs 0, [] vs {}.
  EXPECT_EQ(DuplicatePath(R"({"a": 1, "a": "1"})"), "a");
  EXPECT_EQ(DuplicatePath(R"({"a": null, "a": 0})"), "a");
  EXPECT_EQ(DuplicatePath(R"({"a": [], "a": {}})"), "a");
  EXPECT_EQ(DuplicatePath(R"({"a": [1, 2], "a": [2, 1]})"), "a");
  EXPECT_EQ(DuplicatePath(R"({"a": {"x": 1}, "a": {"x": 1, "y": 2}})"), "a");
  // Keys that would make a dotted path ambiguous are quoted.
  EXPECT_EQ(DuplicatePath(R"({"w": {"layers.0.weight": 1, "layers.0.weight": 2}})"),
            R"(w["layers.0.weight"])");
  EXPECT_EQ(DuplicatePath(R"({"q\"k": 1, "q\"k": 2})"), R"(["q\"k"])");
  // The first conflict in document order is the one reported.
  EXPECT_EQ(DuplicatePath(R"({"a": {"z": 1, "z": 2}, "b": 1, "b": 2})"), "a.z");
}

TEST(JsonDuplicateKeysTest, IdenticalDuplicatesAndDistinctKeysAreAccepted) {
  EXPECT_EQ(DuplicatePath(R"({"a": 1, "b": 2, "c": {"a": 3}, "d": [{"a": 4}, {"a": 5}]})"), "");
  EXPECT_EQ(DuplicatePath(R"({"a": 1, "a": 1, "s": "x", "s": "x", "n": null, "n": null})"), "");
  // Numbers compare by value (Python's json reads 1 and 1.0 as equal); objects ignore order.
  EXPECT_EQ(DuplicatePath(R"({"a": 1, "a": 1.0, "e": 1e2, "e": 100})"), "");
  EXPECT_EQ(DuplicatePath(R"({"o": {"x": 1, "y": [2]}, "o": {"y": [2], "x": 1}})"), "");
  // Case matters; an escape spelling the same text ("\u0061" is "a") does not hide a duplicate.
  EXPECT_EQ(DuplicatePath(R"({"A": 1, "a": 2})"), "");
  EXPECT_EQ(DuplicatePath(R"({"\u0061": 1, "a": 2})"), "a");
  EXPECT_EQ(DuplicatePath(R"("just a string")"), "");
  EXPECT_EQ(DuplicatePath("[]"), "");
}

TEST(JsonDuplicateKeysTest, LargeObjectsPastThePairwiseLimit) {
  // 1000 members: past the pairwise limit, as a tokenizer vocab is.
  std::string text = "{";
  for (int i = 0; i < 1000; ++i) text += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ",";
  EXPECT_EQ(DuplicatePath(text + "\"k7\": 7}"), "");           // identical repeat
  EXPECT_EQ(DuplicatePath(text + "\"k999\": 5}"), "k999");     // conflicting repeat, last key
  EXPECT_EQ(DuplicatePath(text + "\"k0\": 0, \"k3\": 4}"), "k3");
}

TEST(JsonDuplicateKeysTest, ErrorNamesFileFieldAndBothValues) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(std::string(R"({"dtype": "F32", "shape": [2], "dtype": "BF16"})")).get(root),
            simdjson::SUCCESS);
  try {
    CheckDuplicateKeys(root, ErrorKind::kFormat, "m/model.safetensors", "header.");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_EQ(e.file(), "m/model.safetensors");
    EXPECT_EQ(e.field(), "header.dtype");
    EXPECT_NE(e.message().find(R"("F32", then "BF16")"), std::string::npos) << e.message();
  }
  // Long values are cut so the message stays one line.
  ASSERT_EQ(parser.parse(R"({"a": ")" + std::string(500, 'x') + R"(", "a": 1})").get(root),
            simdjson::SUCCESS);
  auto d = FindConflictingDuplicateKey(root);
  ASSERT_TRUE(d.has_value());
  EXPECT_LT(d->first.size(), 70u);
  EXPECT_EQ(d->second, "1");
  EXPECT_NO_THROW(CheckDuplicateKeys(root["a"], ErrorKind::kFormat, "f"));
}

}  // namespace
}  // namespace doge
