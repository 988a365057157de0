#pragma once
// Data-plane errors (STYLE section 7, kind 2): untrusted traffic and environment failures. Each value maps
// to one local reply, one reason code and one counter; they are returned as values, never thrown.
#include <boost/system/error_code.hpp>

#include <string_view>
#include <type_traits>

namespace consent::proxy {

enum class errc {
  request_head_too_large = 1,   // client head exceeded limits.request_head_bytes (or header count) -> 431
  malformed_request,            // llhttp rejected the request or its framing is ambiguous -> 400, close
  client_head_timeout,          // the whole request head did not arrive within timeouts.client_head -> 408
  upstream_timeout,             // resolve + connect timed out -> 504
  upstream_first_byte_timeout,  // upstream did not start answering in timeouts.first_byte -> 504
  upstream_unreachable,         // resolve failed or connect refused -> 502
  upstream_bad_response,        // malformed/ambiguous response from upstream -> 502, never reused
  upstream_closed,              // upstream closed before a complete response -> 502
  idle_timeout,                 // no bytes either way during an exchange (timeouts.idle)
  forbidden_port,               // CONNECT to a port not in connect_ports -> 403
  loop_detected,                // request aimed at the proxy itself -> 400 (loop)
  body_too_large,               // a filter's byte limit was hit -> 413
};

const boost::system::error_category& proxy_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), proxy_category()}; }

}  // namespace consent::proxy

template <>
struct boost::system::is_error_code_enum<consent::proxy::errc> : std::true_type {};
