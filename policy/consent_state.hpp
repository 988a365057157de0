#pragma once
// The consent in force for one exchange, as read from the visitor's signals. Fail closed: the default
// value grants nothing.
#include <cstdint>
#include <string_view>

#include "policy/purpose.hpp"

namespace consent::policy {

enum class ConsentSource : std::uint8_t { none, eu_consent, tcf, cmp, ledger };

enum class ConsentStatus : std::uint8_t {
  missing,    // no consent signal at all: refusal of every non-exempt purpose
  valid,      // a signal was read; `granted` holds what it grants
  malformed,  // a signal was present but unreadable: refusal, reported as such
  expired,    // the signal's timestamp is older than the configured lifetime: refusal
};

struct ConsentState {
  PurposeSet granted;  // non-exempt purposes granted; exempt ones are implied by decide()
  ConsentStatus status = ConsentStatus::missing;
  ConsentSource source = ConsentSource::none;
  bool gpc = false;            // Sec-GPC: 1 was present and narrowed `granted`
  std::int64_t timestamp = 0;  // epoch seconds of the choice; 0 = unknown
  bool operator==(const ConsentState&) const noexcept = default;
};

[[nodiscard]] constexpr std::string_view to_string(ConsentStatus s) noexcept {
  switch (s) {
    case ConsentStatus::missing:
      return "missing";
    case ConsentStatus::valid:
      return "valid";
    case ConsentStatus::malformed:
      return "malformed";
    case ConsentStatus::expired:
      return "expired";
  }
  return "missing";
}
[[nodiscard]] constexpr std::string_view to_string(ConsentSource s) noexcept {
  switch (s) {
    case ConsentSource::none:
      return "none";
    case ConsentSource::eu_consent:
      return "eu-consent";
    case ConsentSource::tcf:
      return "tcf";
    case ConsentSource::cmp:
      return "cmp";
    case ConsentSource::ledger:
      return "ledger";
  }
  return "none";
}

}  // namespace consent::policy
