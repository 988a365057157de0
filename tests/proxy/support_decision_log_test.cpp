#include "proxy/decision_log.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using consent::proxy::DecisionLog;
using consent::proxy::DecisionRecord;
using consent::proxy::LogAction;
namespace detail = consent::proxy::detail;

namespace {

std::string json_string(std::string_view s, std::size_t max = 4096) {
  std::string out;
  detail::append_json_string(out, s, max);
  return out;
}

std::chrono::system_clock::time_point at_ms(std::int64_t ms) {
  return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}};
}

DecisionRecord sample() {
  DecisionRecord r;
  r.time = at_ms(1'795'352'942'123);  // 2026-11-22T13:09:02.123Z
  r.exchange_id = 42;
  r.client = "127.0.0.1";
  r.site = "news.example";
  r.method = "GET";
  r.host = "www.google-analytics.com";
  r.path = "/g/collect?v=2&cid=123.456";
  r.purpose = "analytics";
  r.action = LogAction::block;
  r.reason = "consent_missing";
  r.rule_id = "google-analytics/domains[0]";
  r.cookie_names = {"_ga", "_gid"};
  r.status = 204;
  r.consent = consent::policy::ConsentStatus::missing;
  r.consent_source = consent::policy::ConsentSource::none;
  r.policy_hash = "0123456789abcdef";
  return r;
}

// A temporary file path unique to this process and test.
std::filesystem::path temp_log(std::string_view name) {
  auto p = std::filesystem::temp_directory_path() /
           ("consentgate-support-" + std::to_string(::getpid()) + "-" + std::string(name) + ".log");
  std::filesystem::remove(p);
  return p;
}

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("a decision record becomes one JSON line with the documented keys", "[proxy]") {
  const auto line = DecisionLog::format(sample(), false);
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);
  CHECK(
      line ==
      R"({"time":"2026-11-22T13:09:02.123Z","exchange_id":42,"client":"127.0.0.1","site":"news.example","method":"GET",)"
      R"("host":"www.google-analytics.com","path":"/g/collect","purpose":"analytics","action":"block",)"
      R"("reason":"consent_missing","rule":"google-analytics/domains[0]","cookies":["_ga","_gid"],"status":204,)"
      R"("consent":"missing","consent_source":"none","mode":"enforce","policy_hash":"0123456789abcdef"})"
      "\n");
}

TEST_CASE("the query string is logged only with log_full_urls", "[proxy]") {
  auto r = sample();
  CHECK(nlohmann::json::parse(DecisionLog::format(r, false))["path"] == "/g/collect");
  CHECK(nlohmann::json::parse(DecisionLog::format(r, true))["path"] == "/g/collect?v=2&cid=123.456");
  r.path = "/a#frag?x";
  CHECK(nlohmann::json::parse(DecisionLog::format(r, false))["path"] == "/a");
}

TEST_CASE("report-only actions, optional fields and consent state are written", "[proxy]") {
  auto r = sample();
  r.action = consent::proxy::report_only(LogAction::drop_set_cookie);
  r.mode = consent::config::Mode::report_only;
  r.max_age_seconds = 34'190'000;
  r.granted = {"ads", "social"};
  r.gpc = true;
  r.consent = consent::policy::ConsentStatus::valid;
  r.consent_source = consent::policy::ConsentSource::ledger;
  const auto j = nlohmann::json::parse(DecisionLog::format(r, false));
  CHECK(j["action"] == "would_drop_set_cookie");
  CHECK(j["mode"] == "report-only");
  CHECK(j["max_age"] == 34'190'000);
  CHECK(j["granted"] == nlohmann::json::array({"ads", "social"}));
  CHECK(j["gpc"] == true);
  CHECK(j["consent"] == "valid");
  CHECK(j["consent_source"] == "ledger");
  CHECK(consent::proxy::report_only(LogAction::allow) == LogAction::allow);
  CHECK(consent::proxy::report_only(LogAction::would_block) == LogAction::would_block);
}

