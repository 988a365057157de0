// The default policy pack, loaded as a new user gets it: config/default.yaml and every policy it names.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/importers.hpp"
#include "config/loader.hpp"
#include "policy/engine.hpp"

namespace {

using consent::policy::ConsentState;
using consent::policy::ConsentStatus;
using consent::policy::Decision;
using consent::policy::Engine;
using consent::policy::FetchDest;
using consent::policy::PurposeSet;
using consent::policy::Request;
using consent::policy::Surrogate;
using consent::policy::Verdict;
namespace reason = consent::policy::reason;

const std::filesystem::path source_dir{CONSENT_SOURCE_DIR};

struct LoadedPack {
  std::shared_ptr<const Engine> engine;
  std::string problems;  // every diagnostic, one per line; empty when the pack loaded
  double load_seconds = 0;
  double build_seconds = 0;
};

// Loading the whole pack is the slow part of this suite: do it once.
const LoadedPack& pack() {
  static const LoadedPack loaded = [] {
    LoadedPack out;
    const auto t0 = std::chrono::steady_clock::now();
    auto result = consent::config::load_config(source_dir / "config" / "default.yaml");
    const auto t1 = std::chrono::steady_clock::now();
    out.load_seconds = std::chrono::duration<double>(t1 - t0).count();
    for (const auto& d : result.diagnostics) out.problems += d.to_string() + "\n";
    if (!result.config) return out;
    auto built = Engine::build(result.config->policy);
    out.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    for (const auto& d : built.diagnostics) out.problems += d.to_string() + "\n";
    out.engine = built.engine;
    return out;
  }();
  return loaded;
}

const Engine& engine() {
  const auto& p = pack();
  INFO(p.problems);
  REQUIRE(p.engine != nullptr);
  return *p.engine;
}

ConsentState granting(std::initializer_list<std::string_view> purposes) {
  ConsentState s;
  s.status = ConsentStatus::valid;
  s.source = consent::policy::ConsentSource::eu_consent;
  for (auto id : purposes) {
    const auto p = engine().find_purpose(id);
    REQUIRE(p != consent::policy::no_purpose);
    s.granted.insert(p);
  }
  return s;
}

struct Probe {
  std::string host;
  std::string path = "/";
  std::string first_party = "lemonde.fr";
  FetchDest dest = FetchDest::unknown;
  bool navigation = false;
  bool has_referer = true;
  std::string user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
  ConsentState consent{};

  Request request() const {
    Request r;
    r.method = "GET";
    r.host = host;
    r.path_and_query = path;
    r.first_party = first_party;
    r.dest = dest;
    r.is_navigation = navigation;
    r.has_referer = has_referer;
    r.user_agent = user_agent;
    r.consent = consent;
    return r;
  }
};

Decision decide(const Probe& probe) { return engine().decide(probe.request()); }

std::string purpose_of(const Decision& d) { return std::string(engine().purpose_id(d.purpose)); }

std::string describe(const Probe& p, const Decision& d) {
  return p.host + p.path + " from " + p.first_party + ": verdict " + std::to_string(static_cast<int>(d.verdict)) +
         " purpose '" + purpose_of(d) + "' rule '" + std::string(d.rule_id) + "' reason '" + std::string(d.reason) +
         "'";
}

// A third-party request the pack must recognise as `purpose`: blocked without consent, allowed once
// that purpose (and only it) is granted.
void require_tracker(Probe probe, std::string_view purpose) {
  probe.consent = ConsentState{};
  const auto refused = decide(probe);
  INFO(describe(probe, refused));
  CHECK(refused.verdict == Verdict::block);
  CHECK(purpose_of(refused) == purpose);
  CHECK(refused.reason == reason::consent_missing);
  CHECK_FALSE(refused.rule_id.empty());

  probe.consent = granting({purpose});
  const auto granted = decide(probe);
  INFO(describe(probe, granted));
  CHECK(granted.verdict != Verdict::block);
  CHECK(granted.reason == reason::purpose_granted);
}

// A request the pack must not judge at all.
void require_not_tracker(const Probe& probe) {
  const auto d = decide(probe);
  INFO(describe(probe, d));
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.rule_id.empty());
  CHECK(d.reason == reason::no_rule);
}

