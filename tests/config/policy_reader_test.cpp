// Policy files, through the public loader.
#include "config/loader.hpp"

#include <catch2/catch.hpp>

#include "policy/engine.hpp"
#include "tests/config/test_files.hpp"

using namespace consent::config;
using Catch::Matchers::Equals;
using consent::config::test::messages;
using consent::policy::Exemption;

namespace {

std::vector<std::string> policy_errors(const std::string& text) {
  auto r = load_policy_text(text, "p.yaml");
  CHECK(r.config.has_value() == r.diagnostics.empty());
  return messages(r);
}

std::string at(const consent::policy::SourceLocation& w) {
  return w.file + ":" + std::to_string(w.line) + ":" + std::to_string(w.column);
}

const char* const full_policy = R"(name: test pack
version: "1.2"
purposes:
  - id: strictly-necessary
    label: Necessary
    exemption: always
  - id: audience-measurement
    label: Audience
    exemption: first-party-audience
    aliases: [analytics, statistics]
  - id: advertising
    label: Ads
trackers:
  - id: ga
    purpose: analytics
    source: https://example.org/ga
    domains: [google-analytics.com, "*.stats.example"]
    cookies: [_ga, "_ga_*"]
    urls: ['^example\.com/collect\?']
    first_party_only: true
consent:
  cookie_names: [eu-consent, eu.consent]
  tcf_cookie_names: [euconsent-v2]
  lifetime: 90d
  tcf:
    advertising: [1, 2, 7]
    audience-measurement:
      purposes: [1, 8]
      special_features: [2]
  gpc_refuses: [advertising]
  user_override: {advertising: false, analytics: true}
  cmp:
    - cookie: tarteaucitron
      format: tarteaucitron
      categories: {gtag: audience-measurement}
caps:
  audience_max_age: 30d
  consent_max_age: 1h
email:
  enabled: true
  webmail_origins: [mail.example.com]
  mail_user_agents: [Thunderbird]
  min_token_length: 24
allow_domains: [intranet.example]
)";

}  // namespace

