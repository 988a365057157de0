#include "policy/engine.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "policy/set_cookie.hpp"

using namespace consent::policy;

namespace {

constexpr std::int64_t now = 1'700'000'000;

Located at(std::string value, std::string file = "policies/test.yaml", int line = 1, int column = 1) {
  return {std::move(value), {std::move(file), line, column}};
}

std::vector<Located> list(std::initializer_list<const char*> values) {
  std::vector<Located> out;
  int line = 10;
  for (const char* v : values) out.push_back(at(v, "policies/test.yaml", line++, 7));
  return out;
}

TrackerRule tracker(std::string id, std::string purpose, std::initializer_list<const char*> domains,
                    std::initializer_list<const char*> cookies = {}, std::initializer_list<const char*> urls = {}) {
  TrackerRule t;
  t.id = std::move(id);
  t.purpose = at(std::move(purpose), "policies/test.yaml", 5, 14);
  t.domains = list(domains);
  t.cookies = list(cookies);
  t.urls = list(urls);
  t.where = {"policies/test.yaml", 4, 3};
  return t;
}

Document test_document() {
  Document doc;
  doc.name = "test pack";
  doc.version = "1";
  doc.purposes = {
      {"strictly-necessary", "Strictly necessary", Exemption::always, {}, {"policies/purposes.yaml", 2, 3}},
      {"audience-measurement",
       "Audience measurement",
       Exemption::first_party_audience,
       {"audience"},
       {"policies/purposes.yaml", 3, 3}},
      {"analytics", "Analytics", Exemption::none, {"statistics"}, {"policies/purposes.yaml", 4, 3}},
      {"advertising", "Advertising", Exemption::none, {}, {"policies/purposes.yaml", 5, 3}},
      {"session-replay", "Session replay", Exemption::none, {}, {"policies/purposes.yaml", 6, 3}},
      {"email-tracking", "Email tracking", Exemption::none, {}, {"policies/purposes.yaml", 7, 3}},
  };
  doc.trackers.push_back(tracker("google-analytics", "analytics", {"google-analytics.com"}, {"_ga", "_ga_*", "_gid"}));
  doc.trackers.push_back(tracker("doubleclick", "advertising", {"doubleclick.net", "*.ads.example"}, {"IDE", "*_fbp"}));
  doc.trackers.push_back(tracker("hotjar", "session-replay", {"hotjar.com"}, {"_hj*"}, {R"(/static/hotjar-\d+\.js)"}));
  doc.trackers.push_back(tracker("site-stats", "audience", {"stats.shop.example"}, {"_pk_id*"}));
  doc.trackers.push_back(tracker("session", "strictly-necessary", {"cmp.example"}, {"PHPSESSID"}));
  doc.trackers.push_back(tracker("mailchimp", "email-tracking", {"list-manage.com"}));
  TrackerRule own_ga = tracker("own-ga", "audience-measurement", {}, {"_ga"});
  own_ga.first_party_only = true;
  doc.trackers.push_back(own_ga);
  doc.allow_domains = list({"cdn.allowed.example"});
  doc.consent.gpc_refuses = list({"advertising"});
  doc.email.enabled = true;
  doc.email.webmail_origins = list({"mail.webmail.example"});
  doc.email.mail_user_agents = list({"thunderbird"});
  doc.email.min_token_length = 20;
  return doc;
}

std::shared_ptr<const Engine> build(const Document& doc) {
  BuildResult r = Engine::build(doc);
  for (const Diagnostic& d : r.diagnostics) UNSCOPED_INFO(d.to_string());
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.engine);
  return r.engine;
}

const Engine& engine() {
  static const std::shared_ptr<const Engine> e = build(test_document());
  return *e;
}

ConsentState granting(std::initializer_list<std::string_view> ids) {
  ConsentState c;
  c.status = ConsentStatus::valid;
  c.source = ConsentSource::eu_consent;
  for (std::string_view id : ids) {
    const PurposeIndex p = engine().find_purpose(id);
    REQUIRE(p != no_purpose);
    c.granted.insert(p);
  }
  return c;
}

Request request(std::string_view host, std::string_view path, std::string_view first_party, FetchDest dest,
                ConsentState consent = {}) {
  Request r;
  r.method = "GET";
  r.host = host;
  r.path_and_query = path;
  r.first_party = first_party;
  r.dest = dest;
  r.has_referer = true;
  r.user_agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0";
  r.consent = consent;
  return r;
}

std::vector<std::string> messages(const Document& doc) {
  std::vector<std::string> out;
  for (const Diagnostic& d : Engine::build(doc).diagnostics) out.push_back(d.to_string());
  return out;
}

std::vector<std::string> removed_names(const CookieHeaderResult& r) {
  std::vector<std::string> out;
  for (const CookieRemoval& c : r.removed) out.push_back(c.name);
  return out;
}

}  // namespace

TEST_CASE("a third-party analytics host is blocked until granted, and again after withdrawal", "[policy]") {
  const Engine& e = engine();
  const PurposeIndex analytics = e.find_purpose("analytics");
  Request r = request("www.google-analytics.com", "/g/collect?v=2", "shop.example", FetchDest::xhr);

  Decision d = e.decide(r);
  CHECK(d.verdict == Verdict::block);
  CHECK(d.reason == reason::consent_missing);
  CHECK(d.purpose == analytics);
  CHECK(d.rule_id == "google-analytics/domains[0]");
  CHECK(d.surrogate == Surrogate::no_content);

  r.consent = granting({"analytics"});
  d = e.decide(r);
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.reason == reason::purpose_granted);
  CHECK(d.rule_id == "google-analytics/domains[0]");

  r.consent = granting({"advertising"});  // a later choice without analytics: withdrawn
  d = e.decide(r);
  CHECK(d.verdict == Verdict::block);
  CHECK(d.reason == reason::purpose_not_granted);
}

