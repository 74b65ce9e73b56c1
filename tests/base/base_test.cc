// Tests of the shared helpers: errors, JSON writing, atomic files, SHA-256.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <filesystem>

#include "engine/error.h"
#include "engine/file_util.h"
#include "engine/json_numbers.h"
#include "engine/json_writer.h"
#include "engine/progress.h"

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

#include "engine/fingerprint.h"

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

}  // namespace
}  // namespace doge
