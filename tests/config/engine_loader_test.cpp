#include "config/engine_loader.hpp"

#include <catch2/catch.hpp>

#include "tests/config/test_files.hpp"

using namespace consent::config;
using Catch::Matchers::Equals;

TEST_CASE("the shipped config builds an Engine with every starter rule", "[config]") {
  auto r = load_engine(std::filesystem::path(CONSENT_SOURCE_DIR) / "config/default.yaml");
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.to_string());
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.engine);
  const auto s = r.engine->summary();
  CHECK(s.purposes == 9);
  CHECK(s.trackers == r.config->policy.trackers.size());
  CHECK(r.engine->policy_hash().size() == 16);
  CHECK(r.engine->find_purpose("analytics") == r.engine->find_purpose("audience-measurement"));
  CHECK(r.engine->find_purpose("marketing") == r.engine->find_purpose("advertising-personalised"));
}

TEST_CASE("engine diagnostics point at the places the loader recorded", "[config]") {
  test::TempDir dir;
  dir.write("p.yaml", R"(purposes:
  - id: audience-measurement
    label: Audience
    aliases: [analytics]
trackers:
  - id: stats
    purpose: analitycs
    domains: [stats.example]
)");
  auto r = load_engine(dir.write("s.yaml", "policies: [p.yaml]\n"));
  CHECK_FALSE(r.engine);
  REQUIRE(r.config);  // the files loaded; only the build failed
  REQUIRE(r.diagnostics.size() == 1);
  CHECK_THAT(
      r.diagnostics[0].to_string(),
      Catch::Matchers::StartsWith(dir.prefix() + R"(p.yaml:7:14: trackers[0].purpose: unknown purpose "analitycs")"));
}

TEST_CASE("load errors stop before the engine is built", "[config]") {
  test::TempDir dir;
  dir.write("p.yaml", "purposes: []\nfrobnicate: 1\n");
  auto r = load_engine(dir.write("s.yaml", "policies: [p.yaml]\n"));
  CHECK_FALSE(r.engine);
  CHECK_FALSE(r.config);
  CHECK_THAT(
      test::messages({r.config, r.diagnostics}, dir.prefix()),
      Equals(std::vector<std::string>{
          R"(p.yaml:2:1: unknown key "frobnicate"; expected one of: name, version, purposes, trackers, consent, caps, email, allow_domains)"}));
}
