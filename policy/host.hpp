#pragma once
// Host normalisation and registrable domains (Public Suffix List via libpsl). One function normalises,
// called once per request; everything downstream compares normalised hosts byte for byte.
#include <optional>
#include <string>
#include <string_view>

namespace consent::policy {

inline constexpr std::size_t max_host_bytes = 253;

// Lower-cases, strips one trailing dot and a port, converts U-labels to A-labels (IDNA 2008, libidn2),
// keeps IP literals (IPv6 without brackets). nullopt for anything that is not a valid host name or IP.
[[nodiscard]] std::optional<std::string> normalise_host(std::string_view raw);

// The registrable domain ("eTLD+1") of a normalised host: "www.bbc.co.uk" -> "bbc.co.uk". An IP literal
// is its own site. A host that is itself a public suffix (or unknown) returns the host unchanged.
// The view points into `host`.
[[nodiscard]] std::string_view registrable_domain(std::string_view host) noexcept;

// True when `host` does not belong to the site `first_party` (a registrable domain). An empty
// first_party is "unknown" and counts as third party: no site, no consent.
[[nodiscard]] bool is_third_party(std::string_view host, std::string_view first_party) noexcept;

[[nodiscard]] bool is_ip_literal(std::string_view host) noexcept;

// True when the normalised `domain` is itself a public suffix ("co.uk", "s3.amazonaws.com"). One PSL
// lookup, where registrable_domain() makes one per label. False when no PSL is available.
[[nodiscard]] bool is_public_suffix(std::string_view domain) noexcept;

// An absolute http(s) URL, or one without a scheme ("www.example.com/p?q"), as written in a policy's
// examples: the normalised host and the origin-form path with its query ("/" when empty; the fragment
// is dropped). nullopt for another scheme, userinfo, an invalid host, or a control byte or space.
struct UrlParts {
  std::string host;
  std::string path_and_query;
};
[[nodiscard]] std::optional<UrlParts> parse_http_url(std::string_view url);

}  // namespace consent::policy
