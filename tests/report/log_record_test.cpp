#include "report/log_record.hpp"

#include <catch2/catch.hpp>
#include <string>

using consent::report::Action;
using consent::report::format_rfc3339_ms;
using consent::report::LineError;
using consent::report::LogRecord;
using consent::report::parse_log_line;
using consent::report::parse_rfc3339_ms;

TEST_CASE("a full decision log line parses into every field", "[report]") {
  const std::string line =
      R"({"time":"2026-11-22T13:09:02.123Z","exchange_id":42,"client":"127.0.0.1","site":"news.example","method":"GET",)"
      R"("host":"www.google-analytics.com","path":"/g/collect","purpose":"analytics","action":"would_block",)"
      R"("reason":"consent_missing","rule":"google-analytics/domains[0]","cookies":["_ga","_gid"],)"
      R"("max_age":31536000,"status":204,"consent":"missing","consent_source":"none","granted":["ads"],)"
      R"("gpc":true,"mode":"report-only","policy_hash":"0123456789abcdef"})";
  LogRecord r;
  REQUIRE_FALSE(parse_log_line(line, r));
  CHECK(r.time_ms == 1'795'352'942'123);
  CHECK(r.client == "127.0.0.1");
  CHECK(r.site == "news.example");
  CHECK(r.host == "www.google-analytics.com");
  CHECK(r.path == "/g/collect");
  CHECK(r.purpose == "analytics");
  CHECK(r.action == Action::would_block);
  CHECK(r.reason == "consent_missing");
  CHECK(r.rule == "google-analytics/domains[0]");
  CHECK(r.cookies == std::vector<std::string>{"_ga", "_gid"});
  CHECK(r.max_age == 31536000);
  CHECK(r.consent == "missing");
  CHECK(r.has_granted);
  CHECK(r.granted == std::vector<std::string>{"ads"});
  CHECK(r.mode == "report-only");
  CHECK(r.is_report_only());
}

TEST_CASE("the minimal line has time, action and mode; absent keys stay empty", "[report]") {
  LogRecord r;
  REQUIRE_FALSE(parse_log_line(R"({"time":"2026-11-22T13:09:02Z","action":"block","mode":"enforce"})", r));
  CHECK(r.action == Action::block);
  CHECK_FALSE(r.is_report_only());
  CHECK(r.max_age == -1);
  CHECK_FALSE(r.has_granted);
  CHECK(r.site.empty());
}

TEST_CASE("every action string of decision_log.cpp is known", "[report]") {
  for (const char* a : {"allow", "block", "strip_cookie", "drop_set_cookie", "cap_set_cookie", "would_block",
                        "would_strip_cookie", "would_drop_set_cookie", "would_cap_set_cookie"}) {
    const auto parsed = consent::report::parse_action(a);
    REQUIRE(parsed);
    CHECK(consent::report::to_string(*parsed) == a);
  }
  CHECK_FALSE(consent::report::parse_action("Block"));
  CHECK_FALSE(consent::report::parse_action(""));
  CHECK(consent::report::enforcing(Action::would_cap_set_cookie) == Action::cap_set_cookie);
  CHECK(consent::report::is_would(Action::would_block));
  CHECK_FALSE(consent::report::is_would(Action::allow));
}

TEST_CASE("malformed lines are classified, never thrown", "[report]") {
  LogRecord r;
  const auto error = [&](std::string_view line) { return parse_log_line(line, r); };
  CHECK(error("") == LineError::invalid_json);
  CHECK(error("{") == LineError::invalid_json);
  CHECK(error("{\"time\":\"\xff\"}") == LineError::invalid_json);
  CHECK(error("\"just a string\"") == LineError::not_an_object);
  CHECK(error("null") == LineError::not_an_object);
  CHECK(error(R"({"action":"block","mode":"enforce"})") == LineError::missing_field);
  CHECK(error(R"({"time":"2026-11-22T13:09:02Z","mode":"enforce"})") == LineError::missing_field);
  CHECK(error(R"({"time":"2026-11-22T13:09:02Z","action":"block"})") == LineError::missing_field);
  CHECK(error(R"({"time":5,"action":"block","mode":"enforce"})") == LineError::bad_field);
  CHECK(error(R"({"time":"2026-02-30T13:09:02Z","action":"block","mode":"enforce"})") == LineError::bad_field);
  CHECK(error(R"({"time":"2026-11-22T13:09:02Z","action":"nuke","mode":"enforce"})") == LineError::unknown_action);
  CHECK(error(R"({"time":"2026-11-22T13:09:02Z","action":"block","mode":"enforce","granted":[1]})") ==
        LineError::bad_field);
  CHECK(error(R"({"time":"2026-11-22T13:09:02Z","action":"block","mode":"enforce","max_age":1.5})") ==
        LineError::bad_field);
  CHECK(error(R"({"time":"2026-11-22T13:09:02Z","action":"block","mode":"enforce","gpc":"yes"})") ==
        LineError::bad_field);
  CHECK(error(R"({"time":"2026-11-22T13:09:02Z","action":"block","mode":"enforce","exchange_id":-1})") ==
        LineError::bad_field);
  CHECK(error(R"({"time":"2026-11-22T13:09:02Z","action":"block","mode":"enforce","site":null})") ==
        LineError::bad_field);
  // Deep nesting is data, not a stack overflow.
  CHECK(error(std::string(100'000, '[')) == LineError::invalid_json);
}

TEST_CASE("a trailing CR and unknown keys are tolerated", "[report]") {
  LogRecord r;
  CHECK_FALSE(parse_log_line(
      "{\"time\":\"2026-11-22T13:09:02Z\",\"action\":\"allow\",\"mode\":\"enforce\",\"new\":[{}]}\r", r));
}

TEST_CASE("RFC 3339 times parse to UTC milliseconds, offsets included", "[report]") {
  CHECK(parse_rfc3339_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339_ms("1970-01-01T00:00:00.5Z") == 500);
  CHECK(parse_rfc3339_ms("1970-01-01T00:00:00.123456Z") == 123);
  CHECK(parse_rfc3339_ms("1970-01-01T01:00:00+01:00") == 0);
  CHECK(parse_rfc3339_ms("1969-12-31T23:00:00-01:00") == 0);
  CHECK(parse_rfc3339_ms("1969-12-31T23:59:59.999Z") == -1);
  CHECK(parse_rfc3339_ms("2024-02-29T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2023-02-29T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2026-11-22T24:00:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2026-11-22T13:09:02"));
  CHECK_FALSE(parse_rfc3339_ms("2026-11-22T13:09:02.Z"));
  CHECK_FALSE(parse_rfc3339_ms("2026-11-22T13:09:02Zjunk"));
  CHECK_FALSE(parse_rfc3339_ms(""));
  CHECK(format_rfc3339_ms(1'795'352'942'123) == "2026-11-22T13:09:02.123Z");
  CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
  for (const std::int64_t ms : {0LL, 1LL, 86'399'999LL, 1'795'352'942'123LL, 951'782'400'000LL}) {
    CHECK(parse_rfc3339_ms(format_rfc3339_ms(ms)) == ms);
  }
}
