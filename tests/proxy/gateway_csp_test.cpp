// The gateway's consent CSP: parsing an origin's policy, building ours, and never loosening theirs.
#include "proxy/csp.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace consent::proxy;

TEST_CASE("an origin's CSP is parsed into policies, directives and sources", "[proxy][gateway]") {
  const auto policies = parse_csp(
      "default-src 'self'; Script-Src 'self' https://cdn.example  'nonce-abc';script-src evil.example, "
      "img-src *;;");
  REQUIRE(policies.size() == 2);
  REQUIRE(policies[0].directives.size() == 2);
  CHECK(policies[0].directives[0].name == "default-src");
  const auto* script = policies[0].find("script-src");
  REQUIRE(script != nullptr);
  // The repeated directive is ignored, as browsers do.
  CHECK(script->sources == std::vector<std::string>{"'self'", "https://cdn.example", "'nonce-abc'"});
  CHECK(policies[1].find("img-src")->sources == std::vector<std::string>{"*"});
  CHECK(parse_csp("").empty());
  CHECK(parse_csp(" ; , ;").empty());
  CHECK(parse_csp("sc\xffript-src a").empty());
}

TEST_CASE("CSP parsing is bounded", "[proxy][gateway]") {
  std::string many;
  for (int i = 0; i < 200; ++i) many += "d" + std::to_string(i) + "-src a;";
  CHECK(parse_csp(many)[0].directives.size() == max_csp_directives);
  std::string commas(10'000, ',');
  commas += "img-src a";
  CHECK(parse_csp(commas).size() <= max_csp_policies);
}

TEST_CASE("only HTML responses get a CSP", "[proxy][gateway]") {
  CHECK(is_html_content_type("text/html"));
  CHECK(is_html_content_type("Text/HTML; charset=utf-8"));
  CHECK(is_html_content_type("application/xhtml+xml"));
  CHECK_FALSE(is_html_content_type("text/plain"));
  CHECK_FALSE(is_html_content_type("application/json"));
  CHECK_FALSE(is_html_content_type(""));
  CHECK_FALSE(is_html_content_type("text/htmlx"));
}

TEST_CASE("the consent CSP allows self, the site, consented purposes' hosts and the operator's list",
          "[proxy][gateway]") {
  ConsentCspInput in;
  in.site = "shop.example";
  in.allow = {"https://cdn.shop-assets.example", "'self'"};
  in.purpose_hosts = {{"consent-cmp.example"}, {"google-analytics.com", "*.doubleclick.example"}};
  const auto csp = build_consent_csp(in);
  CHECK(csp.purposes_left_out == 0);
  const std::string hosts =
      " shop.example *.shop.example https://cdn.shop-assets.example 'self' consent-cmp.example *.consent-cmp.example "
      "google-analytics.com *.google-analytics.com *.doubleclick.example";
  CHECK(csp.value == "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob: data:" + hosts +
                         "; img-src 'self' blob: data:" + hosts + "; connect-src 'self' blob: data:" + hosts +
                         "; frame-src 'self' blob: data:" + hosts);
  in.report_uri = "/.consentgate/csp-report";
  CHECK(build_consent_csp(in).value.ends_with(hosts + "; report-uri /.consentgate/csp-report"));
}

TEST_CASE("a purpose that does not fit the budget is left out whole (fail closed)", "[proxy][gateway]") {
  ConsentCspInput in;
  in.site = "shop.example";
  std::vector<std::string> many;
  for (int i = 0; i < 2000; ++i) many.push_back("tracker" + std::to_string(i) + ".example");
  std::vector<std::string_view> big(many.begin(), many.end());
  in.purpose_hosts = {{"small.example"}, big, {"also-small.example"}};
  in.max_bytes = 4096;
  const auto csp = build_consent_csp(in);
  CHECK(csp.purposes_left_out == 1);
  CHECK(csp.value.size() <= 4096);
  CHECK(csp.value.find("small.example") != std::string::npos);
  CHECK(csp.value.find("also-small.example") != std::string::npos);
  CHECK(csp.value.find("tracker0.example") == std::string::npos);
}

TEST_CASE("refused trackers are blocked by the consent CSP and consented ones allowed", "[proxy][gateway]") {
  ConsentCspInput in;
  in.site = "shop.example";
  in.purpose_hosts = {{"google-analytics.com"}};
  const auto ours = parse_csp(build_consent_csp(in).value);
  REQUIRE(ours.size() == 1);
  for (const char* d : {"script-src", "img-src", "connect-src", "frame-src"}) {
    INFO(d);
    CHECK(csp_allows_host(ours[0], d, "www.google-analytics.com", "shop.example"));
    CHECK(csp_allows_host(ours[0], d, "static.shop.example", "www.shop.example"));
    CHECK(csp_allows_host(ours[0], d, "www.shop.example", "www.shop.example"));
    CHECK_FALSE(csp_allows_host(ours[0], d, "connect.facebook.net", "shop.example"));
    CHECK_FALSE(csp_allows_host(ours[0], d, "shop.example.evil.example", "shop.example"));
  }
}

TEST_CASE("with a permissive origin policy, the pair of policies still blocks refused trackers", "[proxy][gateway]") {
  // Browsers enforce every policy they receive: a load happens only when all of them allow it.
  const auto both = [](const std::vector<CspPolicy>& policies, const char* d, const char* host) {
    return std::all_of(policies.begin(), policies.end(),
                       [&](const CspPolicy& p) { return csp_allows_host(p, d, host, "shop.example"); });
  };
  ConsentCspInput in;
  in.site = "shop.example";
  in.purpose_hosts = {{"google-analytics.com"}};
  auto policies = parse_csp("script-src * 'unsafe-inline'; img-src *");
  const auto ours = parse_csp(build_consent_csp(in).value);
  policies.insert(policies.end(), ours.begin(), ours.end());
  CHECK(both(policies, "script-src", "www.google-analytics.com"));
  CHECK_FALSE(both(policies, "script-src", "connect.facebook.net"));
  CHECK_FALSE(both(policies, "img-src", "connect.facebook.net"));
  // And a strict origin policy stays strict: ours never adds what theirs forbids.
  auto strict = parse_csp("default-src 'none'");
  strict.insert(strict.end(), ours.begin(), ours.end());
  CHECK_FALSE(both(strict, "script-src", "www.google-analytics.com"));
  CHECK_FALSE(both(strict, "frame-src", "shop.example"));
}
