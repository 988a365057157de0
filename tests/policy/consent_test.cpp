#include "policy/consent.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace consent::policy;

namespace {

// 2024-01-15T00:00:00Z, the lastUpdated of the synthetic TC strings.
constexpr std::int64_t jan15 = 1705276800;
constexpr std::int64_t day = 24 * 3600;

// Synthetic TCF v2.2 vectors (tests/fixtures/consent/tcf_test_vectors.json).
const std::string tcf_accept_all = "CP4bJcAP4bJcAEsABBFRBGEsAP_gAEPgAAqIAFP_AAchAAA.IAFP_A";
const std::string tcf_reject_all = "CP4bJcAP4bJcAEsABBFRBGEgAAAAAAAAAAqIAAAAAAAA.IAFP_A";
const std::string tcf_measurement_only =
    "CP4bJcAP4bJcAEsABBFRBGEgAIPAAAAAAAqIF5gAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA";
const std::string tcf_not_service_specific = "CP4bJcAP4bJcAEsABBFRBGEAAIAAAAAAAAqIAAAAAAAA";
// synthetic-accept-all with PurposeOneTreatment set (bit 200).
const std::string tcf_accept_all_p1t = "CP4bJcAP4bJcAEsABBFRBGEsAP_gAEPgAIqIAFP_AAchAAA.IAFP_A";
const std::string tcf_policy2 = "CO0SrIAO0SrIAEsABBENAoCgAP_AAAAAAAAAAAAAAAAA";

enum : PurposeIndex { necessary, audience, ads_personalised, ads, social, replay };

Located at(std::string value, int line, int column = 7) { return {std::move(value), {"consent.yaml", line, column}}; }

Document make_document() {
  Document doc;
  const auto purpose = [&doc](std::string id, Exemption e, std::vector<std::string> aliases = {}) {
    PurposeDef p;
    p.id = std::move(id);
    p.label = p.id;
    p.exemption = e;
    p.aliases = std::move(aliases);
    doc.purposes.push_back(std::move(p));
  };
  purpose("strictly-necessary", Exemption::always);
  purpose("audience-measurement", Exemption::first_party_audience, {"analytics", "audience_measurement"});
  purpose("advertising-personalised", Exemption::none, {"ads_personalised"});
  purpose("advertising", Exemption::none);
  purpose("social-media", Exemption::none, {"social"});
  purpose("session-replay", Exemption::none);
  auto& c = doc.consent;
  c.cookie_names = {"eu-consent", "eu.consent"};
  c.tcf.push_back({at("advertising-personalised", 10), {1, 3, 4}, {}, {"consent.yaml", 10, 5}});
  c.tcf.push_back({at("advertising", 11), {1, 2}, {}, {"consent.yaml", 11, 5}});
  c.tcf.push_back({at("audience-measurement", 12), {1, 8}, {}, {"consent.yaml", 12, 5}});
  c.tcf.push_back({at("social", 13), {1}, {2}, {"consent.yaml", 13, 5}});
  c.gpc_refuses = {at("advertising-personalised", 20), at("advertising", 21)};
  c.user_override = {{"session-replay", false}, {"audience-measurement", true}};
  CmpSource onetrust;
  onetrust.cookie = "OptanonConsent";
  onetrust.format = "onetrust";
  onetrust.categories = {{"C0002", at("audience-measurement", 30)}, {"C0004", at("advertising", 31)}};
  CmpSource cookiebot;
  cookiebot.cookie = "CookieConsent";
  cookiebot.format = "cookiebot";
  cookiebot.categories = {{"statistics", at("audience-measurement", 40)}, {"marketing", at("advertising", 41)}};
  CmpSource tarteaucitron;
  tarteaucitron.cookie = "tarteaucitron";
  tarteaucitron.format = "tarteaucitron";
  tarteaucitron.categories = {{"gtag", at("analytics", 50)}, {"facebook", at("social-media", 51)}};
  c.cmp = {onetrust, cookiebot, tarteaucitron};
  return doc;
}

const ConsentConfig& config() {
  static const ConsentConfig compiled = [] {
    std::vector<Diagnostic> diagnostics;
    auto c = compile_consent(make_document(), diagnostics);
    REQUIRE(diagnostics.empty());
    return c;
  }();
  return compiled;
}

PurposeSet set(std::initializer_list<PurposeIndex> ps) {
  PurposeSet s;
  for (const auto p : ps) s.insert(p);
  return s;
}

ConsentState read(std::string_view cookies, std::int64_t now = jan15 + day, std::string_view gpc = {}) {
  return read_consent(config(), ConsentInputs{cookies, gpc, now});
}

// OneTrust cookie with a given datestamp (UTC) and advertising group choice.
std::string onetrust(const std::string& date, bool ads_granted) {
  return "OptanonConsent=isGpcEnabled=0&datestamp=" + date +
         "+GMT%2B0000+(Coordinated+Universal+Time)&interactionCount=1&groups=C0001%3A1%2CC0002%3A1%2CC0004%3A" +
         (ads_granted ? "1" : "0");
}

}  // namespace

