#pragma once
// What policy decided, and why. Views point into the Engine that made the decision: keep the
// std::shared_ptr<const Engine> alive while the Decision is used.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/purpose.hpp"

namespace consent::policy {

enum class Verdict : std::uint8_t { allow, strip_cookies, block };

[[nodiscard]] constexpr std::string_view to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::allow:
      return "allow";
    case Verdict::strip_cookies:
      return "strip_cookies";
    case Verdict::block:
      return "block";
  }
  return "allow";
}

// A blocked request is answered locally with something harmless for its context.
enum class Surrogate : std::uint8_t {
  none,
  no_content,      // 204 (xhr/beacon/unknown)
  gif,             // 200, 1x1 transparent GIF (images, email pixels)
  empty_js,        // 200, application/javascript, empty body
  empty_css,       // 200, text/css, empty body
  forbidden_page,  // 403 page explaining the block (documents, iframes, CONNECT)
};

// Stable reason codes (snake_case, never renamed once released).
namespace reason {
inline constexpr std::string_view no_rule = "no_rule";            // no tracker rule matched
inline constexpr std::string_view allow_listed = "allow_listed";  // operator allow-list
inline constexpr std::string_view exempt = "exempt";              // strictly-necessary purpose
inline constexpr std::string_view exempt_first_party_audience = "exempt_first_party_audience";
inline constexpr std::string_view purpose_granted = "purpose_granted";
inline constexpr std::string_view purpose_not_granted = "purpose_not_granted";  // consent valid, purpose refused
inline constexpr std::string_view consent_missing = "consent_missing";          // no signal: silence is refusal
inline constexpr std::string_view consent_malformed = "consent_malformed";
inline constexpr std::string_view consent_expired = "consent_expired";
inline constexpr std::string_view gpc_refused = "gpc_refused";                        // Sec-GPC narrowed it away
inline constexpr std::string_view first_party_navigation = "first_party_navigation";  // not blocked, cookies judged
inline constexpr std::string_view email_pixel_heuristic = "email_pixel_heuristic";
inline constexpr std::string_view cookie_of_blocked_host = "cookie_of_blocked_host";
inline constexpr std::string_view lifetime_capped = "lifetime_capped";
inline constexpr std::string_view set_cookie_invalid = "set_cookie_invalid";  // unparseable Set-Cookie: dropped
}  // namespace reason

struct Decision {
  Verdict verdict = Verdict::allow;
  PurposeIndex purpose = no_purpose;
  Surrogate surrogate = Surrogate::none;  // set when verdict == block
  std::string_view rule_id;               // "google-analytics/domains[0]"; empty when no rule matched
  std::string_view reason = reason::no_rule;
};

// One cookie removed from a Cookie header (reading refused).
struct CookieRemoval {
  std::string name;
  PurposeIndex purpose = no_purpose;
  std::string_view rule_id;
  std::string_view reason;
};

struct CookieHeaderResult {
  std::string header;    // rewritten value; empty means "drop the header"
  bool changed = false;  // false: forward the original bytes untouched
  std::vector<CookieRemoval> removed;
};

enum class SetCookieAction : std::uint8_t { keep, drop, cap };

struct SetCookieResult {
  SetCookieAction action = SetCookieAction::keep;
  std::string header;  // the value to send when action == cap (rewritten lifetime)
  std::string name;    // cookie name (for logs; never the value)
  PurposeIndex purpose = no_purpose;
  std::string_view rule_id;
  std::string_view reason = reason::no_rule;
};

}  // namespace consent::policy
