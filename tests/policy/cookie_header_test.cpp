#include "policy/cookie_header.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

using consent::policy::CookiePair;
using consent::policy::find_cookie;
using consent::policy::max_cookie_pairs;
using consent::policy::parse_cookie_header;
using consent::policy::rewrite_cookie_header;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs owned(const std::vector<CookiePair>& pairs) {
  Pairs out;
  for (const auto& p : pairs) out.emplace_back(std::string(p.name), std::string(p.value));
  return out;
}

// Parses `header` from an exact-size heap copy (so ASan sees any read past the end) after building it from
// two pieces split at every offset: the result must never depend on how the caller assembled the bytes.
Pairs parse_every_way(const std::string& header) {
  const Pairs whole = owned(parse_cookie_header(header));
  for (std::size_t cut = 0; cut <= header.size(); ++cut) {
    std::string built = header.substr(0, cut);
    built += header.substr(cut);
    auto exact = std::make_unique<char[]>(built.size() + 1);
    built.copy(exact.get(), built.size());
    const std::string_view view(exact.get(), built.size());
    const auto parsed = parse_cookie_header(view);
    for (const auto& p : parsed) {
      REQUIRE(p.name.data() >= view.data());
      REQUIRE(p.value.data() + p.value.size() <= view.data() + view.size());
    }
    REQUIRE(owned(parsed) == whole);
  }
  return whole;
}

}  // namespace

TEST_CASE("cookie header as browsers send it is split into pairs", "[policy]") {
  CHECK(parse_every_way("SID=31d4d96e407aad42; lang=en-US") == Pairs{{"SID", "31d4d96e407aad42"}, {"lang", "en-US"}});
  CHECK(parse_every_way("a=1") == Pairs{{"a", "1"}});
}

TEST_CASE("cookie header tolerates missing spaces, empty segments and surrounding whitespace", "[policy]") {
  CHECK(parse_every_way("a=1;b=2") == Pairs{{"a", "1"}, {"b", "2"}});
  CHECK(parse_every_way(";; a=1 ;;\t; b = 2 ;") == Pairs{{"a", "1"}, {"b", "2"}});
  CHECK(parse_every_way("  \t ").empty());
  CHECK(parse_every_way("").empty());
  CHECK(parse_every_way(";;;").empty());
}

TEST_CASE("cookie header keeps nameless pairs and empty values", "[policy]") {
  CHECK(parse_every_way("=x; y; z=") == Pairs{{"", "x"}, {"", "y"}, {"z", ""}});
  CHECK(parse_every_way("a==b=c") == Pairs{{"a", "=b=c"}});
  CHECK(parse_every_way("=") == Pairs{{"", ""}});
}

TEST_CASE("cookie header keeps quotes, commas and non-UTF-8 bytes in values", "[policy]") {
  CHECK(parse_every_way("q=\"a b\", r=1") == Pairs{{"q", "\"a b\", r=1"}});
  CHECK(parse_every_way(std::string("bin=\xff\xfe\x00z", 8)) == Pairs{{"bin", std::string("\xff\xfe\x00z", 4)}});
}

TEST_CASE("cookie header keeps duplicated names in order", "[policy]") {
  CHECK(parse_every_way("a=1; a=2; A=3") == Pairs{{"a", "1"}, {"a", "2"}, {"A", "3"}});
}

TEST_CASE("cookie header stops at max_cookie_pairs", "[policy]") {
  std::string header;
  for (std::size_t i = 0; i < max_cookie_pairs + 10; ++i) header += "c" + std::to_string(i) + "=v; ";
  const auto pairs = parse_cookie_header(header);
  REQUIRE(pairs.size() == max_cookie_pairs);
  CHECK(pairs.back().name == "c" + std::to_string(max_cookie_pairs - 1));
  std::string_view value;
  CHECK(find_cookie(header, "c0", value));
  CHECK_FALSE(find_cookie(header, "c" + std::to_string(max_cookie_pairs), value));
}

TEST_CASE("find_cookie is case-sensitive and returns the first match", "[policy]") {
  const std::string header = "EU-Consent=no; eu-consent=yes; eu-consent=later";
  std::string_view value;
  REQUIRE(find_cookie(header, "eu-consent", value));
  CHECK(value == "yes");
  REQUIRE(find_cookie(header, "EU-Consent", value));
  CHECK(value == "no");
  CHECK_FALSE(find_cookie(header, "eu", value));
  CHECK_FALSE(find_cookie(header, "eu-consent=yes", value));
  CHECK_FALSE(find_cookie("", "a", value));
}

