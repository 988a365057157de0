#include "report/allow_rule.hpp"

#include <catch2/catch.hpp>

using consent::report::glob_match;
using consent::report::LogRecord;
using consent::report::parse_allow_rule;

namespace {
LogRecord record() {
  LogRecord r;
  r.site = "News.Example";
  r.host = "CDN.example";
  r.purpose = "audience-measurement";
  r.rule = "google-analytics/domains[0]";
  r.reason = "consent_missing";
  r.cookies = {"_ga", "_gid"};
  return r;
}
bool matches(std::string_view text, std::string_view kind = "tracker_before_consent") {
  std::string error;
  const auto rule = parse_allow_rule(text, error);
  REQUIRE(rule);
  return rule->matches(record(), kind);
}
std::string error_of(std::string_view text) {
  std::string error;
  CHECK_FALSE(parse_allow_rule(text, error));
  return error;
}
}  // namespace

TEST_CASE("each allow key matches its field, both sides of the boundary", "[report]") {
  CHECK(matches("host=cdn.example"));
  CHECK(matches("host=CDN.EXAMPLE"));  // host and site fold case
  CHECK_FALSE(matches("host=x.cdn.example"));
  CHECK_FALSE(matches("host=dn.example"));
  CHECK(matches("host=*.example"));
  CHECK(matches("site=news.example"));
  CHECK_FALSE(matches("site=news.example.org"));
  CHECK(matches("purpose=audience-measurement"));
  CHECK_FALSE(matches("purpose=Audience-measurement"));  // purpose ids are case-sensitive
  CHECK(matches("rule=google-analytics/domains[0]"));
  CHECK(matches("rule=google-analytics/*"));
  CHECK_FALSE(matches("rule=google-analytics/domains[1]"));
  CHECK(matches("reason=consent_*"));
  CHECK(matches("cookie=_gid"));
  CHECK(matches("cookie=_g*"));
  CHECK_FALSE(matches("cookie=_fbp"));
  CHECK(matches("kind=tracker_before_consent"));
  CHECK_FALSE(matches("kind=cname_cloaked_tracker"));
  CHECK(matches("kind=tracker_*"));
}

TEST_CASE("conditions joined by commas must all hold", "[report]") {
  CHECK(matches("host=cdn.example,purpose=audience-measurement"));
  CHECK_FALSE(matches("host=cdn.example,purpose=advertising"));
  CHECK(matches("kind=tracker_before_consent,site=news.example,cookie=_ga"));
}

TEST_CASE("bad allow rules are refused with a message that names the problem", "[report]") {
  CHECK(error_of("") == "empty rule in allow rule \"\"");
  CHECK(error_of("hots=x") ==
        "unknown key \"hots\" (keys: kind, site, host, purpose, rule, reason, cookie) in allow rule \"hots=x\"");
  CHECK(error_of("host") == "\"host\" is not KEY=VALUE in allow rule \"host\"");
  CHECK(error_of("host=") == "empty value for \"host\" in allow rule \"host=\"");
  CHECK(error_of("host=a,host=b") == "duplicate key \"host\" in allow rule \"host=a,host=b\"");
  CHECK(error_of("host=a,") == "\"\" is not KEY=VALUE in allow rule \"host=a,\"");
  const auto kind_error = error_of("kind=tracker");
  CHECK(kind_error.rfind("unknown kind \"tracker\" (kinds: tracker_before_consent, ", 0) == 0);
}

TEST_CASE("glob matching is linear enough for hostile patterns", "[report]") {
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "a"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
  CHECK(glob_match("*.example", "a.b.example"));
  const std::string s(20'000, 'a');
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", s));  // would be exponential with naive backtracking
}
