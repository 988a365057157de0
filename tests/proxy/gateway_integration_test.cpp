// Gateway mode end to end: the real binary between curl / raw clients and a website origin.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

#include "tests/proxy/core_test_support.hpp"
#include "tests/proxy/gateway_test_support.hpp"

using namespace consent::test;

namespace {

std::string url(std::uint16_t port, const std::string& path = "/") {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// Response headers (curl -D -), body discarded.
std::string head_of(const std::vector<std::string>& args) {
  std::vector<std::string> all{"-D", "-", "-o", "/dev/null"};
  all.insert(all.end(), args.begin(), args.end());
  return run_curl(all).out;
}

std::vector<std::string> header_values(const std::string& head, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(head);
  std::string line;
  const std::regex re("^" + name + ":\\s*(.*?)\\r?$", std::regex::icase);
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, re)) out.push_back(m[1]);
  }
  return out;
}

std::string only(const std::string& head, const std::string& name) {
  const auto v = header_values(head, name);
  return v.size() == 1 ? v[0] : "<" + std::to_string(v.size()) + " values>";
}

}  // namespace

TEST_CASE("gateway: the origin never sees refused cookies, forged consent or forged forwarding",
          "[proxy][gateway][integration]") {
  GatewayOrigin origin;
  GatewayProcess gw({origin.port()});
  const auto r =
      run_curl({"-H", "Host: shop.example", "-H", "Cookie: sid=1; _ga=GA1.1.1; _ad=2; eu-consent=analytics:true", "-H",
                "consent-purposes: advertising", "-H", "X-Forwarded-For: 6.6.6.6", "-H", "X-Forwarded-Proto: https",
                url(gw.port())});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("welcome") != std::string::npos);
  const auto seen = origin.last_headers();
  CHECK(seen.at("host") == "shop.example");
  CHECK(seen.at("cookie") == "sid=1; _ga=GA1.1.1; eu-consent=analytics:true");
  CHECK(seen.at("consent-purposes") == "strictly-necessary, audience-measurement");
  CHECK(seen.at("x-forwarded-for") == "127.0.0.1");
  CHECK(seen.at("x-forwarded-proto") == "http");
  CHECK(seen.at("x-forwarded-host") == "shop.example");
  CHECK(seen.at("forwarded") == "for=127.0.0.1;host=shop.example;proto=http");
}

TEST_CASE("gateway: a trusted proxy's X-Forwarded-For is extended", "[proxy][gateway][integration]") {
  GatewayOrigin origin;
  GatewayProcess gw({origin.port()});
  const auto r = run_curl({"--interface", "127.0.0.2", "-H", "Host: shop.example", "-H", "X-Forwarded-For: 203.0.113.9",
                           "-H", "X-Forwarded-Proto: https", url(gw.port())});
  REQUIRE(r.exit_code == 0);
  const auto seen = origin.last_headers();
  CHECK(seen.at("x-forwarded-for") == "203.0.113.9, 127.0.0.2");
  CHECK(seen.at("x-forwarded-proto") == "https");
  CHECK(seen.at("consent-purposes") == "strictly-necessary");
}

