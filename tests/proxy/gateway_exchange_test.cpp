// Gateway exchanges with a hand-built Exchange: routing, local replies, the request and response
// filters (STYLE section 8: status, decision, reason, counter).
#include "proxy/gateway.hpp"

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

config::GatewayRoute shop_route() {
  config::GatewayRoute r;
  r.name = "shop";
  r.listen = "127.0.0.1:8081";
  r.hosts = {"shop.example", "*.shop.example"};
  r.upstream = "http://127.0.0.1:3000";
  r.origin = {false, "127.0.0.1", 3000};
  r.csp_allow = {"https://cdn.shop-assets.example"};
  return r;
}

std::shared_ptr<const Generation> make_generation(config::CspMode csp = config::CspMode::enforce) {
  policy::Document doc;
  doc.name = "gateway test";
  doc.purposes.push_back(policy::PurposeDef{"strictly-necessary", "Necessary", policy::Exemption::always, {}, {}});
  doc.purposes.push_back(policy::PurposeDef{"analytics", "Analytics", policy::Exemption::none, {}, {}});
  doc.purposes.push_back(policy::PurposeDef{"advertising", "Advertising", policy::Exemption::none, {"ads"}, {}});
  policy::TrackerRule cmp;
  cmp.id = "cmp";
  cmp.purpose = located("strictly-necessary");
  cmp.domains.push_back(located("cmp.example"));
  doc.trackers.push_back(cmp);
  policy::TrackerRule ga;
  ga.id = "ga";
  ga.purpose = located("analytics");
  ga.domains.push_back(located("analytics.example"));
  ga.cookies.push_back(located("_ga"));
  doc.trackers.push_back(ga);
  policy::TrackerRule ads;
  ads.id = "ads";
  ads.purpose = located("advertising");
  ads.domains.push_back(located("ads.example"));
  ads.cookies.push_back(located("_ad"));
  ads.urls.push_back(located("^shop\\.example/pixel"));
  doc.trackers.push_back(ads);
  auto built = policy::Engine::build(doc);
  for (const auto& d : built.diagnostics) UNSCOPED_INFO(d.to_string());
  REQUIRE(built.diagnostics.empty());
  auto g = std::make_shared<Generation>();
  g->settings.mode = config::Mode::gateway;
  g->settings.gateway.routes.push_back(shop_route());
  g->settings.gateway.trusted_proxies = {"10.0.0.0/8"};
  g->settings.gateway.csp = csp;
  g->settings.gateway.csp_allow = {"'self'"};
  g->engine = built.engine;
  g->number = 7;
  return g;
}

struct Fixture {
  explicit Fixture(config::CspMode csp = config::CspMode::enforce)
      : runtime(make_generation(csp), std::make_unique<ConsentLedger>(100), nullptr) {
    listener.kind = ListenerKind::gateway;
    listener.listen = "127.0.0.1:8081";
  }
  Runtime runtime;
  ListenerContext listener;

  Exchange exchange(const std::string& raw, const std::string& client = "192.0.2.10") {
    Exchange x(1, runtime.generation(), &runtime);
    RequestParser parser(config::Limits{});
    const auto step = parser.feed(raw);
    REQUIRE(step.event == ParseEvent::head);
    x.request = std::move(parser.head());
    x.client = client;
    x.now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return x;
  }

  // prepare + request filters; the exchange is ready to go upstream.
  Exchange forwarded(const std::string& raw, const std::string& client = "192.0.2.10") {
    auto x = exchange(raw, client);
    REQUIRE(prepare_gateway_exchange(x, listener) == FilterStatus::proceed);
    REQUIRE(gateway_chain().run_request(x) == FilterStatus::proceed);
    return x;
  }

  static void respond(Exchange& x, const std::string& raw_response) {
    ResponseParser parser(config::Limits{});
    parser.reset(x.request.method);
    const auto step = parser.feed(raw_response);
    REQUIRE(step.event == ParseEvent::head);
    x.response = parser.head();
    gateway_chain().run_response(x);
  }
};

