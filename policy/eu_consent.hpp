#pragma once
// Parsing the `eu-consent` cookie value (issue 2): the per-purpose choice a site (or the user) records.
//
// Accepted forms, all carrying purpose -> boolean plus optional meta keys `ts`/`iat` (epoch seconds or
// ISO-8601) and `v` (policy version):
//   JSON object          {"audience-measurement":true,"advertising":false,"ts":1714557600,"v":"3"}
//   JSON envelope        {"v":1,"ts":"2024-01-15T10:00:00Z","purposes":{"audience-measurement":true}}
//   compact              audience-measurement:true,advertising:0   ('=' for ':', '|' for ',')
// each raw, percent-encoded, or (JSON only) base64 / base64url, padded or not.
//
// Fail closed: anything ambiguous is `malformed` with a short reason (duplicate key with different values,
// a purpose value that is not a boolean, nested objects other than the envelope, trailing characters,
// invalid UTF-8, more than max_eu_consent_bytes or max_eu_consent_entries). Unknown purposes are not an
// error here: the caller ignores keys it does not know.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace consent::policy {

inline constexpr std::size_t max_eu_consent_bytes = 4096;  // named limit: larger values are malformed
inline constexpr std::size_t max_eu_consent_entries = 64;  // named limit: purposes + meta keys

enum class EuConsentStatus : std::uint8_t { ok, malformed };

struct EuConsent {
  EuConsentStatus status = EuConsentStatus::malformed;
  std::string_view reason;                             // static text; empty when ok
  std::vector<std::pair<std::string, bool>> purposes;  // keys as written, in order, each key once
  std::optional<std::int64_t> timestamp;               // epoch seconds from `ts` or `iat`
  std::optional<std::string> version;                  // `v`, as written (numbers as their digits)

  [[nodiscard]] bool ok() const noexcept { return status == EuConsentStatus::ok; }
};

// Never throws except std::bad_alloc.
[[nodiscard]] EuConsent parse_eu_consent(std::string_view raw);

// Epoch seconds from "1714557600" (digits, optional ".fraction" dropped) or ISO-8601 date-time
// "2026-05-01T10:00:00Z", "2026-05-01T12:00:00+02:00", "...+0200", "2026-05-01T10:00:00.123Z"
// ('t'/'z' and a space for 'T' accepted). False on anything else or an impossible date.
[[nodiscard]] bool parse_timestamp(std::string_view text, std::int64_t& epoch_seconds) noexcept;

namespace detail {
// RFC 3986 percent-decoding of a cookie value ('+' stays '+': cookies are not form-encoded). False on a
// '%' not followed by two hex digits.
[[nodiscard]] bool percent_decode(std::string_view in, std::string& out);
// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
[[nodiscard]] constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
}  // namespace detail

}  // namespace consent::policy
