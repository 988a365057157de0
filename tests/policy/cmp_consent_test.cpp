#include "policy/cmp_consent.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

using namespace consent::policy;

namespace {

nlohmann::json sample(const std::string& id) {
  std::ifstream in(std::string(CONSENT_FIXTURES_DIR) + "/consent/samples.json");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const auto doc = nlohmann::json::parse(ss.str());
  for (const auto& s : doc["samples"]) {
    if (s["id"] == id) return s;
  }
  FAIL("no sample " << id);
  return {};
}

std::map<std::string, bool> as_map(const CmpConsent& c) { return {c.choices.begin(), c.choices.end()}; }

std::map<std::string, bool> expected_map(const nlohmann::json& j) {
  std::map<std::string, bool> out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_null()) out.emplace(k, v.get<bool>());
  }
  return out;
}

CmpConsent parse_sample(CmpFormat format, const std::string& id) {
  const auto s = sample(id);
  const auto r = parse_cmp_consent(format, s["value"].get<std::string>());
  INFO(id << ": " << r.reason);
  return r;
}

void check_malformed(CmpFormat format, std::string_view raw) {
  INFO(to_string(format) << ": " << std::string(raw));
  const auto r = parse_cmp_consent(format, raw);
  CHECK(r.status == CmpStatus::malformed);
  CHECK_FALSE(r.reason.empty());
  CHECK(r.choices.empty());
}

}  // namespace

TEST_CASE("CMP format names round-trip", "[policy]") {
  for (const auto f : {CmpFormat::tarteaucitron, CmpFormat::didomi, CmpFormat::onetrust, CmpFormat::cookiebot,
                       CmpFormat::axeptio, CmpFormat::klaro}) {
    CHECK(cmp_format_from_name(to_string(f)) == f);
  }
  CHECK_FALSE(cmp_format_from_name("OneTrust").has_value());
  CHECK_FALSE(cmp_format_from_name("").has_value());
}

TEST_CASE("tarteaucitron: services true/false, wait is no choice", "[policy]") {
  const auto r = parse_sample(CmpFormat::tarteaucitron, "tarteaucitron");
  REQUIRE(r.ok());
  CHECK(as_map(r) == expected_map(sample("tarteaucitron")["expected_vendor_choices"]));
  CHECK_FALSE(r.find("youtube").has_value());
  CHECK(r.find("gtag") == true);
  CHECK_FALSE(r.timestamp.has_value());
  check_malformed(CmpFormat::tarteaucitron, "!gtag=maybe");
  check_malformed(CmpFormat::tarteaucitron, "!gtag");
  check_malformed(CmpFormat::tarteaucitron, "!gtag=true!gtag=false");
  check_malformed(CmpFormat::tarteaucitron, "!=true");
  CHECK(parse_cmp_consent(CmpFormat::tarteaucitron, "!gtag=true!gtag=true").choices.size() == 1);
}

TEST_CASE("Didomi: base64 JSON with enabled/disabled purposes and vendors", "[policy]") {
  const auto s = sample("didomi");
  const auto r = parse_sample(CmpFormat::didomi, "didomi");
  REQUIRE(r.ok());
  for (const auto& p : s["expected_purposes_enabled"]) CHECK(r.find(p.get<std::string>()) == true);
  for (const auto& p : s["expected_purposes_disabled"]) CHECK(r.find(p.get<std::string>()) == false);
  CHECK(r.find("c:hotjar-Abc123") == true);
  CHECK(r.find("c:facebook-Xyz789") == false);
  CHECK(r.timestamp == 1705312805);  // "updated" wins over "created"
  check_malformed(CmpFormat::didomi, "not base64!");
  check_malformed(CmpFormat::didomi, "e30=");                                      // {}: no purposes
  check_malformed(CmpFormat::didomi, "eyJwdXJwb3NlcyI6eyJlbmFibGVkIjpbMV19fQ==");  // {"purposes":{"enabled":[1]}}
  // {"purposes":{"enabled":["a"],"disabled":["a"]}}
  check_malformed(CmpFormat::didomi, "eyJwdXJwb3NlcyI6eyJlbmFibGVkIjpbImEiXSwiZGlzYWJsZWQiOlsiYSJdfX0=");
  // Percent-encoded padding, as some servers re-encode it.
  const std::string value = s["value"];
  const auto encoded = parse_cmp_consent(CmpFormat::didomi, value.substr(0, value.size() - 1) + "%3D");
  CHECK(encoded.ok());
  CHECK(encoded.choices == r.choices);
}

