#pragma once
// The words of the decision log (schema: proxy/decision_log.hpp), shared by its writer (the proxy) and its
// reader (`consentgate report`, report/). Header-only and std-only on purpose: report/ includes it without
// linking the proxy, so both sides spell every action, violation kind and log-only reason code from this
// one list, and a word added here is known to both at compile time.
//
// The names are stable once released (STYLE section 9): a new meaning gets a new name.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace consent::proxy {

// What was done (enforce) or would have been done (report-only: the would_* values).
enum class LogAction : std::uint8_t {
  allow,
  block,
  strip_cookie,
  drop_set_cookie,
  cap_set_cookie,
  would_block,
  would_strip_cookie,
  would_drop_set_cookie,
  would_cap_set_cookie,
};
inline constexpr std::size_t log_action_count = 9;

namespace detail {
inline constexpr std::array<std::string_view, log_action_count> log_action_names = {
    "allow",
    "block",
    "strip_cookie",
    "drop_set_cookie",
    "cap_set_cookie",
    "would_block",
    "would_strip_cookie",
    "would_drop_set_cookie",
    "would_cap_set_cookie",
};
}  // namespace detail

[[nodiscard]] constexpr std::string_view to_string(LogAction a) noexcept {
  const auto i = static_cast<std::size_t>(a);
  return i < log_action_count ? detail::log_action_names[i] : detail::log_action_names[0];
}

[[nodiscard]] constexpr std::optional<LogAction> parse_log_action(std::string_view s) noexcept {
  for (std::size_t i = 0; i < log_action_count; ++i) {
    if (detail::log_action_names[i] == s) return static_cast<LogAction>(i);
  }
  return std::nullopt;
}

// The report-only twin of an enforcing action (allow and would_* stay as they are).
[[nodiscard]] constexpr LogAction report_only(LogAction a) noexcept {
  switch (a) {
    case LogAction::block:
      return LogAction::would_block;
    case LogAction::strip_cookie:
      return LogAction::would_strip_cookie;
    case LogAction::drop_set_cookie:
      return LogAction::would_drop_set_cookie;
    case LogAction::cap_set_cookie:
      return LogAction::would_cap_set_cookie;
    default:
      return a;
  }
}

// The enforcing twin of a would_* action (enforcing actions and allow map to themselves).
[[nodiscard]] constexpr LogAction enforcing(LogAction a) noexcept {
  switch (a) {
    case LogAction::would_block:
      return LogAction::block;
    case LogAction::would_strip_cookie:
      return LogAction::strip_cookie;
    case LogAction::would_drop_set_cookie:
      return LogAction::drop_set_cookie;
    case LogAction::would_cap_set_cookie:
      return LogAction::cap_set_cookie;
    default:
      return a;
  }
}

[[nodiscard]] constexpr bool is_would(LogAction a) noexcept { return enforcing(a) != a; }

// The consent violation a logged decision is about (issue 7, "violations worth naming separately"): the
// proxy writes it as "violation" on every block / strip / drop / cap line, in both modes; the action says
// whether it was prevented (enforce) or happened (report-only, would_*). docs/report.md tells how
// `consentgate report` counts them.
enum class ViolationKind : std::uint8_t {
  tracker_before_consent,     // a tracker request while no consent was recorded for the site
  set_cookie_before_consent,  // a Set-Cookie of a purpose without consent
  withdrawn_cookie_sent,      // a cookie of a purpose this client had granted on this site, then withdrew
  audience_cookie_too_long,   // an exempt audience-measurement cookie living longer than its cap (13 months)
  consent_cookie_too_long,    // a consent cookie living longer than its cap (6 months)
  cname_cloaked_tracker,      // a tracker reached through a first-party name: a subdomain of the site, or a
                              // CNAME to a tracker (reason cname_cloaked)
  tracker_without_consent,    // a tracker request whose purpose the consent in force refuses
  cookie_without_consent,     // a cookie of a purpose never granted
};
inline constexpr std::size_t violation_kind_count = 8;

namespace detail {
inline constexpr std::array<std::string_view, violation_kind_count> violation_kind_names = {
    "tracker_before_consent",  "set_cookie_before_consent", "withdrawn_cookie_sent",   "audience_cookie_too_long",
    "consent_cookie_too_long", "cname_cloaked_tracker",     "tracker_without_consent", "cookie_without_consent",
};
}  // namespace detail

[[nodiscard]] constexpr std::string_view to_string(ViolationKind k) noexcept {
  const auto i = static_cast<std::size_t>(k);
  return i < violation_kind_count ? detail::violation_kind_names[i] : detail::violation_kind_names[0];
}

[[nodiscard]] constexpr std::optional<ViolationKind> parse_violation_kind(std::string_view s) noexcept {
  for (std::size_t i = 0; i < violation_kind_count; ++i) {
    if (detail::violation_kind_names[i] == s) return static_cast<ViolationKind>(i);
  }
  return std::nullopt;
}

// Reason codes that only the proxy gives (policy's live in policy/decision.hpp).
namespace log_reason {
// The request's own name is not a tracker, but its DNS CNAME chain leads to one (issue 5, CNAME cloaking):
// the exchange was judged as that tracker (proxy/dns_cname.hpp, judge_cname_target()).
inline constexpr std::string_view cname_cloaked = "cname_cloaked";
}  // namespace log_reason

// Every name is distinct and snake_case: a typo here would make the reader drop or misfile lines.
namespace detail {
template <std::size_t N>
constexpr bool all_distinct_snake_case(const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i].empty()) return false;
    for (const char c : names[i]) {
      if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
    }
    for (std::size_t j = i + 1; j < N; ++j) {
      if (names[i] == names[j]) return false;
    }
  }
  return true;
}
static_assert(all_distinct_snake_case(log_action_names));
static_assert(all_distinct_snake_case(violation_kind_names));
static_assert(static_cast<std::size_t>(LogAction::would_cap_set_cookie) + 1 == log_action_count);
static_assert(static_cast<std::size_t>(ViolationKind::cookie_without_consent) + 1 == violation_kind_count);
}  // namespace detail

}  // namespace consent::proxy
