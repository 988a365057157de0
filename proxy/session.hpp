#pragma once
// A session: one client connection's life. Reads request heads, runs exchanges in order (pipelined
// requests are answered one after the other), tunnels CONNECT and WebSocket upgrades, and ends on
// error, on close, on a timeout or when drained.
#include <memory>

#include "proxy/asio_fwd.hpp"
#include "proxy/runtime.hpp"
#include "proxy/worker.hpp"

namespace consent::proxy {

// `worker` and `control` outlive the session (the server waits for every session before destroying
// workers); both are used only on the worker's thread.
asio::awaitable<void> run_session(beast::tcp_stream client, std::shared_ptr<const Runtime> runtime, Worker* worker,
                                  SessionControl* control);

}  // namespace consent::proxy
