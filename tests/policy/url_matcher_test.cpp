#include "policy/url_matcher.hpp"

#include <catch2/catch.hpp>

#include <re2/set.h>

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

TEST_CASE("the literal pre-filter never changes what matches", "[policy]") {
  // Patterns built from pieces with every construct the pre-filter reads (quantifiers, classes, groups,
  // alternation, anchors, escapes, case folding), URLs built from the same alphabet: the matcher's answer
  // must equal a plain RE2::Set's on every pair. Bounded: 300 matchers of 1-6 patterns, 40 URLs each.
  const std::vector<std::string> pieces = {
      "ab", "cd", "x",  "/o/", "\\.", "\\?", "[a-c]", "(ab|cd)", "b?", "c*",     "d+",        "a{1,2}", "^",
      "$",  ".",  ".*", "|",   "k",   "s",   "(?i)",  "\\d",     "é",  "(?i:s)", "\\Qa|b\\E", "[^/]"};
  const std::vector<std::string> url_pieces = {
      "a", "b", "c", "d", "x", "/", ".", "?", "o", "K", "S", "1", "\xE2\x84\xAA", "\xC5\xBF", "é", "A", "|"};
  std::uint32_t seed = 12345;
  const auto next = [&seed](std::size_t n) {
    seed = seed * 1103515245U + 12345U;
    return static_cast<std::size_t>(seed >> 16) % n;
  };
  RE2::Options options;
  options.set_log_errors(false);
  int compared = 0;
  for (int round = 0; round < 300; ++round) {
    UrlMatcher m;
    RE2::Set reference(options, RE2::UNANCHORED);
    const std::size_t patterns = 1 + next(6);
    for (std::size_t p = 0; p < patterns; ++p) {
      std::string pattern;
      const std::size_t length = 1 + next(6);
      for (std::size_t i = 0; i < length; ++i) pattern += pieces[next(pieces.size())];
      if (m.add(pattern, static_cast<std::uint32_t>(p))) continue;  // invalid: refused by both
      REQUIRE(reference.Add(pattern, nullptr) >= 0);
    }
    if (m.size() == 0) continue;
    REQUIRE_FALSE(m.compile());
    REQUIRE(reference.Compile());
    for (int u = 0; u < 40; ++u) {
      std::string host;
      std::string path = "/";
      for (std::size_t i = next(5); i > 0; --i) host += url_pieces[next(url_pieces.size())];
      for (std::size_t i = next(10); i > 0; --i) path += url_pieces[next(url_pieces.size())];
      const bool expected = reference.Match(host + path, nullptr);
      INFO("host " << host << " path " << path);
      CHECK(m.matches(host, path) == expected);
      ++compared;
    }
  }
  CHECK(compared > 1000);
}
