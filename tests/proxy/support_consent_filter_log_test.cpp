// What the enforcement filters write into the decision log (issue 7): the violation each decision is
// about, the purposes granted, the client as IPv4 when it came v4-mapped, the lifetime the origin asked
// for when a Set-Cookie is capped, and CNAME-cloaked trackers. Hand-built exchanges (STYLE section 8),
// a real DecisionLog writing a real file, and every line read back with `consentgate report`'s parser.
#include "proxy/consent_filter.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "proxy/consent_ledger.hpp"
#include "proxy/decision_log.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_parser.hpp"
#include "proxy/runtime.hpp"
#include "report/log_record.hpp"

using namespace consent;
using namespace consent::proxy;

namespace {

policy::Located located(std::string value) { return policy::Located{std::move(value), {}}; }

std::shared_ptr<const Generation> make_generation(config::Mode mode) {
  policy::Document doc;
  doc.name = "filter log test";
  doc.purposes.push_back(policy::PurposeDef{"strictly-necessary", "Necessary", policy::Exemption::always, {}, {}});
  doc.purposes.push_back(policy::PurposeDef{"advertising", "Advertising", policy::Exemption::none, {"ads"}, {}});
  doc.purposes.push_back(policy::PurposeDef{"social-media", "Social media", policy::Exemption::none, {}, {}});
  policy::TrackerRule ads;
  ads.id = "ad-tracker";
  ads.purpose = located("advertising");
  ads.domains.push_back(located("ads.example"));
  ads.cookies.push_back(located("_ad"));
  doc.trackers.push_back(ads);
  policy::TrackerRule necessary;
  necessary.id = "consent-choice-cookies";
  necessary.purpose = located("strictly-necessary");
  necessary.cookies.push_back(located("eu-consent"));
  doc.trackers.push_back(necessary);
  auto built = policy::Engine::build(doc);
  REQUIRE(built.diagnostics.empty());
  auto g = std::make_shared<Generation>();
  g->settings.mode = mode;
  g->engine = built.engine;
  return g;
}

std::filesystem::path temp_log(std::string_view name) {
  auto p = std::filesystem::temp_directory_path() /
           ("consentgate-filter-log-" + std::to_string(::getpid()) + "-" + std::string(name) + ".log");
  std::filesystem::remove(p);
  return p;
}

std::unique_ptr<DecisionLog> open_log(const std::filesystem::path& path) {
  std::string error;
  auto log = DecisionLog::open(DecisionLog::Options{path.string(), 1024, false}, error);
  REQUIRE(log);
  return log;
}

struct Fixture {
  explicit Fixture(std::string_view name, config::Mode mode = config::Mode::enforce)
      : path(temp_log(name)), runtime(make_generation(mode), std::make_unique<ConsentLedger>(100), open_log(path)) {}
  ~Fixture() { std::filesystem::remove(path); }
  std::filesystem::path path;
  Runtime runtime;

  Exchange exchange(const std::string& raw, std::string host, std::string client = "127.0.0.1") {
    Exchange x(1, runtime.generation(), &runtime);
    RequestParser parser(config::Limits{});
    const auto step = parser.feed(raw);
    REQUIRE(step.event == ParseEvent::head);
    x.request = std::move(parser.head());
    x.client = std::move(client);
    x.host = std::move(host);
    x.path_and_query = "/p";
    x.now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return x;
  }

  // Every line written so far, parsed the way `consentgate report` parses it.
  std::vector<report::LogRecord> records() {
    runtime.decision_log()->flush();
    std::ifstream in(path);
    std::vector<report::LogRecord> out;
    for (std::string line; std::getline(in, line);) {
      INFO(line);
      report::LogRecord r;
      REQUIRE_FALSE(report::parse_log_line(line, r));
      out.push_back(std::move(r));
    }
    return out;
  }
};

void respond(Exchange& x, const std::string& raw) {
  ResponseParser rp(config::Limits{});
  rp.reset(Method::get);
  REQUIRE(rp.feed(raw).event == ParseEvent::head);
  x.response = rp.head();
}

const std::string page_with =
    "GET http://news.example/ HTTP/1.1\r\nHost: news.example\r\nSec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n";

}  // namespace

TEST_CASE("report-only names a tracker reached before any consent, with the client as IPv4", "[proxy]") {
  Fixture f("before-consent", config::Mode::report_only);
  auto x = f.exchange("GET http://ads.example/p HTTP/1.1\r\nHost: ads.example\r\nReferer: http://news.example/\r\n\r\n",
                      "ads.example", "::ffff:10.0.0.7");
  CHECK(ConsentGate{}.on_request(x) == FilterStatus::proceed);
  CHECK_FALSE(x.local_reply);
  const auto lines = f.records();
  REQUIRE(lines.size() == 1);
  CHECK(to_string(lines[0].action) == "would_block");
  CHECK(lines[0].violation == "tracker_before_consent");
  CHECK(lines[0].client == "10.0.0.7");
  CHECK(lines[0].consent == "missing");
  CHECK_FALSE(lines[0].has_granted);
  CHECK(lines[0].purpose == "advertising");
  CHECK(lines[0].mode == "report-only");
}

TEST_CASE("a block against a valid consent lists what it grants and names the refusal", "[proxy]") {
  Fixture f("granted");
  auto page = f.exchange(page_with + "Cookie: eu-consent=social-media:true,advertising:false\r\n\r\n", "news.example");
  REQUIRE(ConsentGate{}.on_request(page) == FilterStatus::proceed);
  auto x = f.exchange("GET http://ads.example/p HTTP/1.1\r\nHost: ads.example\r\nReferer: http://news.example/\r\n\r\n",
                      "ads.example");
  CHECK(ConsentGate{}.on_request(x) == FilterStatus::respond);
  const auto lines = f.records();
  REQUIRE(lines.size() == 1);
  CHECK(to_string(lines[0].action) == "block");
  CHECK(lines[0].violation == "tracker_without_consent");
  CHECK(lines[0].consent == "valid");
  REQUIRE(lines[0].has_granted);
  CHECK(lines[0].granted == std::vector<std::string>{"social-media"});
}

