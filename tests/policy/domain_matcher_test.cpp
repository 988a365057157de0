#include "policy/domain_matcher.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using consent::policy::canonical_domain_pattern;
using consent::policy::domain_pattern_error;
using consent::policy::DomainMatcher;

namespace {

std::vector<std::uint32_t> values(const DomainMatcher& m, std::string_view host) {
  const auto span = m.match(host);
  return {span.begin(), span.end()};
}

using V = std::vector<std::uint32_t>;

}  // namespace

TEST_CASE("a domain pattern matches the host itself and its subdomains, not look-alikes", "[policy]") {
  DomainMatcher m;
  REQUIRE_FALSE(m.add("a.example", 7));
  m.compile();
  CHECK(values(m, "a.example") == V{7});
  CHECK(values(m, "x.a.example") == V{7});
  CHECK(values(m, "y.x.a.example") == V{7});
  CHECK(values(m, "ba.example").empty());
  CHECK(values(m, "example").empty());
  CHECK(values(m, "a.example.com").empty());
  CHECK(values(m, "a.examplex").empty());
  CHECK(values(m, "xa.example").empty());
  CHECK(values(m, "").empty());
  CHECK(values(m, ".").empty());
}

TEST_CASE("near misses of a tracker domain do not match", "[policy]") {
  DomainMatcher m;
  REQUIRE_FALSE(m.add("google-analytics.com", 1));
  m.compile();
  CHECK(values(m, "www.google-analytics.com") == V{1});
  CHECK(values(m, "notgoogle-analytics.com").empty());
  CHECK(values(m, "google-analytics.com.evil.example").empty());
  CHECK(values(m, "google-analytics.co").empty());
}

TEST_CASE("host matching ignores case and one trailing dot", "[policy]") {
  DomainMatcher m;
  REQUIRE_FALSE(m.add("Stats.Example.", 3));
  m.compile();
  CHECK(values(m, "stats.example") == V{3});
  CHECK(values(m, "STATS.EXAMPLE") == V{3});
  CHECK(values(m, "stats.example.") == V{3});
  CHECK(values(m, "X.Stats.Example.") == V{3});
  CHECK(values(m, "stats.example..").empty());
}

TEST_CASE("a wildcard pattern matches subdomains only", "[policy]") {
  DomainMatcher m;
  REQUIRE_FALSE(m.add("*.a.example", 1));
  m.compile();
  CHECK(values(m, "a.example").empty());
  CHECK(values(m, "x.a.example") == V{1});
  CHECK(values(m, "y.x.a.example") == V{1});
  CHECK(values(m, "ba.example").empty());
}

TEST_CASE("the longest matching suffix wins and shared patterns keep every value", "[policy]") {
  DomainMatcher m;
  REQUIRE_FALSE(m.add("google.com", 1));
  REQUIRE_FALSE(m.add("analytics.google.com", 2));
  REQUIRE_FALSE(m.add("google.com", 3));
  REQUIRE_FALSE(m.add("*.analytics.google.com", 4));
  m.compile();
  CHECK(values(m, "www.google.com") == V{1, 3});
  CHECK(values(m, "google.com") == V{1, 3});
  CHECK(values(m, "analytics.google.com") == V{2});
  CHECK(values(m, "x.analytics.google.com") == V{4, 2});
  CHECK(m.size() == 4);
}

TEST_CASE("an empty matcher matches nothing", "[policy]") {
  DomainMatcher m;
  CHECK(values(m, "example.com").empty());
  m.compile();
  CHECK(values(m, "example.com").empty());
}

TEST_CASE("hosts longer than any pattern still match on their suffix", "[policy]") {
  DomainMatcher m;
  REQUIRE_FALSE(m.add("t.example", 1));
  m.compile();
  std::string host;
  for (int i = 0; i < 200; ++i) host += "ab.";
  host += "t.example";
  CHECK(values(m, host) == V{1});
  std::string dots(600, '.');
  CHECK(values(m, dots).empty());
  CHECK(values(m, dots + "t.example") == V{1});
}

