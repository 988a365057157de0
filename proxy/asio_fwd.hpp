#pragma once
// Shared Asio/Beast aliases and completion tokens for the proxy's coroutines (STYLE section 5).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>

namespace consent::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

// Failure is normal (EOF, reset, cancel, timeout): results come back as a tuple and are branched on.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Zero means "disabled" (STYLE section 6), never "expire now".
inline void arm(beast::tcp_stream& stream, std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) {
    stream.expires_after(timeout);
  } else {
    stream.expires_never();
  }
}

}  // namespace consent::proxy
