#pragma once
// Decoding IAB TCF v2 TC strings (the `euconsent-v2` / `eupubconsent-v2` cookies), per "IAB Tech Lab -
// Consent string and vendor list formats v2" (TCF v2.2): the core segment and the optional segments
// (DisclosedVendors, AllowedVendors, PublisherTC), each base64url without padding, joined with '.'.
//
// decode_tc_string() checks the encoding (version 2, every field inside the string, ranges inside
// MaxVendorId, no duplicate or unknown segment, letters A-Z in language/country codes, restriction types
// 0..2). is_valid_under_tcf_2_2() adds the policy rules that make a decodable string usable today
// (TcfPolicyVersion >= 4, IsServiceSpecific = 1); read_consent() requires both.
//
// Vendor sets are kept as merged, sorted ranges so that a hostile range encoding (4095 entries of
// 1..65535) costs memory proportional to the input, not to the ids it names.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace consent::policy {

inline constexpr std::size_t max_tc_string_bytes = 4096;  // named limit: a cookie cannot be larger anyway

struct TcfVendorSet {
  std::uint16_t max_vendor_id = 0;
  bool is_range_encoding = false;
  std::vector<std::pair<std::uint16_t, std::uint16_t>> ranges;  // inclusive, sorted, disjoint, non-adjacent

  [[nodiscard]] bool contains(std::uint16_t vendor_id) const noexcept;
  [[nodiscard]] std::vector<std::uint16_t> ids() const;  // expanded; at most 65535 entries
};

struct TcfPublisherRestriction {
  std::uint8_t purpose_id = 0;        // 1..24
  std::uint8_t restriction_type = 0;  // 0 not allowed, 1 require consent, 2 require legitimate interest
  std::vector<std::pair<std::uint16_t, std::uint16_t>> vendor_ranges;  // as encoded (inclusive)
};

struct TcfPublisherTc {
  std::uint32_t purposes_consent = 0;  // bit (n-1) for purpose n, n = 1..24
  std::uint32_t purposes_li_transparency = 0;
  std::uint8_t num_custom_purposes = 0;       // 0..63
  std::uint64_t custom_purposes_consent = 0;  // bit (n-1) for custom purpose n
  std::uint64_t custom_purposes_li_transparency = 0;
};

struct TcString {
  std::uint8_t version = 0;
  std::int64_t created_deciseconds = 0;  // since the epoch, as encoded
  std::int64_t last_updated_deciseconds = 0;
  std::uint16_t cmp_id = 0;
  std::uint16_t cmp_version = 0;
  std::uint8_t consent_screen = 0;
  std::array<char, 2> consent_language{};  // "EN"
  std::uint16_t vendor_list_version = 0;
  std::uint8_t tcf_policy_version = 0;
  bool is_service_specific = false;
  bool use_non_standard_texts = false;
  std::uint16_t special_feature_opt_ins = 0;   // bit (n-1) for special feature n, n = 1..12
  std::uint32_t purposes_consent = 0;          // bit (n-1) for purpose n, n = 1..24
  std::uint32_t purposes_li_transparency = 0;  // same
  bool purpose_one_treatment = false;
  std::array<char, 2> publisher_cc{};  // "FR"
  TcfVendorSet vendor_consents;
  TcfVendorSet vendor_legitimate_interests;
  std::vector<TcfPublisherRestriction> publisher_restrictions;
  std::optional<TcfVendorSet> disclosed_vendors;  // segment type 1
  std::optional<TcfVendorSet> allowed_vendors;    // segment type 2, deprecated in 2.2 but still decoded
  std::optional<TcfPublisherTc> publisher_tc;     // segment type 3

  [[nodiscard]] bool has_purpose_consent(unsigned purpose) const noexcept {
    return purpose >= 1 && purpose <= 24 && (purposes_consent >> (purpose - 1) & 1U) != 0;
  }
  [[nodiscard]] bool has_special_feature(unsigned feature) const noexcept {
    return feature >= 1 && feature <= 12 && (special_feature_opt_ins >> (feature - 1) & 1U) != 0;
  }
};

enum class TcfError : std::uint8_t {
  none,
  empty,
  too_long,
  bad_base64,           // a character outside base64url, or misplaced '='
  unsupported_version,  // Version field is not 2 (a TCF v1 'B...' string, for instance)
  truncated,            // a field runs past the end of its segment
  bad_field,            // a value outside its domain (letter > Z, range end > MaxVendorId, ...)
  bad_segment,          // empty, duplicate or unknown segment type
};

struct TcfResult {
  TcfError error = TcfError::empty;
  std::string_view reason;  // static text; empty when ok
  TcString tc;              // meaningful only when ok()
  [[nodiscard]] bool ok() const noexcept { return error == TcfError::none; }
};

// Never throws except std::bad_alloc. Trailing '=' padding on a segment is accepted (iabtcf-java does;
// some CMPs write it) and ignored; standard-base64 '+' and '/' are refused.
[[nodiscard]] TcfResult decode_tc_string(std::string_view text);

// The TCF v2.2 policy rules for using a decoded string: TcfPolicyVersion >= 4 (strings made under older
// policies are invalid since 2023-09-30) and IsServiceSpecific = 1 (global consent was retired).
[[nodiscard]] constexpr bool is_valid_under_tcf_2_2(const TcString& tc) noexcept {
  return tc.version == 2 && tc.tcf_policy_version >= 4 && tc.is_service_specific;
}

[[nodiscard]] constexpr std::string_view to_string(TcfError e) noexcept {
  switch (e) {
    case TcfError::none:
      return "none";
    case TcfError::empty:
      return "empty";
    case TcfError::too_long:
      return "too_long";
    case TcfError::bad_base64:
      return "bad_base64";
    case TcfError::unsupported_version:
      return "unsupported_version";
    case TcfError::truncated:
      return "truncated";
    case TcfError::bad_field:
      return "bad_field";
    case TcfError::bad_segment:
      return "bad_segment";
  }
  return "none";
}

}  // namespace consent::policy
