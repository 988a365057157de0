// Fuzzes the TC string decoder. Beyond "no crash, no sanitizer report": determinism, a reason on every
// rejection, and decoded values inside their field widths and declared bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/tcf.hpp"

namespace {

using namespace consent::policy;

void require(bool condition) {
  if (!condition) std::abort();
}

void check_set(const TcfVendorSet& set) {
  unsigned previous_end = 0;
  for (const auto& [first, last] : set.ranges) {
    require(first >= 1 && first <= last && last <= set.max_vendor_id);
    require(previous_end == 0 || first > previous_end + 1);  // sorted, disjoint, merged
    previous_end = last;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's byte API
  const TcfResult a = decode_tc_string(input);
  const TcfResult b = decode_tc_string(input);
  require(a.error == b.error);
  require(a.ok() == a.reason.empty());
  if (!a.ok()) return 0;
  const TcString& tc = a.tc;
  require(tc.version == 2);
  require(tc.created_deciseconds >= 0 && tc.created_deciseconds < (std::int64_t{1} << 36));
  require(tc.special_feature_opt_ins < (1U << 12));
  require(tc.purposes_consent < (1U << 24) && tc.purposes_li_transparency < (1U << 24));
  for (const char c : tc.consent_language) require(c >= 'A' && c <= 'Z');
  for (const char c : tc.publisher_cc) require(c >= 'A' && c <= 'Z');
  check_set(tc.vendor_consents);
  check_set(tc.vendor_legitimate_interests);
  if (tc.disclosed_vendors) check_set(*tc.disclosed_vendors);
  if (tc.allowed_vendors) check_set(*tc.allowed_vendors);
  for (const auto& r : tc.publisher_restrictions) require(r.purpose_id >= 1 && r.restriction_type <= 2);
  if (tc.publisher_tc) require(tc.publisher_tc->num_custom_purposes < 64);
  require(a.tc.vendor_consents.ranges == b.tc.vendor_consents.ranges);
  return 0;
}
