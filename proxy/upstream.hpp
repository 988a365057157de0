#pragma once
// Resolving and connecting to an upstream (origin) address. Resolution uses Asio's resolver, which runs
// getaddrinfo off the I/O thread, raced against timeouts.connect; the TCP connect shares the same deadline.
#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>

#include "proxy/asio_fwd.hpp"

namespace consent::proxy {

// Where to open a TCP connection, after --connect-to rules were applied.
struct ConnectAddress {
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::string port;  // decimal
  [[nodiscard]] std::string key() const { return host + ':' + port; }
};

// Errors: errc::upstream_timeout when resolve + connect took longer than `timeout` (0 = no limit),
// errc::upstream_unreachable when the name does not resolve or every address refused.
asio::awaitable<std::tuple<error_code, beast::tcp_stream>> connect_upstream(ConnectAddress where,
                                                                            std::chrono::milliseconds timeout);

}  // namespace consent::proxy