TEST_CASE("a cookie of a purpose the client withdrew on this site is named withdrawn_cookie_sent", "[proxy]") {
  Fixture f("withdrawn", config::Mode::report_only);
  auto accepted = f.exchange(page_with + "Cookie: eu-consent=advertising:true\r\n\r\n", "news.example");
  REQUIRE(ConsentGate{}.on_request(accepted) == FilterStatus::proceed);
  REQUIRE(CookieFilter{}.on_request(accepted) == FilterStatus::proceed);
  auto withdrawn = f.exchange(page_with + "Cookie: _ad=1; eu-consent=advertising:false\r\n\r\n", "news.example");
  REQUIRE(ConsentGate{}.on_request(withdrawn) == FilterStatus::proceed);
  REQUIRE(CookieFilter{}.on_request(withdrawn) == FilterStatus::proceed);
  CHECK(withdrawn.request.headers.get("Cookie").find("_ad=1") != std::string_view::npos);  // report-only
  // Another client never granted it: the same strip is a plain cookie_without_consent.
  auto other = f.exchange(page_with + "Cookie: _ad=1; eu-consent=advertising:false\r\n\r\n", "news.example", "::1");
  REQUIRE(ConsentGate{}.on_request(other) == FilterStatus::proceed);
  REQUIRE(CookieFilter{}.on_request(other) == FilterStatus::proceed);
  const auto lines = f.records();
  REQUIRE(lines.size() == 2);
  CHECK(to_string(lines[0].action) == "would_strip_cookie");
  CHECK(lines[0].violation == "withdrawn_cookie_sent");
  CHECK(lines[0].cookies == std::vector<std::string>{"_ad"});
  CHECK(lines[0].has_granted);
  CHECK(lines[0].granted.empty());
  CHECK(lines[1].violation == "cookie_without_consent");
  CHECK(lines[1].client == "::1");
}

TEST_CASE("a capped Set-Cookie logs the lifetime the origin asked for", "[proxy]") {
  Fixture f("cap");
  auto x = f.exchange(page_with + "\r\n", "news.example");
  REQUIRE(ConsentGate{}.on_request(x) == FilterStatus::proceed);
  respond(x,
          "HTTP/1.1 200 OK\r\nSet-Cookie: eu-consent=advertising:true; Max-Age=63072000\r\n"
          "Set-Cookie: _ad=1; Max-Age=100\r\nSet-Cookie: junk\r\nContent-Length: 0\r\n\r\n");
  SetCookieFilter{}.on_response(x);
  const auto capped = std::string(x.response->headers.get("Set-Cookie"));
  CHECK(capped.find("Max-Age=15811200") != std::string::npos);  // 183 days
  const auto lines = f.records();
  REQUIRE(lines.size() == 3);
  CHECK(to_string(lines[0].action) == "cap_set_cookie");
  CHECK(lines[0].max_age == 63'072'000);
  CHECK(lines[0].violation == "consent_cookie_too_long");
  CHECK(lines[0].cookies == std::vector<std::string>{"eu-consent"});
  CHECK(to_string(lines[1].action) == "drop_set_cookie");
  CHECK(lines[1].violation == "set_cookie_before_consent");
  CHECK(lines[1].max_age == -1);
  // An unparseable Set-Cookie is dropped for safety, not for a purpose: no violation is named.
  CHECK(to_string(lines[2].action) == "drop_set_cookie");
  CHECK(lines[2].reason == "set_cookie_invalid");
  CHECK(lines[2].violation.empty());
}

TEST_CASE("a first-party name that is a CNAME to a tracker is blocked as cname_cloaked", "[proxy]") {
  for (const auto mode : {config::Mode::enforce, config::Mode::report_only}) {
    Fixture f(mode == config::Mode::enforce ? "cname-enforce" : "cname-report-only", mode);
    auto x = f.exchange(
        "GET http://metrics.news.example/p HTTP/1.1\r\nHost: metrics.news.example\r\nReferer: "
        "http://news.example/\r\n\r\n",
        "metrics.news.example");
    REQUIRE(ConsentGate{}.on_request(x) == FilterStatus::proceed);
    CHECK(judge_cname_target(x, "metrics.news.example") == FilterStatus::proceed);  // no CNAME: nothing to do
    CHECK(judge_cname_target(x, "cdn.example") == FilterStatus::proceed);           // a CNAME to no tracker
    const bool enforce = mode == config::Mode::enforce;
    CHECK(judge_cname_target(x, "edge.ads.example") == (enforce ? FilterStatus::respond : FilterStatus::proceed));
    CHECK(x.local_reply.has_value() == enforce);
    CHECK(x.decision.reason == "cname_cloaked");
    CHECK(x.decision.rule_id == "ad-tracker/domains[0]");
    CHECK(f.runtime.stats().blocks.load() == 1);
    const auto lines = f.records();
    REQUIRE(lines.size() == 1);
    CHECK(to_string(lines[0].action) == (enforce ? "block" : "would_block"));
    CHECK(lines[0].reason == "cname_cloaked");
    CHECK(lines[0].violation == "cname_cloaked_tracker");
    CHECK(lines[0].host == "metrics.news.example");
    CHECK(lines[0].purpose == "advertising");
  }
}
