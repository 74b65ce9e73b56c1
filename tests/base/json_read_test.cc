// The JSON reading layer (engine/base/json_read.h): every error names the file, the line of a
// JSONL row, the field path, what was expected and what was found.
#include "engine/base/json_read.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>

namespace doge {
namespace {

// The Error `fn` throws (a test failure when it throws none).
Error ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::kInternal, "", "", "");
}

constexpr const char* kDoc = R"({"n": 7, "x": 1.5, "s": "fast", "b": true, "z": null,
  "big": 1000000000000000019884624838656, "huge": 1e400,
  "tokens": [{"id": 0, "content": "<s>"}, {"id": "1", "content": 5}], "names": ["a", 3]})";

TEST(JsonReadTest, TypedGettersReadTheValues) {
  auto doc = ParseJsonText("m/config.json", kDoc, ErrorKind::kConfig);
  const JsonNode root = doc->root();
  EXPECT_EQ(root.GetInt("n"), 7);
  EXPECT_EQ(root.Get("x").Number(), 1.5);
  EXPECT_EQ(root.Get("n").Number(), 7.0);
  EXPECT_EQ(root.GetString("s"), "fast");
  EXPECT_TRUE(root.Get("b").Bool());
  EXPECT_TRUE(root.Has("z"));                  // null counts as present
  EXPECT_FALSE(root.FindValue("z").has_value());  // ... but keeps an optional field's default
  EXPECT_FALSE(root.Find("absent").has_value());
  EXPECT_EQ(root.Get("tokens").Size(), 2u);
  EXPECT_EQ(root.GetObjectArray("tokens")[0].GetString("content"), "<s>");
  EXPECT_EQ(root.GetObjectArray("tokens")[1].path(), "tokens[1]");
  EXPECT_EQ(root.Members().size(), 9u);
  EXPECT_EQ(root.Members()[2].first, "s");
}

TEST(JsonReadTest, ErrorsNameFileFieldExpectedAndFound) {
  auto doc = ParseJsonText("m/tokenizer.json", kDoc);
  const JsonNode root = doc->root();
  Error e = ErrorOf([&] { root.GetObjectArray("tokens")[1].GetInt("id"); });
  EXPECT_EQ(e.kind(), ErrorKind::kFormat);
  EXPECT_EQ(e.file(), "m/tokenizer.json");
  EXPECT_EQ(e.field(), "tokens[1].id");
  EXPECT_EQ(e.message(), "expected an integer, found string \"1\"");
  e = ErrorOf([&] { root.GetObjectArray("tokens")[1].GetString("content"); });
  EXPECT_EQ(e.field(), "tokens[1].content");
  EXPECT_EQ(e.message(), "expected a string, found number 5");
  e = ErrorOf([&] { root.GetObjectArray("tokens")[0].Get("special"); });
  EXPECT_EQ(e.field(), "tokens[0].special");
  EXPECT_EQ(e.message(), "missing");
  e = ErrorOf([&] { root.GetStringArray("names"); });
  EXPECT_EQ(e.field(), "names[1]");
  EXPECT_EQ(e.message(), "expected a string, found number 3");
  e = ErrorOf([&] { root.GetInt("x"); });
  EXPECT_EQ(e.message(), "expected an integer, found number 1.5");
  e = ErrorOf([&] { root.Get("z").Bool(); });
  EXPECT_EQ(e.message(), "expected true/false, found null");
  e = ErrorOf([&] { root.GetObject("s"); });
  EXPECT_EQ(e.message(), "expected an object, found string \"fast\"");
  e = ErrorOf([&] { root.Get("n").Items(); });
  EXPECT_EQ(e.message(), "expected an array, found number 7");
  e = ErrorOf([&] { root.Get("s").Find("k"); });
  EXPECT_EQ(e.field(), "s");
  e = ErrorOf([&] { root.FailAt("n", "must be even"); });
  EXPECT_EQ(std::string(e.what()), "m/tokenizer.json: n: must be even");
  // The document itself.
  auto arr = ParseJsonText("f.json", "[1]");
  e = ErrorOf([&] { arr->root().Get("k"); });
  EXPECT_EQ(e.field(), "(top level)");
  EXPECT_EQ(e.message(), "expected an object, found array");
  // A long value is cut so the message stays one line.
  auto lng = ParseJsonText("f.json", "{\"s\": \"" + std::string(500, 'y') + "\"}");
  e = ErrorOf([&] { lng->root().GetInt("s"); });
  EXPECT_LT(e.message().size(), 110u);
}

TEST(JsonReadTest, RangeCheckedNumbers) {
  auto doc = ParseJsonText("r.json", R"({"threads": 0, "k": 5, "rate": -1, "big": 3000000000})");
  const JsonNode root = doc->root();
  EXPECT_EQ(root.Get("k").IntIn(0, 5, "a shot count"), 5);
  Error e = ErrorOf([&] { root.Get("threads").IntIn(1, 1 << 20, "a thread count"); });
  EXPECT_EQ(e.field(), "threads");
  EXPECT_EQ(e.message(), "expected a thread count in [1, 1048576], found 0");
  e = ErrorOf([&] { root.Get("big").IntIn(0, std::numeric_limits<int32_t>::max(), "a token id"); });
  EXPECT_EQ(e.message(), "expected a token id in [0, 2147483647], found 3000000000");
  e = ErrorOf([&] { root.Get("rate").NumberIn(0, 1, "a fraction"); });
  EXPECT_EQ(e.message(), "expected a fraction in [0, 1], found -1");
}