std::vector<std::string> values(const Headers& h, std::string_view name) {
  std::vector<std::string> out;
  for (const auto f : h) {
    if (iequals(f.name, name)) out.emplace_back(f.value);
  }
  return out;
}

}  // namespace

TEST_CASE("a routed request goes to the route's origin with the visitor's host and path", "[proxy][gateway]") {
  Fixture f;
  auto x = f.exchange("GET /cart?id=3 HTTP/1.1\r\nHost: WWW.Shop.Example:8081\r\n\r\n");
  CHECK(prepare_gateway_exchange(x, f.listener) == FilterStatus::proceed);
  CHECK(x.host == "www.shop.example");
  CHECK(x.port == 8081);
  CHECK(x.path_and_query == "/cart?id=3");
  REQUIRE(x.upstream.address);
  CHECK(x.upstream.address->host == "127.0.0.1");
  CHECK(x.upstream.address->port == "3000");
  CHECK_FALSE(x.upstream.tls);
  CHECK(x.upstream.tls_name == "127.0.0.1");
  CHECK_FALSE(x.client_tls);
}

TEST_CASE("an unknown Host gets 421 without echoing it", "[proxy][gateway]") {
  Fixture f;
  auto x = f.exchange("GET / HTTP/1.1\r\nHost: x!y.evil.example\r\n\r\n");
  // An invalid host name is a 400; a valid unknown one a 421.
  CHECK(prepare_gateway_exchange(x, f.listener) == FilterStatus::respond);
  CHECK(x.local_reply->status == 400);
  auto y = f.exchange("GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n");
  CHECK(prepare_gateway_exchange(y, f.listener) == FilterStatus::respond);
  CHECK(y.local_reply->status == 421);
  CHECK(y.local_reply->reason_code == "unknown_host");
  CHECK(y.local_reply->bytes.starts_with("HTTP/1.1 421 Misdirected Request\r\n"));
  CHECK(y.local_reply->bytes.find("evil") == std::string::npos);
  auto z = f.exchange("GET http://tracker.example/ HTTP/1.1\r\nHost: shop.example\r\n\r\n");
  CHECK(prepare_gateway_exchange(z, f.listener) == FilterStatus::respond);
  CHECK(z.local_reply->status == 421);
}

TEST_CASE("the health endpoint answers on any Host with the policy hash", "[proxy][gateway]") {
  Fixture f;
  auto x = f.exchange("GET /.consentgate/health HTTP/1.1\r\nHost: 10.1.2.3\r\n\r\n");
  CHECK(prepare_gateway_exchange(x, f.listener) == FilterStatus::respond);
  CHECK(x.local_reply->status == 200);
  const auto& bytes = x.local_reply->bytes;
  CHECK(bytes.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(bytes.find("\"policy_hash\":\"" + std::string(x.engine().policy_hash()) + "\"") != std::string::npos);
  CHECK(bytes.find("\"generation\":7") != std::string::npos);
  CHECK(bytes.find("\"status\":\"ok\"") != std::string::npos);
  CHECK_FALSE(x.local_reply->closes_connection);
}

TEST_CASE("a CSP report POST is answered 204 and closes when its body was not read", "[proxy][gateway]") {
  Fixture f;
  auto x = f.exchange(
      "POST /.consentgate/csp-report HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/csp-report\r\n"
      "Content-Length: 10\r\n\r\n");
  CHECK(prepare_gateway_exchange(x, f.listener) == FilterStatus::respond);
  CHECK(is_csp_report(x));
  CHECK(x.local_reply->status == 204);
  CHECK(x.local_reply->closes_connection);
  CHECK(x.local_reply->bytes.find("Content-Length") == std::string::npos);
  CHECK_FALSE(csp_report_reply(x, true).closes_connection);
  CHECK(record_csp_report(x, "not json") == 0);
  CHECK(record_csp_report(
            x, R"({"csp-report":{"document-uri":"https://shop.example/","blocked-uri":"https://ads.example/t.js"}})") ==
        1);
  CHECK(record_csp_report(x, R"([{"type":"csp-violation","body":{"documentURL":"https://shop.example/",
          "blockedURL":"https://x.ads.example/p?uid=1"}},{"type":"csp-violation","body":{"blockedURL":"inline"}}])") ==
        1);
}

