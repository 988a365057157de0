#include "report/analyzer.hpp"

#include <unistd.h>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "report/line_reader.hpp"

using consent::report::Analyzer;
using consent::report::Options;
using consent::report::parse_allow_rule;
using ojson = nlohmann::ordered_json;

namespace {

std::string fixture(const std::string& name) {
  return std::string(CONSENT_SOURCE_DIR) + "/tests/report/fixtures/" + name;
}

ojson analyze(const std::string& name, Options options = {}) {
  Analyzer a(std::move(options));
  std::ifstream in(fixture(name), std::ios::binary);
  REQUIRE(in);
  REQUIRE(consent::report::analyze_stream(a, in, name));
  return a.summary();
}

Options allowing(std::initializer_list<const char*> rules) {
  Options o;
  for (const char* text : rules) {
    std::string error;
    auto rule = parse_allow_rule(text, error);
    REQUIRE(rule);
    o.allow.push_back(std::move(*rule));
  }
  return o;
}

ojson counts(std::uint64_t violations, std::uint64_t allowed, std::uint64_t prevented) {
  return ojson{{"violations", violations}, {"allowed", allowed}, {"prevented", prevented}};
}

}  // namespace

TEST_CASE("tracker requests before any consent are violations in report-only, prevented in enforce", "[report]") {
  const auto s = analyze("tracker_before_consent.log");
  CHECK(s["by_kind"]["tracker_before_consent"] == counts(1, 0, 1));
  CHECK(s["by_kind"]["tracker_without_consent"] == counts(1, 0, 0));
  CHECK(s["totals"] == counts(2, 0, 1));
  CHECK(s["sites"][0]["site"] == "news.example");
  CHECK(s["sites"][0]["first_consent"] == "2026-11-22T13:00:02.000Z");
  CHECK(s["sites"][0]["first_violation"] == "2026-11-22T13:00:00.000Z");
}

TEST_CASE("a Set-Cookie dropped before consent is a violation only when it went through", "[report]") {
  const auto s = analyze("set_cookie_before_consent.log");
  CHECK(s["by_kind"]["set_cookie_before_consent"] == counts(1, 0, 1));
  CHECK(s["totals"] == counts(1, 0, 1));
}

TEST_CASE("a cookie of a purpose withdrawn by the same client on the same site is named separately", "[report]") {
  const auto s = analyze("withdrawn_cookie_sent.log");
  CHECK(s["by_kind"]["withdrawn_cookie_sent"] == counts(1, 0, 1));
  // Another client, and the same client on another site, never granted it: plain cookie_without_consent.
  CHECK(s["by_kind"]["cookie_without_consent"] == counts(2, 0, 0));
  const auto& news = s["sites"][0];
  REQUIRE(news["site"] == "news.example");
  const auto& events = news["consent_events"];
  REQUIRE(events.size() == 3);
  CHECK(events[0]["granted"] == ojson::array({"advertising", "audience-measurement"}));
  CHECK(events[1]["client"] == "10.0.0.1");
  CHECK(events[1]["withdrawn"] == ojson::array({"advertising"}));
  CHECK(events[2]["client"] == "10.0.0.2");
}

TEST_CASE("withdrawal is also read from reason codes when the granted list is absent", "[report]") {
  Analyzer a;
  a.add_line(R"({"time":"2026-11-22T13:00:00Z","client":"c","site":"s.example","host":"t.example","purpose":"ads",)"
             R"("action":"allow","reason":"purpose_granted","consent":"valid","mode":"report-only"})");
  a.add_line(R"({"time":"2026-11-22T13:00:01Z","client":"c","site":"s.example","host":"t.example","purpose":"ads",)"
             R"("action":"would_strip_cookie","reason":"purpose_not_granted","consent":"valid","mode":"report-only"})");
  CHECK(a.summary()["by_kind"]["withdrawn_cookie_sent"] == counts(1, 0, 0));
}

