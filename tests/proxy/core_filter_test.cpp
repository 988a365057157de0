// The enforcement filters with a hand-built Exchange (STYLE section 8): status, decision, reason, counter.
#include "proxy/consent_filter.hpp"

#include <catch2/catch.hpp>

#include <chrono>

#include "proxy/consent_ledger.hpp"
#include "proxy/decision_log.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_parser.hpp"
#include "proxy/runtime.hpp"

using namespace consent;
using namespace consent::proxy;

namespace {

policy::Located located(std::string value) { return policy::Located{std::move(value), {}}; }

std::shared_ptr<const Generation> make_generation(config::Mode mode) {
  policy::Document doc;
  doc.name = "filter test";
  doc.purposes.push_back(policy::PurposeDef{"strictly-necessary", "Necessary", policy::Exemption::always, {}, {}});
  doc.purposes.push_back(policy::PurposeDef{"advertising", "Advertising", policy::Exemption::none, {"ads"}, {}});
  policy::TrackerRule tracker;
  tracker.id = "ad-tracker";
  tracker.purpose = located("advertising");
  tracker.domains.push_back(located("ads.example"));
  tracker.cookies.push_back(located("_ad"));
  doc.trackers.push_back(tracker);
  auto built = policy::Engine::build(doc);
  REQUIRE(built.diagnostics.empty());
  auto g = std::make_shared<Generation>();
  g->settings.mode = mode;
  g->engine = built.engine;
  return g;
}

struct Fixture {
  explicit Fixture(config::Mode mode = config::Mode::enforce)
      : runtime(make_generation(mode), std::make_unique<ConsentLedger>(100), nullptr) {}
  Runtime runtime;

  Exchange exchange(const std::string& raw, std::string host) {
    Exchange x(1, runtime.generation(), &runtime);
    RequestParser parser(config::Limits{});
    const auto step = parser.feed(raw);
    REQUIRE(step.event == ParseEvent::head);
    x.request = std::move(parser.head());
    x.client = "127.0.0.1";
    x.host = std::move(host);
    x.path_and_query = "/p";
    x.now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return x;
  }
};

}  // namespace

TEST_CASE("the consent gate blocks a tracker without consent and answers locally", "[proxy][core]") {
  Fixture f;
  auto x = f.exchange("GET http://ads.example/p HTTP/1.1\r\nHost: ads.example\r\nReferer: http://news.example/\r\n\r\n",
                      "ads.example");
  CHECK(ConsentGate{}.on_request(x) == FilterStatus::respond);
  CHECK(x.decision.verdict == policy::Verdict::block);
  CHECK(x.decision.reason == policy::reason::consent_missing);
  REQUIRE(x.local_reply);
  CHECK(x.first_party.site == "news.example");
  CHECK(f.runtime.stats().blocks.load() == 1);
}

TEST_CASE("the consent gate lets a tracker through after the site recorded consent", "[proxy][core]") {
  Fixture f;
  auto page = f.exchange(
      "GET http://news.example/ HTTP/1.1\r\nHost: news.example\r\nSec-Fetch-Dest: document\r\n"
      "Sec-Fetch-Mode: navigate\r\nCookie: eu-consent=advertising:true\r\n\r\n",
      "news.example");
  CHECK(ConsentGate{}.on_request(page) == FilterStatus::proceed);
  CHECK(page.is_first_party_request);
  auto x = f.exchange("GET http://ads.example/p HTTP/1.1\r\nHost: ads.example\r\nReferer: http://news.example/\r\n\r\n",
                      "ads.example");
  CHECK(ConsentGate{}.on_request(x) == FilterStatus::proceed);
  CHECK(x.consent.source == policy::ConsentSource::ledger);
  CHECK(x.decision.verdict != policy::Verdict::block);
  CHECK(f.runtime.stats().blocks.load() == 0);
}

TEST_CASE("report-only mode decides a block but proceeds", "[proxy][core]") {
  Fixture f(config::Mode::report_only);
  auto x = f.exchange("GET http://ads.example/p HTTP/1.1\r\nHost: ads.example\r\n\r\n", "ads.example");
  CHECK(ConsentGate{}.on_request(x) == FilterStatus::proceed);
  CHECK(x.decision.verdict == policy::Verdict::block);
  CHECK_FALSE(x.local_reply);
  CHECK(f.runtime.stats().blocks.load() == 1);
}

TEST_CASE("the cookie filter removes cookies of a refused purpose only", "[proxy][core]") {
  Fixture f;
  auto x = f.exchange(
      "GET http://news.example/ HTTP/1.1\r\nHost: news.example\r\nSec-Fetch-Dest: document\r\n"
      "Cookie: _ad=1; sid=2; eu-consent=advertising:false\r\n\r\n",
      "news.example");
  REQUIRE(ConsentGate{}.on_request(x) == FilterStatus::proceed);
  CHECK(CookieFilter{}.on_request(x) == FilterStatus::proceed);
  const auto cookie = std::string(x.request.headers.get("Cookie"));
  CHECK(cookie.find("_ad") == std::string::npos);
  CHECK(cookie.find("sid=2") != std::string::npos);
  CHECK(f.runtime.stats().cookie_strips.load() == 1);
}

TEST_CASE("the Set-Cookie filter drops a refused tracker cookie and keeps the rest", "[proxy][core]") {
  Fixture f;
  auto x = f.exchange("GET http://news.example/ HTTP/1.1\r\nHost: news.example\r\nSec-Fetch-Dest: document\r\n\r\n",
                      "news.example");
  REQUIRE(ConsentGate{}.on_request(x) == FilterStatus::proceed);
  ResponseParser rp(config::Limits{});
  rp.reset(Method::get);
  const auto step =
      rp.feed("HTTP/1.1 200 OK\r\nSet-Cookie: _ad=1; Max-Age=100\r\nSet-Cookie: sid=2\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(step.event == ParseEvent::head);
  x.response = rp.head();
  SetCookieFilter{}.on_response(x);
  CHECK(x.response->headers.count("Set-Cookie") == 1);
  CHECK(x.response->headers.get("Set-Cookie") == "sid=2");
  CHECK(f.runtime.stats().set_cookie_drops.load() == 1);
}
