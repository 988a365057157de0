#pragma once
// HTTP/1.1 message heads as the codec produces them (http_parser.hpp) and the writers consume them
// (http_writer.hpp). Plain values that own their bytes: safe to move into an Exchange and keep after the read
// buffer is reused. Framing facts are computed once by the parser, so the session never re-derives them.
#include "proxy/http_headers.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace consent::proxy {

// Same numbering as llhttp's HTTP methods (llhttp_method_t); only HTTP methods are accepted by the parser.
enum class Method : std::uint8_t {
  delete_ = 0,
  get = 1,
  head = 2,
  post = 3,
  put = 4,
  connect = 5,
  options = 6,
  trace = 7,
  patch = 28,
};
// "GET", "M-SEARCH", ...; static storage.
[[nodiscard]] std::string_view method_name(Method m) noexcept;

// 10 = HTTP/1.0, 11 = HTTP/1.1; nothing else gets past the parser.
using Version = int;

// RFC 9112 section 3.2.
enum class TargetForm : std::uint8_t {
  origin,     // "/path?query" (a request aimed at us directly, or inside an intercepted TLS connection)
  absolute,   // "http://host:port/path?query": the normal forward-proxy form
  authority,  // "host:port": CONNECT only
  asterisk,   // "*": OPTIONS only
};

// host[:port] from an absolute URI, a CONNECT target or a Host header. Views into the string it was parsed from.
struct Authority {
  std::string_view host;  // as written, without the brackets of an IPv6 literal; NOT lower-cased
  std::uint16_t port = 0;
  bool has_port = false;  // port was written explicitly
  bool is_ipv6 = false;   // host was a bracketed IPv6 literal
};
// Parses RFC 3986 authority without userinfo: reg-name (unreserved, sub-delims, pct-encoded) or IPv4, or
// "[IPv6]" (no zone id), optional ":port" with port 1..65535. An empty port (“host:”) and any '@' are refused.
// `default_port` fills port when none is written.
[[nodiscard]] std::optional<Authority> parse_authority(std::string_view text, std::uint16_t default_port) noexcept;

// The request-target, split. Views into the string it was parsed from.
struct RequestTarget {
  TargetForm form = TargetForm::origin;
  bool is_https = false;            // absolute-form "https://"
  std::string_view authority_text;  // absolute/authority form: host[:port] exactly as written; else empty
  Authority authority;              // absolute/authority form; else empty host, port 0
  std::string_view path_and_query;  // origin-form: the target; absolute-form: from the first '/' or '?' on,
                                    // EMPTY when the URI has no path (the upstream line then needs "/");
                                    // authority/asterisk: empty. Fragments are refused by the parser.
};
// Parses a request-target for `method` (RFC 9112 section 3.2): absolute-form with scheme http or https (case-
// insensitive) and no userinfo, origin-form starting with '/', authority-form only and always for CONNECT (port
// required), asterisk only for OPTIONS. nullopt if refused.
[[nodiscard]] std::optional<RequestTarget> parse_request_target(std::string_view target, Method method) noexcept;

// How the body of a received message is delimited (RFC 9112 section 6.3).
enum class BodyKind : std::uint8_t {
  none,            // no body: no framing header, HEAD response, 1xx/204/304, CONNECT/upgrade
  content_length,  // exactly content_length bytes (may be 0: "Content-Length: 0" is forwarded as such)
  chunked,         // Transfer-Encoding ending in chunked
  until_close,     // response without length: the body ends when upstream closes (never keep-alive)
};

struct BodyFraming {
  BodyKind kind = BodyKind::none;
  std::uint64_t content_length = 0;  // BodyKind::content_length only
};

struct RequestHead {
  Method method = Method::get;
  std::string target;  // request-target exactly as received (bounded by limits.uri_bytes)
  Version version = 11;
  Headers headers;  // as received, in order, hop-by-hop included (the writer removes them)

  // Computed by the parser once the head is complete:
  BodyFraming framing;
  bool keep_alive = true;            // the client may send another request: HTTP/1.1 without "Connection: close",
                                     // or HTTP/1.0 with "Connection: keep-alive"
  bool is_upgrade = false;           // "Connection: upgrade" + "Upgrade:" (not for CONNECT)
  bool is_websocket = false;         // is_upgrade with "Upgrade: websocket", method GET
  bool expect_100_continue = false;  // "Expect: 100-continue" on HTTP/1.1 (ignored from HTTP/1.0, RFC 9110 10.1.1)

  // The target, split. Views into `target`: recompute after moving or copying the head (cheap, no allocation).
  // Never nullopt for a head delivered by the parser (it refuses unparsable targets).
  [[nodiscard]] std::optional<RequestTarget> parsed_target() const noexcept {
    return parse_request_target(target, method);
  }
  // The host[:port] the exchange is for: the absolute URI's or CONNECT's authority; for origin-form, the Host
  // header. Views into this head. nullopt if none (asterisk-form without Host).
  [[nodiscard]] std::optional<Authority> authority(std::uint16_t default_port = 80) const noexcept;
  // Text of that authority for the upstream Host header: as written in the URI, or the Host header's value.
  [[nodiscard]] std::string_view authority_text() const noexcept;
  [[nodiscard]] bool is_connect() const noexcept { return method == Method::connect; }
  // Body bytes follow the head (a Content-Length of 0 has none).
  [[nodiscard]] bool has_body() const noexcept {
    return framing.kind == BodyKind::chunked || framing.kind == BodyKind::until_close || framing.content_length > 0;
  }
  void clear() noexcept;  // keeps capacity
};

struct ResponseHead {
  Version version = 11;
  int status = 200;
  std::string reason;  // as received (validated: no CTL); may be empty
  Headers headers;     // as received, in order

  // Computed by the parser once the head is complete, knowing the request method:
  BodyFraming framing;
  bool keep_alive = true;   // upstream connection reusable after this response (version, Connection, framing)
  bool is_upgrade = false;  // 101 Switching Protocols (the bytes after the head are the new protocol), or a 2xx
                            // answer to CONNECT
  [[nodiscard]] bool is_informational() const noexcept { return status >= 100 && status < 200; }
  [[nodiscard]] bool has_body() const noexcept {
    return framing.kind == BodyKind::chunked || framing.kind == BodyKind::until_close || framing.content_length > 0;
  }
  void clear() noexcept;  // keeps capacity
};

}  // namespace consent::proxy
