#include "proxy/dns_cname.hpp"

#include <catch2/catch.hpp>

#include "policy/engine.hpp"
#include "policy/request.hpp"

using consent::proxy::CnameRecord;
using consent::proxy::first_recognised;
using consent::proxy::follow_cname_chain;
using consent::proxy::judged_host;
using consent::proxy::normalise_dns_name;
using Chain = std::vector<std::string>;

TEST_CASE("dns names are lower-cased and lose one trailing dot", "[proxy]") {
  CHECK(normalise_dns_name("Metrics.Site.EXAMPLE.") == "metrics.site.example");
  CHECK(normalise_dns_name("a.example") == "a.example");
  CHECK(normalise_dns_name("") == "");
  CHECK(normalise_dns_name(".") == "");
  CHECK(normalise_dns_name("a..") == "a.");
  CHECK(normalise_dns_name("\xc3\xa9.Example") == "\xc3\xa9.example");  // non-ASCII bytes untouched
}

TEST_CASE("a cname chain is followed from the host in chain order, whatever the record order", "[proxy]") {
  const std::vector<CnameRecord> records{
      {"edge.tracker-cdn.example.", "collect.tracker.example."},
      {"Metrics.Site.Example", "Edge.Tracker-CDN.example"},
      {"unrelated.example", "elsewhere.example"},
      {"metrics.site.example", "edge.tracker-cdn.example"},  // the AAAA answer repeats the chain
  };
  CHECK(follow_cname_chain("metrics.site.example", records) ==
        Chain{"edge.tracker-cdn.example", "collect.tracker.example"});
  CHECK(follow_cname_chain("METRICS.site.example.", records) ==
        Chain{"edge.tracker-cdn.example", "collect.tracker.example"});
  CHECK(follow_cname_chain("site.example", records).empty());
  CHECK(follow_cname_chain("metrics.site.example", {}).empty());
}

TEST_CASE("a cname loop or an endless chain is cut", "[proxy]") {
  const std::vector<CnameRecord> loop{
      {"a.example", "b.example"}, {"b.example", "c.example"}, {"c.example", "a.example"}};
  CHECK(follow_cname_chain("a.example", loop) == Chain{"b.example", "c.example"});
  const std::vector<CnameRecord> self{{"a.example", "A.example."}};
  CHECK(follow_cname_chain("a.example", self).empty());

  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("n" + std::to_string(i) + ".example");
  std::vector<CnameRecord> longest;
  for (int i = 0; i + 1 < 40; ++i)
    longest.push_back({names[static_cast<std::size_t>(i)], names[static_cast<std::size_t>(i + 1)]});
  const Chain chain = follow_cname_chain("n0.example", longest);
  REQUIRE(chain.size() == consent::proxy::max_cname_hops);
  CHECK(chain.front() == "n1.example");
  CHECK(chain.back() == "n16.example");
}

TEST_CASE("the first recognised name is judged, the host itself first", "[proxy]") {
  const Chain chain{"edge.cdn.example", "collect.tracker.example", "x.tracker.example"};
  const auto is_tracker = [](std::string_view n) { return n.ends_with("tracker.example"); };
  CHECK(first_recognised("metrics.site.example", chain, is_tracker) == "collect.tracker.example");
  CHECK(first_recognised("a.tracker.example", chain, is_tracker) == "a.tracker.example");
  CHECK(first_recognised("metrics.site.example", Chain{"edge.cdn.example"}, is_tracker) == "metrics.site.example");
  CHECK(first_recognised("metrics.site.example", Chain{}, is_tracker) == "metrics.site.example");
}

namespace {

std::shared_ptr<const consent::policy::Engine> tracker_engine() {
  consent::policy::Document doc;
  doc.name = "dns test";
  doc.version = "1";
  consent::policy::PurposeDef analytics;
  analytics.id = "analytics";
  analytics.label = "Analytics";
  doc.purposes.push_back(analytics);
  consent::policy::TrackerRule rule;
  rule.id = "tracker";
  rule.purpose.value = "analytics";
  rule.domains.push_back({"tracker.example", {}});
  doc.trackers.push_back(rule);
  auto built = consent::policy::Engine::build(doc);
  REQUIRE(built.diagnostics.empty());
  return built.engine;
}

}  // namespace

TEST_CASE("a first-party name delegated to a tracker is judged as the tracker", "[proxy]") {
  const auto engine = tracker_engine();
  consent::policy::Request request;
  request.method = "GET";
  request.host = "metrics.site.example";
  request.path_and_query = "/collect";
  request.first_party = "site.example";

  const Chain chain{"site.edge.cdn.example", "site.tracker.example"};
  const std::string_view judged = judged_host(*engine, request, chain);
  CHECK(judged == "site.tracker.example");
  request.host = judged;
  const auto decision = engine->decide(request);
  CHECK(decision.verdict == consent::policy::Verdict::block);
  CHECK(decision.rule_id == "tracker/domains[0]");

  request.host = "metrics.site.example";
  CHECK(judged_host(*engine, request, Chain{"site.edge.cdn.example"}) == "metrics.site.example");
  CHECK(judged_host(*engine, request, Chain{"nottracker.example"}) == "metrics.site.example");
  CHECK(judged_host(*engine, request, Chain{}) == "metrics.site.example");
}