TEST_CASE("every policy key is read, with the location of each located value", "[config]") {
  auto r = load_policy_text(full_policy, "p.yaml");
  REQUIRE(messages(r).empty());
  const auto& d = r.config->policy;
  CHECK(d.name == "test pack");
  CHECK(d.version == "1.2");
  REQUIRE(d.purposes.size() == 3);
  CHECK(d.purposes[0].id == "strictly-necessary");
  CHECK(d.purposes[0].label == "Necessary");
  CHECK(d.purposes[0].exemption == Exemption::always);
  CHECK(at(d.purposes[0].where) == "p.yaml:4:5");
  CHECK(d.purposes[1].exemption == Exemption::first_party_audience);
  CHECK(d.purposes[1].aliases == std::vector<std::string>{"analytics", "statistics"});
  CHECK(d.purposes[2].exemption == Exemption::none);

  REQUIRE(d.trackers.size() == 1);
  const auto& t = d.trackers[0];
  CHECK(t.id == "ga");
  CHECK(at(t.where) == "p.yaml:14:5");
  CHECK(t.purpose.value == "analytics");
  CHECK(at(t.purpose.where) == "p.yaml:15:14");
  REQUIRE(t.domains.size() == 2);
  CHECK(t.domains[0].value == "google-analytics.com");
  CHECK(at(t.domains[0].where) == "p.yaml:17:15");
  CHECK(t.domains[1].value == "*.stats.example");
  CHECK(at(t.domains[1].where) == "p.yaml:17:37");
  REQUIRE(t.cookies.size() == 2);
  CHECK(t.cookies[1].value == "_ga_*");
  CHECK(at(t.cookies[1].where) == "p.yaml:18:20");
  REQUIRE(t.urls.size() == 1);
  CHECK(t.urls[0].value == R"(^example\.com/collect\?)");
  CHECK(at(t.urls[0].where) == "p.yaml:19:12");
  CHECK(t.first_party_only);
  CHECK(t.source == "https://example.org/ga");

  const auto& c = d.consent;
  CHECK(c.cookie_names == std::vector<std::string>{"eu-consent", "eu.consent"});
  CHECK(c.tcf_cookie_names == std::vector<std::string>{"euconsent-v2"});
  CHECK(c.lifetime_seconds == 90 * 86400);
  REQUIRE(c.tcf.size() == 2);
  CHECK(c.tcf[0].purpose.value == "advertising");
  CHECK(at(c.tcf[0].purpose.where) == "p.yaml:26:5");
  CHECK(c.tcf[0].tcf_purposes == std::vector<int>{1, 2, 7});
  CHECK(c.tcf[0].special_features.empty());
  CHECK(c.tcf[1].purpose.value == "audience-measurement");
  CHECK(c.tcf[1].tcf_purposes == std::vector<int>{1, 8});
  CHECK(c.tcf[1].special_features == std::vector<int>{2});
  REQUIRE(c.gpc_refuses.size() == 1);
  CHECK(at(c.gpc_refuses[0].where) == "p.yaml:30:17");
  CHECK(c.user_override == std::map<std::string, bool>{{"advertising", false}, {"analytics", true}});
  REQUIRE(c.cmp.size() == 1);
  CHECK(c.cmp[0].cookie == "tarteaucitron");
  CHECK(c.cmp[0].format == "tarteaucitron");
  CHECK(at(c.cmp[0].where) == "p.yaml:33:7");
  REQUIRE(c.cmp[0].categories.count("gtag") == 1);
  CHECK(c.cmp[0].categories.at("gtag").value == "audience-measurement");
  CHECK(at(c.cmp[0].categories.at("gtag").where) == "p.yaml:35:26");

  CHECK(d.caps.audience_max_age_seconds == 30 * 86400);
  CHECK(d.caps.consent_max_age_seconds == 3600);
  CHECK(d.email.enabled);
  REQUIRE(d.email.webmail_origins.size() == 1);
  CHECK(d.email.webmail_origins[0].value == "mail.example.com");
  REQUIRE(d.email.mail_user_agents.size() == 1);
  CHECK(d.email.min_token_length == 24);
  REQUIRE(d.allow_domains.size() == 1);
  CHECK(at(d.allow_domains[0].where) == "p.yaml:44:17");
}

TEST_CASE("sections left out keep the Document's defaults", "[config]") {
  auto r = load_policy_text("name: x\n", "p.yaml");
  REQUIRE(messages(r).empty());
  const consent::policy::Document defaults;
  const auto& d = r.config->policy;
  CHECK(d.consent.cookie_names == defaults.consent.cookie_names);
  CHECK(d.consent.tcf_cookie_names == defaults.consent.tcf_cookie_names);
  CHECK(d.consent.lifetime_seconds == defaults.consent.lifetime_seconds);
  CHECK(d.caps.audience_max_age_seconds == defaults.caps.audience_max_age_seconds);
  CHECK(d.email.min_token_length == defaults.email.min_token_length);
}

TEST_CASE("a misspelled tracker key is an error with a suggestion", "[config]") {
  CHECK_THAT(policy_errors("trackers:\n  - id: a\n    purpose: ads\n    domains: [a.example]\n"
                           "  - id: b\n    purpose: ads\n    domains: [b.example]\n"
                           "  - id: c\n    purpose: ads\n    domians: [c.example]\n"),
             Equals(std::vector<std::string>{
                 R"(p.yaml:8:5: trackers[2]: a tracker needs at least one of domains, cookies, urls)",
                 R"(p.yaml:10:5: unknown key "domians" in trackers[2]; did you mean "domains"?)",
             }));
}

