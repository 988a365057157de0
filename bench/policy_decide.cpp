// Engine::decide() and filter_cookie_header() on generated policies of 1k, 10k and 100k tracker domains
// with 1k cookie patterns (issue 2: median under 500 ns per decision, 100k within 1.5x of 1k).
// Requests cycle through a fixed mix of tracker hits (with and without consent) and first-party misses.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "policy/engine.hpp"

namespace {

using namespace consent::policy;

constexpr std::size_t cookie_patterns = 1000;
constexpr std::size_t requests_in_mix = 4096;

const char* const tlds[] = {"com", "net", "io", "fr", "de", "co.uk", "eu", "nl"};
const char* const words[] = {"track",   "pixel",    "metrics", "stat", "adserv", "beacon", "tag",  "collect",
                             "insight", "audience", "click",   "data", "media",  "cdn",    "sync", "bid"};

std::string tracker_domain(std::size_t i) {
  return std::string(words[i % 16]) + words[(i / 16) % 16] + "-" + std::to_string(i) + "." + tlds[i % 8];
}

Located located(std::string v) { return {std::move(v), {"bench.yaml", 1, 1}}; }

Document generate(std::size_t domains) {
  Document doc;
  doc.name = "bench";
  doc.version = std::to_string(domains);
  doc.purposes = {
      {"strictly-necessary", "Strictly necessary", Exemption::always, {}, {}},
      {"audience-measurement", "Audience", Exemption::first_party_audience, {}, {}},
      {"analytics", "Analytics", Exemption::none, {}, {}},
      {"advertising-personalised", "Personalised ads", Exemption::none, {}, {}},
      {"advertising", "Advertising", Exemption::none, {}, {}},
      {"content-personalisation", "Content", Exemption::none, {}, {}},
      {"social-media", "Social", Exemption::none, {}, {}},
      {"session-replay", "Session replay", Exemption::none, {}, {}},
      {"email-tracking", "Email tracking", Exemption::none, {}, {}},
  };
  constexpr std::size_t per_tracker = 10;
  const std::size_t trackers = domains / per_tracker;
  std::size_t cookie = 0;
  for (std::size_t t = 0; t < trackers; ++t) {
    TrackerRule rule;
    rule.id = "tracker-" + std::to_string(t);
    rule.purpose = located(doc.purposes[2 + t % 7].id);
    for (std::size_t d = 0; d < per_tracker; ++d) rule.domains.push_back(located(tracker_domain(t * per_tracker + d)));
    // 1k cookie patterns whatever the domain count: mostly exact, some prefixes, a few globs.
    for (; cookie < cookie_patterns * (t + 1) / trackers; ++cookie) {
      std::string name = "_" + std::string(words[cookie % 16]) + std::to_string(cookie);
      if (cookie % 50 == 0)
        name = "*_" + name + "_*";
      else if (cookie % 4 == 0)
        name += "_*";
      rule.cookies.push_back(located(name));
    }
    if (t < 50) rule.urls.push_back(located("/" + std::string(words[t % 16]) + "/v" + std::to_string(t) + "/collect"));
    doc.trackers.push_back(std::move(rule));
  }
  // ~400 URL patterns in the shapes the default pack uses (config/policies/email-tracking.yaml,
  // session-replay.yaml): ESP open-pixel hosts and paths, recorder script names, escaped dots, classes,
  // alternations, anchored prefixes and ".*" gaps. They are what makes the URL set expensive.
  for (std::size_t u = 0; u < 40; ++u) {
    TrackerRule rule;
    rule.id = "url-tracker-" + std::to_string(u);
    rule.purpose = located(u % 2 == 0 ? "email-tracking" : "session-replay");
    const std::string w = words[u % 16];
    const std::string n = std::to_string(u);
    rule.urls = {
        located("\\." + w + "mail" + n + "\\.com/t/"),
        located("\\." + w + "-link" + n + "\\.net/(o|open)/"),
        located("/" + w + "-[0-9]+\\.js\\?sv=" + n),
        located("/" + w + n + "/(bundle|page|integrations)(/v2)?\\?"),
        located("^" + w + n + "\\..*/o/"),
        located("/" + w + "/open" + n + "\\.gif\\?"),
        located("/projects" + n + "/[0-9a-f-]{36}\\.js"),
        located("/" + w + "_[A-Za-z0-9_]+\\.js\\?v" + n),
        located("\\.gif\\?" + w + n + "=.*&mpn="),
        located("/e/" + w + n + "/.*\\.(gif|png)"),
    };
    doc.trackers.push_back(std::move(rule));
  }
  TrackerRule necessary;
  necessary.id = "site-session";
  necessary.purpose = located("strictly-necessary");
  necessary.cookies = {located("PHPSESSID"), located("cart"), located("lang"), located("eu-consent")};
  doc.trackers.push_back(std::move(necessary));
  TrackerRule ga;
  ga.id = "google-analytics";
  ga.purpose = located("analytics");
  ga.domains = {located("google-analytics.com"), located("googletagmanager.com")};
  ga.cookies = {located("_ga"), located("_ga_*"), located("_gid")};
  doc.trackers.push_back(std::move(ga));
  doc.consent.gpc_refuses = {located("advertising"), located("advertising-personalised")};
  doc.consent.cookie_names = {"eu-consent", "eu.consent"};  // as config/policies/consent.yaml
  doc.email.enabled = true;
  doc.email.mail_user_agents = {located("Thunderbird"), located("Outlook")};
  return doc;
}

struct Mix {
  std::vector<std::string> hosts;
  std::vector<std::string> paths;
  std::vector<Request> requests;
};

// Half hits (a tracker domain, often behind a subdomain), half misses (first-party and CDN hosts).
Mix make_mix(std::size_t domains, const Engine& engine) {
  std::mt19937_64 rng(42);
  Mix mix;
  mix.hosts.reserve(requests_in_mix);
  mix.paths.reserve(requests_in_mix);
  const char* const misses[] = {"www.lemonde.fr",          "static.lemonde.fr",    "img.lemde.fr",
                                "fonts.gstatic.com",       "cdn.jsdelivr.net",     "www.bbc.co.uk",
                                "static.files.bbci.co.uk", "upload.wikimedia.org", "api.shop-example.de",
                                "notgoogle-analytics.com"};
  ConsentState granted_some;
  granted_some.status = ConsentStatus::valid;
  granted_some.granted.insert(engine.find_purpose("analytics"));
  granted_some.granted.insert(engine.find_purpose("social-media"));
  for (std::size_t i = 0; i < requests_in_mix; ++i) {
    const bool hit = (rng() & 1U) != 0;
    std::string host;
    if (hit) {
      const std::size_t d = rng() % domains;
      const std::size_t form = rng() % 3;
      host = (form == 0 ? "" : form == 1 ? "www." : "eu-west-1.cdn.") + tracker_domain(d);
    } else {
      host = misses[rng() % 10];
    }
    mix.hosts.push_back(std::move(host));
    // Scripts, images, API calls with campaign parameters, and (1 in 32) a first-party recorder script
    // that only a URL pattern recognises.
    const std::size_t shape = rng() % 32;
    if (shape == 0)
      mix.paths.push_back("/" + std::string(words[(i % 40) % 16]) + "-" + std::to_string(rng() % 100000) +
                          ".js?sv=" + std::to_string(i % 40));
    else if (shape < 5)
      mix.paths.push_back("/api/v2/articles?id=" + std::to_string(rng() % 100000) +
                          "&utm_source=newsletter&utm_medium=email&utm_campaign=2024-11-weekly");
    else if (i % 3 == 0)
      mix.paths.push_back("/assets/v3/app-" + std::to_string(rng() % 1000) + ".js?ver=5.2.1&lang=fr");
    else
      mix.paths.push_back("/img/2024/11/photo-" + std::to_string(rng() % 1000) + "-640x360.jpg");
  }
  for (std::size_t i = 0; i < requests_in_mix; ++i) {
    Request r;
    r.method = "GET";
    r.host = mix.hosts[i];
    r.path_and_query = mix.paths[i];
    r.first_party = i % 2 == 0 ? "lemonde.fr" : "bbc.co.uk";
    r.dest = i % 3 == 0 ? FetchDest::script : FetchDest::image;
    r.has_referer = true;
    r.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    if (i % 4 != 0) r.consent = granted_some;
    mix.requests.push_back(r);
  }
  return mix;
}

struct Fixture {
  std::shared_ptr<const Engine> engine;
  Mix mix;
};

const Fixture& fixture(std::size_t domains) {
  static std::map<std::size_t, std::unique_ptr<Fixture>> cache;
  auto& slot = cache[domains];
  if (!slot) {
    slot = std::make_unique<Fixture>();
    BuildResult built = Engine::build(generate(domains));
    if (!built.engine) throw std::runtime_error(built.diagnostics.front().to_string());
    slot->engine = built.engine;
    slot->mix = make_mix(domains, *slot->engine);
  }
  return *slot;
}

void BM_decide(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<std::size_t>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.engine->decide(f.mix.requests[i]));
    i = (i + 1) % requests_in_mix;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_decide)->Arg(1'000)->Arg(10'000)->Arg(100'000);

void BM_filter_cookie_header(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<std::size_t>(state.range(0)));
  // A news site's first-party Cookie header: session, consent, analytics and ad cookies, CMP state.
  const std::string header =
      "PHPSESSID=8f2a1c9e7b3d4f5a6b7c8d9e0f1a2b3c; eu-consent=analytics:true,advertising:false; "
      "_ga=GA1.2.1234567890.1700000000; _ga_ABC123XYZ=GS1.1.1700000000.3.1.1700000100.0.0.0; "
      "_gid=GA1.2.987654321.1700000000; _fbp=fb.1.1700000000000.1234567890; lang=fr; cart=3x-17; "
      "_pixel1=abc; _adserv4_x=1; didomi_token=eyJ1c2VyX2lkIjoiMTIzIn0; _cdn=edge-7; "
      "__cf_bm=Zm9vYmFyYmF6.1700000000-0-AbCdEf; _hjSessionUser_123=eyJpZCI6Ijk4NyJ9";
  Request r;
  r.method = "GET";
  r.host = "www.lemonde.fr";
  r.path_and_query = "/";
  r.first_party = "lemonde.fr";
  r.dest = FetchDest::document;
  std::size_t removed = 0;
  for (auto _ : state) {
    const CookieHeaderResult out = f.engine->filter_cookie_header(r, header);
    removed = out.removed.size();
    benchmark::DoNotOptimize(out.header.data());
  }
  state.counters["removed"] = static_cast<double>(removed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_filter_cookie_header)->Arg(1'000)->Arg(100'000);

// read_consent() once per exchange: 0 = a news site's Cookie header with no consent cookie (the common
// case before a choice), 1 = the same with an eu-consent cookie, 2 = no Cookie header at all.
void BM_read_consent(benchmark::State& state) {
  const Fixture& f = fixture(1'000);
  const std::string common =
      "PHPSESSID=8f2a1c9e7b3d4f5a6b7c8d9e0f1a2b3c; _ga=GA1.2.1234567890.1700000000; "
      "_ga_ABC123XYZ=GS1.1.1700000000.3.1.1700000100.0.0.0; _gid=GA1.2.987654321.1700000000; "
      "_fbp=fb.1.1700000000000.1234567890; lang=fr; cart=3x-17; _pixel1=abc; _adserv4_x=1; "
      "didomi_token=eyJ1c2VyX2lkIjoiMTIzIn0; _cdn=edge-7; __cf_bm=Zm9vYmFyYmF6.1700000000-0-AbCdEf; "
      "_hjSessionUser_123=eyJpZCI6Ijk4NyJ9; euid=ee4e2e1e; session_expires=1700003600; theme=dark";
  std::string header;
  if (state.range(0) == 0) header = common;
  if (state.range(0) == 1) header = common + "; eu-consent=analytics:true,advertising:false,social-media:1";
  ConsentInputs in;
  in.cookie_header = header;
  in.now = 1'700'000'000;
  for (auto _ : state) benchmark::DoNotOptimize(f.engine->read_consent(in));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_read_consent)->Arg(0)->Arg(1)->Arg(2);

}  // namespace

BENCHMARK_MAIN();