TEST_CASE("compile_consent builds the purpose lookup, masks and narrowing sets", "[policy]") {
  const auto& c = config();
  REQUIRE(std::is_sorted(c.keys.begin(), c.keys.end()));
  CHECK(c.keys.size() == 10);
  CHECK(c.needs_consent == set({audience, ads_personalised, ads, social, replay}));
  REQUIRE(c.tcf.size() == 4);
  CHECK(c.tcf[0].purpose == ads_personalised);
  CHECK(c.tcf[0].purposes_mask == 0b1101U);
  CHECK(c.tcf[3].special_features_mask == 0b10U);
  CHECK(c.gpc_refuses == set({ads_personalised, ads}));
  CHECK(c.override_refuses == set({replay}));
  REQUIRE(c.cmp.size() == 3);
  CHECK(c.cmp[0].format_id == CmpFormat::onetrust);
  CHECK(c.cmp[2].categories ==
        std::vector<std::pair<std::string, PurposeIndex>>{{"facebook", social}, {"gtag", audience}});
}

TEST_CASE("compile_consent reports every bad reference with its location and key path", "[policy]") {
  Document doc = make_document();
  auto& c = doc.consent;
  c.tcf.push_back({at("foo", 14, 15), {1, 12, 0}, {3}, {"consent.yaml", 14, 5}});
  c.tcf.push_back({at("advertising", 15, 15), {}, {}, {"consent.yaml", 15, 5}});
  c.gpc_refuses.push_back(at("adverts", 22, 9));
  c.user_override["sesion-replay"] = false;
  c.cmp[0].categories.emplace("C0003", at("personalisation", 32, 14));
  c.cmp[1].format = "CookieBot";
  c.cmp[2].cookie.clear();
  c.lifetime_seconds = -1;
  c.tcf_cookie_names.insert(c.tcf_cookie_names.begin(), "");
  std::vector<Diagnostic> d;
  const auto compiled = compile_consent(doc, d);
  std::vector<std::string> got;
  for (const auto& x : d) got.push_back(x.to_string());
  const std::vector<std::string> want{
      "consent.lifetime: must not be negative",
      "consent.tcf_cookie_names[0]: empty cookie name",
      "consent.yaml:14:15: consent.tcf[4].purpose: unknown purpose \"foo\"",
      "consent.yaml:14:5: consent.tcf[4].tcf_purposes[1]: TCF purpose 12 is out of range (1..11)",
      "consent.yaml:14:5: consent.tcf[4].tcf_purposes[2]: TCF purpose 0 is out of range (1..11)",
      "consent.yaml:14:5: consent.tcf[4].special_features[0]: TCF special feature 3 is out of range (1..2)",
      "consent.yaml:15:5: consent.tcf[5]: lists no TCF purpose: it would grant \"advertising\" without any consent",
      "consent.yaml:22:9: consent.gpc_refuses[2]: unknown purpose \"adverts\"",
      "consent.user_override.sesion-replay: unknown purpose \"sesion-replay\"",
      "consent.yaml:32:14: consent.cmp[0].categories.C0003: unknown purpose \"personalisation\"",
      "consent.cmp[1].format: unknown CMP format \"CookieBot\" (expected one of tarteaucitron, didomi, onetrust, "
      "cookiebot, axeptio, klaro)",
      "consent.cmp[2].cookie: empty cookie name",
  };
  CHECK(got == want);
  CHECK(compiled.tcf.size() == 4);  // the bad mappings are not compiled
  CHECK(compiled.cmp.size() == 1);
  CHECK(compiled.tcf_cookie_names == std::vector<std::string>{"euconsent-v2", "eupubconsent-v2"});
  CHECK(compiled.lifetime_seconds == 0);
}

TEST_CASE("no consent signal: missing, nothing granted", "[policy]") {
  for (const char* header : {"", "session=abc; lang=fr", "eu-consen=a:1; xeu-consent=a:1", "=eu-consent"}) {
    INFO(header);
    const auto s = read(header);
    CHECK(s.status == ConsentStatus::missing);
    CHECK(s.source == ConsentSource::none);
    CHECK(s.granted.empty());
    CHECK_FALSE(s.gpc);
  }
}