TEST_CASE("policy type and shape errors are all reported with their key paths", "[config]") {
  CHECK_THAT(
      policy_errors(R"(name: [x]
purposes:
  - id: a
    exemption: sometimes
  - label: B
    aliases: b
  - just-a-string
trackers:
  - id: t
    purpose: ""
    domains: [ok.example, {x: 1}, ""]
    first_party_only: "maybe"
  - purpose: ads
    cookies: []
  - id: u
    purpose: [ads]
    urls: '^x'
trackers_extra: 1
)"),
      Equals(std::vector<std::string>{
          R"(p.yaml:1:7: name: expected a string, got a list)",
          R"(p.yaml:3:5: purposes[0]: missing required key "label")",
          R"(p.yaml:4:16: purposes[0].exemption: expected one of none, always, first-party-audience, got "sometimes")",
          R"(p.yaml:5:5: purposes[1]: missing required key "id")",
          R"(p.yaml:6:14: purposes[1].aliases: expected a list, got "b")",
          R"(p.yaml:7:5: purposes[2]: expected a map, got "just-a-string")",
          R"(p.yaml:10:14: trackers[0].purpose: must not be empty)",
          R"(p.yaml:11:27: trackers[0].domains[1]: expected a string, got a map)",
          R"(p.yaml:11:35: trackers[0].domains[2]: must not be empty)",
          R"(p.yaml:12:23: trackers[0].first_party_only: expected true or false, got "maybe")",
          R"(p.yaml:13:5: trackers[1]: missing required key "id")",
          R"(p.yaml:16:14: trackers[2].purpose: expected a string, got a list)",
          R"(p.yaml:17:11: trackers[2].urls: expected a list, got "^x")",
          R"(p.yaml:18:1: unknown key "trackers_extra"; expected one of: name, version, purposes, trackers, consent, caps, email, allow_domains)",
      }));
}

TEST_CASE("consent section errors are located precisely", "[config]") {
  CHECK_THAT(
      policy_errors(R"(consent:
  cookie_names: []
  tcf_cookie_names: ["bad name", "a;b"]
  lifetime: 0
  tcf:
    advertising: [1, 12, x]
    content-personalisation: {purposes: [1], special_features: [3]}
    audience-measurement: []
    social-media: 5
    advertising-geolocated: {special_features: [1]}
  gpc_refuses: advertising
  user_override: {advertising: no}
  cmp:
    - cookie: "x y"
      format: didomi
    - cookie: c
  cookienames: [a]
caps:
  audience_max_age: 500ms
email:
  min_token_length: 2
)"),
      Equals(std::vector<std::string>{
          R"(p.yaml:2:17: consent.cookie_names: must list at least one cookie name)",
          R"(p.yaml:3:22: consent.tcf_cookie_names[0]: "bad name" is not a cookie name (RFC 6265 token))",
          R"(p.yaml:3:34: consent.tcf_cookie_names[1]: "a;b" is not a cookie name (RFC 6265 token))",
          R"(p.yaml:4:13: consent.lifetime: must be at least 1s)",
          R"(p.yaml:6:22: consent.tcf.advertising[1]: expected a whole number from 1 to 11, got "12")",
          R"(p.yaml:6:26: consent.tcf.advertising[2]: expected a whole number from 1 to 11, got "x")",
          R"(p.yaml:7:65: consent.tcf.content-personalisation.special_features[0]: expected a whole number from 1 to 2, got "3")",
          R"(p.yaml:8:27: consent.tcf.audience-measurement: must list at least one TCF purpose)",
          R"(p.yaml:9:19: consent.tcf.social-media: expected a list of TCF purposes such as [1, 3, 4] or a map with purposes and special_features, got "5")",
          R"(p.yaml:10:29: consent.tcf.advertising-geolocated: missing required key "purposes")",
          R"(p.yaml:11:16: consent.gpc_refuses: expected a list, got "advertising")",
          R"(p.yaml:12:32: consent.user_override.advertising: expected true or false, got "no")",
          R"(p.yaml:14:7: consent.cmp[0]: missing required key "categories")",
          R"(p.yaml:14:15: consent.cmp[0].cookie: "x y" is not a cookie name (RFC 6265 token))",
          R"(p.yaml:16:7: consent.cmp[1]: missing required key "format")",
          R"(p.yaml:16:7: consent.cmp[1]: missing required key "categories")",
          R"(p.yaml:17:3: unknown key "cookienames" in consent; did you mean "cookie_names"?)",
          R"(p.yaml:19:21: caps.audience_max_age: must be at least 1s)",
          R"(p.yaml:21:21: email.min_token_length: expected a whole number from 8 to 1024, got "2")",
      }));
}