TEST_CASE("the violation is named and a valid consent always lists what it grants", "[proxy]") {
  auto r = sample();
  r.violation = consent::proxy::ViolationKind::withdrawn_cookie_sent;
  r.consent = consent::policy::ConsentStatus::valid;
  auto j = nlohmann::json::parse(DecisionLog::format(r, false));
  CHECK(j["violation"] == "withdrawn_cookie_sent");
  // A valid choice that refuses everything is written as [], so a reader sees the withdrawal.
  CHECK(j["granted"] == nlohmann::json::array());
  r.consent = consent::policy::ConsentStatus::missing;
  r.violation.reset();
  j = nlohmann::json::parse(DecisionLog::format(r, false));
  CHECK_FALSE(j.contains("violation"));
  CHECK_FALSE(j.contains("granted"));
}

TEST_CASE("v4-mapped client addresses are logged as IPv4", "[proxy]") {
  using detail::loggable_client;
  CHECK(loggable_client("::ffff:10.1.2.3") == "10.1.2.3");
  CHECK(loggable_client("::FFFF:127.0.0.1") == "127.0.0.1");
  CHECK(loggable_client("127.0.0.1") == "127.0.0.1");
  CHECK(loggable_client("::1") == "::1");
  CHECK(loggable_client("::ffff:") == "::ffff:");
  CHECK(loggable_client("::ffff:a.b.c.d") == "::ffff:a.b.c.d");
  CHECK(loggable_client("::ffff:1.2.3") == "::ffff:1.2.3");
  CHECK(loggable_client("::ffff:0:10.1.2.3") == "::ffff:0:10.1.2.3");  // v4-translated: another address
  CHECK(loggable_client("2001:db8::ffff:1.2.3.4") == "2001:db8::ffff:1.2.3.4");
  auto r = sample();
  r.client = "::ffff:192.0.2.7";
  CHECK(nlohmann::json::parse(DecisionLog::format(r, false))["client"] == "192.0.2.7");
}

TEST_CASE("empty optional fields are left out", "[proxy]") {
  DecisionRecord r;
  r.time = at_ms(0);
  const auto j = nlohmann::json::parse(DecisionLog::format(r, false));
  CHECK(j["time"] == "1970-01-01T00:00:00.000Z");
  CHECK(j["action"] == "allow");
  CHECK_FALSE(j.contains("site"));
  CHECK_FALSE(j.contains("cookies"));
  CHECK_FALSE(j.contains("exchange_id"));
  CHECK_FALSE(j.contains("max_age"));
}

