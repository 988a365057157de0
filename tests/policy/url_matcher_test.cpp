#include "policy/url_matcher.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using consent::policy::UrlMatcher;

namespace {

std::vector<std::uint32_t> hits(const UrlMatcher& m, std::string_view host, std::string_view path) {
  std::vector<std::uint32_t> out;
  if (m.matches(host, path)) m.match(host, path, out);
  return out;
}

using V = std::vector<std::uint32_t>;

}  // namespace

TEST_CASE("URL patterns are matched against host and path together", "[policy]") {
  UrlMatcher m;
  REQUIRE_FALSE(m.add(R"(/static/js/hotjar-\d+\.js)", 10));
  REQUIRE_FALSE(m.add(R"(^[^/]*\.clarity\.ms/collect)", 11));
  REQUIRE_FALSE(m.add(R"(^shop\.example/rec/)", 12));
  REQUIRE_FALSE(m.compile());
  CHECK(hits(m, "shop.example", "/static/js/hotjar-123.js?sv=6") == V{10});
  CHECK(hits(m, "x.clarity.ms", "/collect") == V{11});
  CHECK(hits(m, "clarity.ms", "/collect").empty());
  CHECK(hits(m, "shop.example", "/rec/123") == V{12});
  CHECK(hits(m, "myshop.example", "/rec/123").empty());
  CHECK(hits(m, "shop.example", "/static/js/app.js").empty());
  CHECK(hits(m, "", "").empty());
}

TEST_CASE("every matching URL pattern is reported in the order added", "[policy]") {
  UrlMatcher m;
  REQUIRE_FALSE(m.add("collect", 5));
  REQUIRE_FALSE(m.add("/g/collect", 3));
  REQUIRE_FALSE(m.add("nomatch", 4));
  REQUIRE_FALSE(m.compile());
  CHECK(hits(m, "region1.google-analytics.com", "/g/collect?v=2") == V{5, 3});
}

TEST_CASE("an empty URL matcher matches nothing", "[policy]") {
  UrlMatcher m;
  CHECK_FALSE(m.matches("a.example", "/"));
  REQUIRE_FALSE(m.compile());
  CHECK_FALSE(m.matches("a.example", "/"));
  CHECK(m.size() == 0);
}

TEST_CASE("bad URL patterns are refused one by one with their reason", "[policy]") {
  UrlMatcher m;
  CHECK(m.add("(", 1) == "not a valid RE2 pattern (missing ): ()");
  CHECK(m.add("a(?=b)", 2) == "not a valid RE2 pattern (invalid perl operator: (?=)");
  CHECK(m.add("", 3) == "empty");
  CHECK(m.add(std::string(2049, 'a'), 4) == "longer than 2048 bytes");
  const auto complex = m.add("(abc|def){1,1000}", 5);
  REQUIRE(complex);
  CHECK(complex->starts_with("too complex (RE2 program size "));
  CHECK(complex->ends_with(", limit 2000)"));
  CHECK(m.size() == 0);
  REQUIRE_FALSE(m.add("ok", 6));
  REQUIRE_FALSE(m.compile());
  CHECK(hits(m, "ok.example", "/") == V{6});
}

TEST_CASE("very long URLs are matched on their head without overflow", "[policy]") {
  UrlMatcher m;
  REQUIRE_FALSE(m.add("/pixel", 1));
  REQUIRE_FALSE(m.compile());
  const std::string path = "/pixel?" + std::string(100000, 'x');
  CHECK(hits(m, "a.example", path) == V{1});
  const std::string host(20000, 'h');
  CHECK(hits(m, host, "/pixel").empty());  // beyond the matched head
}
