#include "policy/eu_consent.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "policy/detail/base64.hpp"
#include "policy/detail/json.hpp"

using namespace consent::policy;

namespace {

using Entries = std::vector<std::pair<std::string, bool>>;

nlohmann::json load_samples() {
  std::ifstream in(std::string(CONSENT_FIXTURES_DIR) + "/consent/samples.json");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

std::string base64(std::string_view in, bool url, bool pad) {
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const auto n = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16 |
                   static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8 |
                   static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[n >> s & 63U]);
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    unsigned n = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) n |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
    out.push_back(alphabet[n >> 18 & 63U]);
    out.push_back(alphabet[n >> 12 & 63U]);
    if (rest == 2) out.push_back(alphabet[n >> 6 & 63U]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

std::string percent_encode(std::string_view in) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : in) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' || c == '_') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15U]);
    }
  }
  return out;
}

void check_ok(std::string_view raw, const Entries& want) {
  INFO(std::string(raw));
  const auto r = parse_eu_consent(raw);
  INFO(std::string(r.reason));
  REQUIRE(r.ok());
  CHECK(r.reason.empty());
  CHECK(r.purposes == want);
}

void check_malformed(std::string_view raw) {
  INFO(std::string(raw));
  const auto r = parse_eu_consent(raw);
  CHECK(r.status == EuConsentStatus::malformed);
  CHECK_FALSE(r.reason.empty());
  CHECK(r.purposes.empty());
  CHECK_FALSE(r.timestamp.has_value());
}

}  // namespace

TEST_CASE("eu-consent JSON is read raw, percent-encoded and in every base64 flavour", "[policy]") {
  const std::string json = R"({"audience-measurement":true,"advertising":false,"social-media":true})";
  const Entries want{{"audience-measurement", true}, {"advertising", false}, {"social-media", true}};
  check_ok(json, want);
  check_ok(percent_encode(json), want);
  check_ok(base64(json, true, false), want);
  check_ok(base64(json, true, true), want);
  check_ok(base64(json, false, true), want);
  check_ok(base64(json, false, false), want);
  check_ok(percent_encode(base64(json, false, true)), want);
  check_ok(" \"" + json + "\" ", want);  // RFC 6265 DQUOTE-wrapped value
  check_ok(" { \"a\" : true ,\n\"b\":false } ", {{"a", true}, {"b", false}});
  check_ok("{}", {});
}

TEST_CASE("eu-consent compact form accepts ':' '=' ',' '|' and true/false/1/0", "[policy]") {
  check_ok("audience-measurement:true,advertising:false", {{"audience-measurement", true}, {"advertising", false}});
  check_ok("a=1|b=0|c:true", {{"a", true}, {"b", false}, {"c", true}});
  check_ok("a = 1 , b: 0", {{"a", true}, {"b", false}});
  check_ok("solo=1", {{"solo", true}});
  check_ok("a%3Atrue%2Cb%3Afalse", {{"a", true}, {"b", false}});
  check_ok("caf\xC3\xA9:1", {{"caf\xC3\xA9", true}});
}

TEST_CASE("eu-consent meta keys give the timestamp and version", "[policy]") {
  SECTION("epoch seconds in JSON and compact") {
    auto r = parse_eu_consent(R"({"ts":1777629600,"v":"3","a":true})");
    REQUIRE(r.ok());
    CHECK(r.timestamp == 1777629600);
    CHECK(r.version == "3");
    CHECK(r.purposes == Entries{{"a", true}});
    r = parse_eu_consent("a:1,iat=1777629600,v=2.1");
    REQUIRE(r.ok());
    CHECK(r.timestamp == 1777629600);
    CHECK(r.version == "2.1");
  }
  SECTION("ISO-8601 with Z, with an offset, with fractions") {
    for (const char* ts : {"2026-05-01T10:00:00Z", "2026-05-01T12:00:00+02:00", "2026-05-01T05:30:00-0430",
                           "2026-05-01T10:00:00.999Z"}) {
      INFO(ts);
      const auto r = parse_eu_consent(std::string(R"({"a":true,"ts":")") + ts + "\"}");
      REQUIRE(r.ok());
      CHECK(r.timestamp == 1777629600);
      const auto c = parse_eu_consent(std::string("a:1,ts:") + ts);
      REQUIRE(c.ok());
      CHECK(c.timestamp == 1777629600);
    }
  }
  SECTION("the enveloped form carries purposes in a nested object") {
    const auto r = parse_eu_consent(R"({"v":1,"ts":"2024-01-15T10:00:00Z","purposes":{"a":true,"b":false}})");
    REQUIRE(r.ok());
    CHECK(r.version == "1");
    CHECK(r.timestamp == 1705312800);
    CHECK(r.purposes == Entries{{"a", true}, {"b", false}});
  }
  SECTION("ts and iat that agree are fine; that disagree are not") {
    CHECK(parse_eu_consent(R"({"ts":1700000000,"iat":"1700000000","a":true})").ok());
    check_malformed(R"({"ts":1700000000,"iat":1700000001,"a":true})");
  }
}

