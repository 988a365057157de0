#pragma once
// Errors of the HTTP/1.1 codec (data-plane errors, STYLE.md section 7): every value is a documented way untrusted
// bytes can be wrong, and maps to exactly one status code for the local reply. Never thrown.
#include <boost/system/error_code.hpp>

#include <string_view>
#include <type_traits>

namespace consent::proxy {

// Each value: what was wrong -> status answered to the client when the message was a request (a response that is
// wrong in any way is answered 502 Bad Gateway, see status_for()). After any of these, the connection that sent the
// message is closed and never reused: the framing of whatever follows cannot be trusted.
enum class http_errc {
  head_too_large = 1,        // request/response line + headers (or trailers) exceed the byte limit -> 431
  too_many_headers,          // more header (or trailer) lines than limits.header_count -> 431
  uri_too_long,              // request-target longer than limits.uri_bytes -> 414
  malformed_head,            // start line or field syntax: bare CR or LF, obs-fold, NUL/CTL, space before colon,
                             // invalid token, bad status line -> 400
  invalid_method,            // not an HTTP method llhttp knows (RTSP/PRI included) -> 400
  invalid_version,           // not HTTP/1.0 or HTTP/1.1 -> 400
  invalid_target,            // request-target form not allowed for the method, userinfo, bad host/port/scheme -> 400
  invalid_host,              // missing Host in HTTP/1.1 origin-form, several Host lines, unparsable Host -> 400
  ambiguous_framing,         // Content-Length with Transfer-Encoding, duplicate or invalid Content-Length,
                             // Transfer-Encoding in HTTP/1.0 -> 400
  bad_transfer_encoding,     // request Transfer-Encoding whose final coding is not chunked -> 400 (501 would
                             // invite retries with another coding; we only speak chunked)
  bad_chunk,                 // invalid or overflowing chunk size, missing CRLF after chunk data -> 400
  chunk_extension_too_long,  // chunk extensions of one chunk exceed limits.chunk_extension_bytes -> 400
  truncated,                 // the peer closed the connection in the middle of a message -> 400
  unexpected_data,           // bytes after a message that ended the connection (Connection: close) -> 400
};

enum class MessageSide { request, response };

const boost::system::error_category& http_category() noexcept;

inline boost::system::error_code make_error_code(http_errc e) noexcept {
  return {static_cast<int>(e), http_category()};
}

// The status of the local reply for a codec error: 400/414/431 for a request, 502 for any response error.
// Returns 500 for an error_code of another category (a bug in the caller).
[[nodiscard]] int status_for(const boost::system::error_code& ec, MessageSide side) noexcept;

// Stable snake_case reason code for logs and counters ("head_too_large", ...); "unknown" for other categories.
[[nodiscard]] std::string_view reason_code(const boost::system::error_code& ec) noexcept;

}  // namespace consent::proxy

template <>
struct boost::system::is_error_code_enum<consent::proxy::http_errc> : std::true_type {};