TEST_CASE("the consent status explains a block", "[policy]") {
  const Engine& e = engine();
  Request r = request("google-analytics.com", "/collect", "shop.example", FetchDest::image);
  r.consent.status = ConsentStatus::malformed;
  CHECK(e.decide(r).reason == reason::consent_malformed);
  r.consent.status = ConsentStatus::expired;
  CHECK(e.decide(r).reason == reason::consent_expired);
  // Fail closed: only a valid consent grants, whatever the bits say.
  r.consent.granted.insert(e.find_purpose("analytics"));
  CHECK(e.decide(r).verdict == Verdict::block);
  CHECK(e.decide(r).reason == reason::consent_expired);
  r.consent.status = ConsentStatus::missing;
  CHECK(e.decide(r).reason == reason::consent_missing);
}

TEST_CASE("Sec-GPC refusal is reported for the purposes it names", "[policy]") {
  const Engine& e = engine();
  ConsentState c = granting({"analytics"});
  c.gpc = true;
  Request ads = request("ad.doubleclick.net", "/ddm/activity", "shop.example", FetchDest::script, c);
  Decision d = e.decide(ads);
  CHECK(d.verdict == Verdict::block);
  CHECK(d.reason == reason::gpc_refused);
  CHECK(d.surrogate == Surrogate::empty_js);
  Request ga = request("google-analytics.com", "/collect", "shop.example", FetchDest::image, c);
  CHECK(e.decide(ga).reason == reason::purpose_granted);
  Request replay = request("script.hotjar.com", "/x.js", "shop.example", FetchDest::script, c);
  CHECK(e.decide(replay).reason == reason::purpose_not_granted);  // GPC does not name session-replay
}

TEST_CASE("strictly necessary hosts are allowed without consent", "[policy]") {
  const Decision d = engine().decide(request("cmp.example", "/banner.js", "shop.example", FetchDest::script));
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.reason == reason::exempt);
  CHECK(d.rule_id == "session/domains[0]");
  CHECK(d.purpose == engine().find_purpose("strictly-necessary"));
}

TEST_CASE("first-party audience measurement is exempt only first-party", "[policy]") {
  const Engine& e = engine();
  Decision d = e.decide(request("stats.shop.example", "/matomo.php", "shop.example", FetchDest::image));
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.reason == reason::exempt_first_party_audience);
  CHECK(d.rule_id == "site-stats/domains[0]");

  d = e.decide(request("stats.shop.example", "/matomo.php", "other.example", FetchDest::image));
  CHECK(d.verdict == Verdict::block);
  CHECK(d.reason == reason::consent_missing);
  CHECK(d.surrogate == Surrogate::gif);

  d = e.decide(request("stats.shop.example", "/matomo.php", "other.example", FetchDest::image,
                       granting({"audience-measurement"})));
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.reason == reason::purpose_granted);
}

TEST_CASE("unknown first party counts as third party", "[policy]") {
  const Decision d = engine().decide(request("stats.shop.example", "/matomo.php", "", FetchDest::image));
  CHECK(d.verdict == Verdict::block);
}

TEST_CASE("navigating to a tracker's own site strips cookies instead of blocking", "[policy]") {
  const Engine& e = engine();
  Request r = request("www.doubleclick.net", "/", "", FetchDest::document);
  r.is_navigation = true;
  Decision d = e.decide(r);
  CHECK(d.verdict == Verdict::strip_cookies);
  CHECK(d.reason == reason::first_party_navigation);
  CHECK(d.rule_id == "doubleclick/domains[0]");

  // A subresource of the tracker's own site, matched by domain only.
  d = e.decide(request("static.doubleclick.net", "/logo.png", "doubleclick.net", FetchDest::image));
  CHECK(d.verdict == Verdict::strip_cookies);
  CHECK(d.reason == reason::first_party_navigation);
}

TEST_CASE("a recorder served from the site's own host is caught by its URL", "[policy]") {
  const Engine& e = engine();
  Request r = request("shop.example", "/static/hotjar-6.js?sv=7", "shop.example", FetchDest::script);
  Decision d = e.decide(r);
  CHECK(d.verdict == Verdict::block);
  CHECK(d.surrogate == Surrogate::empty_js);
  CHECK(d.rule_id == "hotjar/urls[0]");
  CHECK(d.purpose == e.find_purpose("session-replay"));

  r.consent = granting({"session-replay"});
  d = e.decide(r);
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.reason == reason::purpose_granted);

  d = e.decide(request("shop.example", "/static/app.js", "shop.example", FetchDest::script));
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.reason == reason::no_rule);
  CHECK(d.rule_id.empty());
}

TEST_CASE("near misses of tracker hosts are not judged", "[policy]") {
  const Engine& e = engine();
  for (const char* host : {"notgoogle-analytics.com", "google-analytics.com.evil.example", "google-analytics.co",
                           "ads.example", "doubleclick.network", "hotjar.co"}) {
    INFO(host);
    const Decision d = e.decide(request(host, "/collect", "shop.example", FetchDest::script));
    CHECK(d.verdict == Verdict::allow);
    CHECK(d.reason == reason::no_rule);
  }
  CHECK(e.decide(request("x.ads.example", "/", "shop.example", FetchDest::script)).verdict == Verdict::block);
}

TEST_CASE("the operator allow-list wins over tracker rules", "[policy]") {
  Document doc = test_document();
  doc.trackers.push_back(tracker("cdn-ads", "advertising", {"allowed.example"}));
  const auto e = build(doc);
  const Decision d = e->decide(request("cdn.allowed.example", "/lib.js", "shop.example", FetchDest::script));
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.reason == reason::allow_listed);
  CHECK(d.rule_id == "allow_domains[0]");
  CHECK(e->decide(request("x.allowed.example", "/lib.js", "shop.example", FetchDest::script)).verdict ==
        Verdict::block);
}