TEST_CASE("the proxy's violation name is the kind, lifetimes still measured against the thresholds", "[report]") {
  Analyzer a;
  const auto line = [&](const std::string& fields) {
    a.add_line(R"({"time":"2026-11-22T13:00:00Z","client":"c","site":"s.example","host":"t.example",)" + fields +
               R"(,"mode":"report-only"})");
  };
  // No history in this log says the purpose was ever granted: only the proxy's ledger knew.
  line(R"("purpose":"ads","action":"would_strip_cookie","reason":"purpose_not_granted","consent":"valid",)"
       R"("granted":[],"violation":"withdrawn_cookie_sent")");
  // A tracker on the site's own registrable domain, which the subdomain rule alone would not catch.
  line(R"("purpose":"ads","action":"would_block","reason":"consent_missing","consent":"missing",)"
       R"("violation":"cname_cloaked_tracker")");
  // A consent cookie of 100 days, capped by a stricter operator cap, is no legal violation.
  line(R"("purpose":"strictly-necessary","action":"would_cap_set_cookie","cookies":["eu-consent"],"max_age":8640000,)"
       R"("violation":"consent_cookie_too_long")");
  line(R"("purpose":"strictly-necessary","action":"would_cap_set_cookie","cookies":["eu-consent"],)"
       R"("max_age":63072000,"violation":"consent_cookie_too_long")");
  // A name this reader does not know: derived as before (here, a plain tracker before consent).
  line(R"("purpose":"ads","action":"would_block","reason":"consent_missing","consent":"missing",)"
       R"("violation":"some_future_kind")");
  // An allow line never takes the proxy's name.
  line(R"("purpose":"ads","action":"allow","reason":"purpose_granted","violation":"tracker_before_consent")");
  const auto s = a.summary();
  CHECK(s["by_kind"]["withdrawn_cookie_sent"] == counts(1, 0, 0));
  CHECK(s["by_kind"]["cname_cloaked_tracker"] == counts(1, 0, 0));
  CHECK(s["by_kind"]["consent_cookie_too_long"] == counts(1, 0, 0));
  CHECK(s["by_kind"]["tracker_before_consent"] == counts(1, 0, 0));
  CHECK(s["totals"] == counts(4, 0, 0));
}

TEST_CASE("audience cookies longer than 13 months are violations unless capped in enforce mode", "[report]") {
  const auto s = analyze("audience_cookie_too_long.log");
  // 2 years (report-only) and one second over 395 days (allowed through): violations; 1 year: fine.
  CHECK(s["by_kind"]["audience_cookie_too_long"] == counts(2, 0, 1));
  CHECK(s["totals"] == counts(2, 0, 1));
}

TEST_CASE("consent cookies longer than 6 months are violations, by name or by rule", "[report]") {
  const auto s = analyze("consent_cookie_too_long.log");
  CHECK(s["by_kind"]["consent_cookie_too_long"] == counts(2, 0, 1));
  CHECK(s["by_kind"]["audience_cookie_too_long"] == counts(0, 0, 0));
}

TEST_CASE("thresholds are options", "[report]") {
  Options o;
  o.consent_max_age_seconds = 400LL * 86400;
  const auto s = analyze("consent_cookie_too_long.log", o);
  CHECK(s["by_kind"]["consent_cookie_too_long"] == counts(0, 0, 0));
  CHECK(s["thresholds"]["consent_max_age_seconds"] == 400LL * 86400);
}

TEST_CASE("CNAME-cloaked trackers: reason cname_cloaked or a first-party subdomain", "[report]") {
  const auto s = analyze("cname_cloaked_tracker.log");
  CHECK(s["by_kind"]["cname_cloaked_tracker"] == counts(2, 0, 1));
  // news.example.evil is not a subdomain of news.example.
  CHECK(s["by_kind"]["tracker_before_consent"] == counts(1, 0, 0));
}

TEST_CASE("each allow key turns matching violations into accepted exceptions", "[report]") {
  struct Case {
    const char* rule;
    std::uint64_t allowed;
  };
  for (const auto& c :
       {Case{"host=www.google-analytics.com", 1}, Case{"host=*.example", 1}, Case{"purpose=audience-measurement", 1},
        Case{"rule=doubleclick/*", 1}, Case{"kind=tracker_before_consent", 1}, Case{"kind=tracker_*", 2},
        Case{"reason=purpose_not_granted", 1}, Case{"site=NEWS.example", 2}, Case{"site=other.example", 0},
        Case{"purpose=advertising,reason=consent_missing", 0}}) {
    INFO(c.rule);
    const auto s = analyze("tracker_before_consent.log", allowing({c.rule}));
    CHECK(s["totals"] == counts(2 - c.allowed, c.allowed, 1));  // enforcement stays "prevented"
    CHECK(s["allow_rules"][0]["matched"] == c.allowed);
  }
  const auto s = analyze("set_cookie_before_consent.log", allowing({"cookie=uid"}));
  CHECK(s["totals"] == counts(0, 1, 1));
  CHECK(s["sites"][0]["examples"][0]["allow_rule"] == "cookie=uid");
  CHECK(s["sites"][0]["examples"][0]["outcome"] == "allowed");
}