TEST_CASE("eu-consent grants the purposes set true, restricted to those needing consent", "[policy]") {
  const auto s = read("a=1; eu-consent=strictly-necessary:1,analytics:1,advertising:0,unknown-thing:1,social:1; b=2");
  CHECK(s.status == ConsentStatus::valid);
  CHECK(s.source == ConsentSource::eu_consent);
  CHECK(s.granted == set({audience, social}));
  CHECK(s.timestamp == 0);
  // An id and its alias that disagree are read the restrictive way.
  CHECK(read("eu-consent=audience-measurement:1,analytics:0").granted.empty());
  // The alias cookie name works alone.
  CHECK(read("eu.consent=advertising:1").granted == set({ads}));
}

TEST_CASE("eu-consent malformed or ambiguous grants nothing", "[policy]") {
  for (const char* header : {"eu-consent=", "eu-consent=a:maybe", "eu-consent={\"advertising\":true",
                             "eu-consent=advertising:1; eu.consent=advertising:0"}) {
    INFO(header);
    const auto s = read(header);
    CHECK(s.status == ConsentStatus::malformed);
    CHECK(s.source == ConsentSource::eu_consent);
    CHECK(s.granted.empty());
  }
  // The same value under two names is not ambiguous.
  CHECK(read("eu-consent=advertising:1; eu.consent=advertising:1").granted == set({ads}));
  // A huge value is malformed, not truncated.
  CHECK(read("eu-consent=advertising:1," + std::string(5000, 'x') + ":1").status == ConsentStatus::malformed);
}

TEST_CASE("eu-consent older than the lifetime is expired; far in the future is malformed", "[policy]") {
  const std::int64_t lifetime = config().lifetime_seconds;
  const std::int64_t ts = jan15;
  const std::string header = "eu-consent=advertising:1,ts:" + std::to_string(ts);
  CHECK(read(header, ts + lifetime).status == ConsentStatus::valid);
  CHECK(read(header, ts + lifetime).timestamp == ts);
  const auto expired = read(header, ts + lifetime + 1);
  CHECK(expired.status == ConsentStatus::expired);
  CHECK(expired.granted.empty());
  CHECK(read(header, ts - day).status == ConsentStatus::valid);  // clock skew tolerated
  const auto future = read(header, ts - day - 1);
  CHECK(future.status == ConsentStatus::malformed);
  CHECK(future.granted.empty());
}

TEST_CASE("eu-consent decides alone when present", "[policy]") {
  const auto s = read("euconsent-v2=" + tcf_accept_all + "; eu-consent=social:1");
  CHECK(s.source == ConsentSource::eu_consent);
  CHECK(s.granted == set({social}));
}

TEST_CASE("TCF cookie grants through the mapping", "[policy]") {
  SECTION("accept all grants every mapped purpose, special features included") {
    const auto s = read("euconsent-v2=" + tcf_accept_all);
    CHECK(s.status == ConsentStatus::valid);
    CHECK(s.source == ConsentSource::tcf);
    CHECK(s.granted == set({audience, ads_personalised, ads, social}));
    CHECK(s.timestamp == jan15);
  }
  SECTION("a purpose needs all of its TCF purposes") {
    CHECK(read("euconsent-v2=" + tcf_measurement_only).granted == set({audience}));
    CHECK(read("euconsent-v2=" + tcf_reject_all).granted.empty());
    CHECK(read("euconsent-v2=" + tcf_reject_all).status == ConsentStatus::valid);
  }
  SECTION("purpose one treatment: storage was not asked, so nothing needing purpose 1 is granted") {
    const auto s = read("euconsent-v2=" + tcf_accept_all_p1t);
    CHECK(s.status == ConsentStatus::valid);
    CHECK(s.granted.empty());
  }
  SECTION("eupubconsent-v2 is read too") {
    CHECK(read("eupubconsent-v2=" + tcf_measurement_only).granted == set({audience}));
  }
  SECTION("strings that are invalid under TCF 2.2, truncated or garbage are malformed") {
    for (const auto& tc : {tcf_not_service_specific, tcf_policy2, tcf_accept_all.substr(0, 30), std::string("xyz!")}) {
      INFO(tc);
      const auto s = read("euconsent-v2=" + tc);
      CHECK(s.status == ConsentStatus::malformed);
      CHECK(s.granted.empty());
    }
  }
  SECTION("an empty TC cookie (CMPs write one when TCF is off) is no signal") {
    const auto s = read("euconsent-v2=; " + onetrust("Mon+Jan+15+2024+10%3A00%3A00", false));
    CHECK(s.source == ConsentSource::cmp);
    CHECK(s.granted == set({audience}));
    CHECK(read("euconsent-v2=").status == ConsentStatus::missing);
  }
  SECTION("an old TC string is expired") {
    CHECK(read("euconsent-v2=" + tcf_accept_all, jan15 + 200 * day).status == ConsentStatus::expired);
  }
}

