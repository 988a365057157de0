#pragma once
// A session: one client connection's life. Reads request heads, runs exchanges in order (pipelined
// requests are answered one after the other), tunnels CONNECT and WebSocket upgrades, and ends on
// error, on close, on a timeout or when drained.
#include <memory>

#include "proxy/asio_fwd.hpp"
#include "proxy/listener.hpp"
#include "proxy/runtime.hpp"
#include "proxy/worker.hpp"

namespace consent::proxy {

// `worker`, `control` and `listener` outlive the session (the server waits for every session before
// destroying workers and listeners); worker and control are used only on the worker's thread.
// A forward listener parses proxy targets (absolute-form, CONNECT) and runs default_chain(); a gateway
// listener routes each request with prepare_gateway_exchange() and runs gateway_chain().
asio::awaitable<void> run_session(beast::tcp_stream client, std::shared_ptr<const Runtime> runtime, Worker* worker,
                                  SessionControl* control, const ListenerContext& listener);

}  // namespace consent::proxy
