#include "policy/tcf.hpp"

#include <algorithm>

#include "policy/detail/base64.hpp"

namespace consent::policy {
namespace {

// Reads big-endian bit fields straight from base64url characters (6 bits each), so that the number of
// bits available is exactly 6 x characters and a field running past it is detected, with no decoding
// buffer. Characters are validated before a reader is made.
class BitReader {
 public:
  explicit BitReader(std::string_view s) noexcept : s_(s), total_(s.size() * 6) {}

  bool read(unsigned n, std::uint64_t& v) noexcept {
    v = 0;
    if (total_ - pos_ < n) {
      pos_ = total_;
      return false;
    }
    for (unsigned i = 0; i < n; ++i, ++pos_) {
      const auto sextet = static_cast<unsigned>(detail::base64url_value(s_[pos_ / 6]));
      v = (v << 1) | ((sextet >> (5 - pos_ % 6)) & 1U);
    }
    return true;
  }
  template <class T>
  bool read_as(unsigned n, T& out) noexcept {
    std::uint64_t v = 0;
    if (!read(n, v)) return false;
    out = static_cast<T>(v);
    return true;
  }
  bool read_bool(bool& out) noexcept {
    std::uint64_t v = 0;
    if (!read(1, v)) return false;
    out = v != 0;
    return true;
  }
  // A bitfield of `n` flags, first flag = id 1, into bit (id-1) of the result.
  template <class T>
  bool read_flags(unsigned n, T& out) noexcept {
    out = 0;
    for (unsigned i = 0; i < n; ++i) {
      std::uint64_t bit = 0;
      if (!read(1, bit)) return false;
      if (bit != 0) out = static_cast<T>(out | (T{1} << i));
    }
    return true;
  }