TEST_CASE("when several rules match, the most restrictive wins", "[policy]") {
  Document doc = test_document();
  doc.trackers.push_back(tracker("shared-necessary", "strictly-necessary", {"shared.example"}));
  doc.trackers.push_back(tracker("shared-ads", "advertising", {"shared.example"}));
  const auto e = build(doc);
  Decision d = e->decide(request("shared.example", "/x", "shop.example", FetchDest::xhr));
  CHECK(d.verdict == Verdict::block);
  CHECK(d.rule_id == "shared-ads/domains[0]");
  d = e->decide(request("shared.example", "/x", "shop.example", FetchDest::xhr, granting({"advertising"})));
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.reason == reason::purpose_granted);
  CHECK(d.rule_id == "shared-ads/domains[0]");
}

TEST_CASE("the surrogate follows the destination, else the extension", "[policy]") {
  const Engine& e = engine();
  const auto surrogate = [&](FetchDest dest, std::string_view path) {
    return e.decide(request("doubleclick.net", path, "shop.example", dest)).surrogate;
  };
  CHECK(surrogate(FetchDest::image, "/x") == Surrogate::gif);
  CHECK(surrogate(FetchDest::script, "/x.gif") == Surrogate::empty_js);
  CHECK(surrogate(FetchDest::style, "/x") == Surrogate::empty_css);
  CHECK(surrogate(FetchDest::document, "/x") == Surrogate::forbidden_page);
  CHECK(surrogate(FetchDest::iframe, "/x") == Surrogate::forbidden_page);
  CHECK(surrogate(FetchDest::xhr, "/x.js") == Surrogate::no_content);
  CHECK(surrogate(FetchDest::other, "/x") == Surrogate::no_content);
  CHECK(surrogate(FetchDest::unknown, "/pixel.GIF?x=1") == Surrogate::gif);
  CHECK(surrogate(FetchDest::unknown, "/a/tag.js#h") == Surrogate::empty_js);
  CHECK(surrogate(FetchDest::unknown, "/a.b/c.css") == Surrogate::empty_css);
  CHECK(surrogate(FetchDest::unknown, "/ad.html") == Surrogate::forbidden_page);
  CHECK(surrogate(FetchDest::unknown, "/a.js/collect") == Surrogate::no_content);
  CHECK(surrogate(FetchDest::unknown, "") == Surrogate::no_content);
}

TEST_CASE("email pixels are blocked by heuristics in an email context only", "[policy]") {
  const Engine& e = engine();
  const std::string token_path = "/open/aZ3kT9qLm2Xv8RbN4cWp7Hs.gif";
  Request r = request("pixels.esp.example", token_path, "", FetchDest::image);
  r.has_referer = false;
  Decision d = e.decide(r);
  CHECK(d.verdict == Verdict::block);
  CHECK(d.surrogate == Surrogate::gif);
  CHECK(d.reason == reason::email_pixel_heuristic);
  CHECK(d.rule_id == "email/heuristics");
  CHECK(d.purpose == e.find_purpose("email-tracking"));

  SECTION("a token in a query value counts, with an unknown destination and no extension") {
    Request q = request("t.esp.example", "/o?u=1&id=0f3c9a1b2d4e5f60718293a4b5c6d7e8", "", FetchDest::unknown);
    q.has_referer = false;
    CHECK(e.decide(q).reason == reason::email_pixel_heuristic);
    q.path_and_query = "/o/550e8400-e29b-41d4-a716-446655440000";
    CHECK(e.decide(q).reason == reason::email_pixel_heuristic);
  }
  SECTION("a web page's image with a Referer is not an email") {
    r.has_referer = true;
    r.first_party = "news.example";
    CHECK(e.decide(r).reason == reason::no_rule);
  }
  SECTION("a mail client's User-Agent is an email context") {
    r.has_referer = true;
    r.first_party = "news.example";
    r.user_agent = "Mozilla/5.0 Thunderbird/115.0";
    CHECK(e.decide(r).reason == reason::email_pixel_heuristic);
  }
  SECTION("a webmail page is an email context") {
    r.has_referer = true;
    r.first_party = "webmail.example";
    CHECK(e.decide(r).reason == reason::email_pixel_heuristic);
  }
  SECTION("consent to email tracking allows it") {
    r.consent = granting({"email-tracking"});
    CHECK(e.decide(r).verdict == Verdict::allow);
  }
  SECTION("short or descriptive names are not tokens") {
    r.path_and_query = "/img/logo-2024.png";
    CHECK(e.decide(r).verdict == Verdict::allow);
    r.path_and_query = "/img/newsletter-header-image-2024-autumn.png";
    CHECK(e.decide(r).verdict == Verdict::allow);
    r.path_and_query = "/img/abcdefghijklmnopqrstuvwxyz.png";  // no digit: a word, not an id
    CHECK(e.decide(r).verdict == Verdict::allow);
  }
  SECTION("scripts and first-party images are not pixels") {
    r.dest = FetchDest::script;
    CHECK(e.decide(r).verdict == Verdict::allow);
    r.dest = FetchDest::unknown;
    r.path_and_query = "/open/aZ3kT9qLm2Xv8RbN4cWp7Hs.js";
    CHECK(e.decide(r).verdict == Verdict::allow);
    r.dest = FetchDest::image;
    r.path_and_query = token_path;
    r.first_party = "esp.example";
    CHECK(e.decide(r).verdict == Verdict::allow);
  }
  SECTION("disabled heuristics do nothing") {
    Document doc = test_document();
    doc.email.enabled = false;
    CHECK(build(doc)->decide(r).verdict == Verdict::allow);
  }
}