TEST_CASE("CMP cookies grant through their category maps", "[policy]") {
  const auto s = read(onetrust("Mon+Jan+15+2024+10%3A00%3A00", false));
  CHECK(s.status == ConsentStatus::valid);
  CHECK(s.source == ConsentSource::cmp);
  CHECK(s.granted == set({audience}));
  CHECK(s.timestamp == jan15 + 10 * 3600);
  CHECK(read("tarteaucitron=!gtag=true!facebook=true").granted == set({audience, social}));
  CHECK(read("tarteaucitron=!gtag=wait").granted.empty());
  // Cookiebot's implied consent is not a choice: as if absent.
  const auto implied = read(
      "CookieConsent={stamp:%27-1%27%2Cnecessary:true%2Cstatistics:true%2Cmarketing:true%2C"
      "method:%27implied%27}");
  CHECK(implied.status == ConsentStatus::missing);
  CHECK(implied.source == ConsentSource::cmp);
  CHECK(implied.granted.empty());
}

TEST_CASE("several sources: the most restrictive wins unless one is clearly newer", "[policy]") {
  SECTION("within 24 hours: intersection, reported as the most restrictive source") {
    const auto s = read("euconsent-v2=" + tcf_accept_all + "; " + onetrust("Mon+Jan+15+2024+23%3A00%3A00", false));
    CHECK(s.status == ConsentStatus::valid);
    CHECK(s.granted == set({audience}));
    CHECK(s.source == ConsentSource::cmp);
  }
  SECTION("a CMP choice days newer than the TC string wins, even if less restrictive") {
    const auto s = read("euconsent-v2=" + tcf_measurement_only + "; " + onetrust("Sat+Jan+20+2024+10%3A00%3A00", true),
                        jan15 + 6 * day);
    CHECK(s.source == ConsentSource::cmp);
    CHECK(s.granted == set({audience, ads}));
  }
  SECTION("a TC string days newer than the CMP choice wins") {
    const auto s = read(onetrust("Mon+Jan+01+2024+10%3A00%3A00", false) + "; euconsent-v2=" + tcf_accept_all);
    CHECK(s.source == ConsentSource::tcf);
    CHECK(s.granted == set({audience, ads_personalised, ads, social}));
  }
  SECTION("a source without a timestamp can never be out-dated: intersection") {
    const auto s = read("euconsent-v2=" + tcf_accept_all + "; tarteaucitron=!gtag=true!facebook=false");
    CHECK(s.granted == set({audience}));
    CHECK(s.source == ConsentSource::cmp);
  }
  SECTION("a malformed source empties the intersection") {
    const auto s = read("euconsent-v2=" + tcf_accept_all + "; tarteaucitron=!gtag=perhaps");
    CHECK(s.status == ConsentStatus::malformed);
    CHECK(s.source == ConsentSource::cmp);
    CHECK(s.granted.empty());
  }
  SECTION("an expired source loses to a clearly newer valid one") {
    const auto s = read("euconsent-v2=" + tcf_accept_all + "; " + onetrust("Mon+Sep+02+2024+10%3A00%3A00", false),
                        jan15 + 240 * day);
    CHECK(s.status == ConsentStatus::valid);
    CHECK(s.source == ConsentSource::cmp);
    CHECK(s.granted == set({audience}));
  }
  SECTION("a no-choice CMP cookie does not weigh") {
    const auto s = read("CookieConsent=-1; euconsent-v2=" + tcf_accept_all);
    CHECK(s.source == ConsentSource::tcf);
    CHECK(s.granted == set({audience, ads_personalised, ads, social}));
  }
}

TEST_CASE("Sec-GPC: exactly \"1\" narrows, never grants", "[policy]") {
  const std::string header = "eu-consent=advertising-personalised:1,advertising:1,social:1";
  const auto s = read(header, jan15, "1");
  CHECK(s.gpc);
  CHECK(s.granted == set({social}));
  CHECK(s.status == ConsentStatus::valid);
  for (const char* value : {"", "0", "1 ", " 1", "true", "11"}) {
    INFO(value);
    const auto t = read(header, jan15, value);
    CHECK_FALSE(t.gpc);
    CHECK(t.granted == set({ads_personalised, ads, social}));
  }
  const auto none = read("", jan15, "1");
  CHECK(none.gpc);
  CHECK(none.status == ConsentStatus::missing);
  CHECK(none.granted.empty());
}

