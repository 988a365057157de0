#pragma once
// Reading the cookies of consent-management platforms (issue 5): what the visitor chose, per CMP category
// or vendor, as the CMP wrote it. Mapping categories to our purposes is read_consent()'s job.
//
//   tarteaucitron  `tarteaucitron`    !gtag=true!facebook=false!youtube=wait     ("wait": no choice yet)
//   didomi         `didomi_token`     base64(JSON) {purposes:{enabled,disabled}, vendors:{enabled,disabled},
//                                     created, updated}
//   onetrust       `OptanonConsent`   form-encoded query string, groups=C0001:1,C0002:0,..., datestamp
//   cookiebot      `CookieConsent`    {stamp:'..',necessary:true,preferences:false,...,method:'explicit',
//                                     utc:1705312800000} (a JavaScript literal, usually percent-encoded)
//   axeptio        `axeptio_cookies`  JSON vendor -> bool; "$$"-prefixed keys are metadata ($$date)
//   klaro          `klaro`            JSON service -> bool
//
// Fail closed: a value that does not follow its format is `malformed`; the same key with two different
// choices is `malformed`. A value that records no choice by the visitor (Cookiebot "implied" consent
// outside the EU, OneTrust before any interaction) is `no_choice`: it grants nothing.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace consent::policy {

inline constexpr std::size_t max_cmp_consent_bytes = 4096;  // named limit: larger values are malformed
inline constexpr std::size_t max_cmp_choices = 1024;        // named limit: categories + vendors

enum class CmpFormat : std::uint8_t { tarteaucitron, didomi, onetrust, cookiebot, axeptio, klaro };

// The names used in the YAML `format:` key.
[[nodiscard]] std::optional<CmpFormat> cmp_format_from_name(std::string_view name) noexcept;
[[nodiscard]] std::string_view to_string(CmpFormat format) noexcept;
inline constexpr std::string_view cmp_format_names = "tarteaucitron, didomi, onetrust, cookiebot, axeptio, klaro";

enum class CmpStatus : std::uint8_t { ok, malformed, no_choice };

struct CmpConsent {
  CmpStatus status = CmpStatus::malformed;
  std::string_view reason;                            // static text; empty when ok
  std::vector<std::pair<std::string, bool>> choices;  // category or vendor -> chosen, sorted by key, unique
  std::optional<std::int64_t> timestamp;              // epoch seconds of the choice, when the format has one

  [[nodiscard]] bool ok() const noexcept { return status == CmpStatus::ok; }
  // The choice for `key`, or nullopt when the cookie does not mention it.
  [[nodiscard]] std::optional<bool> find(std::string_view key) const noexcept;
};

// Never throws except std::bad_alloc. `raw` is the cookie value exactly as in the Cookie header.
[[nodiscard]] CmpConsent parse_cmp_consent(CmpFormat format, std::string_view raw);

}  // namespace consent::policy
