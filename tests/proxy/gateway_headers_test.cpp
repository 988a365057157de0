// Forwarded headers (RFC 7239, X-Forwarded-*), the consent header and Vary.
#include "proxy/gateway_headers.hpp"

#include <catch2/catch.hpp>

using namespace consent::proxy;

namespace {

Headers make(std::initializer_list<std::pair<std::string_view, std::string_view>> lines) {
  Headers h;
  for (auto [n, v] : lines) REQUIRE(h.add(n, v));
  return h;
}

}  // namespace

TEST_CASE("an untrusted peer's forwarding headers are replaced, never extended", "[proxy][gateway]") {
  auto h = make({{"Host", "shop.example"},
                 {"X-Forwarded-For", "6.6.6.6"},
                 {"x-forwarded-for", "7.7.7.7"},
                 {"Forwarded", "for=6.6.6.6;proto=https"},
                 {"X-Forwarded-Proto", "https"},
                 {"X-Forwarded-Host", "admin.shop.example"},
                 {"X-Real-IP", "6.6.6.6"}});
  apply_forwarded_headers(h, {"192.0.2.10", false, false, "shop.example"});
  CHECK(h.count("X-Forwarded-For") == 1);
  CHECK(h.get("X-Forwarded-For") == "192.0.2.10");
  CHECK(h.get("Forwarded") == "for=192.0.2.10;host=shop.example;proto=http");
  CHECK(h.get("X-Forwarded-Proto") == "http");
  CHECK(h.get("X-Forwarded-Host") == "shop.example");
  CHECK_FALSE(h.contains("X-Real-IP"));
}

TEST_CASE("a trusted proxy's chain is extended and its proto and host are kept", "[proxy][gateway]") {
  auto h = make({{"X-Forwarded-For", "203.0.113.7"},
                 {"X-Forwarded-For", "198.51.100.1"},
                 {"Forwarded", "for=203.0.113.7;proto=https"},
                 {"X-Forwarded-Proto", "https"},
                 {"X-Forwarded-Host", "www.shop.example"}});
  apply_forwarded_headers(h, {"10.0.0.5", true, false, "origin-lb.internal:8080"});
  CHECK(h.get("X-Forwarded-For") == "203.0.113.7, 198.51.100.1, 10.0.0.5");
  CHECK(h.get("Forwarded") == R"(for=203.0.113.7;proto=https, for=10.0.0.5;host="origin-lb.internal:8080";proto=http)");
  CHECK(h.get("X-Forwarded-Proto") == "https");
  CHECK(h.get("X-Forwarded-Host") == "www.shop.example");
}

TEST_CASE("a trusted proxy without forwarding headers gets ours", "[proxy][gateway]") {
  Headers h;
  apply_forwarded_headers(h, {"10.0.0.5", true, true, "shop.example"});
  CHECK(h.get("X-Forwarded-For") == "10.0.0.5");
  CHECK(h.get("X-Forwarded-Proto") == "https");
  CHECK(h.get("Forwarded") == "for=10.0.0.5;host=shop.example;proto=https");
}

TEST_CASE("IPv6 peers are quoted and bracketed in Forwarded", "[proxy][gateway]") {
  CHECK(forwarded_node("2001:db8::1") == "\"[2001:db8::1]\"");
  CHECK(forwarded_node("192.0.2.1") == "192.0.2.1");
  Headers h;
  apply_forwarded_headers(h, {"::1", false, false, "[::1]:8080"});
  CHECK(h.get("Forwarded") == R"(for="[::1]";host="[::1]:8080";proto=http)");
  CHECK(h.get("X-Forwarded-For") == "::1");
}

TEST_CASE("an over-long trusted chain is replaced rather than grown", "[proxy][gateway]") {
  const std::string long_chain(max_forwarded_bytes, '1');
  auto h = make({{"X-Forwarded-For", long_chain}});
  apply_forwarded_headers(h, {"10.0.0.5", true, false, "shop.example"});
  CHECK(h.get("X-Forwarded-For") == "10.0.0.5");
}

TEST_CASE("the consent header is always overwritten, whatever the case the visitor used", "[proxy][gateway]") {
  auto h = make({{"consent-purposes", "advertising"}, {"CONSENT-PURPOSES", "everything"}, {"Accept", "*/*"}});
  set_consent_header(h, "Consent-Purposes", {"strictly-necessary", "audience-measurement"});
  CHECK(h.count("Consent-Purposes") == 1);
  CHECK(h.get("Consent-Purposes") == "strictly-necessary, audience-measurement");
  set_consent_header(h, "Consent-Purposes", {});
  CHECK(h.count("Consent-Purposes") == 1);
  CHECK(h.get("Consent-Purposes").empty());
  set_consent_header(h, "", {"x"});  // disabled: untouched
  CHECK(h.count("Consent-Purposes") == 1);
}

TEST_CASE("Vary: Cookie is merged once into existing Vary lines", "[proxy][gateway]") {
  Headers h;
  add_vary(h, "Cookie");
  CHECK(h.get("Vary") == "Cookie");
  add_vary(h, "Cookie");
  CHECK(h.count("Vary") == 1);
  auto two = make({{"Vary", "Accept-Encoding"}, {"vary", "Accept-Language"}});
  add_vary(two, "Cookie");
  CHECK(two.count("Vary") == 1);
  CHECK(two.get("Vary") == "Accept-Encoding, Accept-Language, Cookie");
  auto star = make({{"Vary", "*"}});
  add_vary(star, "Cookie");
  CHECK(star.get("Vary") == "*");
  auto lower = make({{"Vary", "accept-encoding, cookie"}});
  add_vary(lower, "Cookie");
  CHECK(lower.get("Vary") == "accept-encoding, cookie");
  CHECK(varies_on(make({{"Vary", "Consent-Purposes"}}), "consent-purposes"));
}