TEST_CASE("known email-tracking hosts are blocked by rule", "[policy]") {
  const Decision d = engine().decide(request("x.list-manage.com", "/track/open.php?u=1", "", FetchDest::image));
  CHECK(d.verdict == Verdict::block);
  CHECK(d.rule_id == "mailchimp/domains[0]");
  CHECK(d.reason == reason::consent_missing);
}

TEST_CASE("Cookie headers lose the cookies of refused purposes", "[policy]") {
  const Engine& e = engine();
  const std::string header = "PHPSESSID=s1; _gid=GA1.2.3; lang=fr; _hjSession_1=abc; IDE=x";
  Request r = request("shop.example", "/", "shop.example", FetchDest::document);

  CookieHeaderResult out = e.filter_cookie_header(r, header);
  CHECK(out.changed);
  CHECK(out.header == "PHPSESSID=s1; lang=fr");
  CHECK(removed_names(out) == std::vector<std::string>{"_gid", "_hjSession_1", "IDE"});
  REQUIRE(out.removed.size() == 3);
  CHECK(out.removed[0].rule_id == "google-analytics/cookies[2]");
  CHECK(out.removed[0].reason == reason::consent_missing);
  CHECK(out.removed[1].rule_id == "hotjar/cookies[0]");
  CHECK(out.removed[2].purpose == e.find_purpose("advertising"));

  r.consent = granting({"analytics", "session-replay", "advertising"});
  out = e.filter_cookie_header(r, header);
  CHECK_FALSE(out.changed);
  CHECK(out.header.empty());
  CHECK(out.removed.empty());
}

TEST_CASE("a first-party scoped cookie rule outranks the general one only first-party", "[policy]") {
  const Engine& e = engine();
  CookieHeaderResult out =
      e.filter_cookie_header(request("shop.example", "/", "shop.example", FetchDest::document), "_ga=GA1.2; _gid=1");
  CHECK(out.header == "_ga=GA1.2");
  CHECK(removed_names(out) == std::vector<std::string>{"_gid"});
  // Sent to a third party, the scoped rule does not count: the analytics rule removes it.
  out = e.filter_cookie_header(request("cdn.other.example", "/", "shop.example", FetchDest::script), "_ga=GA1.2");
  CHECK(out.changed);
  CHECK(out.header.empty());
  REQUIRE(out.removed.size() == 1);
  CHECK(out.removed[0].rule_id == "google-analytics/cookies[0]");
}

TEST_CASE("first-party audience cookies are kept first-party only", "[policy]") {
  const Engine& e = engine();
  const std::string header = "_pk_id.1.abc=xyz";
  CHECK_FALSE(
      e.filter_cookie_header(request("shop.example", "/", "shop.example", FetchDest::document), header).changed);
  const CookieHeaderResult out =
      e.filter_cookie_header(request("cdn.other.example", "/", "shop.example", FetchDest::image), header);
  CHECK(out.changed);
  CHECK(removed_names(out) == std::vector<std::string>{"_pk_id.1.abc"});
}

TEST_CASE("a blocked third-party tracker host reads none of its non-exempt cookies", "[policy]") {
  const Engine& e = engine();
  Request r = request("ad.doubleclick.net", "/", "shop.example", FetchDest::script);
  CookieHeaderResult out = e.filter_cookie_header(r, "IDE=1; foo=2; PHPSESSID=3; =nameless");
  CHECK(out.header == "PHPSESSID=3");
  REQUIRE(out.removed.size() == 3);
  CHECK(out.removed[0].reason == reason::consent_missing);
  CHECK(out.removed[1].name == "foo");
  CHECK(out.removed[1].reason == reason::cookie_of_blocked_host);
  CHECK(out.removed[1].rule_id == "doubleclick/domains[0]");
  CHECK(out.removed[2].reason == reason::cookie_of_blocked_host);

  r.consent = granting({"advertising"});
  CHECK_FALSE(e.filter_cookie_header(r, "IDE=1; foo=2").changed);

  // A navigation to the tracker's own site is first-party even when the caller knows no first party.
  Request nav = request("www.doubleclick.net", "/", "", FetchDest::document);
  nav.is_navigation = true;
  out = e.filter_cookie_header(nav, "IDE=1; foo=2");
  CHECK(out.header == "foo=2");
  CHECK(e.filter_set_cookie(nav, "foo=2; Max-Age=60", now).action == SetCookieAction::keep);

  // The tracker's own site, first-party: its cookies are judged by name only.
  out = e.filter_cookie_header(request("www.doubleclick.net", "/", "doubleclick.net", FetchDest::document),
                               "IDE=1; foo=2");
  CHECK(out.header == "foo=2");
}

TEST_CASE("the Cookie filter survives hostile headers", "[policy]") {
  const Engine& e = engine();
  const Request r = request("shop.example", "/", "shop.example", FetchDest::document);
  CHECK_FALSE(e.filter_cookie_header(r, "").changed);
  CHECK_FALSE(e.filter_cookie_header(r, ";;; ; ").changed);
  CHECK_FALSE(e.filter_cookie_header(r, "\xff\xfe=\x80; a=\xc3").changed);
  CookieHeaderResult out = e.filter_cookie_header(r, "IDE=1; IDE=2;IDE=3 ;a=b");
  CHECK(out.header == "a=b");
  CHECK(out.removed.size() == 3);
  out = e.filter_cookie_header(r, "IDE=1");
  CHECK(out.changed);
  CHECK(out.header.empty());  // drop the header

  std::string huge;
  for (int i = 0; i < 600; ++i) huge += "c" + std::to_string(i) + "=v; ";
  out = e.filter_cookie_header(r, huge);
  CHECK(out.changed);  // pairs beyond the parser's limit were never judged: they do not pass
  CHECK(out.header.size() < huge.size());
  CHECK(out.header.starts_with("c0=v; c1=v"));
  CHECK(out.header.ends_with("c511=v"));
}

