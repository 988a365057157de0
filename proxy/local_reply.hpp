#pragma once
// Every reply the proxy makes itself, in one place (STYLE.md section 4): surrogates for blocked
// requests and error pages. Each reply is the full serialized HTTP/1.1 response (status line, headers,
// body), ready to write, with:
//   Cache-Control: no-store, X-Content-Type-Options: nosniff, X-Consentgate-Reason: <reason code>,
//   Content-Length (except 204), Connection: close when the reply closes the connection.
// Pages are plain text, or HTML when the client's Accept names text/html (prefers_html). No text from a
// client or upstream is ever echoed raw: the only variable parts are the purpose label and rule id
// (from our own config), a host name (kept only if it is made of host-name characters) and an exchange
// id; all HTML-escaped. HTML pages carry a Content-Security-Policy that forbids every subresource.
// Pure functions, thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/decision.hpp"

namespace boost::system {
class error_code;
}

namespace consent::proxy {

// Stable reason codes of our own replies (the blocked-request reasons come from policy::reason).
enum class ReplyKind : std::uint8_t {
  bad_request,                  // 400 malformed_request: llhttp rejected it, bad URI
  ambiguous_framing,            // 400 ambiguous_framing: CL+TE, differing CLs, bad chunk size, obs-fold, NUL/CR/LF
  forbidden_connect_port,       // 403 connect_port_refused: CONNECT to a port not in connect_ports
  forbidden_client,             // 403 client_not_allowed: the client's address is not in allowed_clients
  forbidden_loop,               // 403 request_loop: the request targets the proxy itself
  method_not_allowed,           // 405 method_not_allowed
  proxy_auth_required,          // 407 proxy_auth_required (with Proxy-Authenticate: Basic)
  request_timeout,              // 408 client_head_timeout
  payload_too_large,            // 413 body_too_large
  uri_too_long,                 // 414 uri_too_long
  misdirected_request,          // 421 misdirected_request: an intercepted request for another host or port than
                                //     the TLS name and CONNECT port of its connection (RFC 9110 15.5.20)
  header_fields_too_large,      // 431 request_head_too_large (bytes or header count)
  upstream_dns_failed,          // 502 upstream_dns_failed
  upstream_refused,             // 502 upstream_refused
  upstream_unreachable,         // 502 upstream_unreachable
  upstream_reset,               // 502 upstream_reset: closed or reset before a complete response
  upstream_bad_response,        // 502 upstream_bad_response: malformed, ambiguous framing, head too large
  upstream_tls_failed,          // 502 upstream_tls_failed: handshake failed (other reason)
  upstream_tls_unknown_issuer,  // 502 upstream_tls_unknown_issuer
  upstream_tls_expired,         // 502 upstream_tls_expired (or not yet valid)
  upstream_tls_wrong_host,      // 502 upstream_tls_wrong_host: certificate does not name the host
  connection_limit,             // 503 connection_limit (with Retry-After)
  upstream_timeout,             // 504 upstream_timeout: connect or first byte (when the phase is not known)
  upstream_connect_timeout,     // 504 upstream_connect_timeout: timeouts.connect
  upstream_first_byte_timeout,  // 504 upstream_first_byte_timeout: timeouts.first_byte
  internal_error,               // 500 internal_error: says only "internal error" and the exchange id
};

struct ReplyOptions {
  bool prefers_html = false;     // prefers_html(Accept)
  bool is_head = false;          // HEAD request: headers only, Content-Length of the body we would send
  bool keep_alive = true;        // false (HTTP/1.0 without keep-alive, or closing anyway) -> Connection: close
  bool body_unread = false;      // the request body was not consumed -> Connection: close
  bool is_http10 = false;        // HTTP/1.0 client: a kept-alive reply says "Connection: keep-alive" (RFC 9112 9.3)
  std::string_view host;         // request host, shown on 502/504 pages when it is a clean host name
  std::string_view exchange_id;  // shown on 500 pages; digits/letters only, else omitted
  std::string_view reason_code;  // overrides the kind's reason code when it is snake_case (must be static storage)
  std::string_view realm = "consentgate";  // 407 realm; characters outside printable ASCII, '"' and '\' removed
};

struct LocalReply {
  int status = 0;
  std::string_view reason_code;  // static storage
  bool closes_connection = false;
  std::string bytes;  // the whole response

  // The surrogate for a blocked request (decision.surrogate; `none` is treated as no_content).
  // forbidden_page: "Blocked: you have not consented to <purpose label>. Rule <rule id>." The
  // reason code is the decision's reason.
  [[nodiscard]] static LocalReply surrogate(const policy::Decision& decision, std::string_view purpose_label,
                                            const ReplyOptions& options);
  [[nodiscard]] static LocalReply error(ReplyKind kind, const ReplyOptions& options);
  // The reply to a request the codec rejected (proxy/http_error.hpp): 431, 414 or 400 per status_for(), the
  // codec's reason code ("bad_chunk", ...) in X-Consentgate-Reason; framing errors use the ambiguous_framing
  // page. Always closes. An error of another category is a bug in the caller: 500 internal_error.
  [[nodiscard]] static LocalReply for_request_error(const boost::system::error_code& ec, const ReplyOptions& options);
  // "HTTP/1.1 200 Connection established" for a CONNECT (no body, no Content-Length: RFC 9110 9.3.6).
  [[nodiscard]] static LocalReply connection_established();
  // "HTTP/1.1 100 Continue" interim response (Expect: 100-continue).
  [[nodiscard]] static LocalReply continue_100();
};

[[nodiscard]] int status_of(ReplyKind kind) noexcept;
[[nodiscard]] std::string_view reason_code_of(ReplyKind kind) noexcept;
// Some replies always close: 400, 408, 413, 414, 431 (the stream position is unknown), 421 (the connection
// belongs to another origin: the client retries on a new one, RFC 9110 15.5.20) and 503.
[[nodiscard]] bool always_closes(ReplyKind kind) noexcept;

// True when the Accept header lists text/html (or application/xhtml+xml) with q > 0.
[[nodiscard]] bool prefers_html(std::string_view accept) noexcept;

// HTML-escapes & < > " ' (exposed for tests).
[[nodiscard]] std::string html_escape(std::string_view text);

}  // namespace consent::proxy
