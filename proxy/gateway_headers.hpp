#pragma once
// Header rewrites of gateway mode (issue 6) that need no policy: forwarding information towards the
// origin (X-Forwarded-*, RFC 7239 Forwarded), the consent header, and Vary towards the visitor. Pure
// functions over Headers; thread-safe.
#include <cstddef>
#include <string_view>
#include <vector>

#include "proxy/http_headers.hpp"

namespace consent::proxy {

// Named limit: an X-Forwarded-For or Forwarded chain longer than this is not extended but replaced, so
// a client cannot grow the header the origin parses without bound.
inline constexpr std::size_t max_forwarded_bytes = 4096;

struct ForwardedInput {
  std::string_view client;       // the peer's address without port ("192.0.2.1", "2001:db8::1")
  bool is_trusted_peer = false;  // the peer is in trusted_proxies (CDN, load balancer)
  bool is_https = false;         // the listener the peer reached speaks TLS
  std::string_view host;         // the authority the visitor asked for (Host, as sent)
};

// A peer that is not trusted cannot speak for anyone else: every X-Forwarded-For, X-Forwarded-Proto,
// X-Forwarded-Host, X-Real-IP and Forwarded it sent is removed, and ours describe the peer itself. A
// trusted peer's chain is extended with the peer's address (XFF and Forwarded), and its X-Forwarded-Proto
// and X-Forwarded-Host are kept when present (it terminated the visitor's connection, we did not).
void apply_forwarded_headers(Headers& headers, const ForwardedInput& in);

// The RFC 7239 node for an address: IPv4 as is, IPv6 as "\"[2001:db8::1]\"" (quoted: ':' is not a tchar).
[[nodiscard]] std::string forwarded_node(std::string_view address);

// Replaces every line named `name` (whatever its case) by one line listing `purposes` joined by ", ",
// so a visitor can never forge the consent the origin is told; an empty list sends an empty value
// ("nothing granted"). An empty `name` disables the header: nothing is changed.
void set_consent_header(Headers& headers, std::string_view name, const std::vector<std::string_view>& purposes);
// The same with the list already joined ("a, b"): the gateway caches it per consent state.
void set_consent_header_value(Headers& headers, std::string_view name, std::string_view joined_purposes);

// True when some Vary line lists `token` (case-insensitive) or "*".
[[nodiscard]] bool varies_on(const Headers& headers, std::string_view token) noexcept;

// Makes the response vary on `token` ("Cookie"): merged into the existing Vary lines as one line, or
// nothing when it already varies on it (or on "*").
void add_vary(Headers& headers, std::string_view token);

}  // namespace consent::proxy