TEST_CASE("duplicate keys are errors at every level, including data keys", "[config]") {
  CHECK_THAT(policy_errors(R"(name: a
purposes:
  - id: x
    label: X
    id: y
consent:
  tcf:
    advertising: [1]
    advertising: [2]
  user_override: {ads: true, ads: false}
name: b
)"),
             Equals(std::vector<std::string>{
                 R"(p.yaml:5:5: duplicate key "id" in purposes[0] (first at line 3))",
                 R"(p.yaml:9:5: duplicate key "advertising" in consent.tcf (first at line 8))",
                 R"(p.yaml:10:19: consent.user_override: unknown purpose "ads")",
                 R"(p.yaml:10:30: duplicate key "ads" in consent.user_override (first at line 10))",
                 R"(p.yaml:11:1: duplicate key "name" (first at line 1))",
             }));
}

TEST_CASE("user_override keys must name a purpose or an alias", "[config]") {
  CHECK_THAT(policy_errors("purposes:\n  - {id: advertising, label: Ads, aliases: [ads]}\n"
                           "consent:\n  user_override:\n    ads: false\n    advertising: false\n    adverts: true\n"),
             Equals(std::vector<std::string>{R"(p.yaml:7:5: consent.user_override: unknown purpose "adverts")"}));
}

TEST_CASE("hostile policy texts give diagnostics, never crashes", "[config]") {
  CHECK_THAT(policy_errors(""), Equals(std::vector<std::string>{"p.yaml: the file is empty"}));
  CHECK_THAT(policy_errors("\xff\xfe"), Equals(std::vector<std::string>{"p.yaml:1:1: the file is not valid UTF-8"}));
  CHECK_THAT(policy_errors("name: \xed\xa0\x80\n"),  // a UTF-16 surrogate encoded as UTF-8
             Equals(std::vector<std::string>{"p.yaml:1:7: the file is not valid UTF-8"}));
  CHECK_THAT(policy_errors("name: \xc0\xaf\n"),  // overlong '/'
             Equals(std::vector<std::string>{"p.yaml:1:7: the file is not valid UTF-8"}));
  CHECK_THAT(policy_errors("name: caf\xc3"),
             Equals(std::vector<std::string>{"p.yaml:1:10: the file is not valid UTF-8"}));
  CHECK(policy_errors("name: \xe2\x9c\x93 ok\n").empty());
  CHECK_THAT(policy_errors("trackers:\n  - id: a\n    purpose: b\n    domains: [a.example\n"),
             Equals(std::vector<std::string>{"p.yaml:5:1: YAML syntax error: end of sequence flow not found"}));
  CHECK_THAT(
      policy_errors("name: a\n\tversion: b\n"),
      Equals(std::vector<std::string>{"p.yaml:2:1: YAML syntax error: illegal tab when looking for indentation"}));

  // Aliases cannot make the tree cyclic or exponential.
  CHECK_THAT(
      policy_errors("name: &a [*a]\n"),
      Equals(std::vector<std::string>{"p.yaml: YAML nesting is too deep (more than 64 levels, counting aliases)"}));
  std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int k = 1; k < 10; ++k) laughs += ", " + prev;
    laughs += "]\n";
  }
  CHECK_THAT(
      policy_errors(laughs),
      Equals(std::vector<std::string>{"p.yaml: the file holds too many values (more than 1000000, counting aliases)"}));

  // Huge: many trackers load, and a long key gets no suggestion and a truncated quote.
  std::string many = "trackers:\n";
  for (int i = 0; i < 2000; ++i) {
    many += "  - {id: t" + std::to_string(i) + ", purpose: ads, domains: [t" + std::to_string(i) + ".example]}\n";
  }
  auto r = load_policy_text(many, "p.yaml");
  REQUIRE(messages(r).empty());
  CHECK(r.config->policy.trackers.size() == 2000);
  CHECK_THAT(
      policy_errors(std::string(200, 'k') + ": 1\n"),
      Equals(std::vector<std::string>{"p.yaml:1:1: unknown key \"" + std::string(80, 'k') +
                                      "...\"; expected one of: name, version, purposes, trackers, consent, caps, "
                                      "email, allow_domains"}));
}