TEST_CASE("OneTrust: groups from the form-encoded query string, datestamp as timestamp", "[policy]") {
  const auto r = parse_sample(CmpFormat::onetrust, "onetrust");
  REQUIRE(r.ok());
  CHECK(as_map(r) == expected_map(sample("onetrust")["expected_groups"]));
  CHECK(r.timestamp == 1705312800);  // Mon Jan 15 2024 11:00:00 GMT+0100
  const auto none = parse_cmp_consent(CmpFormat::onetrust, "interactionCount=0&groups=C0001%3A1%2CC0002%3A1");
  CHECK(none.status == CmpStatus::no_choice);
  check_malformed(CmpFormat::onetrust, "isGpcEnabled=0&version=1");
  check_malformed(CmpFormat::onetrust, "groups=C0001%3A1&groups=C0002%3A1");
  check_malformed(CmpFormat::onetrust, "groups=C0001%3Ayes");
  check_malformed(CmpFormat::onetrust, "groups=C0001%3A1%2CC0001%3A0");
  check_malformed(CmpFormat::onetrust, "groups=C0001%3");
  check_malformed(CmpFormat::onetrust, "groups=C0001");
  CHECK(parse_cmp_consent(CmpFormat::onetrust, "groups=").ok());
}

TEST_CASE("Cookiebot: JavaScript literal, implied consent is no choice", "[policy]") {
  const auto r = parse_sample(CmpFormat::cookiebot, "cookiebot");
  REQUIRE(r.ok());
  CHECK(as_map(r) == expected_map(sample("cookiebot")["expected_categories"]));
  CHECK(r.timestamp == 1705312800);
  const auto implied = parse_sample(CmpFormat::cookiebot, "cookiebot-implied");
  CHECK(implied.status == CmpStatus::no_choice);
  CHECK(as_map(implied) == expected_map(sample("cookiebot-implied")["expected_categories"]));
  CHECK(parse_cmp_consent(CmpFormat::cookiebot, "-1").status == CmpStatus::no_choice);
  check_malformed(CmpFormat::cookiebot, "{necessary:true,marketing:'yes'}");
  check_malformed(CmpFormat::cookiebot, "{necessary:true,marketing:false");
  check_malformed(CmpFormat::cookiebot, "{necessary:true}garbage");
  check_malformed(CmpFormat::cookiebot, "{marketing:true,marketing:false}");
}

TEST_CASE("Axeptio: JSON with $$ metadata", "[policy]") {
  const auto r = parse_sample(CmpFormat::axeptio, "axeptio");
  REQUIRE(r.ok());
  CHECK(as_map(r) == expected_map(sample("axeptio")["expected_vendor_choices"]));
  CHECK(r.timestamp == 1705312800);
  check_malformed(CmpFormat::axeptio, R"({"google_analytics":"true"})");
  check_malformed(CmpFormat::axeptio, R"({"$$date":"soon","hotjar":true})");
}

TEST_CASE("Klaro: JSON service -> bool, encoded or not", "[policy]") {
  const auto r = parse_sample(CmpFormat::klaro, "klaro");
  REQUIRE(r.ok());
  CHECK(as_map(r) == expected_map(sample("klaro")["expected_vendor_choices"]));
  const auto raw = parse_cmp_consent(CmpFormat::klaro, R"({"googleAnalytics":true,"matomo":true,"facebook":false})");
  CHECK(raw.choices == r.choices);
  check_malformed(CmpFormat::klaro, R"({"matomo":{"enabled":true}})");
}

TEST_CASE("CMP hostile inputs are malformed", "[policy]") {
  for (const auto f : {CmpFormat::tarteaucitron, CmpFormat::didomi, CmpFormat::onetrust, CmpFormat::cookiebot,
                       CmpFormat::axeptio, CmpFormat::klaro}) {
    check_malformed(f, "");
    check_malformed(f, "  ");
    check_malformed(f, std::string(max_cmp_consent_bytes + 1, 'a'));
    check_malformed(f, "%");
    check_malformed(f, "\xFF\xFE=true");
  }
  check_malformed(CmpFormat::klaro, "{\"caf\xC3\":true}");
  check_malformed(CmpFormat::tarteaucitron, "!caf\xC3=true");
  // Truncated samples.
  for (const auto& [format, id] : {std::pair{CmpFormat::klaro, "klaro"}, std::pair{CmpFormat::axeptio, "axeptio"},
                                   std::pair{CmpFormat::cookiebot, "cookiebot"}}) {
    const std::string value = sample(id)["value"];
    for (std::size_t len = 1; len + 3 < value.size(); len += 7) {
      const auto r = parse_cmp_consent(format, value.substr(0, len));
      INFO(id << " cut at " << len);
      CHECK_FALSE(r.ok());
    }
  }
}

TEST_CASE("CMP values are read whole up to max_cmp_consent_bytes and refused above", "[policy]") {
  const auto build = [](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += "!s" + std::to_string(i) + "=true";
    return s;
  };
  std::string fits;
  for (std::size_t i = 0; i < 300; ++i) fits += "!s" + std::to_string(i) + "=true";
  CHECK(fits.size() < max_cmp_consent_bytes);
  CHECK(parse_cmp_consent(CmpFormat::tarteaucitron, fits).choices.size() == 300);
  CHECK(build(1000).size() > max_cmp_consent_bytes);
  check_malformed(CmpFormat::tarteaucitron, build(1000));
}
