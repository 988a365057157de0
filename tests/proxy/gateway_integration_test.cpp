// Gateway mode end to end: the real binary between curl / raw clients and a website origin.
#include <catch2/catch.hpp>

#include <cctype>
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

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Every value of header `name` in a response head (one line each), without the line's CR.
// String search, not std::regex: GCC 12 warns maybe-uninitialized inside <regex> under -Werror.
std::vector<std::string> header_values(const std::string& head, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(head);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos || !iequal(std::string_view(line).substr(0, colon), name)) continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    out.push_back(value);
  }
  return out;
}

// True when `text` has `"key":"` followed by exactly `digits` lower-case hex digits and a closing quote.
bool has_hex_field(const std::string& text, const std::string& key, std::size_t digits) {
  const std::string prefix = "\"" + key + "\":\"";
  for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    const auto start = at + prefix.size();
    std::size_t n = 0;
    const auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    while (start + n < text.size() && is_hex(text[start + n])) ++n;
    if (n == digits && start + n < text.size() && text[start + n] == '"') return true;
  }
  return false;
}

// The lines of `text` that contain every one of `needles`.
std::vector<std::string> lines_with(const std::string& text, const std::vector<std::string>& needles) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    bool all = true;
    for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
    if (all) out.push_back(line);
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
  GatewayProcess gw(gateway_options(origin.port()));
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
  GatewayProcess gw(gateway_options(origin.port()));
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
  GatewayProcess gw(gateway_options(origin.port()));
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
  SECTION("analytics granted: _ga kept, its hosts allowed; advertising still refused") {
    const auto head = head_of({"-H", "Host: shop.example", "-H", "Cookie: eu-consent=analytics:true", url(gw.port())});
    const auto cookies = header_values(head, "Set-Cookie");
    REQUIRE(cookies.size() == 2);
    CHECK(cookies[0].rfind("_ga=GA1.1.42", 0) == 0);
    CHECK(cookies[0] == "_ga=GA1.1.42; Max-Age=63072000; Path=/");  // this policy sets no cap on it
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
  GatewayProcess gw(gateway_options(origin.port()));
  const auto health = run_curl({"-i", url(gw.port(), "/.consentgate/health")});
  CHECK(health.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(has_hex_field(health.out, "policy_hash", 16));
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
  GatewayProcess gw(gateway_options(origin.port()));
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
  CHECK(has_hex_field(records, "visitor", 64));
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
  GatewayProcess gw(gateway_options(origin.port(), "report-only"));
  const auto head = head_of({"-H", "Host: shop.example", url(gw.port())});
  CHECK(header_values(head, "Content-Security-Policy").empty());
  CHECK(only(head, "Content-Security-Policy-Report-Only").find("; report-uri /.consentgate/csp-report") !=
        std::string::npos);
  const auto report = run_curl(
      {"-i", "-H", "Host: shop.example", "-H", "Content-Type: application/csp-report", "--data-binary",
       R"({"csp-report":{"document-uri":"http://shop.example/","blocked-uri":"https://ads.example/pixel.gif"}})",
       url(gw.port(), "/.consentgate/csp-report")});
  CHECK(report.out.rfind("HTTP/1.1 204", 0) == 0);
  CHECK(report.out.find("X-Consentgate-Reason: csp_report") != std::string::npos);
  CHECK(origin.request_count() == 1);  // the page only: the report never reaches the origin
  // The browser's report is evidence: it lands in the decision log as a would-be block of the tracker.
  REQUIRE(gw.wait_for("decisions.log", "csp_violation", 1));
  const auto reported = lines_with(gw.read("decisions.log"), {R"("reason":"csp_violation")"});
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].find(R"("action":"would_block")") != std::string::npos);
  CHECK(reported[0].find(R"("host":"ads.example")") != std::string::npos);
  CHECK(reported[0].find(R"("violation":"tracker_before_consent")") != std::string::npos);
  // A report that is not JSON is still answered, and logs nothing.
  const auto junk = run_curl(
      {"-i", "-H", "Host: shop.example", "--data-binary", "not json", url(gw.port(), "/.consentgate/csp-report")});
  CHECK(junk.out.rfind("HTTP/1.1 204", 0) == 0);
  CHECK(lines_with(gw.read("decisions.log"), {R"("reason":"csp_violation")"}).size() == 1);
}