TEST_CASE("the allow-list keeps every cookie", "[policy]") {
  const CookieHeaderResult out =
      engine().filter_cookie_header(request("cdn.allowed.example", "/", "shop.example", FetchDest::script), "IDE=1");
  CHECK_FALSE(out.changed);
}

TEST_CASE("Set-Cookie of refused purposes and blocked hosts is dropped", "[policy]") {
  const Engine& e = engine();
  Request first = request("shop.example", "/", "shop.example", FetchDest::document);

  SetCookieResult s = e.filter_set_cookie(first, "_gid=GA1.2.3; Path=/; Max-Age=86400", now);
  CHECK(s.action == SetCookieAction::drop);
  CHECK(s.name == "_gid");
  CHECK(s.reason == reason::consent_missing);
  CHECK(s.rule_id == "google-analytics/cookies[2]");

  first.consent = granting({"analytics"});
  s = e.filter_set_cookie(first, "_gid=GA1.2.3; Path=/; Max-Age=86400", now);
  CHECK(s.action == SetCookieAction::keep);
  CHECK(s.reason == reason::purpose_granted);

  const Request ads = request("ad.doubleclick.net", "/", "shop.example", FetchDest::script);
  s = e.filter_set_cookie(ads, "anything=1; Max-Age=100", now);
  CHECK(s.action == SetCookieAction::drop);
  CHECK(s.reason == reason::cookie_of_blocked_host);
  CHECK(s.rule_id == "doubleclick/domains[0]");
  s = e.filter_set_cookie(ads, "PHPSESSID=1", now);
  CHECK(s.action == SetCookieAction::keep);
  CHECK(s.reason == reason::exempt);

  s = e.filter_set_cookie(first, "lang=fr; Max-Age=100", now);
  CHECK(s.action == SetCookieAction::keep);
  CHECK(s.reason == reason::no_rule);
}

TEST_CASE("an unparseable Set-Cookie is dropped", "[policy]") {
  const Engine& e = engine();
  const Request r = request("shop.example", "/", "shop.example", FetchDest::document);
  for (std::string_view bad : {std::string_view(""), std::string_view("novalue"), std::string_view("=")}) {
    INFO(bad);
    const SetCookieResult s = e.filter_set_cookie(r, bad, now);
    CHECK(s.action == SetCookieAction::drop);
    CHECK(s.reason == reason::set_cookie_invalid);
  }
}

TEST_CASE("consent cookies and first-party audience cookies have their lifetime capped", "[policy]") {
  const Engine& e = engine();
  const Document& doc = e.document();
  const Request r = request("shop.example", "/", "shop.example", FetchDest::document);

  SetCookieResult s = e.filter_set_cookie(r, "eu-consent=analytics:true; Path=/; Max-Age=63072000", now);
  REQUIRE(s.action == SetCookieAction::cap);
  CHECK(s.reason == reason::lifetime_capped);
  auto parsed = parse_set_cookie(s.header);
  REQUIRE(parsed);
  CHECK(lifetime_seconds(*parsed, now) == doc.caps.consent_max_age_seconds);

  s = e.filter_set_cookie(r, "_pk_id.1.abc=xyz; Path=/; Max-Age=63072000", now);
  REQUIRE(s.action == SetCookieAction::cap);
  CHECK(s.rule_id == "site-stats/cookies[0]");
  parsed = parse_set_cookie(s.header);
  REQUIRE(parsed);
  CHECK(lifetime_seconds(*parsed, now) == doc.caps.audience_max_age_seconds);

  s = e.filter_set_cookie(r, "_pk_id.1.abc=xyz; Path=/; Max-Age=3600", now);
  CHECK(s.action == SetCookieAction::keep);
  CHECK(s.reason == reason::exempt_first_party_audience);

  s = e.filter_set_cookie(r, "euconsent-v2=CPx; Max-Age=63072000", now);
  CHECK(s.action == SetCookieAction::cap);
}

TEST_CASE("purposes are numbered in order and found by id or alias", "[policy]") {
  const Engine& e = engine();
  CHECK(e.purpose_count() == 6);
  CHECK(e.find_purpose("strictly-necessary") == 0);
  CHECK(e.find_purpose("analytics") == 2);
  CHECK(e.find_purpose("statistics") == 2);
  CHECK(e.find_purpose("audience") == 1);
  CHECK(e.find_purpose("nope") == no_purpose);
  CHECK(e.find_purpose("") == no_purpose);
  CHECK(e.purpose_id(3) == "advertising");
  CHECK(e.purpose_label(3) == "Advertising");
  CHECK(e.purpose_id(no_purpose).empty());
  CHECK(e.purpose_exemption(1) == Exemption::first_party_audience);
  CHECK(e.purpose_exemption(no_purpose) == Exemption::none);
  CHECK(e.exempt_purposes() == PurposeSet::from_bits(1));
  const EngineSummary s = e.summary();
  CHECK(s.purposes == 6);
  CHECK(s.trackers == 7);
  CHECK(s.domains == 7);
  CHECK(s.cookie_patterns == 9);
  CHECK(s.url_patterns == 1);
}

TEST_CASE("domains_for lists the tracker domains of the given purposes once each", "[policy]") {
  Document doc = test_document();
  doc.trackers.push_back(tracker("more-ads", "advertising", {"DoubleClick.net.", "criteo.com"}));
  const auto e = build(doc);
  PurposeSet ads;
  ads.insert(e->find_purpose("advertising"));
  CHECK(e->domains_for(ads) == std::vector<std::string_view>{"doubleclick.net", "*.ads.example", "criteo.com"});
  CHECK(e->domains_for(PurposeSet{}).empty());
}

