#pragma once
// The response `Set-Cookie` header (RFC 6265 §5.2, with RFC 6265bis clarifications): a parser that
// never throws and a lifetime cap that rewrites only Max-Age/Expires, keeping every other byte.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace consent::policy {

inline constexpr std::size_t max_set_cookie_bytes = 8192;  // named limit: longer headers are invalid

struct SetCookie {
  std::string_view name;  // views into the parsed header value
  std::string_view value;
  std::optional<std::int64_t> max_age;  // seconds, as sent (may be <= 0: deletion)
  std::optional<std::int64_t> expires;  // epoch seconds, parsed with the §5.1.1 cookie-date algorithm
  std::string_view domain;              // without a leading '.', as sent (not lower-cased)
  std::string_view path;
  bool secure = false;
  bool http_only = false;
  std::string_view same_site;  // "Strict", "Lax", "None" or empty
  bool partitioned = false;
};

// nullopt when the header must be ignored per RFC 6265 §5.2 (no '=' in the name-value pair, empty name
// and value, too long, control characters).
[[nodiscard]] std::optional<SetCookie> parse_set_cookie(std::string_view header) noexcept;

// The cookie's lifetime in seconds from `now`: Max-Age wins over Expires; nullopt = session cookie.
[[nodiscard]] std::optional<std::int64_t> lifetime_seconds(const SetCookie& c, std::int64_t now) noexcept;

// Rewrites `header` so the cookie lives at most `max_age_seconds` from `now`: sets Max-Age and Expires
// accordingly (both, for old clients). Returns nullopt when no change is needed (already shorter, or a
// deletion). A session cookie is left alone (it dies with the browser).
[[nodiscard]] std::optional<std::string> cap_set_cookie(std::string_view header, std::int64_t max_age_seconds,
                                                        std::int64_t now);

// Formats epoch seconds as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
[[nodiscard]] std::string format_http_date(std::int64_t epoch_seconds);

}  // namespace consent::policy