TEST_CASE("gateway: Set-Cookie, CSP and Vary follow the visitor's consent", "[proxy][gateway][integration]") {
  GatewayOrigin origin;
  GatewayProcess gw({origin.port()});
  SECTION("no consent: only the exempt cookie, no tracker host in the CSP") {
    const auto head = head_of({"-H", "Host: shop.example", url(gw.port())});
    const auto cookies = header_values(head, "Set-Cookie");
    REQUIRE(cookies.size() == 1);
    CHECK(cookies[0].rfind("sid=s3ss10n", 0) == 0);
    const auto csp = only(head, "Content-Security-Policy");
    CHECK(csp.find("script-src 'self'") == 0);
    CHECK(csp.find("https://cdn.shop-assets.example") != std::string::npos);
    CHECK(csp.find("shop.example *.shop.example") != std::string::npos);
    CHECK(csp.find("googletagmanager.com") == std::string::npos);
    CHECK(csp.find("ads.example") == std::string::npos);
    CHECK(only(head, "Vary").find("Cookie") != std::string::npos);
  }
  SECTION("analytics granted: _ga kept (capped), its hosts allowed; advertising still refused") {
    const auto head = head_of({"-H", "Host: shop.example", "-H", "Cookie: eu-consent=analytics:true", url(gw.port())});
    const auto cookies = header_values(head, "Set-Cookie");
    REQUIRE(cookies.size() == 2);
    CHECK(cookies[0].rfind("_ga=GA1.1.42", 0) == 0);
    CHECK(cookies[0].find("Max-Age=63072000") == std::string::npos);  // capped to 13 months
    CHECK(cookies[1].rfind("sid=", 0) == 0);
    const auto csp = only(head, "Content-Security-Policy");
    CHECK(csp.find("googletagmanager.com *.googletagmanager.com") != std::string::npos);
    CHECK(csp.find("google-analytics.com") != std::string::npos);
    CHECK(csp.find("ads.example") == std::string::npos);
  }
  SECTION("an origin's own stricter CSP is kept verbatim next to ours") {
    const auto head = head_of(
        {"-H", "Host: shop.example", "-H", "Cookie: eu-consent=analytics:true,ads:true", url(gw.port(), "/strict")});
    const auto csp = header_values(head, "Content-Security-Policy");
    REQUIRE(csp.size() == 2);
    CHECK(csp[0] == "default-src 'none'; script-src 'self'");
    CHECK(csp[1].find("ads.example") != std::string::npos);
  }
  SECTION("a script without cookies stays cacheable: no Vary, no CSP") {
    const auto head = head_of({"-H", "Host: shop.example", url(gw.port(), "/asset.js")});
    CHECK(head.find("200") != std::string::npos);
    CHECK(header_values(head, "Vary").empty());
    CHECK(header_values(head, "Content-Security-Policy").empty());
  }
  SECTION("an origin varying on the consent header varies on Cookie in front") {
    const auto head = head_of({"-H", "Host: shop.example", url(gw.port(), "/vary")});
    CHECK(only(head, "Vary") == "Consent-Purposes, Cookie");
  }
}