TEST_CASE("the same policy split across files merges to the same Document", "[config]") {
  consent::config::test::TempDir dir;
  dir.write("whole/all.yaml", full_policy);
  // Split at section boundaries: purposes, consent+caps, trackers+email+allow_domains.
  const std::string text = full_policy;
  const auto cut1 = text.find("trackers:");
  const auto cut2 = text.find("consent:");
  const auto cut3 = text.find("email:");
  dir.write("split/1.yaml", text.substr(0, cut1));
  dir.write("split/2.yaml", text.substr(cut2, cut3 - cut2));
  dir.write("split/3.yaml", text.substr(cut1, cut2 - cut1) + text.substr(cut3));
  auto whole = load_config(dir.write("whole.yaml", "policies: [whole]\n"));
  auto split = load_config(dir.write("split.yaml", "policies: [split]\n"));
  REQUIRE(messages(whole).empty());
  REQUIRE(messages(split).empty());
  const auto& a = whole.config->policy;
  const auto& b = split.config->policy;
  CHECK(a.name == b.name);
  CHECK(a.version == b.version);
  REQUIRE(a.purposes.size() == b.purposes.size());
  for (std::size_t i = 0; i < a.purposes.size(); ++i) CHECK(a.purposes[i].id == b.purposes[i].id);
  REQUIRE(a.trackers.size() == b.trackers.size());
  CHECK(a.trackers[0].domains.size() == b.trackers[0].domains.size());
  CHECK(a.consent.tcf.size() == b.consent.tcf.size());
  CHECK(a.consent.user_override == b.consent.user_override);
  CHECK(a.consent.lifetime_seconds == b.consent.lifetime_seconds);
  CHECK(a.caps.audience_max_age_seconds == b.caps.audience_max_age_seconds);
  CHECK(a.email.min_token_length == b.email.min_token_length);
  CHECK(a.allow_domains.size() == b.allow_domains.size());
  // Locations name the file each value came from.
  CHECK(b.trackers[0].where.file == (dir.path() / "split/3.yaml").string());
}

TEST_CASE("sections that configure one thing may appear in one file only", "[config]") {
  consent::config::test::TempDir dir;
  dir.write("p/a.yaml", "purposes:\n  - {id: x, label: X}\nconsent:\n  lifetime: 1d\ncaps: {}\n");
  dir.write("p/b.yaml", "purposes:\n  - {id: y, label: Y}\n\nconsent:\n  lifetime: 2d\ncaps: {}\nemail: {}\n");
  auto r = load_config(dir.write("s.yaml", "policies: [p]\n"));
  CHECK_FALSE(r.config);
  CHECK_THAT(messages(r, dir.prefix()),
             Equals(std::vector<std::string>{
                 "p/b.yaml:4:1: consent: already defined at p/a.yaml:3:1; the consent section must be in one file",
                 "p/b.yaml:6:1: caps: already defined at p/a.yaml:5:1; the caps section must be in one file",
             }));
}