TEST_CASE("gateway: an HTTPS listener with the operator's certificate in front of a verified HTTPS origin",
          "[proxy][gateway][gateway-https][integration]") {
  GatewayOrigin origin(true);
  auto options = gateway_options(origin.port());
  options.https = true;
  options.origin_tls = true;
  options.upstream_ca = origin.certificate().string();
  GatewayProcess gw(options);
  const auto port = std::to_string(gw.https_port());
  const auto resolve = "shop.example:" + port + ":127.0.0.1";
  const auto r = run_curl({"-i", "--cacert", gw.certificate().string(), "--resolve", resolve, "-H",
                           "Cookie: sid=1; _ad=2; eu-consent=ads:true", "https://shop.example:" + port + "/"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(r.out.find("welcome") != std::string::npos);
  CHECK(header_values(r.out, "Content-Security-Policy").size() == 1);
  CHECK(only(r.out, "Content-Security-Policy").find("ads.example *.ads.example") != std::string::npos);
  REQUIRE(origin.request_count() == 1);
  const auto seen = origin.last_headers();
  CHECK(seen.at("x-forwarded-proto") == "https");
  CHECK(seen.at("host") == "shop.example:" + port);
  CHECK(seen.at("cookie") == "sid=1; _ad=2; eu-consent=ads:true");
  CHECK(seen.at("forwarded") == "for=127.0.0.1;host=\"shop.example:" + port + "\";proto=https");
  // SNI for a host no route serves still gets the default (first) certificate, and the Host then a 421.
  const auto other = run_curl(
      {"-i", "-k", "--resolve", "other.example:" + port + ":127.0.0.1", "https://other.example:" + port + "/"});
  CHECK(other.out.rfind("HTTP/1.1 421", 0) == 0);
  // A client that does not trust the certificate fails the handshake and reaches nothing.
  const auto untrusted = run_curl({"--resolve", resolve, "https://shop.example:" + port + "/"});
  CHECK(untrusted.exit_code == 60);  // CURLE_PEER_FAILED_VERIFICATION
  CHECK(origin.request_count() == 1);
  // The plain listener of the same process reaches the same HTTPS origin.
  CHECK(run_curl({"-H", "Host: shop.example", url(gw.port(), "/asset.js")}).out == "console.log(1);\n");
  CHECK(origin.request_count() == 2);
}

TEST_CASE("gateway: an HTTPS origin whose certificate is not trusted gets no request",
          "[proxy][gateway][integration]") {
  GatewayOrigin origin(true);
  auto options = gateway_options(origin.port());
  options.origin_tls = true;  // no upstream_ca: the system store does not know the origin's certificate
  GatewayProcess gw(options);
  const auto r = run_curl({"-i", "-H", "Host: shop.example", url(gw.port())});
  CHECK(r.out.rfind("HTTP/1.1 502", 0) == 0);
  CHECK(origin.request_count() == 0);
}

TEST_CASE("gateway: decision-log lines carry the consent in force and the violation", "[proxy][gateway][integration]") {
  GatewayOrigin origin;
  GatewayProcess gw(gateway_options(origin.port()));
  CHECK(run_curl({"-H", "Host: shop.example", "-H", "Cookie: sid=1; _ad=2; eu-consent=analytics:true",
                  url(gw.port(), "/asset.js")})
            .exit_code == 0);
  CHECK(run_curl({"-H", "Host: shop.example", url(gw.port())}).exit_code == 0);
  REQUIRE(gw.wait_for("decisions.log", "drop_set_cookie", 2));
  const auto log = gw.read("decisions.log");
  const auto strips = lines_with(log, {R"("action":"strip_cookie")", R"("cookies":["_ad"])"});
  REQUIRE(strips.size() == 1);
  CHECK(strips[0].find(R"("violation":"cookie_without_consent")") != std::string::npos);
  CHECK(strips[0].find(R"("granted":["audience-measurement"])") != std::string::npos);
  CHECK(strips[0].find(R"("mode":"gateway")") != std::string::npos);
  CHECK(strips[0].find(R"("host":"shop.example")") != std::string::npos);
  CHECK(strips[0].find("_ad=2") == std::string::npos);  // names only, never values
  const auto drops = lines_with(
      log, {R"("action":"drop_set_cookie")", R"("violation":"set_cookie_before_consent")", R"("consent":"missing")"});
  CHECK(drops.size() == 2);  // _ga and _ad of the visitor without a choice
}

TEST_CASE("gateway: SIGHUP applies new routes, CSP and consent-record settings", "[proxy][gateway][integration]") {
  GatewayOrigin origin;
  auto options = gateway_options(origin.port());
  GatewayProcess gw(options);
  const auto csp_of = [&] {
    return only(head_of({"-H", "Host: shop.example", url(gw.port())}), "Content-Security-Policy");
  };
  CHECK(csp_of().find("fonts.example") == std::string::npos);
  CHECK(run_curl({"-i", "-H", "Host: blog.example", url(gw.port())}).out.rfind("HTTP/1.1 421", 0) == 0);

  options.extra_gateway_yaml = "  csp_allow: [fonts.example]\n";
  options.consent_records = "records2.jsonl";
  options.shop_hosts += ", blog.example";
  options.extra_routes_yaml =
      "    - name: news\n      listen: 127.0.0.1:0\n      hosts: [news.example]\n      upstream: http://127.0.0.1:" +
      std::to_string(origin.port()) + "\n";
  REQUIRE(gw.reload(options));
  CHECK(csp_of().find(" fonts.example") != std::string::npos);
  // The running socket serves the new host list from the next exchange on.
  CHECK(run_curl({"-i", "-H", "Host: blog.example", url(gw.port(), "/asset.js")}).out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(run_curl({"-i", "-H", "Host: news.example", url(gw.port())}).out.rfind("HTTP/1.1 421", 0) == 0);
  // A route on a new "ADDR:0" listener has no socket until a restart, and the log says so.
  const auto err = gw.stderr_text();
  CHECK(err.find("consentgate: gateway: listener 127.0.0.1:0 is new: needs restart") != std::string::npos);
  CHECK(lines_with(err, {"consentgate: gateway: consent records: now ", "records2.jsonl"}).size() == 1);
  CHECK(run_curl({"-H", "Host: shop.example", "-H", "Cookie: eu-consent=ads:true", url(gw.port())}).exit_code == 0);
  CHECK(gw.wait_for("records2.jsonl", R"("granted":["advertising"])"));
  CHECK(gw.read("records.jsonl").empty());

  // A reload that fails validation keeps everything running as it was.
  options.extra_gateway_yaml = "  csp_allow: [\"*\"]\n";
  (void)gw.reload(options);
  CHECK(gw.wait_for("stderr.log", "reload refused"));
  CHECK(csp_of().find(" fonts.example") != std::string::npos);
}