TEST_CASE("gateway: health endpoint, unknown hosts and proxy-style requests", "[proxy][gateway][integration]") {
  GatewayOrigin origin;
  GatewayProcess gw({origin.port()});
  const auto health = run_curl({"-i", url(gw.port(), "/.consentgate/health")});
  CHECK(health.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(std::regex_search(health.out, std::regex("\"policy_hash\":\"[0-9a-f]{16}\"")));
  CHECK(health.out.find("\"status\":\"ok\"") != std::string::npos);
  const auto unknown = run_curl({"-i", "-H", "Host: evil.example", url(gw.port())});
  CHECK(unknown.out.rfind("HTTP/1.1 421", 0) == 0);
  CHECK(unknown.out.find("evil") == std::string::npos);
  CHECK(origin.request_count() == 0);

  RawClient raw(gw.port());
  REQUIRE(raw.send("GET http://tracker.example/collect HTTP/1.1\r\nHost: shop.example\r\n\r\n"));
  CHECK(raw.read_until("host name.\n", 3s).rfind("HTTP/1.1 421", 0) == 0);  // the whole reply, body included
  raw.clear();
  REQUIRE(
      raw.send("GET http://www.shop.example/x HTTP/1.1\r\nHost: evil.example\r\nConsent-Purposes: ads\r\n"
               "CONSENT-PURPOSES: advertising\r\n\r\n"));
  CHECK(raw.read_until("ok", 3s).rfind("HTTP/1.1 200", 0) == 0);
  const auto seen = origin.last_headers();
  CHECK(seen.at("host") == "www.shop.example");
  CHECK(seen.at("consent-purposes") == "strictly-necessary");
}

TEST_CASE("gateway: one consent record per new state, keyed hash, never the cookie", "[proxy][gateway][integration]") {
  GatewayOrigin origin;
  GatewayProcess gw({origin.port()});
  const std::string cookie = "eu-consent=analytics:true,ads:false";
  for (int i = 0; i < 3; ++i) {
    CHECK(run_curl({"-H", "Host: shop.example", "-H", "Cookie: " + cookie, url(gw.port(), "/asset.js")}).exit_code ==
          0);
  }
  CHECK(run_curl({"-H", "Host: shop.example", "-H", "Cookie: eu-consent=analytics:false", url(gw.port())}).exit_code ==
        0);
  CHECK(run_curl({"-H", "Host: shop.example", url(gw.port())}).exit_code == 0);  // no cookie: no record
  REQUIRE(gw.wait_for("records.jsonl", "\n", 2));
  const auto records = gw.read("records.jsonl");
  CHECK(count_of(records, "\n") == 2);
  CHECK(records.find("analytics:true") == std::string::npos);
  CHECK(std::regex_search(records, std::regex("\"visitor\":\"[0-9a-f]{64}\"")));
  CHECK(records.find(R"("granted":["audience-measurement"],"refused":["advertising"])") != std::string::npos);
  CHECK(records.find(R"("granted":[],"refused":["audience-measurement","advertising"])") != std::string::npos);
  CHECK(records.find(R"("site":"shop.example","route":"shop","source":"eu-consent")") != std::string::npos);
  const auto key = gw.dir() / "data" / "consent-records.key";
  CHECK(std::filesystem::exists(key));
  CHECK((std::filesystem::status(key).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

TEST_CASE("gateway: report-only CSP and the report endpoint", "[proxy][gateway][integration]") {
  GatewayOrigin origin;
  GatewayProcess gw({origin.port(), "report-only"});
  const auto head = head_of({"-H", "Host: shop.example", url(gw.port())});
  CHECK(header_values(head, "Content-Security-Policy").empty());
  CHECK(only(head, "Content-Security-Policy-Report-Only").find("; report-uri /.consentgate/csp-report") !=
        std::string::npos);
  const auto report = run_curl(
      {"-i", "-H", "Host: shop.example", "-H", "Content-Type: application/csp-report", "--data-binary",
       R"({"csp-report":{"document-uri":"http://shop.example/","blocked-uri":"https://ads.example/pixel.gif"}})",
       url(gw.port(), "/.consentgate/csp-report")});
  CHECK(report.out.rfind("HTTP/1.1 204", 0) == 0);
  CHECK(origin.request_count() == 1);
}

// Hidden until the session runs the TLS handshake on gateway listeners (ListenerContext::tls): run it
// with proxy_gateway_integration_tests "[gateway-https]".
TEST_CASE("gateway: an HTTPS listener with the operator's certificate", "[.][gateway-https][integration]") {
  GatewayOrigin origin;
  GatewayOptions options{origin.port()};
  options.https = true;
  GatewayProcess gw(options);
  const auto port = std::to_string(gw.https_port());
  const auto r = run_curl({"-i", "--cacert", gw.certificate().string(), "--resolve",
                           "shop.example:" + port + ":127.0.0.1", "https://shop.example:" + port + "/"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(r.out.find("welcome") != std::string::npos);
  CHECK(origin.last_headers().at("x-forwarded-proto") == "https");
  CHECK(origin.last_headers().at("host") == "shop.example:" + port);
  // A client that does not trust the certificate fails the handshake and reaches nothing.
  const auto untrusted =
      run_curl({"--resolve", "shop.example:" + port + ":127.0.0.1", "https://shop.example:" + port + "/"});
  CHECK(untrusted.exit_code != 0);
}
