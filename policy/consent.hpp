#pragma once
// Reading the consent in force from a request's signals: eu-consent (and aliases), IAB TCF v2.2
// (euconsent-v2, eupubconsent-v2), CMP cookies, Sec-GPC, and the user's standing override.
// Fail closed: anything unreadable grants nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/cmp_consent.hpp"
#include "policy/consent_state.hpp"
#include "policy/diagnostic.hpp"
#include "policy/document.hpp"
#include "policy/purpose.hpp"

namespace consent::policy {

struct ConsentInputs {
  std::string_view cookie_header;  // the request's Cookie header(s), joined with "; "; may be empty
  std::string_view sec_gpc;        // raw Sec-GPC value; empty when absent. Only exactly "1" counts.
  std::int64_t now = 0;            // epoch seconds
};

// Compiled from a Document by compile_consent(). Purpose indexes are the positions in Document::purposes.
struct ConsentConfig {
  std::vector<std::string> cookie_names;  // eu-consent and its aliases
  std::vector<std::string> tcf_cookie_names;
  std::int64_t lifetime_seconds = 0;
  std::vector<std::pair<std::string, PurposeIndex>> keys;  // purpose id or alias -> index, sorted by key
  PurposeSet needs_consent;                                // purposes whose exemption is not `always`
  struct TcfRule {
    PurposeIndex purpose = no_purpose;
    std::uint32_t purposes_mask = 0;          // bit (n-1) for TCF purpose n
    std::uint32_t special_features_mask = 0;  // bit (n-1) for special feature n
  };
  std::vector<TcfRule> tcf;
  PurposeSet gpc_refuses;
  PurposeSet override_refuses;  // the user said no: always removed
  struct Cmp {                  // issue 5
    std::string cookie;
    std::string format;
    std::vector<std::pair<std::string, PurposeIndex>> categories;  // sorted by key
    CmpFormat format_id = CmpFormat::tarteaucitron;                // `format`, resolved once at load
  };
  std::vector<Cmp> cmp;
  // cookie_names, then tcf_cookie_names, then each cmp cookie: read_consent finds them all in one pass
  // over the Cookie header. At most max_found_cookie_names (a load-time error beyond).
  std::vector<std::string> signal_names;
};

// Checks the consent section of `doc` (unknown purposes, TCF purpose numbers out of range...) and
// appends one Diagnostic per problem.
[[nodiscard]] ConsentConfig compile_consent(const Document& doc, std::vector<Diagnostic>& diagnostics);

// A choice whose timestamp is more than this far from another's is "clearly newer" and wins over it;
// otherwise the most restrictive reading (intersection) wins. Also the tolerated clock skew: a timestamp
// further than this in the future of `now` makes its signal malformed.
inline constexpr std::int64_t clearly_newer_seconds = 24 * 3600;

// Never throws, never allocates more than a bounded amount (cookie values are capped), and does not
// allocate at all when no consent cookie is present.
//
// Order: the eu-consent cookie (or an alias) decides alone when present; otherwise every TCF cookie and
// every configured CMP cookie present is read, and their readings combine: the newest valid one wins if it
// is clearly newer than each other one, else the intersection wins (a malformed or expired reading grants
// nothing, so it empties the intersection). A CMP cookie that records no choice counts as absent.
// `source` names the reading used (for an intersection, the most restrictive one). Sec-GPC exactly "1"
// then removes gpc_refuses (and sets `gpc`), and override_refuses is always removed: both only narrow.
// A timestamp older than lifetime_seconds (0 = no limit) before `in.now` is `expired`; `in.now` must be
// the real time: with 0, every dated signal lies in the future and is malformed.
[[nodiscard]] ConsentState read_consent(const ConsentConfig& config, const ConsentInputs& in) noexcept;

// One consent signal as read, for `consentgate explain` and debug logs (never the cookie value itself).
struct ConsentReading {
  ConsentSource source = ConsentSource::none;
  std::string_view cookie;  // the cookie's name; points into the ConsentConfig
  ConsentStatus status = ConsentStatus::missing;
  std::string_view reason;  // static text: why it is malformed/expired/no choice; empty when valid
  PurposeSet granted;       // what this signal alone grants, before Sec-GPC and the override
  std::optional<std::int64_t> timestamp;
};

struct ConsentExplanation {
  ConsentState state;                    // exactly what read_consent() returns for the same inputs
  std::vector<ConsentReading> readings;  // every signal present, in the order they were read
};

// read_consent() with its working shown. Allocates; not for the request path. Throws only std::bad_alloc.
[[nodiscard]] ConsentExplanation explain_consent(const ConsentConfig& config, const ConsentInputs& in);

}  // namespace consent::policy
