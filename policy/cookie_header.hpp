#pragma once
// The request `Cookie` header (RFC 6265 §4.2, §5.4): parsing as browsers send it, and rewriting it
// with some pairs removed while keeping the bytes of the others untouched.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace consent::policy {

inline constexpr std::size_t max_cookie_pairs = 512;  // named limit: further pairs are ignored (and dropped on rewrite)

struct CookiePair {
  std::string_view name;   // trimmed of SP/HTAB; may be empty for a nameless pair ("=x" or "x")
  std::string_view value;  // trimmed; surrounding DQUOTEs kept as sent
};

// Views point into `header`. Tolerant like browsers: empty segments are skipped, a segment without '='
// is a pair with an empty name and that segment as value (RFC 6265bis §5.6).
[[nodiscard]] std::vector<CookiePair> parse_cookie_header(std::string_view header);

// Returns `header` without the pairs for which drop(pair) is true, joined with "; ".
template <class Pred>
[[nodiscard]] std::string rewrite_cookie_header(std::string_view header, Pred&& drop);

// Finds the value of the first cookie named exactly `name` (case-sensitive, as cookie names are).
[[nodiscard]] bool find_cookie(std::string_view header, std::string_view name, std::string_view& value) noexcept;

inline constexpr std::size_t max_found_cookie_names = 64;  // find_cookies reads at most this many names

// find_cookie for several names in one pass over the header: bit i of the result is set when names[i]
// is present, and values[i] then holds the value of its first occurrence. Names past
// max_found_cookie_names, or past values.size(), are not looked for. Never allocates.
[[nodiscard]] std::uint64_t find_cookies(std::string_view header, std::span<const std::string> names,
                                         std::span<std::string_view> values) noexcept;

}  // namespace consent::policy

#include "policy/detail/cookie_header_impl.hpp"
