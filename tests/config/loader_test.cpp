// The shipped configuration (config/default.yaml and config/policies/) loads cleanly and says what
// the issue and the CNIL texts say.
#include "config/loader.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "tests/config/test_files.hpp"

using namespace consent::config;
using consent::policy::Exemption;

namespace {

const Config& shipped() {
  static const LoadResult result = load_config(std::filesystem::path(CONSENT_SOURCE_DIR) / "config/default.yaml");
  for (const auto& d : result.diagnostics) UNSCOPED_INFO(d.to_string());
  REQUIRE(result.diagnostics.empty());
  return *result.config;
}

const consent::policy::PurposeDef* purpose(const consent::policy::Document& d, std::string_view id) {
  auto it = std::find_if(d.purposes.begin(), d.purposes.end(), [&](const auto& p) { return p.id == id; });
  return it == d.purposes.end() ? nullptr : &*it;
}

std::vector<int> tcf_of(const consent::policy::Document& d, std::string_view id) {
  for (const auto& m : d.consent.tcf) {
    if (m.purpose.value == id) return m.tcf_purposes;
  }
  return {};
}

}  // namespace

TEST_CASE("the default settings listen on loopback and load the starter policies", "[config]") {
  const auto& c = shipped();
  CHECK(c.settings.listen == "127.0.0.1:8080");
  CHECK(c.settings.mode == Mode::enforce);
  CHECK(c.settings.allowed_clients == std::vector<std::string>{"127.0.0.0/8", "::1/128"});
  CHECK_FALSE(c.settings.auth.enabled);
  // The directory loads sorted by name: the base files and the pack's files by purpose.
  const auto loaded = [&](std::string_view name) {
    return std::any_of(c.settings.policies.begin(), c.settings.policies.end(),
                       [&](const std::string& p) { return p.ends_with(name); });
  };
  for (const char* file : {"purposes.yaml", "consent.yaml", "necessary.yaml", "analytics.yaml", "advertising.yaml",
                           "social.yaml", "session-replay.yaml", "email-tracking.yaml"}) {
    INFO(file);
    CHECK(loaded(std::string("config/policies/") + file));
  }
  CHECK(std::is_sorted(c.settings.policies.begin(), c.settings.policies.end()));
  // The file spells out every default: keep them in step with settings.hpp.
  const Settings defaults;
  CHECK(c.settings.timeouts.client_head == defaults.timeouts.client_head);
  CHECK(c.settings.timeouts.tunnel_idle == defaults.timeouts.tunnel_idle);
  CHECK(c.settings.limits.request_head_bytes == defaults.limits.request_head_bytes);
  CHECK(c.settings.limits.ledger_entries == defaults.limits.ledger_entries);
  CHECK(c.settings.limits.log_queue_entries == defaults.limits.log_queue_entries);
}

TEST_CASE("the starter purposes are the CNIL ones with the right exemptions", "[config]") {
  const auto& d = shipped().policy;
  CHECK(d.purposes.size() == 9);
  const std::vector<std::pair<std::string_view, Exemption>> expected{
      {"strictly-necessary", Exemption::always},
      {"audience-measurement", Exemption::first_party_audience},
      {"advertising-personalised", Exemption::none},
      {"advertising", Exemption::none},
      {"advertising-geolocated", Exemption::none},
      {"content-personalisation", Exemption::none},
      {"social-media", Exemption::none},
      {"session-replay", Exemption::none},
      {"email-tracking", Exemption::none},
  };
  for (const auto& [id, exemption] : expected) {
    INFO(id);
    const auto* p = purpose(d, id);
    REQUIRE(p);
    CHECK(p->exemption == exemption);
    CHECK_FALSE(p->label.empty());
  }
  const auto* am = purpose(d, "audience-measurement");
  CHECK(std::count(am->aliases.begin(), am->aliases.end(), "analytics") == 1);
  CHECK(std::count(am->aliases.begin(), am->aliases.end(), "statistics") == 1);
}

