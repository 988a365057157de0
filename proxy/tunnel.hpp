#pragma once
// A tunnel: bytes copied both ways, uninspected, until both sides finished or nothing moved for
// `idle` (0 = no limit). Used for CONNECT we do not intercept (blind, plain TCP on both sides) and after
// a WebSocket 101 (plain or TLS on either side: the streams decrypt, the tunnel does not look). Half-close
// is propagated: EOF on one side shuts down the write side of the other. Both streams are closed on return.
#include <chrono>
#include <string_view>

#include "proxy/asio_fwd.hpp"
#include "proxy/stream.hpp"

namespace consent::proxy {

// `client_pending` / `upstream_pending`: bytes already read past the head on that side, sent first to
// the other side. Views must stay valid until the coroutine's first suspension (they are copied).
asio::awaitable<void> run_tunnel(Stream& client, Stream& upstream, std::string_view client_pending,
                                 std::string_view upstream_pending, std::chrono::milliseconds idle);

}  // namespace consent::proxy