TEST_CASE("timestamps are RFC 3339 UTC with milliseconds", "[proxy]") {
  std::string out;
  detail::append_rfc3339_ms(out, at_ms(951'782'400'007));  // leap day 2000
  CHECK(out == "2000-02-29T00:00:00.007Z");
  out.clear();
  detail::append_rfc3339_ms(out, at_ms(7'258'118'399'999));
  CHECK(out == "2199-12-31T23:59:59.999Z");
}

TEST_CASE("JSON escaping handles quotes, backslashes and control characters", "[proxy]") {
  CHECK(json_string("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_string("\n\r\t") == R"("\n\r\t")");
  CHECK(json_string(std::string_view("\0\x01\x1f\x7f", 4)) == R"("\u0000\u0001\u001f\u007f")");
  CHECK(json_string("") == R"("")");
}

TEST_CASE("JSON escaping keeps valid UTF-8 and replaces each invalid byte", "[proxy]") {
  CHECK(json_string("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
  CHECK(json_string("\xf0\x9f\x8d\xaa") == "\"\xf0\x9f\x8d\xaa\"");
  CHECK(json_string("\xff") == R"("\ufffd")");
  CHECK(json_string("\xc3") == R"("\ufffd")");                                // truncated sequence
  CHECK(json_string("\xc0\xaf") == R"("\ufffd\ufffd")");                      // overlong '/'
  CHECK(json_string("\xe0\x80\xaf") == R"("\ufffd\ufffd\ufffd")");            // overlong 3-byte
  CHECK(json_string("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");            // UTF-16 surrogate
  CHECK(json_string("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
  CHECK(json_string("\xe2\x80\xa8\xe2\x80\xa9") == R"("\u2028\u2029")");
}

TEST_CASE("every single byte and hostile field values produce parseable JSON", "[proxy]") {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::string s = std::string("x") + c + "y";
    INFO("byte " << b);
    CHECK_NOTHROW(nlohmann::json::parse(json_string(s)));
  }
  auto r = sample();
  const std::string hostile = std::string("evil\"},{\"action\":\"allow\"\n\r\0\xff\xfe", 26);
  r.host = hostile;
  r.path = hostile;
  r.method = hostile;
  r.cookie_names = {hostile, "\xc3"};
  const auto line = DecisionLog::format(r, true);
  REQUIRE(line.find('\n') == line.size() - 1);  // one line whatever the input
  const auto j = nlohmann::json::parse(line);
  CHECK(j["action"] == "block");
  CHECK(j["cookies"].size() == 2);
}

TEST_CASE("long fields are cut at a UTF-8 boundary and marked", "[proxy]") {
  std::string s;
  for (int i = 0; i < 2000; ++i) s += "\xc3\xa9";  // 4000 bytes of é
  const auto out = json_string(s, 2047);
  CHECK(out.size() == 1 + 2046 + 3 + 1);
  CHECK(out.substr(out.size() - 4) == "...\"");
  CHECK_NOTHROW(nlohmann::json::parse(out));
  auto r = sample();
  const std::string huge(100'000, 'a');
  r.path = huge;
  CHECK(DecisionLog::format(r, true).size() < 3000);
}

TEST_CASE("lines reach the file and survive shutdown", "[proxy]") {
  const auto path = temp_log("basic");
  std::string error;
  {
    auto log = DecisionLog::open({path.string(), 1024, false}, error);
    REQUIRE(log);
    for (int i = 0; i < 100; ++i) {
      auto r = sample();
      r.exchange_id = static_cast<std::uint64_t>(i + 1);
      log->log(r);
    }
  }  // the destructor drains the queue
  const auto lines = read_lines(path);
  REQUIRE(lines.size() == 100);
  for (std::size_t i = 0; i < lines.size(); ++i) CHECK(nlohmann::json::parse(lines[i])["exchange_id"] == i + 1);
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  std::filesystem::remove(path);
}

TEST_CASE("an unopenable log path is reported", "[proxy]") {
  std::string error;
  auto log = DecisionLog::open({"/nonexistent-dir-consentgate/x.log", 16, false}, error);
  CHECK_FALSE(log);
  CHECK(error.find("cannot open /nonexistent-dir-consentgate/x.log") == 0);
}

TEST_CASE("a full queue drops lines and counts them instead of blocking", "[proxy]") {
  const auto path = temp_log("full");
  std::string error;
  auto log = DecisionLog::open({path.string(), 4, false}, error);
  REQUIRE(log);
  const auto r = sample();
  for (int i = 0; i < 5000; ++i) log->log(r);  // much faster than the writer can drain a queue of 4
  log->flush();
  CHECK(log->written() + log->dropped() == 5000);
  CHECK(log->dropped() > 0);
  CHECK(read_lines(path).size() == log->written());
  log.reset();
  std::filesystem::remove(path);
}

TEST_CASE("several threads log concurrently without losing or tearing lines", "[proxy]") {
  const auto path = temp_log("threads");
  std::string error;
  auto log = DecisionLog::open({path.string(), 100'000, false}, error);
  REQUIRE(log);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      auto r = sample();
      for (int i = 0; i < 500; ++i) {
        r.exchange_id = static_cast<std::uint64_t>(t * 1000 + i + 1);
        log->log(r);
      }
    });
  }
  for (auto& th : threads) th.join();
  log->flush();
  CHECK(log->dropped() == 0);
  CHECK(log->written() == 2000);
  const auto lines = read_lines(path);
  REQUIRE(lines.size() == 2000);
  for (const auto& l : lines) CHECK_NOTHROW(nlohmann::json::parse(l));
  log.reset();
  std::filesystem::remove(path);
}

TEST_CASE("reopen switches to a fresh file after rotation", "[proxy]") {
  const auto path = temp_log("rotate");
  const auto rotated = std::filesystem::path(path.string() + ".1");
  std::filesystem::remove(rotated);
  std::string error;
  auto log = DecisionLog::open({path.string(), 64, false}, error);
  REQUIRE(log);
  log->log(sample());
  log->flush();
  std::filesystem::rename(path, rotated);
  log->reopen();
  auto r = sample();
  r.exchange_id = 7;
  log->log(r);
  log->flush();
  CHECK(read_lines(rotated).size() == 1);
  const auto fresh = read_lines(path);
  REQUIRE(fresh.size() == 1);
  CHECK(nlohmann::json::parse(fresh[0])["exchange_id"] == 7);
  CHECK(log->reopen_failures() == 0);
  log.reset();
  std::filesystem::remove(path);
  std::filesystem::remove(rotated);
}

TEST_CASE("a failed reopen keeps the old file and is counted", "[proxy]") {
  const auto dir = std::filesystem::temp_directory_path() / ("consentgate-support-dir-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "d.log";
  std::string error;
  auto log = DecisionLog::open({path.string(), 64, false}, error);
  REQUIRE(log);
  const auto moved =
      std::filesystem::temp_directory_path() / ("consentgate-support-moved-" + std::to_string(::getpid()));
  std::filesystem::remove(moved);
  std::filesystem::rename(path, moved);
  std::filesystem::remove_all(dir);  // the path can no longer be created
  log->reopen();
  log->log(sample());
  log->flush();
  CHECK(log->reopen_failures() == 1);
  CHECK(read_lines(moved).size() == 1);
  log.reset();
  std::filesystem::remove(moved);
}

TEST_CASE("write errors count as dropped lines", "[proxy]") {
  std::string error;
  auto log = DecisionLog::open({"/dev/full", 16, false}, error);
  REQUIRE(log);
  log->log(sample());
  log->log(sample());
  log->flush();
  CHECK(log->written() == 0);
  CHECK(log->dropped() == 2);
}

TEST_CASE("a reader that went away costs lines, not the process", "[proxy]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::string error;
  auto log = DecisionLog::open({"/proc/self/fd/" + std::to_string(fds[1]), 16, false}, error);
  REQUIRE(log);
  ::close(fds[1]);
  ::close(fds[0]);  // without SIGPIPE blocked in the writer, the next write would kill the test binary
  log->log(sample());
  log->flush();
  CHECK(log->dropped() == 1);
}

TEST_CASE("cookie name lists are capped in count and length", "[proxy]") {
  auto r = sample();
  const std::string long_name(1000, 'n');
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i) names.push_back("c" + std::to_string(i));
  r.cookie_names.assign(names.begin(), names.end());
  r.cookie_names[0] = long_name;
  const auto j = nlohmann::json::parse(DecisionLog::format(r, false));
  REQUIRE(j["cookies"].size() == 65);
  CHECK(j["cookies"][64] == "...");
  CHECK(j["cookies"][0].get<std::string>().size() == 256 + 3);
  CHECK(j["cookies"][1] == "c1");
}

TEST_CASE("reopen_as moves the log to a new path, later lines only there", "[proxy]") {
  const auto first = temp_log("as-first");
  const auto second = temp_log("as-second");
  std::string error;
  auto log = DecisionLog::open({first.string(), 64, false}, error);
  REQUIRE(log);
  log->log(sample());
  log->flush();
  log->reopen_as(second.string());
  CHECK(log->path() == second.string());
  auto r = sample();
  r.exchange_id = 9;
  log->log(r);
  log->flush();
  CHECK(read_lines(first).size() == 1);
  const auto moved = read_lines(second);
  REQUIRE(moved.size() == 1);
  CHECK(nlohmann::json::parse(moved[0])["exchange_id"] == 9);
  // A plain reopen (log rotation) now reopens the new path.
  std::filesystem::remove(second);
  log->reopen();
  log->log(r);
  log->flush();
  CHECK(read_lines(second).size() == 1);
  CHECK(log->reopen_failures() == 0);
  log.reset();
  std::filesystem::remove(first);
  std::filesystem::remove(second);
}

TEST_CASE("reopen_as to a path that cannot be opened keeps writing to the old file", "[proxy]") {
  const auto path = temp_log("as-keep");
  std::string error;
  auto log = DecisionLog::open({path.string(), 64, false}, error);
  REQUIRE(log);
  log->reopen_as("/nonexistent-consentgate-dir/d.log");
  log->log(sample());
  log->flush();
  CHECK(log->reopen_failures() == 1);
  CHECK(read_lines(path).size() == 1);
  log.reset();
  std::filesystem::remove(path);
}