TEST_CASE("find_cookie finds empty values and does not match on a prefix", "[policy]") {
  std::string_view value = "untouched";
  REQUIRE(find_cookie("ab=1; a=", "a", value));
  CHECK(value.empty());
  value = "untouched";
  CHECK_FALSE(find_cookie("ab=1", "a", value));
  CHECK(value == "untouched");
}

TEST_CASE("find_cookie with an empty name finds the first nameless pair", "[policy]") {
  std::string_view value;
  REQUIRE(find_cookie("a=1; =x; y", "", value));
  CHECK(value == "x");
  CHECK_FALSE(find_cookie("a=1", "", value));
}

TEST_CASE("rewriting the cookie header keeps the bytes of kept pairs", "[policy]") {
  const std::string header = "a = 1;_ga=GA1.2.3;=nameless;  flag ;b=\"q\"";
  const auto drop_ga = [](const CookiePair& p) { return p.name == "_ga"; };
  CHECK(rewrite_cookie_header(header, drop_ga) == "a = 1; =nameless; flag; b=\"q\"");
  CHECK(rewrite_cookie_header(header, [](const CookiePair&) { return false; }) ==
        "a = 1; _ga=GA1.2.3; =nameless; flag; b=\"q\"");
  CHECK(rewrite_cookie_header(header, [](const CookiePair&) { return true; }).empty());
  CHECK(rewrite_cookie_header("", [](const CookiePair&) { return false; }).empty());
  CHECK(rewrite_cookie_header("x=; y=2", [](const CookiePair& p) { return p.name == "y"; }) == "x=");
}

TEST_CASE("rewriting a header of many pairs drops those past the limit", "[policy]") {
  std::string header;
  for (std::size_t i = 0; i < max_cookie_pairs + 1; ++i) header += "c=v;";
  const std::string out = rewrite_cookie_header(header, [](const CookiePair&) { return false; });
  CHECK(parse_cookie_header(out).size() == max_cookie_pairs);
}

TEST_CASE("find_cookies reads several names in one pass as find_cookie reads each", "[policy]") {
  using consent::policy::find_cookies;
  const std::vector<std::string> names = {"eu-consent", "eu.consent", "euconsent-v2", "", "missing", "eu-consent"};
  std::vector<std::string_view> values(names.size());
  const std::string header =
      "a=1; eu.consent=x; EU-CONSENT=no; eu-consent = first ; =nameless; eu-consent=second; "
      "eu-consentX=y; euconsent-v2=";
  const std::uint64_t found = find_cookies(header, names, values);
  CHECK(found == 0b101111U);
  CHECK(values[0] == "first");
  CHECK(values[1] == "x");
  CHECK(values[2].empty());
  CHECK(values[3] == "nameless");  // "=nameless": an empty name
  CHECK(values[5] == "first");     // a name listed twice is found for both
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string_view one;
    CHECK(find_cookie(header, names[i], one) == ((found >> i & 1U) != 0));
    if ((found >> i & 1U) != 0) CHECK(one.data() == values[i].data());
  }
  CHECK(find_cookies("", names, values) == 0);
  CHECK(find_cookies(header, {}, values) == 0);
  CHECK(find_cookies(header, names, std::span<std::string_view>(values.data(), 1)) == 1);  // fewer slots
}

TEST_CASE("find_cookies looks no further than max_cookie_pairs and max_found_cookie_names", "[policy]") {
  using consent::policy::find_cookies;
  using consent::policy::max_found_cookie_names;
  std::string header;
  for (std::size_t i = 0; i < max_cookie_pairs; ++i) header += "c" + std::to_string(i) + "=v; ";
  header += "eu-consent=late";
  const std::vector<std::string> late = {"eu-consent", "c0", "c511"};
  std::vector<std::string_view> values(late.size());
  CHECK(find_cookies(header, late, values) == 0b110U);  // past the pair limit, as find_cookie
  std::vector<std::string> many;
  for (std::size_t i = 0; i < max_found_cookie_names + 8; ++i) many.push_back("c" + std::to_string(i));
  std::vector<std::string_view> many_values(many.size());
  CHECK(find_cookies(header, many, many_values) == ~std::uint64_t{0});
  CHECK(many_values[63] == "v");
  CHECK(many_values[64].empty());  // not looked for
}