TEST_CASE("eu-consent samples from real-world formats", "[policy]") {
  const auto doc = load_samples();
  int seen = 0;
  for (const auto& s : doc["samples"]) {
    if (s["cookie"] != "eu-consent") continue;
    ++seen;
    const std::string id = s["id"];
    INFO(id);
    const auto r = parse_eu_consent(s["value"].get<std::string>());
    if (s.contains("expected")) {
      REQUIRE(r.ok());
      Entries want;
      for (const auto& [k, v] : s["expected"].items()) want.emplace_back(k, v.get<bool>());
      auto got = r.purposes;
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      CHECK(got == want);
    } else {
      // creditmutuel-style: per-vendor choices nested under a cookie path; not a purpose map. Reading it as
      // anything would be a guess, so it is malformed (no consent).
      CHECK(id == "eu-consent-creditmutuel-style");
      CHECK_FALSE(r.ok());
    }
  }
  CHECK(seen == 5);
}

TEST_CASE("eu-consent hostile inputs are malformed", "[policy]") {
  check_malformed("");
  check_malformed("   ");
  check_malformed("\"\"");
  check_malformed(std::string(max_eu_consent_bytes + 1, 'a'));
  check_malformed("{\"a\":true," + std::string(5000, ' ') + "}");
  // Truncated anywhere.
  const std::string json = R"({"a":true,"b":false,"ts":1700000000})";
  for (std::size_t i = 0; i < json.size(); ++i) check_malformed(json.substr(0, i));
  // Duplicates: same value tolerated, different values refused.
  check_ok(R"({"a":true,"a":true})", {{"a", true}});
  check_malformed(R"({"a":true,"a":false})");
  check_malformed("a:1,a:0");
  check_malformed(R"({"purposes":{"a":true},"a":false})");
  check_malformed(R"({"purposes":{"a":true},"purposes":{"b":true}})");
  // Non-boolean purpose values.
  check_malformed(R"({"a":"true"})");
  check_malformed(R"({"a":1})");
  check_malformed(R"({"a":null})");
  check_malformed("a:yes");
  check_malformed("a:");
  check_malformed("a:TRUE");
  // Nesting.
  check_malformed(R"({"a":{"b":true}})");
  check_malformed(R"({"a":[true]})");
  check_malformed(R"({"purposes":{"a":{"b":true}}})");
  check_malformed(R"([{"a":true}])");
  check_malformed(R"({"x":)" + std::string(200, '[') + std::string(200, ']') + "}");
  // Trailing garbage and structure errors.
  check_malformed(R"({"a":true}x)");
  check_malformed(R"({"a":true}{"b":true})");
  check_malformed(R"({"a":truex})");
  check_malformed(R"({"a":true,})");
  check_malformed(R"({a:true})");
  check_malformed("a:1,,b:0");
  check_malformed("a:1,");
  check_malformed(",a:1");
  check_malformed("a:1,b:0|c:1");
  check_malformed("a");
  check_malformed(":1");
  check_malformed("a b:1");
  check_malformed("{\"a\"\x01:true}");
  // Invalid UTF-8 in keys, raw or escaped.
  check_malformed("{\"caf\xC3\":true}");
  check_malformed("caf\xC3:1");
  check_malformed("\xC0\xAF:1");
  check_malformed("\xED\xA0\x80:1");  // a UTF-16 surrogate encoded as UTF-8
  check_malformed(R"({"\ud800":true})");
  check_malformed(R"({"\u0000":true})");
  check_malformed(R"({"":true})");
  // Percent and base64 garbage.
  check_malformed("a%3");
  check_malformed("%zz");
  check_malformed("eyJhIjp0cnVlfQ===");
  check_malformed("e");
  check_malformed("eyJhIjp0cnVlfR");    // non-zero pad bits
  check_malformed("YWJj");              // base64 of "abc": not an object
  check_malformed("eyJh-Ijp0+cnVlfQ");  // both alphabets at once
  // Bad timestamps and versions.
  check_malformed(R"({"ts":"yesterday","a":true})");
  check_malformed(R"({"ts":-5,"a":true})");
  check_malformed(R"({"ts":1e9,"a":true})");
  check_malformed(R"({"ts":"2026-02-30T00:00:00Z","a":true})");
  check_malformed(R"({"ts":"2026-05-01T10:00:00","a":true})");  // no zone: local time of where?
  check_malformed(R"({"ts":true,"a":true})");
  check_malformed(R"({"v":true,"a":true})");
  check_malformed("a:1,ts:1234567890123");
}