TEST_CASE("a large list is matched exactly", "[policy]") {
  DomainMatcher m;
  for (std::uint32_t i = 0; i < 20000; ++i) REQUIRE_FALSE(m.add("d" + std::to_string(i) + ".example", i));
  m.compile();
  for (std::uint32_t i = 0; i < 20000; i += 997) {
    CHECK(values(m, "d" + std::to_string(i) + ".example") == V{i});
    CHECK(values(m, "www.d" + std::to_string(i) + ".example") == V{i});
    CHECK(values(m, "xd" + std::to_string(i) + ".example").empty());
  }
  CHECK(values(m, "d20000.example").empty());
}

TEST_CASE("invalid domain patterns are refused with a precise reason", "[policy]") {
  CHECK(domain_pattern_error("") == "empty");
  CHECK(domain_pattern_error("*.stats..example") == "empty label");
  CHECK(domain_pattern_error(".example") == "empty label");
  CHECK(domain_pattern_error("example..") == "empty label");
  CHECK(domain_pattern_error(".") == "empty label");
  CHECK(domain_pattern_error("*") == "wildcard without a domain");
  CHECK(domain_pattern_error("*.") == "wildcard without a domain");
  CHECK(domain_pattern_error("a.*.example") == "'*' is only allowed as the whole first label, as in \"*.example.com\"");
  CHECK(domain_pattern_error("*example.com") ==
        "'*' is only allowed as the whole first label, as in \"*.example.com\"");
  CHECK(domain_pattern_error("exa mple.com") == "invalid character ' ' at offset 3");
  CHECK(domain_pattern_error("example.com/path") == "invalid character '/' at offset 11");
  CHECK(domain_pattern_error("example.com:443") == "invalid character ':' at offset 11");
  CHECK(domain_pattern_error(std::string("ex\0a.com", 8)) == "invalid character byte 0x00 at offset 2");
  CHECK(domain_pattern_error("caf\xC3\xA9.fr") == "non-ASCII byte at offset 3; write the A-label (xn--...)");
  CHECK(domain_pattern_error(std::string(64, 'a') + ".com") == "label longer than 63 bytes");
  CHECK_FALSE(domain_pattern_error(std::string(63, 'a') + ".com"));
  std::string long_name;
  while (long_name.size() < 251) long_name += "abcdefghi.";
  long_name += "com";
  CHECK(domain_pattern_error(long_name) == "longer than 253 bytes");
  CHECK_FALSE(domain_pattern_error("xn--caf-dma.fr"));
  CHECK_FALSE(domain_pattern_error("a_b.example."));
  CHECK_FALSE(domain_pattern_error("192.0.2.1"));
}

TEST_CASE("an invalid pattern is not added", "[policy]") {
  DomainMatcher m;
  CHECK(m.add("bad..example", 1) == "empty label");
  CHECK(m.size() == 0);
  m.compile();
  CHECK(values(m, "bad..example").empty());
}

TEST_CASE("canonical domain patterns are lower case without the trailing dot", "[policy]") {
  CHECK(canonical_domain_pattern("*.Stats.Example.") == "*.stats.example");
  CHECK(canonical_domain_pattern("example.com") == "example.com");
}

TEST_CASE("patterns of different label counts are all probed", "[policy]") {
  DomainMatcher m;
  REQUIRE_FALSE(m.add("example", 1));
  REQUIRE_FALSE(m.add("a.b.c.example", 4));
  REQUIRE_FALSE(m.add("*.c.example", 3));
  m.compile();
  CHECK(values(m, "example") == V{1});
  CHECK(values(m, "z.example") == V{1});
  CHECK(values(m, "c.example") == V{1});
  CHECK(values(m, "b.c.example") == V{3});
  CHECK(values(m, "a.b.c.example") == V{4});
  CHECK(values(m, "y.x.a.b.c.example") == V{4});
  CHECK(values(m, "y.x.a.b.d.example") == V{1});
  CHECK(values(m, "example.org").empty());
}