TEST_CASE("towards the origin: refused cookies removed, forwarding and consent headers set", "[proxy][gateway]") {
  Fixture f;
  auto x = f.forwarded(
      "GET / HTTP/1.1\r\nHost: shop.example\r\nCookie: sid=1; _ga=GA1; _ad=2; eu-consent=analytics:true\r\n"
      "X-Forwarded-For: 6.6.6.6\r\nConsent-Purposes: advertising\r\n\r\n");
  CHECK(x.consent.status == policy::ConsentStatus::valid);
  CHECK(x.first_party.site == "shop.example");
  CHECK(x.request.headers.get("Cookie") == "sid=1; _ga=GA1; eu-consent=analytics:true");
  CHECK(x.request.headers.get("X-Forwarded-For") == "192.0.2.10");
  CHECK(x.request.headers.get("Forwarded") == "for=192.0.2.10;host=shop.example;proto=http");
  CHECK(values(x.request.headers, "Consent-Purposes") == std::vector<std::string>{"strictly-necessary, analytics"});
}

TEST_CASE("a trusted proxy's X-Forwarded-For is extended", "[proxy][gateway]") {
  Fixture f;
  auto x = f.forwarded("GET / HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n", "10.0.0.2");
  CHECK(x.request.headers.get("X-Forwarded-For") == "203.0.113.9, 10.0.0.2");
  CHECK(x.request.headers.get("Consent-Purposes") == "strictly-necessary");
}

TEST_CASE("a first-party tracker path is blocked without consent, allowed with it", "[proxy][gateway]") {
  Fixture f;
  auto x = f.exchange("GET /pixel HTTP/1.1\r\nHost: shop.example\r\n\r\n");
  REQUIRE(prepare_gateway_exchange(x, f.listener) == FilterStatus::proceed);
  CHECK(gateway_chain().run_request(x) == FilterStatus::respond);
  CHECK(x.decision.verdict == policy::Verdict::block);
  CHECK(f.runtime.stats().blocks.load() == 1);
  auto y = f.forwarded("GET /pixel HTTP/1.1\r\nHost: shop.example\r\nCookie: eu-consent=ads:true\r\n\r\n");
  CHECK(y.decision.verdict != policy::Verdict::block);
}

TEST_CASE("the ledger is never used: another visitor's consent does not carry over", "[proxy][gateway]") {
  Fixture f;
  (void)f.forwarded("GET / HTTP/1.1\r\nHost: shop.example\r\nCookie: eu-consent=ads:true\r\n\r\n", "10.0.0.2");
  auto x = f.exchange("GET /pixel HTTP/1.1\r\nHost: shop.example\r\n\r\n", "10.0.0.2");
  REQUIRE(prepare_gateway_exchange(x, f.listener) == FilterStatus::proceed);
  CHECK(gateway_chain().run_request(x) == FilterStatus::respond);
}

TEST_CASE("HTML gets the consent CSP and Vary: Cookie; the origin's own CSP is kept verbatim", "[proxy][gateway]") {
  Fixture f;
  auto x = f.forwarded("GET / HTTP/1.1\r\nHost: shop.example\r\nCookie: eu-consent=analytics:true\r\n\r\n");
  Fixture::respond(x,
                   "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Security-Policy: "
                   "script-src 'self'\r\nVary: Accept-Encoding\r\nContent-Length: 0\r\n\r\n");
  const auto csp = values(x.response->headers, "Content-Security-Policy");
  REQUIRE(csp.size() == 2);
  CHECK(csp[0] == "script-src 'self'");
  CHECK(
      csp[1].starts_with("script-src 'self' 'unsafe-inline' 'unsafe-eval' blob: data: shop.example *.shop.example "
                         "https://cdn.shop-assets.example 'self' cmp.example *.cmp.example analytics.example "
                         "*.analytics.example; img-src"));
  CHECK(csp[1].find("ads.example") == std::string::npos);
  CHECK(x.response->headers.get("Vary") == "Accept-Encoding, Cookie");
}