TEST(JsonReadTest, WholeNumbersAcceptIntegralFloats) {
  auto doc = ParseJsonText("c.json", R"({"a": 1024.0, "b": 1024.5, "c": -3, "d": 1e16})");
  const JsonNode root = doc->root();
  EXPECT_EQ(root.Get("a").WholeNumber(), 1024);
  EXPECT_EQ(root.Get("c").WholeNumber(), -3);
  EXPECT_EQ(ErrorOf([&] { root.Get("b").WholeNumber(); }).message(),
            "expected an integer, found number 1024.5");
  // Past 2^53 a double is no longer exact: refused rather than rounded.
  EXPECT_EQ(ErrorOf([&] { root.Get("d").WholeNumber(); }).field(), "d");
  EXPECT_EQ(ErrorOf([&] { root.Get("a").Int(); }).message(),
            "expected an integer, found number 1024.0");
}

TEST(JsonReadTest, NumbersBeyond64BitsAreFineWhereNobodyReadsThem) {
  auto doc = ParseJsonText("tokenizer_config.json", kDoc);
  const JsonNode root = doc->root();
  EXPECT_EQ(root.GetInt("n"), 7);  // the rest of the document reads normally
  Error e = ErrorOf([&] { root.GetInt("big"); });
  EXPECT_EQ(e.field(), "big");
  EXPECT_EQ(e.message(), "expected an integer, found number 1e+30");
  e = ErrorOf([&] { root.Get("huge").Number(); });
  EXPECT_EQ(e.message(), "expected a number, found a number beyond double range (1e400)");
}

TEST(JsonReadTest, MalformedJsonAndDuplicateKeysAreErrorsOfTheDocumentsKind) {
  Error e = ErrorOf([] { ParseJsonText("m/config.json", "{\"a\": ", ErrorKind::kConfig); });
  EXPECT_EQ(e.kind(), ErrorKind::kConfig);
  EXPECT_EQ(e.file(), "m/config.json");
  EXPECT_EQ(e.message().rfind("not valid JSON: ", 0), 0u) << e.message();
  e = ErrorOf([] {
    ParseJsonText("m/tokenizer.json", R"({"added_tokens": [{"id": 1, "id": 2}]})");
  });
  EXPECT_EQ(e.kind(), ErrorKind::kFormat);
  EXPECT_EQ(e.field(), "added_tokens[0].id");
  EXPECT_NE(e.message().find("appears twice in one object with different values: 1, then 2"),
            std::string::npos)
      << e.message();
  // The same value twice is one value.
  EXPECT_EQ(ParseJsonText("f.json", R"({"a": 1, "a": 1})")->root().GetInt("a"), 1);
  e = ErrorOf([] { LoadJsonFile("/nonexistent/dir/results.json"); });
  EXPECT_EQ(e.kind(), ErrorKind::kIo);
}

TEST(JsonReadTest, JsonlRowsNameTheLine) {
  simdjson::dom::parser parser;
  JsonOrigin origin{"d/validation.jsonl", ErrorKind::kDataset, 3};
  const JsonNode row = ParseJsonlRow(parser, R"({"goal": "g", "answer": {"aliases": ["a", 3]}})",
                                     &origin);
  EXPECT_EQ(row.GetString("goal"), "g");
  Error e = ErrorOf([&] { row.Get("sol2"); });
  EXPECT_EQ(e.kind(), ErrorKind::kDataset);
  EXPECT_EQ(e.field(), "3: field \"sol2\"");
  EXPECT_EQ(std::string(e.what()), "d/validation.jsonl: 3: field \"sol2\": missing");
  e = ErrorOf([&] { row.GetObject("answer").GetStringArray("aliases"); });
  EXPECT_EQ(e.field(), "3: field \"answer.aliases[1]\"");
  e = ErrorOf([&] { row.Fail("is not a question"); });
  EXPECT_EQ(e.field(), "3");
  origin.line = 4;
  e = ErrorOf([&] { ParseJsonlRow(parser, R"({"goal": "g", "so)", &origin); });
  EXPECT_EQ(e.field(), "4");
  EXPECT_EQ(e.message().rfind("invalid JSON (truncated or malformed line): ", 0), 0u);
  e = ErrorOf([&] { ParseJsonlRow(parser, "[1, 2]", &origin); });
  EXPECT_EQ(e.message(), "expected a JSON object, found array");
  e = ErrorOf([&] { ParseJsonlRow(parser, R"({"meta": {"k": 1, "k": 2}})", &origin); });
  EXPECT_EQ(e.field(), "4: field \"meta.k\"");
  // A number beyond 64 bits in a field the loader does not read is no reason to refuse the row.
  EXPECT_EQ(ParseJsonlRow(parser, R"({"id": 1e400, "goal": "g"})", &origin).GetString("goal"),
            "g");
}

}  // namespace
}  // namespace doge