TEST_CASE("the starter consent section maps TCF purposes and GPC as documented", "[config]") {
  const auto& d = shipped().policy;
  CHECK(d.consent.cookie_names == std::vector<std::string>{"eu-consent", "eu.consent"});
  CHECK(d.consent.tcf_cookie_names == std::vector<std::string>{"euconsent-v2", "eupubconsent-v2"});
  CHECK(d.consent.lifetime_seconds == 180 * 86400);
  CHECK(tcf_of(d, "advertising-personalised") == std::vector<int>{1, 3, 4});
  CHECK(tcf_of(d, "advertising") == std::vector<int>{1, 2, 7});
  CHECK(tcf_of(d, "content-personalisation") == std::vector<int>{1, 5, 6});
  CHECK(tcf_of(d, "audience-measurement") == std::vector<int>{1, 8, 9});
  // GPC refuses exactly the purposes that are not always exempt.
  std::vector<std::string> refused;
  for (const auto& g : d.consent.gpc_refuses) refused.push_back(g.value);
  for (const auto& p : d.purposes) {
    INFO(p.id);
    CHECK(std::count(refused.begin(), refused.end(), p.id) == (p.exemption == Exemption::always ? 0 : 1));
  }
  CHECK(d.caps.audience_max_age_seconds == 395 * 86400);
  CHECK(d.caps.consent_max_age_seconds == 183 * 86400);
}

TEST_CASE("the starter trackers have a known purpose and at least one matcher", "[config]") {
  const auto& d = shipped().policy;
  std::vector<std::string> ids;
  for (const auto& t : d.trackers) {
    INFO(t.id);
    ids.push_back(t.id);
    bool known = false;
    for (const auto& p : d.purposes) {
      known = known || p.id == t.purpose.value ||
              std::find(p.aliases.begin(), p.aliases.end(), t.purpose.value) != p.aliases.end();
    }
    CHECK(known);
    CHECK(t.domains.size() + t.cookies.size() + t.urls.size() > 0);
    CHECK(t.where.line > 0);
  }
  for (const char* id : {"google-analytics-suite", "hotjar-recorder", "consent-choice-cookies"}) {
    CHECK(std::count(ids.begin(), ids.end(), id) == 1);
  }
}

TEST_CASE("the examples in docs/config.md load without a diagnostic", "[config]") {
  std::ifstream in(std::filesystem::path(CONSENT_SOURCE_DIR) / "docs/config.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> blocks;
  for (auto pos = doc.find("```yaml\n"); pos != std::string::npos; pos = doc.find("```yaml\n", pos)) {
    pos += 8;
    const auto end = doc.find("```", pos);
    REQUIRE(end != std::string::npos);
    blocks.push_back(doc.substr(pos, end - pos));
  }
  REQUIRE(blocks.size() == 2);  // the settings file, then the complete policy
  consent::config::test::TempDir dir;
  dir.write("policies/example.yaml", blocks[1]);
  auto settings = load_config(dir.write("settings.yaml", blocks[0]));
  for (const auto& d : settings.diagnostics) UNSCOPED_INFO(d.to_string());
  CHECK(settings.diagnostics.empty());
  auto policy = load_policy_text(blocks[1], "example.yaml");
  for (const auto& d : policy.diagnostics) UNSCOPED_INFO(d.to_string());
  CHECK(policy.diagnostics.empty());
}

TEST_CASE("the shipped gateway example loads without a diagnostic", "[config]") {
  auto r = load_config(std::filesystem::path(CONSENT_SOURCE_DIR) / "config/gateway.example.yaml");
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.to_string());
  REQUIRE(r.config);
  const auto& g = r.config->settings.gateway;
  CHECK(r.config->settings.mode == consent::config::Mode::gateway);
  REQUIRE(g.routes.size() == 1);
  CHECK(g.routes[0].origin.port == 3000);
  CHECK(g.csp == consent::config::CspMode::report_only);
}