TEST_CASE("refused purposes' hosts are absent from the CSP; report-only mode uses the report header",
          "[proxy][gateway]") {
  Fixture f(config::CspMode::report_only);
  auto x = f.forwarded("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n");
  Fixture::respond(x, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n");
  CHECK_FALSE(x.response->headers.contains("Content-Security-Policy"));
  const auto csp = x.response->headers.get("Content-Security-Policy-Report-Only");
  CHECK(csp.find("cmp.example") != std::string::npos);
  CHECK(csp.find("analytics.example") == std::string::npos);
  CHECK(csp.ends_with("; report-uri /.consentgate/csp-report"));
}

TEST_CASE("non-HTML without cookies stays cacheable; Set-Cookie of refused purposes is dropped", "[proxy][gateway]") {
  Fixture f;
  auto x = f.forwarded("GET /app.js HTTP/1.1\r\nHost: shop.example\r\n\r\n");
  Fixture::respond(x, "HTTP/1.1 200 OK\r\nContent-Type: text/javascript\r\nContent-Length: 0\r\n\r\n");
  CHECK_FALSE(x.response->headers.contains("Vary"));
  CHECK_FALSE(x.response->headers.contains("Content-Security-Policy"));
  auto y = f.forwarded("GET /login HTTP/1.1\r\nHost: shop.example\r\n\r\n");
  Fixture::respond(y,
                   "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: _ad=1; Max-Age=99999999\r\n"
                   "Set-Cookie: sid=abc; HttpOnly\r\nContent-Length: 0\r\n\r\n");
  CHECK(values(y.response->headers, "Set-Cookie") == std::vector<std::string>{"sid=abc; HttpOnly"});
  CHECK(y.response->headers.get("Vary") == "Cookie");
  auto z = f.forwarded("GET /api HTTP/1.1\r\nHost: shop.example\r\n\r\n");
  Fixture::respond(z, "HTTP/1.1 200 OK\r\nVary: consent-purposes\r\nContent-Length: 0\r\n\r\n");
  CHECK(z.response->headers.get("Vary") == "consent-purposes, Cookie");
}

TEST_CASE("declared third parties are in the CSP only while the consent covers them", "[proxy][gateway]") {
  Fixture f;
  auto g = std::make_shared<Generation>(*f.runtime.generation());
  g->settings.gateway.routes[0].third_parties = {"www.analytics.example", "*.ads.example", "fonts.example"};
  g->number = 8;
  f.runtime.replace(g);
  auto x = f.forwarded("GET / HTTP/1.1\r\nHost: shop.example\r\nCookie: eu-consent=analytics:true\r\n\r\n");
  Fixture::respond(x, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n");
  const auto csp = std::string(x.response->headers.get("Content-Security-Policy"));
  CHECK(csp.find(" www.analytics.example") != std::string::npos);
  CHECK(csp.find(" fonts.example") != std::string::npos);
  CHECK(csp.find("ads.example") == std::string::npos);
  auto y = f.forwarded("GET / HTTP/1.1\r\nHost: shop.example\r\nCookie: eu-consent=ads:true\r\n\r\n");
  Fixture::respond(y, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n");
  const auto csp2 = std::string(y.response->headers.get("Content-Security-Policy"));
  CHECK(csp2.find(" *.ads.example") != std::string::npos);
  CHECK(csp2.find(" www.analytics.example") == std::string::npos);
}
