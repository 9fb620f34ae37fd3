// The JSON reader/writer behind the safetensors header (io/json.hpp): what it accepts, its
// error messages (with byte offsets), exact 64-bit integers, and escaping as Python writes it.
#include <string>

#include "patchnet/io/json.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
namespace json = patchnet::io::json;

TEST_CASE("json: parses objects, arrays, strings, numbers, literals") {
  const auto v = json::parse(R"( {"a": [1, -2.5e3, 0, true, false, null], "b": {"c": "x\ty\u00e9\ud83d\ude00"},
                                  "": "", "a": 7} )");
  REQUIRE(v.is_object());
  REQUIRE(v.members().size() == 4);  // duplicates kept in order; find() returns the first
  const json::Value* a = v.find("a");
  REQUIRE(a);
  REQUIRE(a->is_array());
  REQUIRE(a->items().size() == 6);
  CHECK(a->items()[0].as_int64() == 1);
  CHECK(a->items()[1].as_double() == -2500.0);
  CHECK_FALSE(a->items()[1].as_int64().has_value());
  CHECK(a->items()[2].as_uint64() == 0u);
  CHECK(a->items()[3].as_bool());
  CHECK(a->items()[4].is_bool());
  CHECK(a->items()[5].is_null());
  CHECK(v.find("b")->find("c")->text() == "x\ty\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(v.find("")->text().empty());
  CHECK(v.members()[3].second.as_int64() == 7);
  CHECK(v.find("zz") == nullptr);

  // 64-bit integers stay exact; out of range is not an integer.
  CHECK(json::parse("18446744073709551615").as_uint64() == UINT64_MAX);
  CHECK_FALSE(json::parse("18446744073709551616").as_uint64().has_value());
  CHECK(json::parse("-9223372036854775808").as_int64() == INT64_MIN);
  CHECK_FALSE(json::parse("-1").as_uint64().has_value());
  CHECK_FALSE(json::parse("1.0").as_uint64().has_value());
}

TEST_CASE("json: errors name the problem and the byte") {
  CHECK_THROWS_PN(json::parse("", "hdr"), "hdr: unexpected end of the JSON text at byte 0");
  CHECK_THROWS_PN(json::parse("{\"a\" 1}", "hdr"), "hdr: expected ':' after the object key, found '1' at byte 5");
  CHECK_THROWS_PN(json::parse("[1,]"), "unexpected ']' where a JSON value should start at byte 3");
  CHECK_THROWS_PN(json::parse("[1 2]"), "expected ',' or ']' in an array, found '2' at byte 3");
  CHECK_THROWS_PN(json::parse("{\"a\":1,}"), "expected a '\"' starting an object key, found '}'");
  CHECK_THROWS_PN(json::parse("{\"a\":1"), "unexpected end of the JSON text, expected ',' or '}'");
  CHECK_THROWS_PN(json::parse("{} x"), "unexpected 'x' after the JSON value at byte 3");
  CHECK_THROWS_PN(json::parse("\"abc"), "unterminated string");
  CHECK_THROWS_PN(json::parse("\"a\nb\""), "raw control character \\x0a in a string at byte 2");
  CHECK_THROWS_PN(json::parse("\"\\q\""), "unknown escape '\\q'");
  CHECK_THROWS_PN(json::parse("\"\\u12g4\""), "bad hex digit 'g'");
  CHECK_THROWS_PN(json::parse("\"\\ud800\""), "unpaired high surrogate");
  CHECK_THROWS_PN(json::parse("\"\\udc00\""), "unpaired low surrogate");
  CHECK_THROWS_PN(json::parse("\"\xff\""), "invalid UTF-8 in a string at byte 1");
  CHECK_THROWS_PN(json::parse("\"\xc0\xaf\""), "invalid UTF-8");      // overlong '/'
  CHECK_THROWS_PN(json::parse("\"\xed\xa0\x80\""), "invalid UTF-8");  // a surrogate in UTF-8
  CHECK_THROWS_PN(json::parse("01"), "unexpected '1' after the JSON value");
  CHECK_THROWS_PN(json::parse("-"), "malformed number");
  CHECK_THROWS_PN(json::parse("1.e5"), "malformed number");
  CHECK_THROWS_PN(json::parse("tru"), "unexpected 't' where a JSON value should start");
  CHECK_THROWS_PN(json::parse("NaN"), "unexpected 'N'");
  // Deep nesting is refused, not a stack overflow.
  CHECK_THROWS_PN(json::parse(std::string(100000, '[')), "JSON nested deeper than 64 levels");
  CHECK_NOTHROW(json::parse(std::string(64, '[') + std::string(64, ']')));
}

TEST_CASE("json: dump writes compact JSON, escaped as Python's json.dumps(ensure_ascii=False)") {
  json::Value v = json::Value::object();
  v.set("s", json::Value::string("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f \xc3\xbc"));
  json::Value arr = json::Value::array();
  arr.push_back(json::Value::number(int64_t{-3}));
  arr.push_back(json::Value::number(uint64_t{18446744073709551615ull}));
  arr.push_back(json::Value::boolean(true));
  arr.push_back(json::Value::null());
  arr.push_back(json::Value::number_literal("1.5e-3"));
  v.set("a", std::move(arr));
  v.set("o", json::Value::object());
  const std::string text = json::dump(v);
  CHECK(text ==
        "{\"s\":\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f \xc3\xbc\",\"a\":[-3,18446744073709551615,true,null,"
        "1.5e-3],\"o\":{}}");
  // And reads back to the same text.
  CHECK(json::dump(json::parse(text)) == text);
  CHECK_THROWS_PN(json::dump(json::Value::string("\xff")), "json: string is not valid UTF-8 (byte 0)");
  CHECK_THROWS_PN(json::Value::number_literal("01"), "is not a JSON number");
  CHECK_THROWS_PN(json::Value::array().set("k", json::Value()), "json: set on an array");
}
