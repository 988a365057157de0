#include "policy/cookie_matcher.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using consent::policy::cookie_pattern_error;
using consent::policy::CookieMatcher;
using Tier = CookieMatcher::Tier;

namespace {

using Hits = std::vector<std::pair<std::uint32_t, Tier>>;

// Counts every match, as the engine does when all rules apply.
Hits all(const CookieMatcher& m, std::string_view name) {
  Hits hits;
  m.match(name, [&](std::uint32_t v, Tier t) {
    hits.emplace_back(v, t);
    return true;
  });
  return hits;
}

}  // namespace

TEST_CASE("exact cookie names match only themselves, case-sensitively", "[policy]") {
  CookieMatcher m;
  REQUIRE_FALSE(m.add("_gid", 1));
  CHECK(all(m, "_gid") == Hits{{1, Tier::exact}});
  CHECK(all(m, "_GID").empty());
  CHECK(all(m, "_gid2").empty());
  CHECK(all(m, "x_gid").empty());
  CHECK(all(m, "").empty());
}

TEST_CASE("prefix patterns match names that start with the prefix, longest first", "[policy]") {
  CookieMatcher m;
  REQUIRE_FALSE(m.add("_ga_*", 1));
  REQUIRE_FALSE(m.add("_g*", 2));
  CHECK(all(m, "_ga_ABC123") == Hits{{1, Tier::prefix}, {2, Tier::prefix}});
  CHECK(all(m, "_ga_") == Hits{{1, Tier::prefix}, {2, Tier::prefix}});
  CHECK(all(m, "_ga") == Hits{{2, Tier::prefix}});
  CHECK(all(m, "_x").empty());
  CHECK(all(m, "a_ga_1").empty());
}

TEST_CASE("glob patterns match anywhere a star allows", "[policy]") {
  CookieMatcher m;
  REQUIRE_FALSE(m.add("*_fbp", 1));
  REQUIRE_FALSE(m.add("AMP_*_token", 2));
  REQUIRE_FALSE(m.add("a**b*c", 3));
  CHECK(all(m, "_fbp") == Hits{{1, Tier::glob}});
  CHECK(all(m, "site_fbp") == Hits{{1, Tier::glob}});
  CHECK(all(m, "site_fbpx").empty());
  CHECK(all(m, "AMP__token") == Hits{{2, Tier::glob}});
  CHECK(all(m, "AMP_abc_token") == Hits{{2, Tier::glob}});
  CHECK(all(m, "AMP_abc_tokens").empty());
  CHECK(all(m, "amp_abc_token").empty());
  CHECK(all(m, "abc") == Hits{{3, Tier::glob}});
  CHECK(all(m, "axxbyybzzc") == Hits{{3, Tier::glob}});
  CHECK(all(m, "acb").empty());
}

TEST_CASE("a counted exact match hides prefixes and globs; an uncounted one does not", "[policy]") {
  CookieMatcher m;
  REQUIRE_FALSE(m.add("_ga", 1));
  REQUIRE_FALSE(m.add("_g*", 2));
  REQUIRE_FALSE(m.add("*a", 3));
  CHECK(all(m, "_ga") == Hits{{1, Tier::exact}});
  Hits seen;
  m.match("_ga", [&](std::uint32_t v, Tier t) {
    seen.emplace_back(v, t);
    return v != 1;  // the exact rule does not apply here (e.g. first-party only)
  });
  CHECK(seen == Hits{{1, Tier::exact}, {2, Tier::prefix}});
  seen.clear();
  m.match("_ga", [&](std::uint32_t v, Tier t) {
    seen.emplace_back(v, t);
    return false;
  });
  CHECK(seen == Hits{{1, Tier::exact}, {2, Tier::prefix}, {3, Tier::glob}});
}

TEST_CASE("several rules may share one cookie pattern", "[policy]") {
  CookieMatcher m;
  REQUIRE_FALSE(m.add("_fbp", 1));
  REQUIRE_FALSE(m.add("_fbp", 2));
  CHECK(all(m, "_fbp") == Hits{{1, Tier::exact}, {2, Tier::exact}});
  CHECK(m.size() == 2);
}

TEST_CASE("invalid cookie-name patterns are refused with a precise reason", "[policy]") {
  CHECK(cookie_pattern_error("") == "empty");
  CHECK(cookie_pattern_error("*") == "matches every cookie name");
  CHECK(cookie_pattern_error("**") == "matches every cookie name");
  CHECK(cookie_pattern_error("a b") == "invalid character ' ' at offset 1");
  CHECK(cookie_pattern_error("a=b") == "invalid character '=' at offset 1");
  CHECK(cookie_pattern_error("a;b") == "invalid character ';' at offset 1");
  CHECK(cookie_pattern_error("a\tb") == "invalid character byte 0x09 at offset 1");
  CHECK(cookie_pattern_error("\xC3\xA9") == "invalid character byte 0xC3 at offset 0");
  CHECK(cookie_pattern_error(std::string(257, 'a')) == "longer than 256 bytes");
  CHECK_FALSE(cookie_pattern_error(std::string(256, 'a')));
  CHECK_FALSE(cookie_pattern_error("AMCV_*@AdobeOrg"));
  CookieMatcher m;
  CHECK(m.add("a b", 1) == "invalid character ' ' at offset 1");
  CHECK(m.size() == 0);
}

TEST_CASE("hostile cookie names do not upset the glob matcher", "[policy]") {
  CookieMatcher m;
  REQUIRE_FALSE(m.add("*a*a*a*a*b", 1));
  const std::string name(4000, 'a');
  CHECK(all(m, name).empty());
  CHECK(all(m, name + "b") == Hits{{1, Tier::glob}});
}
