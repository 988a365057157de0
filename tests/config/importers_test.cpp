#include "config/importers.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "config/loader.hpp"

namespace {

using consent::config::ImportedTracker;
using consent::config::ImportOptions;
using consent::config::ImportResult;

const std::filesystem::path fixtures = std::filesystem::path(CONSENT_SOURCE_DIR) / "tests" / "pack" / "fixtures";

std::string read_fixture(const std::string& name) {
  std::ifstream in(fixtures / name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ImportOptions named(const std::string& file) {
  ImportOptions o;
  o.file = file;
  return o;
}

const ImportedTracker* find(const ImportResult& r, const std::string& id) {
  for (const auto& t : r.trackers) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::vector<std::string> messages(const ImportResult& r) {
  std::vector<std::string> out;
  for (const auto& p : r.problems) out.push_back(p.to_string());
  return out;
}

std::string all(const ImportResult& r) {
  std::string out;
  for (const auto& m : messages(r)) out += m + "\n";
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The YAML of an import, read back by the real policy loader: the importer never writes what the
// loader refuses.
std::size_t loaded_tracker_count(const ImportResult& r) {
  const auto loaded = consent::config::load_policy_text(consent::config::to_policy_yaml(r, {"test"}), "imported.yaml");
  std::string problems;
  for (const auto& d : loaded.diagnostics) problems += d.to_string() + "\n";
  INFO(problems);
  REQUIRE(loaded.config);
  return loaded.config->policy.trackers.size();
}

}  // namespace

TEST_CASE("Disconnect services.json maps categories to purposes, domain by domain", "[config][import]") {
  const auto r = consent::config::import_disconnect(read_fixture("disconnect-small.json"), named("services.json"));
  INFO(all(r));
  REQUIRE_FALSE(r.has_errors());

  const auto* ad = find(r, "disconnect-adnet-example-advertising-personalised");
  REQUIRE(ad != nullptr);
  CHECK(ad->purpose == "advertising-personalised");
  // Canonical (lower case, no trailing dot), and cdn.adnet.example is already matched by its parent.
  CHECK(ad->domains == std::vector<std::string>{"adnet.example", "ads.adnet-two.example"});
  CHECK(ad->source == "Disconnect services.json, Advertising: Adnet Example");

  const auto* big = find(r, "disconnect-bigco-advertising-personalised");
  REQUIRE(big != nullptr);
  CHECK(big->domains == std::vector<std::string>{"bigads.example"});
  CHECK(big->urls == std::vector<std::string>{R"(^([^/]*\.)?bigco\.example/pagead/1p-user-list)"});

  // adnet.example is also listed under Analytics: the first category in precedence keeps it.
  const auto* stats = find(r, "disconnect-stats-example-audience-measurement");
  REQUIRE(stats != nullptr);
  CHECK(stats->domains == std::vector<std::string>{"stats.example"});
  CHECK(r.skipped.at("listed in an earlier category") == 1);

  // The session-replay flag wins over the entity's category.
  const auto* replay = find(r, "disconnect-replayco-session-replay");
  REQUIRE(replay != nullptr);
  CHECK(replay->domains == std::vector<std::string>{"replay.example"});
  CHECK(find(r, "disconnect-replayco-audience-measurement") == nullptr);

  const auto* social = find(r, "disconnect-friendface-social-media");
  REQUIRE(social != nullptr);
  CHECK(social->domains == std::vector<std::string>{"ff-cdn.example", "friendface.example"});

  // Content and Cryptomining are skipped by default; an unknown category is skipped with a warning.
  CHECK(r.trackers.size() == 5);
  CHECK(r.skipped.at("category skipped by the purpose map") == 2);
  CHECK(r.skipped.at("unmapped category") == 1);
  const auto m = messages(r);
  CHECK(has(m,
            "services.json: warning: categories.Brand New Category: category has no purpose; skipped (map it with "
            "--map 'Brand New Category=PURPOSE')"));
  CHECK(has(m,
            "services.json: warning: categories.Advertising[2].\"Broken Entries\".\"https://broken.example/\"[0]: "
            "\"bad..domain\" is not a domain (empty label); skipped"));
  CHECK(has(m,
            "services.json: warning: categories.Advertising[2].\"Broken Entries\".\"https://broken.example/\"[1]: "
            "\"co.uk\" is a public suffix: it would match every site under it; skipped"));
  CHECK(has(m,
            "services.json: warning: categories.Advertising[2].\"Broken Entries\".\"https://broken.example/\"[2]: "
            "expected a domain string, got number; skipped"));
  CHECK(has(m,
            "services.json: warning: categories.Advertising[2].\"Broken Entries\".\"https://broken.example/\"[3]: "
            "\"192.0.2.1\" is an IP address, not a domain; skipped"));
  REQUIRE_FALSE(r.header.empty());
  CHECK(r.header.front().rfind("licence (as declared by the list): Test fixture", 0) == 0);
  CHECK(loaded_tracker_count(r) == 5);
}

TEST_CASE("the category map is configurable: map a skipped category, skip a mapped one", "[config][import]") {
  auto options = named("services.json");
  options.purposes["Content"] = "content-personalisation";
  options.purposes["Social"] = "skip";
  options.purposes["session-replay"] = "skip";
  const auto r = consent::config::import_disconnect(read_fixture("disconnect-small.json"), options);
  INFO(all(r));
  REQUIRE_FALSE(r.has_errors());
  CHECK(find(r, "disconnect-videos-content-personalisation") != nullptr);
  CHECK(find(r, "disconnect-friendface-social-media") == nullptr);
  // Without the replay mapping, the flagged entity keeps its category's purpose.
  const auto* replay = find(r, "disconnect-replayco-audience-measurement");
  REQUIRE(replay != nullptr);
  CHECK(replay->domains == std::vector<std::string>{"replay.example"});
}

TEST_CASE("an import is deterministic: same list, same bytes", "[config][import]") {
  const auto text = read_fixture("disconnect-small.json");
  const auto a = consent::config::to_policy_yaml(consent::config::import_disconnect(text, named("s.json")), {"h"});
  const auto b = consent::config::to_policy_yaml(consent::config::import_disconnect(text, named("s.json")), {"h"});
  CHECK(a == b);
  CHECK(a.find("trackers:\n  - id: disconnect-adnet-example-advertising-personalised\n") != std::string::npos);
}

TEST_CASE("malformed services.json is an error with its position, and nothing is imported", "[config][import]") {
  const auto r = consent::config::import_disconnect(read_fixture("truncated.json"), named("truncated.json"));
  REQUIRE(r.has_errors());
  CHECK(r.trackers.empty());
  const auto m = messages(r);
  REQUIRE(m.size() == 1);
  CHECK(m[0].rfind("truncated.json:1:101: not valid JSON: ", 0) == 0);

  const auto garbage = consent::config::import_disconnect("{\"categories\": {\"Advertising\": [}\n", named("g.json"));
  REQUIRE(garbage.has_errors());
  CHECK(messages(garbage)[0].rfind("g.json:1:33: not valid JSON: syntax error", 0) == 0);

  const auto shape =
      consent::config::import_disconnect(R"({"categories": {"Advertising": [["a.example"]]}})", named("shape.json"));
  REQUIRE(shape.has_errors());
  CHECK(messages(shape) ==
        std::vector<std::string>{"shape.json: categories.Advertising[0]: expected an object with one entity name, "
                                 "got array"});

  const auto no_categories = consent::config::import_disconnect(R"({"entities": {}})", named("e.json"));
  CHECK(messages(no_categories) ==
        std::vector<std::string>{
            "e.json: expected a JSON object with a \"categories\" object (Disconnect services.json)"});

  const auto deep =
      consent::config::import_disconnect(std::string(100'000, '[') + std::string(100'000, ']'), named("deep.json"));
  CHECK(messages(deep) == std::vector<std::string>{"deep.json:1:33: nested deeper than 32 levels"});
}

TEST_CASE("every truncation of a services.json is refused, never a smaller policy", "[config][import]") {
  const auto text = read_fixture("disconnect-small.json");
  // The fixture ends with "}\n": any shorter prefix lacks the closing brace.
  const auto body_end = text.find_last_of('}');
  for (std::size_t n = 0; n <= body_end; ++n) {
    const auto r = consent::config::import_disconnect(text.substr(0, n), named("cut.json"));
    INFO("prefix of " << n << " bytes");
    CHECK(r.has_errors());
    CHECK(r.trackers.empty());
  }
}

TEST_CASE("the Open Cookie Database CSV gives cookie patterns by platform and purpose", "[config][import]") {
  const auto r = consent::config::import_open_cookie_database(read_fixture("ocd-small.csv"), named("ocd.csv"));
  INFO(all(r));
  REQUIRE_FALSE(r.has_errors());
  const auto* ga = find(r, "ocd-google-analytics-audience-measurement");
  REQUIRE(ga != nullptr);
  CHECK(ga->cookies == std::vector<std::string>{"_ga", "_ga_*", "_gid"});
  CHECK(ga->comments == std::vector<std::string>{"retention of _ga: 2 years", "retention of _ga_*: 2 years",
                                                 "retention of _gid: 1 day"});
  CHECK(ga->source == "Open Cookie Database: Google Analytics");
  const auto* meta = find(r, "ocd-meta-advertising-personalised");
  REQUIRE(meta != nullptr);
  CHECK(meta->cookies == std::vector<std::string>{"_fbp"});
  const auto* hotjar = find(r, "ocd-hotjar-audience-measurement");
  REQUIRE(hotjar != nullptr);
  CHECK(hotjar->cookies == std::vector<std::string>{"_hjSessionUser_*"});
  CHECK(find(r, "ocd-optimizer-content-personalisation") != nullptr);
  CHECK(r.trackers.size() == 4);
  // Functional (consent cookie), a third-party domain's cookie, a generic name, a duplicate.
  CHECK(r.skipped.at("category skipped by the purpose map") == 1);
  CHECK(r.skipped.at("cookie set on a third-party domain") == 1);
  CHECK(r.skipped.at("cookie name too generic") == 1);
  CHECK(r.skipped.at("listed twice") == 1);
  CHECK(messages(r) ==
        std::vector<std::string>{"ocd.csv:11: warning: Cookie / Data Key name: \"a b\" is not a cookie name (invalid "
                                 "character ' ' at offset 1); row skipped",
                                 "ocd.csv:12: warning: Category: category \"Telepathy\" has no purpose; its rows are "
                                 "skipped (map it with --map 'Telepathy=PURPOSE')"});
  CHECK(r.header.back() ==
        "licence: Apache-2.0. This product includes data from the Open Cookie Database (Apache License 2.0).");
  CHECK(loaded_tracker_count(r) == 4);
}

TEST_CASE("malformed CSV is reported line by line and nothing is imported", "[config][import]") {
  const auto unterminated =
      consent::config::import_open_cookie_database(read_fixture("unterminated.csv"), named("u.csv"));
  CHECK(unterminated.trackers.empty());
  CHECK(messages(unterminated) ==
        std::vector<std::string>{"u.csv:2:19: quoted field not closed before the end of the input"});

  const std::string header = "Platform,Category,Cookie / Data Key name,Wildcard match\n";
  const auto bad = consent::config::import_open_cookie_database(
      header + "X,Analytics,_x,0\nY,Analytics,_y\nZ,Ana\"lytics,_z,0\nW,Analytics,\"_w\"x,0\nV,Analytics,_v,0\n",
      named("bad.csv"));
  CHECK(bad.trackers.empty());
  CHECK(messages(bad) == std::vector<std::string>{"bad.csv:3: expected 4 fields, got 3",
                                                  "bad.csv:4:6: a quote inside an unquoted field",
                                                  "bad.csv:5:17: unexpected character after a closing quote"});

  const auto no_header = consent::config::import_open_cookie_database("a,b\n1,2\n", named("h.csv"));
  CHECK(messages(no_header).size() == 4);
  CHECK(messages(no_header)[0] == "h.csv:1: header: missing column \"Platform\" (Open Cookie Database CSV expected)");
  CHECK(messages(consent::config::import_open_cookie_database("", named("e.csv"))) ==
        std::vector<std::string>{"e.csv: empty input: expected a CSV header and rows"});
}

TEST_CASE("hosts files: addresses, several names, comments and local names", "[config][import]") {
  auto options = named("lists/hosts-small.txt");
  options.purpose = "advertising";
  const auto r = consent::config::import_host_list(read_fixture("hosts-small.txt"), options);
  INFO(all(r));
  REQUIRE_FALSE(r.has_errors());
  REQUIRE(r.trackers.size() == 1);
  const auto& t = r.trackers.front();
  CHECK(t.id == "import-hosts-small");
  CHECK(t.purpose == "advertising");
  CHECK(t.source == "list Test hosts list");
  CHECK(t.domains == std::vector<std::string>{"pixel.tracker-three.example", "plain-domain.example", "tabbed.example",
                                              "tracker-one.example", "tracker-two.example",
                                              "with_underscore_ok.example"});
  CHECK(r.skipped.at("local host name") == 4);
  CHECK(messages(r) ==
        std::vector<std::string>{
            "lists/hosts-small.txt:6:9: warning: \"0.0.0.0\" is an IP address, not a domain; skipped",
            "lists/hosts-small.txt:13:9: warning: \"not..valid.example\" is not a domain (empty label); skipped",
            "lists/hosts-small.txt:14:9: warning: \"com\" is not a domain (a single label); skipped",
            "lists/hosts-small.txt:16:9: warning: \"bad/char.example\" is not a domain; skipped",
            "lists/hosts-small.txt:17:1: warning: an address without a host name; skipped",
            "lists/hosts-small.txt:18:1: warning: not a hosts line (ADDRESS NAME...), a domain or a ||domain^ rule; "
            "skipped"});
  CHECK(has(r.header, "licence (as declared by the list): CC0-1.0"));
  CHECK(loaded_tracker_count(r) == 1);
}

TEST_CASE("ABP lists: only domain-only rules are imported, the rest is counted", "[config][import]") {
  auto options = named("abp-small.txt");
  options.purpose = "audience-measurement";
  options.id = "my-list";
  const auto r = consent::config::import_host_list(read_fixture("abp-small.txt"), options);
  INFO(all(r));
  REQUIRE_FALSE(r.has_errors());
  REQUIRE(r.trackers.size() == 1);
  const auto& t = r.trackers.front();
  CHECK(t.id == "my-list");
  CHECK(t.source == "list Test ABP list, version 202611221200");
  CHECK(t.domains == std::vector<std::string>{"ads.example", "anchored.example", "beacon.example", "track.example"});
  CHECK(r.skipped.at("rule with options beyond $third-party") == 1);
  CHECK(r.skipped.at("rule with a path or no ^") == 3);
  CHECK(r.skipped.at("exception rule") == 1);
  CHECK(r.skipped.at("cosmetic rule") == 1);
  CHECK(r.skipped.at("not a domain-only rule") == 1);
  CHECK(messages(r) ==
        std::vector<std::string>{
            "abp-small.txt:16:3: warning: \"co.uk\" is a public suffix: it would match every site under it; "
            "skipped"});
  CHECK(has(r.header, "licence (as declared by the list): https://creativecommons.org/licenses/by-sa/3.0/"));
}

TEST_CASE("a host list needs a purpose and at least one domain", "[config][import]") {
  CHECK(messages(consent::config::import_host_list("a.example\n", named("x.txt"))) ==
        std::vector<std::string>{"x.txt: a host list has no categories: give the purpose of its domains (--purpose)"});
  auto options = named("empty.txt");
  options.purpose = "advertising";
  CHECK(messages(consent::config::import_host_list("# only a comment\n\n", options)) ==
        std::vector<std::string>{
            "empty.txt: no domain found: expected a hosts file, one domain per line, or ||domain^ rules"});
}

TEST_CASE("import --against removes what an existing pack already recognises", "[config][import]") {
  const auto loaded = consent::config::load_policy_text(read_fixture("against/policy.yaml"), "policy.yaml");
  REQUIRE(loaded.config);
  consent::config::PackIndex pack;
  pack.add(loaded.config->policy);
  CHECK(pack.covers_domain("adnet.example"));
  CHECK(pack.covers_domain("x.y.adnet.example"));
  CHECK_FALSE(pack.covers_domain("badnet.example"));
  CHECK_FALSE(pack.covers_domain("example"));
  CHECK(pack.covers_cookie("_ga"));
  CHECK(pack.covers_cookie("_hjSessionUser_123"));
  CHECK(pack.covers_cookie("_hjSessionUser_*"));
  CHECK_FALSE(pack.covers_cookie("_ga_*"));
  CHECK_FALSE(pack.covers_cookie("_gid"));

  auto disconnect = consent::config::import_disconnect(read_fixture("disconnect-small.json"), named("s.json"));
  CHECK(consent::config::remove_covered(disconnect, pack) == 1);
  const auto* ad = find(disconnect, "disconnect-adnet-example-advertising-personalised");
  REQUIRE(ad != nullptr);
  CHECK(ad->domains == std::vector<std::string>{"ads.adnet-two.example"});

  auto ocd = consent::config::import_open_cookie_database(read_fixture("ocd-small.csv"), named("o.csv"));
  CHECK(consent::config::remove_covered(ocd, pack) == 2);
  const auto* ga = find(ocd, "ocd-google-analytics-audience-measurement");
  REQUIRE(ga != nullptr);
  CHECK(ga->cookies == std::vector<std::string>{"_ga_*", "_gid"});
  CHECK(ga->comments == std::vector<std::string>{"retention of _ga_*: 2 years", "retention of _gid: 1 day"});
  CHECK(find(ocd, "ocd-hotjar-audience-measurement") == nullptr);
  CHECK(ocd.skipped.at("already in the pack (--against)") == 2);
}

TEST_CASE("hostile names and bytes never break the YAML an import writes", "[config][import]") {
  // Entity names end up in ids, comments and `source:` values: quotes, newlines, '#', YAML indicators
  // and invalid UTF-8 must all come out as one safe line.
  const std::string json =
      "{\"license\": \"line1\\nline2 \\u0000 'q' #x\", \"categories\": {\"Advertising\": ["
      "{\"Evil'\\n  - id: injected\\n#\\\"\\u00e9\\ud83d\\ude00 \\\\\": {\"x\\ny'\": "
      "[\"evil.example\"]}}]}}";
  const auto r = consent::config::import_disconnect(json, named("evil.json"));
  INFO(all(r));
  REQUIRE_FALSE(r.has_errors());
  REQUIRE(r.trackers.size() == 1);
  const auto yaml = consent::config::to_policy_yaml(r, {"header\nwith a newline"});
  CHECK(yaml.find("\n  - id: injected") == std::string::npos);
  CHECK(loaded_tracker_count(r) == 1);

  std::string bytes = "0.0.0.0 ok.example\n";
  bytes += std::string("\xff\xfe 0.0.0.0 bad\xc3.example\n", 24);
  bytes += std::string("0.0.0.0 a\0b.example\n", 20);
  bytes += "||x\xe9.example^\n";
  auto options = named("bytes.txt");
  options.purpose = "advertising";
  const auto h = consent::config::import_host_list(bytes, options);
  INFO(all(h));
  REQUIRE_FALSE(h.has_errors());
  CHECK(h.trackers.front().domains == std::vector<std::string>{"ok.example"});
  CHECK(loaded_tracker_count(h) == 1);
}

TEST_CASE("random garbage never crashes an importer and bounds its report", "[config][import]") {
  std::mt19937 rng(20261122);  // fixed seed: the same inputs on every run
  std::uniform_int_distribution<int> byte(0, 255);
  const std::string alphabet = "{}[]\",:\\ \n\r\t0123456789abc.|^$#!@/-_*'";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  auto options = named("garbage");
  options.purpose = "advertising";
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const std::size_t n = static_cast<std::size_t>(round) * 37 % 4096;
    for (std::size_t i = 0; i < n; ++i) {
      text += round % 2 == 0 ? static_cast<char>(byte(rng)) : alphabet[pick(rng)];
    }
    for (const auto& r : {consent::config::import_disconnect(text, options),
                          consent::config::import_open_cookie_database(text, options),
                          consent::config::import_host_list(text, options)}) {
      CHECK(r.problems.size() <= consent::config::max_import_problems);
      if (!r.has_errors()) CHECK(loaded_tracker_count(r) == r.trackers.size());
    }
  }
}

TEST_CASE("an oversized input is refused before it is parsed", "[config][import]") {
  auto options = named("big");
  options.purpose = "advertising";
  const std::string big(consent::config::max_import_bytes + 1, 'a');
  CHECK(messages(consent::config::import_host_list(big, options)) ==
        std::vector<std::string>{"big: larger than 134217728 bytes"});
}