namespace {

const char* const examples_policy = R"(purposes:
  - id: analytics
    label: Analytics
    examples:
      - url: https://www.google-analytics.com/g/collect?v=2
        site: www.lemonde.fr
        consent: "analytics:true"
        expect: allow
        reason: purpose_granted
      - {url: "https://www.google-analytics.com/g/collect", expect: block, gpc: true, consent: ""}
      - url: https://www.google-analytics.com/
        expect: allow
trackers:
  - id: ga
    purpose: analytics
    source: EasyPrivacy
    domains: [google-analytics.com]
)";

}  // namespace

TEST_CASE("purpose examples are read with their location and decided when the engine builds", "[config]") {
  auto r = load_policy_text(examples_policy, "p.yaml");
  REQUIRE(messages(r).empty());
  const auto& d = r.config->policy;
  REQUIRE(d.purposes.size() == 1);
  const auto& x = d.purposes[0].examples;
  REQUIRE(x.size() == 3);
  CHECK(x[0].url == "https://www.google-analytics.com/g/collect?v=2");
  CHECK(x[0].site == "www.lemonde.fr");
  CHECK(x[0].consent == std::optional<std::string>("analytics:true"));
  CHECK_FALSE(x[0].gpc);
  CHECK(x[0].expect == consent::policy::Verdict::allow);
  CHECK(x[0].reason == "purpose_granted");
  CHECK(at(x[0].where) == "p.yaml:5:9");
  CHECK(x[1].consent == std::optional<std::string>(""));
  CHECK(x[1].gpc);
  CHECK(x[1].expect == consent::policy::Verdict::block);
  CHECK(at(x[1].where) == "p.yaml:10:9");
  CHECK_FALSE(x[2].consent);
  CHECK(d.trackers[0].source == "EasyPrivacy");

  const auto built = consent::policy::Engine::build(d);
  std::vector<std::string> failed;
  for (const auto& diag : built.diagnostics) failed.push_back(diag.to_string());
  CHECK_THAT(
      failed,
      Equals(std::vector<std::string>{
          R"(p.yaml:11:9: purposes.analytics.examples[2]: expected allow for "https://www.google-analytics.com/" with no consent, got block (consent_missing, rule ga/domains[0], purpose "analytics"))"}));
}

TEST_CASE("purpose example shape errors are located, with suggestions", "[config]") {
  CHECK_THAT(
      policy_errors(R"(purposes:
  - id: a
    label: A
    examples:
      - {url: "https://x.example/", expect: blok}
      - {expect: allow, sight: x.example}
      - {url: "", expect: allow, gpc: 1, consent: [a], reason: ""}
      - just-a-url
  - id: b
    label: B
    examples: {url: x}
)"),
      Equals(std::vector<std::string>{
          R"(p.yaml:5:45: purposes[0].examples[0].expect: expected one of allow, strip_cookies, block, got "blok"; did you mean "block"?)",
          R"(p.yaml:6:9: purposes[0].examples[1]: missing required key "url")",
          R"(p.yaml:6:25: unknown key "sight" in purposes[0].examples[1]; expected one of: url, site, consent, gpc, expect, reason)",
          R"(p.yaml:7:15: purposes[0].examples[2].url: must not be empty)",
          R"(p.yaml:7:39: purposes[0].examples[2].gpc: expected true or false, got "1")",
          R"(p.yaml:7:51: purposes[0].examples[2].consent: expected a string, got a list)",
          R"(p.yaml:7:64: purposes[0].examples[2].reason: must not be empty)",
          R"(p.yaml:8:9: purposes[0].examples[3]: expected a map, got "just-a-url")",
          R"(p.yaml:11:15: purposes[1].examples: expected a list, got a map)",
      }));
  CHECK_THAT(policy_errors("trackers:\n  - {id: t, purpose: a, domains: [a.example], source: \"\"}\n"),
             Equals(std::vector<std::string>{"p.yaml:2:55: trackers[0].source: must not be empty"}));
}