TEST_CASE("eu-consent entry limit is exactly max_eu_consent_entries", "[policy]") {
  const auto compact = [](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += (i == 0 ? "" : ",") + std::string("p") + std::to_string(i) + ":1";
    return s;
  };
  CHECK(parse_eu_consent(compact(max_eu_consent_entries)).ok());
  check_malformed(compact(max_eu_consent_entries + 1));
  std::string json = "{";
  for (std::size_t i = 0; i <= max_eu_consent_entries; ++i)
    json += (i == 0 ? "\"p" : ",\"p") + std::to_string(i) + "\":true";
  check_malformed(json + "}");
}

TEST_CASE("timestamps: epoch seconds and ISO-8601 only", "[policy]") {
  std::int64_t t = 0;
  CHECK(parse_timestamp("0", t));
  CHECK(t == 0);
  CHECK(parse_timestamp("1700000000.25", t));
  CHECK(t == 1700000000);
  CHECK(parse_timestamp("2024-02-29T00:00:00Z", t));
  CHECK(t == 1709164800);
  CHECK(parse_timestamp("1970-01-01 00:00:00z", t));
  CHECK(t == 0);
  CHECK_FALSE(parse_timestamp("2023-02-29T00:00:00Z", t));
  CHECK_FALSE(parse_timestamp("2024-13-01T00:00:00Z", t));
  CHECK_FALSE(parse_timestamp("2024-01-01T24:00:00Z", t));
  CHECK_FALSE(parse_timestamp("2024-01-01T00:00:00+25:00", t));
  CHECK_FALSE(parse_timestamp("2024-01-01T00:00:00Zjunk", t));
  CHECK_FALSE(parse_timestamp("2024-01-01", t));
  CHECK_FALSE(parse_timestamp("", t));
  CHECK_FALSE(parse_timestamp("12a", t));
  CHECK_FALSE(parse_timestamp(".5", t));
  CHECK_FALSE(parse_timestamp("5.", t));
}

TEST_CASE("base64 decoding is canonical", "[policy]") {
  std::string out;
  CHECK(detail::base64_decode("YWJj", out));
  CHECK(out == "abc");
  CHECK(detail::base64_decode("YWI=", out));
  CHECK(out == "ab");
  CHECK(detail::base64_decode("YWI", out));
  CHECK(out == "ab");
  CHECK(detail::base64_decode("", out));
  CHECK(out.empty());
  CHECK_FALSE(detail::base64_decode("YWJ=", out));  // pad bits set
  CHECK_FALSE(detail::base64_decode("YW=I", out));
  CHECK_FALSE(detail::base64_decode("Y", out));
  CHECK_FALSE(detail::base64_decode("YWI==", out));
  CHECK_FALSE(detail::base64_decode("Y===", out));
  CHECK(detail::base64_decode("-_-_", out));
  CHECK(detail::base64_decode("+/+/", out));
  CHECK_FALSE(detail::base64_decode("+_+_", out));
}

TEST_CASE("JSON reader: bounds and strictness", "[policy]") {
  namespace json = detail::json;
  json::Value v;
  CHECK(json::parse(R"({"a":[1,-2.5e3,"x\u00e9\ud83d\ude00",null,false]})", v).empty());
  REQUIRE(v.kind == json::Kind::object);
  REQUIRE(v.items[0].items.size() == 5);
  CHECK(v.items[0].items[1].text == "-2.5e3");
  CHECK(v.items[0].items[2].text == "x\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(json::parse("01", v) == "invalid number");
  CHECK(json::parse("1 2", v) == "trailing characters");
  CHECK(json::parse("1.", v) == "invalid number");
  CHECK(json::parse("\"a\tb\"", v) == "control character in string");
  CHECK(json::parse("\"\\x\"", v) == "invalid escape");
  CHECK(json::parse("{'a':true}", v) == "expected a key");
  json::Options js;
  js.js_literals = true;
  CHECK(json::parse("{a:'x\\'y',b_2:true}", v, js).empty());
  CHECK(v.items[0].text == "x'y");
  json::Options small;
  small.max_nodes = 3;
  CHECK(json::parse("[1,2,3]", v, small) == "too many values");
  small.max_nodes = 512;
  small.max_depth = 2;
  CHECK(json::parse("[[[]]]", v, small) == "nested too deeply");
  CHECK(json::parse("[[]]", v, small).empty());
}