TEST_CASE("malformed lines are counted by error and located, never fatal", "[report]") {
  const auto s = analyze("malformed.log");
  CHECK(s["lines"] == ojson{{"total", 14}, {"records", 3}, {"malformed", 9}, {"blank", 2}});
  CHECK(
      s["malformed"]["by_error"] ==
      ojson{{"invalid_json", 3}, {"not_an_object", 1}, {"missing_field", 1}, {"bad_field", 3}, {"unknown_action", 1}});
  CHECK(s["malformed"]["examples"][0] == ojson{{"input", "malformed.log"}, {"line", 2}, {"error", "invalid_json"}});
  CHECK(s["by_kind"]["tracker_before_consent"] == counts(3, 0, 0));
}

TEST_CASE("the JSON summary of a fixture matches verbatim", "[report]") {
  Analyzer a(allowing({"host=cdn.example", "purpose=nothing-matches"}));
  for (const char* name :
       {"tracker_before_consent.log", "withdrawn_cookie_sent.log", "cname_cloaked_tracker.log", "malformed.log"}) {
    std::ifstream in(fixture(name), std::ios::binary);
    REQUIRE(consent::report::analyze_stream(a, in, name));
  }
  const std::string got = a.summary().dump(2) + "\n";
  std::ifstream expected_file(fixture("summary.expected.json"), std::ios::binary);
  std::stringstream expected;
  expected << expected_file.rdbuf();
  if (got != expected.str()) {
    std::ofstream(std::filesystem::temp_directory_path() / "summary.actual.json") << got;
  }
  CHECK(got == expected.str());
}

TEST_CASE("a large generated log streams with state bounded by the limits, not by lines", "[report]") {
  const auto path = std::filesystem::temp_directory_path() / ("report_stream_" + std::to_string(::getpid()) + ".log");
  constexpr int line_count = 200'000;
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < line_count; ++i) {
      const int sec = i / 10;
      char line[512];
      std::snprintf(
          line, sizeof line,
          R"({"time":"2026-11-22T%02d:%02d:%02d.%03dZ","client":"10.0.%d.%d","site":"site%d.example",)"
          R"("host":"t%d.tracker.example","path":"/p/%d","purpose":"p%d","action":"%s","reason":"consent_missing",)"
          R"("consent":"%s","granted":["p%d"],"mode":"report-only"})",
          sec / 3600 % 24, sec / 60 % 60, sec % 60, i % 1000, i % 7, i % 13, i % 50, i % 500, i, i % 9,
          i % 3 == 0 ? "would_block" : "would_strip_cookie", i % 2 == 0 ? "missing" : "valid", i % 4);
      out << line << '\n';
      if (i % 1000 == 0) out << "garbage line " << i << '\n';
    }
  }
  Options o;
  o.limits.max_sites = 20;
  o.limits.max_hosts_per_site = 30;
  o.limits.max_consent_keys = 500;
  Analyzer a(o);
  std::ifstream in(path, std::ios::binary);
  std::size_t half_entries = 0;
  consent::report::LineReader reader(in, o.limits.max_line_bytes);
  a.begin_input(path.string());
  std::string_view line;
  std::uint64_t n = 0;
  while (reader.next(line) == consent::report::LineReader::Status::line) {
    a.add_line(line);
    if (++n == (line_count + line_count / 1000) / 2) half_entries = a.state_entries();
  }
  std::filesystem::remove(path);
  const auto s = a.summary();
  CHECK(s["lines"]["records"] == line_count);
  CHECK(s["lines"]["malformed"] == line_count / 1000);
  CHECK(s["sites"].size() == 21);  // 20 + "(other)"
  CHECK(s["limits"]["hit"]["sites"].get<std::uint64_t>() > 0);
  CHECK(s["limits"]["hit"]["hosts"].get<std::uint64_t>() > 0);
  // The second half adds nothing but activity bars (at most 60 per site).
  CHECK(a.state_entries() <= half_entries + 21 * 60);
  // Each site: <= 31 hosts, <= 9 purposes, <= 100 events, <= 20 examples, <= 60 bars.
  CHECK(a.state_entries() < 21 * (31 + 9 + 100 + 20 + 60) + 500 + 64 + 40);
  CHECK(s["sites"][0]["activity"]["buckets"].size() <= 60);
}