 private:
  std::string_view s_;
  std::size_t total_;
  std::size_t pos_ = 0;
};

struct Failure {
  TcfError error = TcfError::none;
  std::string_view reason;
  [[nodiscard]] bool failed() const noexcept { return error != TcfError::none; }
};

constexpr Failure truncated{TcfError::truncated, "field runs past the end of its segment"};

Failure read_letters(BitReader& r, std::array<char, 2>& out) noexcept {
  for (char& c : out) {
    unsigned v = 0;
    if (!r.read_as(6, v)) return truncated;
    if (v > 25) return {TcfError::bad_field, "letter code outside A-Z"};
    c = static_cast<char>('A' + v);
  }
  return {};
}

using Ranges = std::vector<std::pair<std::uint16_t, std::uint16_t>>;

void normalise(Ranges& ranges) {
  std::sort(ranges.begin(), ranges.end());
  Ranges merged;
  merged.reserve(ranges.size());
  for (const auto& r : ranges) {
    if (!merged.empty() && static_cast<unsigned>(r.first) <= static_cast<unsigned>(merged.back().second) + 1U) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  ranges = std::move(merged);
}

// NumEntries, then entries of IsARange + StartOrOnlyVendorId [+ EndVendorId]. max_id = 0: no upper bound.
Failure read_range_entries(BitReader& r, std::uint16_t max_id, Ranges& out) {
  unsigned entries = 0;
  if (!r.read_as(12, entries)) return truncated;
  out.reserve(entries);
  for (unsigned i = 0; i < entries; ++i) {
    bool is_range = false;
    std::uint16_t start = 0;
    std::uint16_t end = 0;
    if (!r.read_bool(is_range) || !r.read_as(16, start)) return truncated;
    end = start;
    if (is_range && !r.read_as(16, end)) return truncated;
    if (start == 0) return {TcfError::bad_field, "vendor id 0"};
    if (end < start) return {TcfError::bad_field, "vendor range ends before it starts"};
    if (max_id != 0 && end > max_id) return {TcfError::bad_field, "vendor id above MaxVendorId"};
    out.emplace_back(start, end);
  }
  return {};
}

Failure read_vendor_set(BitReader& r, TcfVendorSet& out) {
  if (!r.read_as(16, out.max_vendor_id) || !r.read_bool(out.is_range_encoding)) return truncated;
  if (out.is_range_encoding) {
    if (out.max_vendor_id == 0) return {TcfError::bad_field, "range encoding with MaxVendorId 0"};
    if (auto f = read_range_entries(r, out.max_vendor_id, out.ranges); f.failed()) return f;
    normalise(out.ranges);
    return {};
  }
  for (unsigned id = 1; id <= out.max_vendor_id; ++id) {
    bool set = false;
    if (!r.read_bool(set)) return truncated;
    if (!set) continue;
    const auto v = static_cast<std::uint16_t>(id);
    if (!out.ranges.empty() && out.ranges.back().second + 1U == id) {
      out.ranges.back().second = v;
    } else {
      out.ranges.emplace_back(v, v);
    }
  }
  return {};
}

Failure read_core(BitReader& r, TcString& tc) {
  if (!r.read_as(6, tc.version)) return truncated;
  if (tc.version != 2) return {TcfError::unsupported_version, "version is not 2"};
  if (!r.read_as(36, tc.created_deciseconds) || !r.read_as(36, tc.last_updated_deciseconds) ||
      !r.read_as(12, tc.cmp_id) || !r.read_as(12, tc.cmp_version) || !r.read_as(6, tc.consent_screen)) {
    return truncated;
  }
  if (auto f = read_letters(r, tc.consent_language); f.failed()) return f;
  if (!r.read_as(12, tc.vendor_list_version) || !r.read_as(6, tc.tcf_policy_version) ||
      !r.read_bool(tc.is_service_specific) || !r.read_bool(tc.use_non_standard_texts) ||
      !r.read_flags(12, tc.special_feature_opt_ins) || !r.read_flags(24, tc.purposes_consent) ||
      !r.read_flags(24, tc.purposes_li_transparency) || !r.read_bool(tc.purpose_one_treatment)) {
    return truncated;
  }
  if (auto f = read_letters(r, tc.publisher_cc); f.failed()) return f;
  if (auto f = read_vendor_set(r, tc.vendor_consents); f.failed()) return f;
  if (auto f = read_vendor_set(r, tc.vendor_legitimate_interests); f.failed()) return f;
  unsigned restrictions = 0;
  if (!r.read_as(12, restrictions)) return truncated;
  tc.publisher_restrictions.reserve(restrictions);
  for (unsigned i = 0; i < restrictions; ++i) {
    TcfPublisherRestriction pr;
    if (!r.read_as(6, pr.purpose_id) || !r.read_as(2, pr.restriction_type)) return truncated;
    if (pr.purpose_id == 0) return {TcfError::bad_field, "publisher restriction for purpose 0"};
    if (pr.restriction_type > 2) return {TcfError::bad_field, "undefined publisher restriction type"};
    if (auto f = read_range_entries(r, 0, pr.vendor_ranges); f.failed()) return f;
    tc.publisher_restrictions.push_back(std::move(pr));
  }
  return {};
}

Failure read_publisher_tc(BitReader& r, TcfPublisherTc& out) {
  if (!r.read_flags(24, out.purposes_consent) || !r.read_flags(24, out.purposes_li_transparency) ||
      !r.read_as(6, out.num_custom_purposes) || !r.read_flags(out.num_custom_purposes, out.custom_purposes_consent) ||
      !r.read_flags(out.num_custom_purposes, out.custom_purposes_li_transparency)) {
    return truncated;
  }
  return {};
}

}  // namespace

bool TcfVendorSet::contains(std::uint16_t vendor_id) const noexcept {
  const auto it = std::upper_bound(ranges.begin(), ranges.end(), vendor_id,
                                   [](std::uint16_t id, const auto& r) { return id < r.first; });
  return it != ranges.begin() && vendor_id <= std::prev(it)->second;
}

std::vector<std::uint16_t> TcfVendorSet::ids() const {
  std::vector<std::uint16_t> out;
  for (const auto& [first, last] : ranges) {
    for (unsigned id = first; id <= last; ++id) out.push_back(static_cast<std::uint16_t>(id));
  }
  return out;
}

TcfResult decode_tc_string(std::string_view text) {
  TcfResult result;
  const auto fail = [&result](TcfError e, std::string_view why) {
    result = TcfResult{};
    result.error = e;
    result.reason = why;
    return result;
  };
  if (text.empty()) return fail(TcfError::empty, "empty");
  if (text.size() > max_tc_string_bytes) return fail(TcfError::too_long, "longer than max_tc_string_bytes");

  // Core + at most one of each optional segment type (1, 2, 3).
  constexpr std::size_t max_segments = 4;
  std::array<std::string_view, max_segments> segments{};
  std::size_t count = 0;
  std::size_t pos = 0;
  while (true) {
    std::size_t dot = text.find('.', pos);
    if (dot == std::string_view::npos) dot = text.size();
    if (count == max_segments) return fail(TcfError::bad_segment, "too many segments");
    std::string_view seg = text.substr(pos, dot - pos);
    std::size_t padding = 0;
    while (!seg.empty() && seg.back() == '=') {
      seg.remove_suffix(1);
      ++padding;
    }
    if (padding > 2) return fail(TcfError::bad_base64, "misplaced '='");
    if (seg.empty()) return fail(TcfError::bad_segment, "empty segment");
    for (const char c : seg) {
      if (detail::base64url_value(c) < 0) return fail(TcfError::bad_base64, "character outside base64url");
    }
    segments[count++] = seg;
    if (dot == text.size()) break;
    pos = dot + 1;
  }

  BitReader core(segments[0]);
  if (auto f = read_core(core, result.tc); f.failed()) return fail(f.error, f.reason);
  for (std::size_t i = 1; i < count; ++i) {
    BitReader r(segments[i]);
    unsigned type = 0;
    if (!r.read_as(3, type)) return fail(TcfError::truncated, truncated.reason);
    Failure f;
    switch (type) {
      case 1:
        if (result.tc.disclosed_vendors) return fail(TcfError::bad_segment, "duplicate segment");
        f = read_vendor_set(r, result.tc.disclosed_vendors.emplace());
        break;
      case 2:
        if (result.tc.allowed_vendors) return fail(TcfError::bad_segment, "duplicate segment");
        f = read_vendor_set(r, result.tc.allowed_vendors.emplace());
        break;
      case 3:
        if (result.tc.publisher_tc) return fail(TcfError::bad_segment, "duplicate segment");
        f = read_publisher_tc(r, result.tc.publisher_tc.emplace());
        break;
      default:
        return fail(TcfError::bad_segment, type == 0 ? "core segment repeated" : "unknown segment type");
    }
    if (f.failed()) return fail(f.error, f.reason);
  }
  result.error = TcfError::none;
  result.reason = {};
  return result;
}

}  // namespace consent::policy