TEST_CASE("the user's override narrows, never grants", "[policy]") {
  // session-replay: false in the override removes it; audience-measurement: true does not add it.
  const auto s = read("eu-consent=session-replay:1,social:1");
  CHECK(s.granted == set({social}));
  CHECK_FALSE(read("eu-consent=social:1").granted.contains(audience));
}

TEST_CASE("read_consent is deterministic and total on hostile headers", "[policy]") {
  const std::string headers[] = {std::string(70000, ';'),
                                 "eu-consent=" + std::string(10000, '{'),
                                 "euconsent-v2=" + std::string(5000, 'A'),
                                 "CookieConsent=" + std::string(3000, '['),
                                 std::string("eu-consent=a\0:1", 15),
                                 "eu-consent=\xFF\xFE:1"};
  for (const auto& h : headers) {
    const auto a = read(h);
    CHECK(a == read(h));
    CHECK(a.granted.empty());
  }
}

TEST_CASE("explain_consent shows every signal with its reason and agrees with read_consent", "[policy]") {
  const std::string header = "euconsent-v2=" + tcf_policy2 + "; CookieConsent=-1; " +
                             onetrust("Mon+Jan+15+2024+10%3A00%3A00", true) + "; tarteaucitron=!gtag=soon";
  const auto e = explain_consent(config(), ConsentInputs{header, "1", jan15 + day});
  CHECK(e.state == read(header, jan15 + day, "1"));
  CHECK(e.state.status == ConsentStatus::malformed);
  CHECK(e.state.gpc);
  REQUIRE(e.readings.size() == 4);
  CHECK(e.readings[0].cookie == "CookieConsent");
  CHECK(e.readings[0].status == ConsentStatus::missing);
  CHECK(e.readings[0].reason == "no choice recorded");
  CHECK(e.readings[1].cookie == "euconsent-v2");
  CHECK(e.readings[1].reason == "not valid under TCF v2.2 (policy version below 4, or not service-specific)");
  CHECK(e.readings[2].cookie == "OptanonConsent");
  CHECK(e.readings[2].status == ConsentStatus::valid);
  CHECK(e.readings[2].granted == set({audience, ads}));  // before GPC
  CHECK(e.readings[2].timestamp == jan15 + 10 * 3600);
  CHECK(e.readings[3].cookie == "tarteaucitron");
  CHECK(e.readings[3].reason == "status is not true, false or wait");

  const auto expired = explain_consent(config(), ConsentInputs{"eu-consent=ads:1,ts:1000", {}, jan15});
  REQUIRE(expired.readings.size() == 1);
  CHECK(expired.readings[0].status == ConsentStatus::expired);
  CHECK(expired.readings[0].reason == "older than the consent lifetime");
  const auto future = explain_consent(config(), ConsentInputs{"eu-consent=ads:1,ts:1000000", {}, 0});
  CHECK(future.readings[0].reason == "timestamp in the future");
  const auto bad = explain_consent(config(), ConsentInputs{"eu-consent=a:1,a:0", {}, jan15});
  CHECK(bad.readings[0].reason == "duplicate key with different values");
  CHECK(explain_consent(config(), ConsentInputs{"x=1", {}, jan15}).readings.empty());
}

TEST_CASE("more consent cookie names than one pass can read are refused at load", "[policy]") {
  Document doc = make_document();
  for (int i = 0; i < 70; ++i) doc.consent.cookie_names.push_back("alias" + std::to_string(i));
  std::vector<Diagnostic> diagnostics;
  (void)compile_consent(doc, diagnostics);
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0].to_string() ==
        "consent: too many consent cookie names (77 in cookie_names, tcf_cookie_names and cmp; limit 64)");
}

TEST_CASE("a consent cookie is read wherever it sits among many cookies, and only its first time", "[policy]") {
  std::string header;
  for (int i = 0; i < 40; ++i) header += "_c" + std::to_string(i) + "=eu-consent; ";
  const ConsentState none = read(header);
  CHECK(none.status == ConsentStatus::missing);
  const ConsentState granted = read(header + "eu-consent=analytics:true; eu-consent=analytics:false");
  CHECK(granted.status == ConsentStatus::valid);
  CHECK(granted.source == ConsentSource::eu_consent);
  CHECK(read(header + "eu-consent=analytics:true") == granted);
}
