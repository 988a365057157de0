#include "policy/tcf.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "policy/eu_consent.hpp"

using namespace consent::policy;

namespace {

nlohmann::json load_vectors() {
  std::ifstream in(std::string(CONSENT_FIXTURES_DIR) + "/consent/tcf_test_vectors.json");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

std::vector<int> flags(std::uint64_t mask, int n) {
  std::vector<int> out;
  for (int i = 1; i <= n; ++i) {
    if ((mask >> (i - 1) & 1U) != 0) out.push_back(i);
  }
  return out;
}

std::vector<int> ids(const TcfVendorSet& set) {
  std::vector<int> out;
  for (const auto id : set.ids()) out.push_back(id);
  return out;
}

// "2020-03-09T15:53:02.400Z" -> deciseconds since the epoch.
std::int64_t deciseconds(const std::string& iso) {
  std::int64_t seconds = 0;
  REQUIRE(parse_timestamp(iso, seconds));
  const auto dot = iso.find('.');
  const int tenths = dot == std::string::npos ? 0 : iso[dot + 1] - '0';
  return seconds * 10 + tenths;
}

std::string letters(const std::array<char, 2>& a) { return std::string(a.begin(), a.end()); }

void check_vendor_set(const TcfVendorSet& got, const nlohmann::json& want) {
  CHECK(got.max_vendor_id == want["maxVendorId"].get<int>());
  CHECK(got.is_range_encoding == (want["encoding"] == "range"));
  CHECK(ids(got) == want["ids"].get<std::vector<int>>());
}

}  // namespace

TEST_CASE("every valid TCF test vector decodes to its listed fields", "[policy]") {
  const auto doc = load_vectors();
  REQUIRE(doc["vectors"].size() >= 16);
  for (const auto& v : doc["vectors"]) {
    const std::string id = v["id"];
    INFO(id);
    const auto r = decode_tc_string(v["tc_string"].get<std::string>());
    REQUIRE(r.ok());
    const auto& e = v["expected"];
    const TcString& tc = r.tc;
    CHECK(tc.version == e["version"].get<int>());
    CHECK(tc.created_deciseconds == deciseconds(e["created"]));
    CHECK(tc.last_updated_deciseconds == deciseconds(e["lastUpdated"]));
    CHECK(tc.cmp_id == e["cmpId"].get<int>());
    CHECK(tc.cmp_version == e["cmpVersion"].get<int>());
    CHECK(tc.consent_screen == e["consentScreen"].get<int>());
    CHECK(letters(tc.consent_language) == e["consentLanguage"].get<std::string>());
    CHECK(tc.vendor_list_version == e["vendorListVersion"].get<int>());
    CHECK(tc.tcf_policy_version == e["tcfPolicyVersion"].get<int>());
    CHECK(tc.is_service_specific == e["isServiceSpecific"].get<bool>());
    CHECK(tc.use_non_standard_texts == e["useNonStandardTexts"].get<bool>());
    CHECK(flags(tc.special_feature_opt_ins, 12) == e["specialFeatureOptIns"].get<std::vector<int>>());
    CHECK(flags(tc.purposes_consent, 24) == e["purposesConsent"].get<std::vector<int>>());
    CHECK(flags(tc.purposes_li_transparency, 24) == e["purposesLITransparency"].get<std::vector<int>>());
    CHECK(tc.purpose_one_treatment == e["purposeOneTreatment"].get<bool>());
    CHECK(letters(tc.publisher_cc) == e["publisherCC"].get<std::string>());
    check_vendor_set(tc.vendor_consents, e["vendorConsents"]);
    check_vendor_set(tc.vendor_legitimate_interests, e["vendorLI"]);
    CHECK(tc.publisher_restrictions.size() == e["numPubRestrictions"].get<std::size_t>());
    CHECK(tc.disclosed_vendors.has_value() == e.contains("disclosedVendors"));
    if (tc.disclosed_vendors && e.contains("disclosedVendors")) {
      CHECK(ids(*tc.disclosed_vendors) == e["disclosedVendors"].get<std::vector<int>>());
    }
    CHECK(tc.allowed_vendors.has_value() == e.contains("allowedVendors_deprecated"));
    if (tc.allowed_vendors && e.contains("allowedVendors_deprecated")) {
      CHECK(ids(*tc.allowed_vendors) == e["allowedVendors_deprecated"].get<std::vector<int>>());
    }
    CHECK(tc.publisher_tc.has_value() == e.contains("publisherTC"));
    if (tc.publisher_tc && e.contains("publisherTC")) {
      const auto& p = e["publisherTC"];
      const auto n = static_cast<int>(tc.publisher_tc->num_custom_purposes);
      CHECK(flags(tc.publisher_tc->purposes_consent, 24) == p["pubPurposesConsent"].get<std::vector<int>>());
      CHECK(flags(tc.publisher_tc->purposes_li_transparency, 24) ==
            p["pubPurposesLITransparency"].get<std::vector<int>>());
      CHECK(n == p["numCustomPurposes"].get<int>());
      CHECK(flags(tc.publisher_tc->custom_purposes_consent, n) == p["customPurposesConsent"].get<std::vector<int>>());
      CHECK(flags(tc.publisher_tc->custom_purposes_li_transparency, n) ==
            p["customPurposesLITransparency"].get<std::vector<int>>());
    }
    CHECK(is_valid_under_tcf_2_2(tc) == v["valid_under_tcf_2_2"].get<bool>());
  }
}

TEST_CASE("every negative TCF test vector is rejected", "[policy]") {
  const auto doc = load_vectors();
  REQUIRE(doc["negative"].size() >= 4);
  for (const auto& v : doc["negative"]) {
    INFO(v["id"].get<std::string>());
    CHECK_FALSE(decode_tc_string(v["tc_string"].get<std::string>()).ok());
  }
}

TEST_CASE("TCF rejections carry the right error", "[policy]") {
  CHECK(decode_tc_string("").error == TcfError::empty);
  CHECK(decode_tc_string("BO2e4qiO2e4qiB9ABADEDS-AAAAxKABgACBiQA").error == TcfError::unsupported_version);
  CHECK(decode_tc_string("COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAA").error == TcfError::truncated);
  CHECK(decode_tc_string("COrEAV4OrXx94ACABBENAHCIAD+AAAAAAACAAxAAAAgAIAwgAgAAAAEAgQAAAAAEAYQAQAAAACAAAABAAA").error ==
        TcfError::bad_base64);
  CHECK(decode_tc_string(std::string(max_tc_string_bytes + 1, 'C')).error == TcfError::too_long);
  CHECK(decode_tc_string("C").error == TcfError::truncated);
  CHECK(decode_tc_string("C\xC3\xA9").error == TcfError::bad_base64);
}

TEST_CASE("TCF segments: empty, repeated, unknown, or too many are rejected", "[policy]") {
  const std::string core = "CP4bJcAP4bJcAEsABBFRBGEgALAAAAAAAAqIAAAAAAAA";
  REQUIRE(decode_tc_string(core + ".IAAo.f_wAAAAAAAA").ok());
  CHECK(decode_tc_string(core + ".").error == TcfError::bad_segment);
  CHECK(decode_tc_string(core + "..IAAo").error == TcfError::bad_segment);
  CHECK(decode_tc_string("." + core).error == TcfError::bad_segment);
  CHECK(decode_tc_string(core + ".IAAo.IAAo").error == TcfError::bad_segment);  // disclosed vendors twice
  CHECK(decode_tc_string(core + "." + core).error == TcfError::bad_segment);    // type 0 = core again
  CHECK(decode_tc_string(core + ".gAAA").error == TcfError::bad_segment);       // type 4 does not exist
  CHECK(decode_tc_string(core + ".IAAo.QAAo.f_wAAAAAAAA.IAAo").error == TcfError::bad_segment);
  CHECK(decode_tc_string(core + ".I").error == TcfError::truncated);  // type read, MaxVendorId cut
  CHECK(decode_tc_string(core + "===").error == TcfError::bad_base64);
  CHECK(decode_tc_string(core + "==").ok());
}

TEST_CASE("TCF truncation anywhere in a valid string is rejected", "[policy]") {
  const auto doc = load_vectors();
  for (const auto& v : doc["vectors"]) {
    const std::string s = v["tc_string"];
    const std::string core = s.substr(0, s.find('.'));
    INFO(v["id"].get<std::string>());
    // The core's fields end at 213 bits + the vendor sections; any cut before 36 characters (216 bits) must
    // fail, since the vendor-consent MaxVendorId alone ends at bit 229.
    for (std::size_t len = 1; len <= 36 && len < core.size(); ++len) {
      const auto r = decode_tc_string(core.substr(0, len));
      CHECK_FALSE(r.ok());
    }
  }
}

TEST_CASE("TCF vendor ranges are checked against MaxVendorId and kept compact", "[policy]") {
  // Built bit by bit from the core of synthetic-reject-all with a hand-written vendor section.
  struct Bits {
    std::string bits;
    void put(std::uint64_t v, int n) {
      for (int i = n - 1; i >= 0; --i) bits.push_back((v >> i & 1U) != 0 ? '1' : '0');
    }
    [[nodiscard]] std::string base64url() const {
      static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      std::string b = bits;
      while (b.size() % 6 != 0) b.push_back('0');
      std::string out;
      for (std::size_t i = 0; i < b.size(); i += 6) out.push_back(alphabet[std::stoi(b.substr(i, 6), nullptr, 2)]);
      return out;
    }
  };
  const auto core_prefix = [](Bits& b) {
    b.put(2, 6);
    b.put(17052768000, 36);
    b.put(17052768000, 36);
    b.put(300, 12);
    b.put(1, 12);
    b.put(1, 6);
    b.put(5, 6);   // F
    b.put(17, 6);  // R
    b.put(70, 12);
    b.put(4, 6);
    b.put(1, 1);
    b.put(0, 1);
    b.put(0, 12);
    b.put(0b101U << 21, 24);  // purposes 1 and 3
    b.put(0, 24);
    b.put(0, 1);
    b.put(5, 6);
    b.put(17, 6);
  };
  SECTION("a range ending above MaxVendorId is rejected") {
    Bits b;
    core_prefix(b);
    b.put(10, 16);  // MaxVendorId
    b.put(1, 1);    // range
    b.put(1, 12);
    b.put(1, 1);
    b.put(5, 16);
    b.put(11, 16);
    b.put(0, 16);
    b.put(0, 1);
    b.put(0, 12);
    const auto r = decode_tc_string(b.base64url());
    CHECK(r.error == TcfError::bad_field);
  }
  SECTION("overlapping ranges up to 65535 are merged, not expanded") {
    Bits b;
    core_prefix(b);
    b.put(65535, 16);
    b.put(1, 1);
    b.put(300, 12);
    for (int i = 0; i < 300; ++i) {
      b.put(1, 1);
      b.put(static_cast<std::uint64_t>(1 + i), 16);
      b.put(65535, 16);
    }
    b.put(0, 16);
    b.put(0, 1);
    b.put(0, 12);
    const auto r = decode_tc_string(b.base64url());
    REQUIRE(r.ok());
    CHECK(r.tc.has_purpose_consent(1));
    CHECK_FALSE(r.tc.has_purpose_consent(2));
    CHECK(r.tc.has_purpose_consent(3));
    REQUIRE(r.tc.vendor_consents.ranges.size() == 1);
    CHECK(r.tc.vendor_consents.contains(1));
    CHECK(r.tc.vendor_consents.contains(65535));
    CHECK_FALSE(r.tc.vendor_consents.contains(0));
  }
  SECTION("vendor id 0 and reversed ranges are rejected") {
    for (const auto& [start, end] : {std::pair{0, 3}, std::pair{5, 4}}) {
      Bits b;
      core_prefix(b);
      b.put(10, 16);
      b.put(1, 1);
      b.put(1, 12);
      b.put(1, 1);
      b.put(static_cast<std::uint64_t>(start), 16);
      b.put(static_cast<std::uint64_t>(end), 16);
      b.put(0, 16);
      b.put(0, 1);
      b.put(0, 12);
      CHECK(decode_tc_string(b.base64url()).error == TcfError::bad_field);
    }
  }
  SECTION("publisher restrictions are decoded and an undefined type is rejected") {
    for (const int type : {1, 3}) {
      Bits b;
      core_prefix(b);
      b.put(0, 16);
      b.put(0, 1);
      b.put(0, 16);
      b.put(0, 1);
      b.put(1, 12);  // one restriction
      b.put(2, 6);   // purpose 2
      b.put(static_cast<std::uint64_t>(type), 2);
      b.put(1, 12);
      b.put(1, 1);
      b.put(8, 16);
      b.put(9, 16);
      const auto r = decode_tc_string(b.base64url());
      if (type == 3) {
        CHECK(r.error == TcfError::bad_field);
      } else {
        REQUIRE(r.ok());
        REQUIRE(r.tc.publisher_restrictions.size() == 1);
        CHECK(r.tc.publisher_restrictions[0].purpose_id == 2);
        CHECK(r.tc.publisher_restrictions[0].restriction_type == 1);
        CHECK(r.tc.publisher_restrictions[0].vendor_ranges ==
              std::vector<std::pair<std::uint16_t, std::uint16_t>>{{8, 9}});
      }
    }
  }
  SECTION("a letter code beyond Z is rejected") {
    Bits b;
    b.put(2, 6);
    b.put(1, 36);
    b.put(1, 36);
    b.put(1, 12);
    b.put(1, 12);
    b.put(1, 6);
    b.put(26, 6);
    b.put(0, 6);
    for (int i = 0; i < 200; ++i) b.put(0, 1);
    CHECK(decode_tc_string(b.base64url()).error == TcfError::bad_field);
  }
}

TEST_CASE("TCF decoding is deterministic on hostile inputs", "[policy]") {
  const std::string junk[] = {"....",
                              "=",
                              "C=",
                              "CAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.",
                              std::string(4096, '_'),
                              std::string("CP4b\0JcAP", 9),
                              "%43P4b"};
  for (const auto& s : junk) {
    const auto a = decode_tc_string(s);
    const auto b = decode_tc_string(s);
    CHECK(a.error == b.error);
  }
  CHECK_FALSE(decode_tc_string(std::string(4096, '_')).ok());
}