TEST_CASE("the policy hash is stable and follows meaning, not locations", "[policy]") {
  const Document doc = test_document();
  const std::string h1(build(doc)->policy_hash());
  CHECK(h1.size() == 16);
  CHECK(h1.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(build(doc)->policy_hash() == h1);

  Document moved = doc;
  for (TrackerRule& t : moved.trackers) {
    t.where.file = "elsewhere.yaml";
    for (Located& d : t.domains) d.where.line += 100;
  }
  CHECK(build(moved)->policy_hash() == h1);

  Document changed = doc;
  changed.trackers[0].domains[0].value = "google-analytics.net";
  CHECK(build(changed)->policy_hash() != h1);
  Document split = doc;  // {"_ga", "_ga_*"} must not hash like {"_ga_ga_*"}
  split.trackers[0].cookies = list({"_ga_ga_*", "_gid"});
  CHECK(build(split)->policy_hash() != h1);
}

TEST_CASE("build reports every problem at once, verbatim", "[policy]") {
  Document doc = test_document();
  doc.trackers.push_back(tracker("broken", "anlytics", {"*.stats..example", "ok.example"}, {"a b"}, {"("}));
  doc.trackers.push_back(tracker("google-analytics", "advertising", {"x.example"}));
  doc.trackers.push_back(tracker("empty", "advertising", {}));
  doc.allow_domains.push_back(at("bad domain", "settings.yaml", 3, 5));
  const std::vector<std::string> expected{
      R"(policies/test.yaml:5:14: trackers[7].purpose: unknown purpose "anlytics"; did you mean "analytics"?)",
      R"(policies/test.yaml:10:7: trackers[7].domains[0]: "*.stats..example" is not a domain pattern (empty label))",
      R"(policies/test.yaml:10:7: trackers[7].cookies[0]: "a b" is not a cookie-name pattern (invalid character ' ' at offset 1))",
      R"(policies/test.yaml:10:7: trackers[7].urls[0]: URL pattern "(" of tracker "broken" is not a valid RE2 pattern (missing ): ())",
      R"(policies/test.yaml:4:3: trackers[8].id: duplicate tracker id "google-analytics" (first defined at policies/test.yaml:4:3))",
      R"(policies/test.yaml:4:3: trackers[9]: tracker "empty" has no domains, cookies or urls)",
      R"(settings.yaml:3:5: allow_domains[0]: "bad domain" is not a domain pattern (invalid character ' ' at offset 3))",
  };
  const BuildResult r = Engine::build(doc);
  CHECK_FALSE(r.engine);
  std::vector<std::string> got;
  for (const Diagnostic& d : r.diagnostics) got.push_back(d.to_string());
  CHECK(got == expected);
}

TEST_CASE("an unknown purpose far from every id gets no suggestion", "[policy]") {
  Document doc = test_document();
  doc.trackers[0].purpose = at("marketing", "policies/ga.yaml", 7, 14);
  CHECK(messages(doc) ==
        std::vector<std::string>{R"(policies/ga.yaml:7:14: trackers[0].purpose: unknown purpose "marketing")"});
}

TEST_CASE("purpose problems are reported", "[policy]") {
  Document doc = test_document();
  doc.purposes.push_back({"analytics", "Again", Exemption::none, {}, {"policies/more.yaml", 9, 3}});
  doc.purposes.push_back({"Ads!", "Bad id", Exemption::none, {"audience"}, {"policies/more.yaml", 12, 3}});
  CHECK(
      messages(doc) ==
      std::vector<std::string>{
          R"(policies/more.yaml:9:3: purposes.analytics: duplicate purpose "analytics" (first defined at policies/purposes.yaml:4:3))",
          R"(policies/more.yaml:12:3: purposes.Ads!: "Ads!" is not a purpose id (use a-z, 0-9 and '-'))",
          R"(policies/more.yaml:12:3: purposes.Ads!.aliases[0]: alias "audience" is already used by purpose "audience-measurement")",
      });
}

TEST_CASE("more than 64 purposes are refused", "[policy]") {
  Document doc = test_document();
  for (int i = 0; doc.purposes.size() < 65; ++i)
    doc.purposes.push_back({"extra-" + std::to_string(i), "x", Exemption::none, {}, {"p.yaml", 100 + i, 3}});
  CHECK(messages(doc) == std::vector<std::string>{"p.yaml:158:3: purposes.extra-58: too many purposes (65, limit 64)"});
}

TEST_CASE("an over-complex URL pattern names its limit and rule", "[policy]") {
  Document doc = test_document();
  doc.trackers[2].urls = list({"(abc|def){1,1000}"});
  const std::vector<std::string> got = messages(doc);
  REQUIRE(got.size() == 1);
  CHECK_THAT(
      got[0],
      Catch::StartsWith(
          R"(policies/test.yaml:10:7: trackers[2].urls[0]: URL pattern "(abc|def){1,1000}" of tracker "hotjar" is too complex (RE2 program size )"));
  CHECK_THAT(got[0], Catch::EndsWith(", limit 2000)"));
}

TEST_CASE("email heuristic settings are validated", "[policy]") {
  Document doc = test_document();
  doc.email.min_token_length = 4;
  doc.email.webmail_origins.push_back(at("mail..example", "settings.yaml", 20, 9));
  doc.email.mail_user_agents.push_back(at("Outlook(", "settings.yaml", 22, 9));
  CHECK(
      messages(doc) ==
      std::vector<std::string>{
          "email.min_token_length: must be at least 8 (got 4)",
          R"(settings.yaml:20:9: email.webmail_origins[1]: "mail..example" is not a domain pattern (empty label))",
          R"(settings.yaml:22:9: email.mail_user_agents[1]: User-Agent pattern "Outlook(" is not a valid RE2 pattern (missing ): Outlook())",
      });
}

TEST_CASE("hostile patterns are quoted safely in diagnostics", "[policy]") {
  Document doc = test_document();
  doc.trackers[0].domains = {at(std::string("a\"b\nc\x01", 6))};
  doc.trackers[0].cookies = {at(std::string(300, 'x'))};
  const std::vector<std::string> got = messages(doc);
  REQUIRE(got.size() == 2);
  CHECK(
      got[0] ==
      R"(policies/test.yaml:1:1: trackers[0].domains[0]: "a\"b\x0Ac\x01" is not a domain pattern (invalid character '"' at offset 1))");
  CHECK(got[1] == "policies/test.yaml:1:1: trackers[0].cookies[0]: \"" + std::string(96, 'x') +
                      "...\" is not a cookie-name pattern (longer than 256 bytes)");
}

TEST_CASE("read_consent delegates to the consent reader", "[policy]") {
  const Engine& e = engine();
  ConsentInputs in;
  in.cookie_header = "lang=fr; eu-consent=analytics:true,advertising:false";
  in.now = now;
  const ConsentState c = e.read_consent(in);
  CHECK(c.status == ConsentStatus::valid);
  CHECK(c.granted.contains(e.find_purpose("analytics")));
  CHECK_FALSE(c.granted.contains(e.find_purpose("advertising")));
  in.cookie_header = "lang=fr";
  CHECK(e.read_consent(in).status == ConsentStatus::missing);
}

TEST_CASE("decide survives hostile requests", "[policy]") {
  const Engine& e = engine();
  const std::string huge_host = std::string(100000, 'a') + ".doubleclick.net";
  const std::string huge_path = "/" + std::string(100000, 'x');
  const std::string binary("\xff\xfe\x00\x80.google-analytics.com", 25);
  CHECK(e.decide(request("", "", "", FetchDest::unknown)).reason == reason::no_rule);
  CHECK(e.decide(request(".", "/", ".", FetchDest::unknown)).reason == reason::no_rule);
  // Beyond the longest possible pattern the host is still judged on its suffix.
  CHECK(e.decide(request(huge_host, "/", "shop.example", FetchDest::image)).verdict == Verdict::block);
  CHECK(e.decide(request("shop.example", huge_path, "shop.example", FetchDest::image)).verdict == Verdict::allow);
  CHECK(e.decide(request(binary, "/", "shop.example", FetchDest::image)).verdict == Verdict::block);
  const std::string token_path = huge_path + "a1";
  Request r = request("pixels.esp.example", token_path, "", FetchDest::image);
  r.has_referer = false;
  CHECK(e.decide(r).reason == reason::email_pixel_heuristic);
}

TEST_CASE("filtering a Cookie header split in two gives the same cookies as filtering it whole", "[policy]") {
  // HTTP/2 clients send one cookie per header field (RFC 9113 §8.2.3); the proxy may see either form.
  const Engine& e = engine();
  const Request r = request("shop.example", "/", "shop.example", FetchDest::document);
  const std::string whole = "PHPSESSID=s1; _gid=1; lang=fr; _ga=GA1; IDE=x; _pk_id.1=y; _hjSession=z; cart=3";
  const auto kept = [&](std::string_view header) {
    const CookieHeaderResult out = e.filter_cookie_header(r, header);
    return out.changed ? out.header : std::string(header);
  };
  const std::string expected = kept(whole);
  CHECK(expected == "PHPSESSID=s1; lang=fr; _ga=GA1; _pk_id.1=y; cart=3");
  for (std::size_t at = whole.find(';'); at != std::string::npos; at = whole.find(';', at + 1)) {
    const std::string left = kept(whole.substr(0, at));
    const std::string right = kept(whole.substr(at + 2));
    std::string joined = left;
    if (!left.empty() && !right.empty()) joined += "; ";
    joined += right;
    INFO("split at " << at);
    CHECK(joined == expected);
  }
}

namespace {

PurposeExample example(std::string url, Verdict expect, std::optional<std::string> consent = std::nullopt,
                       std::string site = "", std::string reason = "") {
  PurposeExample x;
  x.url = std::move(url);
  x.expect = expect;
  x.consent = std::move(consent);
  x.site = std::move(site);
  x.reason = std::move(reason);
  x.where = {"policies/purposes.yaml", 30, 9};
  return x;
}

PurposeDef& purpose_named(Document& doc, std::string_view id) {
  const auto it = std::find_if(doc.purposes.begin(), doc.purposes.end(), [id](const auto& p) { return p.id == id; });
  REQUIRE(it != doc.purposes.end());
  return *it;
}

}  // namespace

TEST_CASE("purpose examples that come out as written let the engine build", "[policy]") {
  Document doc = test_document();
  auto& analytics = purpose_named(doc, "analytics").examples;
  analytics.push_back(example("https://www.google-analytics.com/g/collect?v=2", Verdict::block, std::nullopt,
                              "lemonde.fr", "consent_missing"));
  analytics.push_back(example("https://www.google-analytics.com/g/collect?v=2", Verdict::allow, "analytics:true",
                              "lemonde.fr", "purpose_granted"));
  analytics.push_back(example("HTTP://WWW.Google-Analytics.COM:443", Verdict::block, "analytics:false"));
  analytics.push_back(example("www.google-analytics.com/collect#frag", Verdict::block, "{\"statistics\":false}"));
  // A dated choice is read as made now, whatever the calendar says when the policy loads.
  analytics.push_back(example("https://google-analytics.com/", Verdict::allow, "analytics:true,ts:1000000000"));
  analytics.push_back(example("https://notgoogle-analytics.com/", Verdict::allow, std::nullopt, "", "no_rule"));
  auto& ads = purpose_named(doc, "advertising").examples;
  PurposeExample gpc =
      example("https://ad.doubleclick.net/pixel", Verdict::block, "advertising:true", "shop.example", "gpc_refused");
  gpc.gpc = true;
  ads.push_back(gpc);
  ads.push_back(example("https://www.doubleclick.net/", Verdict::strip_cookies, std::nullopt, "www.doubleclick.net",
                        "first_party_navigation"));
  auto& replay = purpose_named(doc, "session-replay").examples;
  replay.push_back(example("https://shop.example/static/hotjar-12.js", Verdict::block, "", "shop.example"));
  auto& email = purpose_named(doc, "email-tracking").examples;
  email.push_back(example("https://img.sender.example/o/4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c.gif", Verdict::block,
                          std::nullopt, "", "email_pixel_heuristic"));
  const BuildResult r = Engine::build(doc);
  for (const Diagnostic& d : r.diagnostics) UNSCOPED_INFO(d.to_string());
  CHECK(r.diagnostics.empty());
  CHECK(r.engine);
  // Examples assert the meaning; they do not change it.
  CHECK(r.engine->policy_hash() == engine().policy_hash());
}

TEST_CASE("each purpose example that fails is a located diagnostic naming what came out", "[policy]") {
  Document doc = test_document();
  auto& analytics = purpose_named(doc, "analytics").examples;
  analytics.push_back(example("https://www.google-analytics.com/g/collect", Verdict::allow));
  analytics.push_back(example("https://www.google-analytics.com/", Verdict::block, "analytics:true"));
  analytics.push_back(
      example("https://www.google-analytics.com/", Verdict::block, std::nullopt, "", "consent_expired"));
  analytics.push_back(example("https://ad.doubleclick.net/", Verdict::block));  // another purpose's tracker
  analytics.push_back(example("ftp://google-analytics.com/", Verdict::block));
  analytics.push_back(example("https://user@google-analytics.com/", Verdict::block));
  analytics.push_back(example("https://bad host/", Verdict::block));
  analytics.push_back(example("https://google-analytics.com/", Verdict::block, std::nullopt, "a..b"));
  analytics.push_back(example("https://google-analytics.com/", Verdict::block, std::nullopt, "", "not_a_reason"));
  analytics.push_back(example("https://google-analytics.com/", Verdict::block, "garbage{", "", "consent_malformed"));
  CHECK_THAT(
      messages(doc),
      Catch::Matchers::Equals(std::vector<std::string>{
          R"(policies/purposes.yaml:30:9: purposes.analytics.examples[0]: expected allow for "https://www.google-analytics.com/g/collect" with no consent, got block (consent_missing, rule google-analytics/domains[0], purpose "analytics"))",
          R"(policies/purposes.yaml:30:9: purposes.analytics.examples[1]: expected block for "https://www.google-analytics.com/" with consent "analytics:true", got allow (purpose_granted, rule google-analytics/domains[0], purpose "analytics"))",
          R"(policies/purposes.yaml:30:9: purposes.analytics.examples[2]: expected block (consent_expired) for "https://www.google-analytics.com/" with no consent, got block (consent_missing, rule google-analytics/domains[0], purpose "analytics"))",
          R"(policies/purposes.yaml:30:9: purposes.analytics.examples[3]: expected block for "https://ad.doubleclick.net/" with no consent, got block (consent_missing, rule doubleclick/domains[0], purpose "advertising"))",
          R"(policies/purposes.yaml:30:9: purposes.analytics.examples[4]: "ftp://google-analytics.com/" is not an http(s) URL)",
          R"(policies/purposes.yaml:30:9: purposes.analytics.examples[5]: "https://user@google-analytics.com/" is not an http(s) URL)",
          R"(policies/purposes.yaml:30:9: purposes.analytics.examples[6]: "https://bad host/" is not an http(s) URL)",
          R"(policies/purposes.yaml:30:9: purposes.analytics.examples[7]: site "a..b" is not a host name)",
          R"(policies/purposes.yaml:30:9: purposes.analytics.examples[8]: unknown reason "not_a_reason")",
      }));
  CHECK_FALSE(Engine::build(doc).engine);
}

TEST_CASE("hostile example URLs give diagnostics, never crashes", "[policy]") {
  Document doc = test_document();
  auto& analytics = purpose_named(doc, "analytics").examples;
  for (std::string url : {std::string(), std::string("https://"), std::string("http:///x"), std::string(100000, 'a'),
                          std::string("https://") + std::string(300, 'a') + ".com/",
                          std::string("https://a\0b.com/", 16), std::string("https://[::1/"),
                          std::string("https://\xC3\x28.example/"), std::string("https://a.example:99999/")})
    analytics.push_back(example(url, Verdict::allow));
  const BuildResult r = Engine::build(doc);
  CHECK(r.diagnostics.size() == analytics.size());
  CHECK_FALSE(r.engine);
}

TEST_CASE("a rule id leads back to the list its tracker came from", "[policy]") {
  Document doc = test_document();
  doc.trackers[0].source = "EasyPrivacy";
  doc.trackers[2].source = "own (consentgate maintainers)";
  const auto e = build(doc);
  CHECK(e->rule_source("google-analytics/domains[0]") == "EasyPrivacy");
  CHECK(e->rule_source("google-analytics/cookies[2]") == "EasyPrivacy");
  CHECK(e->rule_source("hotjar/urls[0]") == "own (consentgate maintainers)");
  CHECK(e->rule_source("doubleclick/domains[0]").empty());
  CHECK(e->rule_source("allow_domains[0]").empty());
  CHECK(e->rule_source("").empty());
  CHECK(e->rule_source("nope/domains[0]").empty());
  // Attribution is not meaning: the policy hash ignores it.
  CHECK(e->policy_hash() == engine().policy_hash());
}