std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    out.push_back(line);
  }
  return out;
}

std::filesystem::path shared_data() {
  if (const char* env = std::getenv("CONSENT_SHARED_DATA"); env != nullptr && *env != '\0') return env;
  return source_dir / ".." / "shared" / "data";
}

}  // namespace

TEST_CASE("the whole default config loads and builds without a diagnostic", "[pack]") {
  const auto& p = pack();
  INFO(p.problems);
  REQUIRE(p.problems.empty());
  REQUIRE(p.engine != nullptr);
  const auto s = p.engine->summary();
  WARN("default pack: " << s.trackers << " trackers, " << s.domains << " domains, " << s.cookie_patterns
                        << " cookie patterns, " << s.url_patterns << " URL patterns; load " << p.load_seconds
                        << " s, build " << p.build_seconds << " s; policy hash " << p.engine->policy_hash());
  CHECK(s.domains > 20'000);
  CHECK(s.cookie_patterns > 300);
  CHECK(s.url_patterns > 300);
  // Generous: the suite runs under sanitizers on a shared two-core machine.
  CHECK(p.load_seconds + p.build_seconds < 60.0);
}

TEST_CASE("every purpose of the pack is defined and the tracker purposes need consent", "[pack]") {
  for (auto id : {"audience-measurement", "advertising", "advertising-personalised", "advertising-geolocated",
                  "content-personalisation", "social-media", "session-replay", "email-tracking"}) {
    INFO(id);
    const auto p = engine().find_purpose(id);
    REQUIRE(p != consent::policy::no_purpose);
    CHECK(engine().purpose_exemption(p) != consent::policy::Exemption::always);
  }
  CHECK(engine().find_purpose("strictly-necessary") != consent::policy::no_purpose);
}

TEST_CASE("analytics suites are third-party audience measurement that needs consent", "[pack]") {
  for (const auto& [host, path] : std::vector<std::pair<std::string, std::string>>{
           {"www.google-analytics.com", "/g/collect?v=2&tid=G-ABC123"},
           {"region1.google-analytics.com", "/g/collect?v=2"},
           {"www.googletagmanager.com", "/gtag/js?id=G-ABC123"},
           {"ssl.google-analytics.com", "/ga.js"},
           {"analytics.google.com", "/g/collect"},
           {"assets.adobedtm.com", "/launch-EN123.min.js"},
           {"example.sc.omtrdc.net", "/b/ss/rsid/1/JS-2.22.0/s123"},
           {"cdn.matomo.cloud", "/shop.matomo.cloud/matomo.js"},
           {"logc279.xiti.com", "/hit.xiti?s=123"},
           {"tag.aticdn.net", "/piano-analytics.js"},
           {"api-js.mixpanel.com", "/track/"},
           {"cdn.amplitude.com", "/libs/analytics-browser-2.0.0-min.js.gz"},
           {"api2.amplitude.com", "/2/httpapi"},
           {"cdn.segment.com", "/analytics.js/v1/KEY/analytics.min.js"},
           {"api.segment.io", "/v1/t"},
           {"mc.yandex.ru", "/metrika/tag.js"},
           {"static.chartbeat.com", "/js/chartbeat.js"},
           {"sb.scorecardresearch.com", "/beacon.js"},
           {"heapanalytics.com", "/h"},
           {"js.hs-analytics.net", "/analytics/1700000000000/123.js"},
       }) {
    require_tracker(Probe{.host = host, .path = path}, "audience-measurement");
  }
}

TEST_CASE("first-party-served measurement tags are recognised, and exempt only first-party", "[pack]") {
  // Server-side Tag Manager, a CNAME-cloaked Adobe host and self-hosted Matomo: the tracker's path on the
  // site's own host. Audience measurement sent first-party falls under the CNIL exemption (cookies capped
  // at 13 months); the same path on another site's host is third-party and needs consent.
  for (const auto& [host, path] : std::vector<std::pair<std::string, std::string>>{
           {"sgtm.shop.example", "/g/collect?v=2&tid=G-X1&cid=1.2"},
           {"www.shop.example", "/gtm.js?id=GTM-ABC123"},
           {"smetrics.shop.example", "/b/ss/shopprod/1/JS-2.22.0/s987"},
           {"stats.shop.example", "/matomo.php?idsite=1&rec=1"},
       }) {
    Probe first{.host = host, .path = path, .first_party = "shop.example"};
    const auto d = decide(first);
    INFO(describe(first, d));
    CHECK(d.verdict == Verdict::allow);
    CHECK(d.reason == reason::exempt_first_party_audience);
    CHECK(purpose_of(d) == "audience-measurement");
    require_tracker(Probe{.host = host, .path = path, .first_party = "other.example"}, "audience-measurement");
  }
}

TEST_CASE("advertising networks and exchanges are recognised", "[pack]") {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases{
      {"securepubads.g.doubleclick.net", "/tag/js/gpt.js", "advertising-personalised"},
      {"pagead2.googlesyndication.com", "/pagead/js/adsbygoogle.js", "advertising-personalised"},
      {"www.googleadservices.com", "/pagead/conversion/123/", "advertising-personalised"},
      {"static.criteo.net", "/js/ld/publishertag.js", "advertising-personalised"},
      {"cdn.taboola.com", "/libtrc/site/loader.js", "advertising-personalised"},
      {"widgets.outbrain.com", "/outbrain.js", "advertising-personalised"},
      {"c.amazon-adsystem.com", "/aax2/apstag.js", "advertising-personalised"},
      {"ib.adnxs.com", "/ut/v3/prebid", "advertising-personalised"},
      {"match.adsrvr.org", "/track/cmf/generic", "advertising-personalised"},
      {"pixel.quantserve.com", "/pixel", "advertising-personalised"},
      {"bat.bing.com", "/bat.js", "advertising-personalised"},
      {"fastlane.rubiconproject.com", "/a/api/fastlane.json", "advertising-personalised"},
      {"ads.pubmatic.com", "/AdServer/js/pwt/1/pwt.js", "advertising-personalised"},
      {"sync.teads.tv", "/", "advertising-personalised"},
      {"tags.crwdcntrl.net", "/lt/c/1/lt.min.js", "advertising-personalised"},
      {"dpm.demdex.net", "/id", "advertising-personalised"},
      {"pixel.adsafeprotected.com", "/jload", "advertising"},
      {"tags.bluekai.com", "/site/1", "advertising-personalised"},
      {"www.blismedia.com", "/", "advertising-geolocated"},
  };
  for (const auto& [host, path, purpose] : cases) require_tracker(Probe{.host = host, .path = path}, purpose);
  // Google's own domain is not a tracker, but its ad endpoints are.
  require_tracker(Probe{.host = "www.google.com", .path = "/pagead/1p-user-list/123/?random=1"},
                  "advertising-personalised");
  require_not_tracker(Probe{.host = "www.google.com", .path = "/recaptcha/api.js"});
  require_not_tracker(Probe{.host = "www.google.com", .path = "/maps/embed?pb=1"});
}

TEST_CASE("social pixels and widgets are social media", "[pack]") {
  for (const auto& [host, path] : std::vector<std::pair<std::string, std::string>>{
           {"connect.facebook.net", "/en_US/sdk.js"},
           {"www.facebook.com", "/plugins/like.php?href=https%3A%2F%2Fwww.lemonde.fr%2F"},
           {"snap.licdn.com", "/li.lms-analytics/insight.min.js"},
           {"px.ads.linkedin.com", "/collect/?pid=1"},
           {"static.ads-twitter.com", "/uwt.js"},
           {"platform.twitter.com", "/widgets.js"},
           {"analytics.tiktok.com", "/i18n/pixel/events.js"},
           {"ct.pinterest.com", "/v3/?tid=1"},
           {"s.pinimg.com", "/ct/core.js"},
           {"tr.snapchat.com", "/p"},
           {"sc-static.net", "/scevent.min.js"},
       }) {
    require_tracker(Probe{.host = host, .path = path}, "social-media");
  }
  // The networks' CDNs stay out: their own pages load them cross-site.
  require_not_tracker(Probe{.host = "static.xx.fbcdn.net", .path = "/rsrc.php/v3/y4/r/img.png"});
  require_not_tracker(Probe{.host = "pbs.twimg.com", .path = "/media/abc.jpg"});
}

TEST_CASE("session recorders are session replay, also when proxied first-party", "[pack]") {
  for (const auto& [host, path] : std::vector<std::pair<std::string, std::string>>{
           {"static.hotjar.com", "/c/hotjar-123456.js?sv=6"},
           {"script.hotjar.com", "/modules.abc.js"},
           {"edge.fullstory.com", "/s/fs.js"},
           {"rs.fullstory.com", "/rec/bundle/v2?OrgId=o-1"},
           {"www.clarity.ms", "/tag/abcdef1234"},
           {"t.contentsquare.net", "/uxa/0123456789abcdef.js"},
           {"cdn.mouseflow.com", "/projects/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b.js"},
           {"cdn.logrocket.io", "/LogRocket.min.js"},
           {"r.lr-ingest.io", "/i"},
           {"rec.smartlook.com", "/recorder.js"},
           {"cdn.quantummetric.com", "/qscripts/quantum-shop.js"},
           {"cdn.gbqofs.com", "/shop/p/detector-dom.min.js"},
           {"cdn.inspectlet.com", "/inspectlet.js"},
           {"tools.luckyorange.com", "/core/lo.js"},
           {"script.crazyegg.com", "/pages/scripts/0011/2233.js"},
           {"mc.yandex.ru", "/webvisor/123"},
       }) {
    Probe probe{.host = host, .path = path};
    if (host == "mc.yandex.ru") {
      // Metrica's host is audience measurement; the recording path is session replay. Either way it is
      // recognised and blocked without consent.
      const auto d = decide(probe);
      INFO(describe(probe, d));
      CHECK(d.verdict == Verdict::block);
      continue;
    }
    require_tracker(probe, "session-replay");
  }
  // The same recorders served from the site's own host.
  for (const auto& path :
       {"/s/fs.js", "/assets/clarity.js", "/uxa/0123456789abcdef.js", "/qscripts/quantum-shop.js",
        "/HeatmapSessionRecording/tracker.min.js", "/static/recorder-v2.js", "/rec/bundle/v2?OrgId=o-1&UserId=2",
        "/vendor/LogRocket.min.js", "/api/v2/replay?ddsource=browser"}) {
    require_tracker(Probe{.host = "www.shop.example", .path = path, .first_party = "shop.example"}, "session-replay");
  }
}

TEST_CASE("email open pixels are email tracking and answered with a GIF", "[pack]") {
  for (const auto& [host, path] : std::vector<std::pair<std::string, std::string>>{
           {"shop.us12.list-manage.com", "/track/open.php?u=0123456789abcdef01234567&id=abc&e=def"},
           {"u123456.ct.sendgrid.net", "/wf/open?upn=AbCdEf0123456789AbCdEf0123456789"},
           {"links.shop.example", "/wf/open?upn=AbCdEf0123456789AbCdEf0123456789"},
           {"abc.r.bh.d.sendibt3.com", "/tr/op/AbCdEfGhIjKlMnOpQrStUv"},
           {"x5k2.mjt.lu", "/oo/AbCdEfGhIjKl123/abc/0"},
           {"click.mail.shop.example", "/open.aspx?ffcb10-fec0157875600c7d-fe2a15"},
           {"r20.rs6.net", "/on.jsp?a=1&r=3&c=abc"},
           {"abcdef.awstrack.me", "/I0/0102018abcdef/AbCd=123"},
           {"pstmrk.it", "/open?m=v3_1.AbCd"},
           {"trk.klaviyomail.com", "/u/abc/open?_kx=AbCd"},
           {"t.yesware.com", "/t/abc/123/0.gif"},
       }) {
    Probe probe{.host = host, .path = path, .first_party = "", .dest = FetchDest::image, .has_referer = false};
    probe.consent = ConsentState{};
    const auto d = decide(probe);
    INFO(describe(probe, d));
    CHECK(d.verdict == Verdict::block);
    CHECK(purpose_of(d) == "email-tracking");
    CHECK(d.surrogate == Surrogate::gif);
  }
}

TEST_CASE("the email heuristics catch unknown senders' pixels, not ordinary images", "[pack]") {
  const std::string pixel = "/o/AbC123dEf456GhI789jKl012MnO345pQr678sTu";
  // A mail client fetches without a Referer.
  Probe mail{.host = "t.unknown-sender.example",
             .path = pixel,
             .first_party = "",
             .dest = FetchDest::image,
             .has_referer = false};
  auto d = decide(mail);
  INFO(describe(mail, d));
  CHECK(d.verdict == Verdict::block);
  CHECK(d.reason == reason::email_pixel_heuristic);
  CHECK(d.surrogate == Surrogate::gif);
  // Thunderbird, even when it sends a Referer.
  Probe thunderbird = mail;
  thunderbird.has_referer = true;
  thunderbird.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.1";
  d = decide(thunderbird);
  INFO(describe(thunderbird, d));
  CHECK(d.reason == reason::email_pixel_heuristic);
  // A webmail page showing the message.
  Probe webmail = mail;
  webmail.has_referer = true;
  webmail.first_party = "proton.me";  // mail.proton.me
  d = decide(webmail);
  INFO(describe(webmail, d));
  CHECK(d.reason == reason::email_pixel_heuristic);
  // A search portal is no webmail, even when it also hosts one (mail.google.com): its thumbnails carry ids.
  require_not_tracker(Probe{.host = "encrypted-tbn0.gstatic.com",
                            .path = "/images?q=tbn:ANd9GcQx7Yh2Kp9Lm3Nq8Rs4Tv6Wx1Yz5Ab0Cd",
                            .first_party = "google.com",
                            .dest = FetchDest::image});
  // The same image on an ordinary page, and a hashed asset name fetched without a Referer.
  Probe page = mail;
  page.has_referer = true;
  page.first_party = "lemonde.fr";
  require_not_tracker(page);
  require_not_tracker(Probe{.host = "static.lemonde.example",
                            .path = "/img/logo.3f2a9c8e1b7d4e6f5a4b.png",
                            .first_party = "",
                            .dest = FetchDest::image,
                            .has_referer = false});
}

TEST_CASE("near misses of tracker domains are not trackers", "[pack]") {
  for (const auto& host : {"notgoogle-analytics.com", "google-analytics.com.evil.example", "googleanalytics.example",
                           "xgoogletagmanager.com", "hotjar.com.example.org", "mycriteo.com", "facebook.net.example",
                           "doubleclick.network", "www.google.fr", "clarity.ms.example"}) {
    require_not_tracker(Probe{.host = host, .path = "/"});
  }
  // A path that only looks like a signature elsewhere in the URL.
  require_not_tracker(Probe{.host = "www.lemonde.fr", .path = "/economie/article/google-analytics-et-vous.html"});
}

TEST_CASE("tracker cookies are removed until their purpose is granted, the site's own cookies stay", "[pack]") {
  Probe probe{.host = "www.shop.example", .path = "/cart", .first_party = "shop.example", .navigation = true};
  const std::string header =
      "PHPSESSID=abc; _ga=GA1.2.123.456; _fbp=fb.1.2.3; _gcl_au=1.1.2; _hjSessionUser_123=eyJ; _clck=abc; "
      "_uetvid=abc; li_fat_id=x; _ttp=y; _pin_unauth=z; cto_bundle=w; lang=fr; cart=42; euconsent-v2=CPXxRfA";
  const auto refused = engine().filter_cookie_header(probe.request(), header);
  std::set<std::string> removed;
  for (const auto& r : refused.removed) removed.insert(r.name);
  INFO(refused.header);
  for (auto gone : {"_fbp", "_gcl_au", "_hjSessionUser_123", "_clck", "_uetvid", "li_fat_id", "_ttp", "_pin_unauth",
                    "cto_bundle"}) {
    INFO(gone);
    CHECK(removed.count(gone) == 1);
  }
  for (auto keep : {"PHPSESSID", "lang", "cart", "euconsent-v2"}) {
    INFO(keep);
    CHECK(removed.count(keep) == 0);
  }

  probe.consent = granting({"audience-measurement", "advertising-personalised", "social-media", "session-replay"});
  const auto granted = engine().filter_cookie_header(probe.request(), header);
  INFO(granted.header);
  CHECK(granted.removed.empty());
}

TEST_CASE("a first-party measurement cookie is exempt on its site and refused elsewhere", "[pack]") {
  // The near miss of issue 5: the site's own "_ga" or Matomo "_pk_id" is first-party audience
  // measurement, kept and capped; sent to another site it is a third-party identifier.
  Probe first{.host = "www.shop.example", .path = "/", .first_party = "shop.example", .navigation = true};
  const auto kept =
      engine().filter_cookie_header(first.request(), "_ga=GA1.2.3.4; _gid=GA1.2.5; _pk_id.1.a2b3=abc.123");
  INFO(kept.header);
  CHECK(kept.removed.empty());

  const auto capped = engine().filter_set_cookie(
      first.request(), "_ga=GA1.2.3.4; Max-Age=63072000; Path=/; Domain=.shop.example", 1'700'000'000);
  CHECK(capped.action == consent::policy::SetCookieAction::cap);
  CHECK(capped.reason == reason::lifetime_capped);
  CHECK(capped.header.find("Max-Age=63072000") == std::string::npos);

  Probe third{.host = "cdn.partner.example", .path = "/lib.js", .first_party = "shop.example"};
  const auto stripped = engine().filter_cookie_header(third.request(), "_ga=GA1.2.3.4; _pk_id.1.a2b3=abc.123; x=1");
  std::set<std::string> removed;
  for (const auto& r : stripped.removed) removed.insert(r.name);
  CHECK(removed.count("_ga") == 1);
  CHECK(removed.count("_pk_id.1.a2b3") == 1);
  CHECK(removed.count("x") == 0);
}

TEST_CASE("no ordinary first-party host is judged a tracker", "[pack]") {
  const auto hosts = read_lines(source_dir / "tests" / "pack" / "first_party_hosts.txt");
  REQUIRE(hosts.size() > 150);
  std::vector<std::string> judged;
  for (const auto& host : hosts) {
    for (auto path : {"/", "/index.html", "/static/app.js", "/images/logo.png", "/search?q=consent", "/tag/economie",
                      "/en/track/order?id=123", "/at.js", "/sp.js"}) {
      // As a third-party resource of another site, and as a visit of its own.
      for (bool navigation : {false, true}) {
        Probe probe{
            .host = host, .path = path, .first_party = navigation ? "" : "example.org", .navigation = navigation};
        const auto d = decide(probe);
        if (!d.rule_id.empty() || d.verdict != Verdict::allow) judged.push_back(describe(probe, d));
      }
    }
  }
  std::ostringstream all;
  for (const auto& j : judged) all << j << "\n";
  INFO(all.str());
  CHECK(judged.empty());
}

namespace {

struct Coverage {
  std::size_t total = 0;
  std::size_t recognised = 0;
  std::string per_category;
  [[nodiscard]] double share() const {
    return total == 0 ? 0.0 : 100.0 * static_cast<double>(recognised) / static_cast<double>(total);
  }
};

// How many hosts of Disconnect's Advertising, Analytics and Social categories `e` recognises (any rule).
Coverage disconnect_coverage(const Engine& e, const nlohmann::json& services) {
  Coverage out;
  std::ostringstream per_category;
  for (auto category : {"Advertising", "Analytics", "Social"}) {
    std::set<std::string> hosts;
    for (const auto& entity : services.at("categories").at(category)) {
      for (const auto& [name, props] : entity.items()) {
        for (const auto& [key, value] : props.items()) {
          if (!value.is_array()) continue;
          for (const auto& h : value) hosts.insert(h.get<std::string>());
        }
      }
    }
    std::size_t hit = 0;
    for (const auto& entry : hosts) {
      // A few entries carry a path ("google.com/pagead/1p-user-list").
      const auto slash = entry.find('/');
      Probe probe{.host = entry.substr(0, slash),
                  .path = slash == std::string::npos ? "/" : entry.substr(slash),
                  .first_party = "example.org"};
      std::transform(probe.host.begin(), probe.host.end(), probe.host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!e.decide(probe.request()).rule_id.empty()) ++hit;
    }
    per_category << category << " " << hit << "/" << hosts.size() << "; ";
    out.total += hosts.size();
    out.recognised += hit;
  }
  out.per_category = per_category.str();
  return out;
}

}  // namespace

TEST_CASE("coverage of Disconnect's Advertising, Analytics and Social hosts", "[pack][coverage]") {
  const auto file = shared_data() / "disconnect" / "services.json";
  if (!std::filesystem::exists(file)) {
    WARN("skipped: " << file.string() << " is absent (set CONSENT_SHARED_DATA to the shared/data folder)");
    return;
  }
  std::ifstream in(file, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto services = nlohmann::json::parse(text);

  // 1. The shipped pack alone: only licensed sources and our own rules (Disconnect's list is
  //    CC BY-NC-SA and cannot ship). A floor against regressions; see SOURCES.md for why it is not 95%.
  const auto shipped = disconnect_coverage(engine(), services);
  WARN("shipped pack: Disconnect coverage " << shipped.recognised << "/" << shipped.total << " = " << shipped.share()
                                            << "% (" << shipped.per_category << ")");
  CHECK(shipped.share() >= 63.0);

  // 2. The pack as a user has it after `consentgate import disconnect services.json -o
  //    config/policies/disconnect.yaml --against config/policies`: issue 5's target of 95%.
  consent::config::ImportOptions options;
  options.file = file.string();
  auto imported = consent::config::import_disconnect(text, options);
  REQUIRE_FALSE(imported.has_errors());
  consent::config::PackIndex index;
  index.add(engine().document());
  consent::config::remove_covered(imported, index);
  const auto yaml = consent::config::to_policy_yaml(imported, {"coverage test"});
  auto extra = consent::config::load_policy_text(yaml, "disconnect.yaml");
  std::string problems;
  for (const auto& d : extra.diagnostics) problems += d.to_string() + "\n";
  INFO(problems);
  REQUIRE(extra.config);
  auto doc = engine().document();
  for (auto& t : extra.config->policy.trackers) doc.trackers.push_back(std::move(t));
  auto built = Engine::build(doc);
  for (const auto& d : built.diagnostics) problems += d.to_string() + "\n";
  INFO(problems);
  REQUIRE(built.engine);
  const auto with_import = disconnect_coverage(*built.engine, services);
  WARN("pack + imported Disconnect list: " << with_import.recognised << "/" << with_import.total << " = "
                                           << with_import.share() << "% (" << with_import.per_category << ")");
  CHECK(with_import.share() >= 95.0);
}
