#pragma once
// Parsers for the scalar value formats of the settings file: durations, listen addresses, CIDR blocks,
// curl-style connect-to rules, byte sizes, and the "did you mean" suggestion for misspelled keys.
// Pure functions over strings; each returns nullopt and sets `error` to a sentence (without location,
// the caller adds file:line:col and the key path).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/settings.hpp"

namespace consent::config {

// "15s", "500ms", "5m", "2h", "180d", or "0" (disabled). Whole numbers only; no sign, no spaces.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);

// "65536", "64KiB", "1MiB" (binary units only, so there is no 1000-vs-1024 ambiguity).
[[nodiscard]] std::optional<std::uint64_t> parse_byte_size(std::string_view text, std::string& error);

// "127.0.0.1:8080", "[::1]:8080": an IP literal (no names: binding must not depend on a resolver) and a
// port 0-65535 (0 = any free port). Returns the text unchanged when valid.
[[nodiscard]] std::optional<std::string> parse_listen(std::string_view text, std::string& error);

// "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128). Host bits must be zero. Returns the
// canonical form "ADDRESS/PREFIX" (inet_ntop spelling).
[[nodiscard]] std::optional<std::string> parse_cidr(std::string_view text, std::string& error);

// curl's --connect-to "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT". IPv6 hosts are bracketed in the text
// and stored without brackets. Empty HOST/PORT match any; empty CONNECT-TO-* keep the original.
[[nodiscard]] std::optional<ConnectTo> parse_connect_to(std::string_view text, std::string& error);

// Check one field of a connect-to rule given as a map (the same rules as in the string form). Empty is
// valid (any / unchanged); a host is a name or IP literal (IPv6 unbracketed), "*.domain" where allowed.
[[nodiscard]] bool valid_connect_to_port(std::string_view port) noexcept;
[[nodiscard]] bool valid_connect_to_host(std::string_view host, bool allow_wildcard);

// A gateway origin: "http://HOST[:PORT]" or "https://HOST[:PORT]" (an optional single trailing '/'), with
// HOST a name or IP literal (IPv6 bracketed). No user info, path, query or fragment: the visitor's path is
// sent as is, so a prefix here would be silently dropped.
[[nodiscard]] std::optional<OriginUrl> parse_origin_url(std::string_view text, std::string& error);

// A gateway route host: a host name, an IP literal or "*.domain" (any subdomain, not the domain itself).
// Returns it normalised (lower case, A-labels, no trailing dot).
[[nodiscard]] std::optional<std::string> parse_route_host(std::string_view text, std::string& error);

// One CSP source expression for `csp_allow` (CSP3 section 2.3.1): a host source ("cdn.example",
// "https://*.cdn.example:443/js/"), a scheme source ("data:", "https:") or one of the keywords 'self',
// 'unsafe-inline', 'unsafe-eval', 'wasm-unsafe-eval', 'unsafe-hashes', 'strict-dynamic', 'none'. A bare
// "*" (or a scheme source of http:/https:, which allows every host) is refused: it would make the consent
// CSP allow every tracker.
[[nodiscard]] std::optional<std::string> parse_csp_source(std::string_view text, std::string& error);

// An HTTP field name (RFC 9110 section 5.1: a token) that the gateway may set towards the origin: not
// one that frames or routes the message (Host, Content-Length, Transfer-Encoding, Connection, Cookie...).
[[nodiscard]] bool valid_origin_header_name(std::string_view name) noexcept;

// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions): "domians" -> "domains" is 1.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a plausible typo, else "".
[[nodiscard]] std::string_view suggest(std::string_view word, std::span<const std::string_view> candidates);

// `text` in double quotes, with control and non-ASCII bytes escaped and at most 80 bytes shown, so that a
// message never carries raw bytes from the file.
[[nodiscard]] std::string quote(std::string_view text);

}  // namespace consent::config
