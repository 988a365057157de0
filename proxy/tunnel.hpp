#pragma once
// A tunnel: bytes copied both ways, uninspected, until both sides finished or nothing moved for
// `idle` (0 = no limit). Used for CONNECT (blind) and after a WebSocket 101. Half-close is propagated:
// EOF on one side shuts down the write side of the other. Both streams are closed on return.
#include <chrono>
#include <string_view>

#include "proxy/asio_fwd.hpp"

namespace consent::proxy {

// `client_pending` / `upstream_pending`: bytes already read past the head on that side, sent first to
// the other side. Views must stay valid until the coroutine's first suspension (they are copied).
asio::awaitable<void> run_tunnel(beast::tcp_stream& client, beast::tcp_stream& upstream,
                                 std::string_view client_pending, std::string_view upstream_pending,
                                 std::chrono::milliseconds idle);

}  // namespace consent::proxy
