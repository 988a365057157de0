#pragma once
// One worker: an io_context run by exactly one thread, its upstream pool and the controls of the
// sessions it runs. Everything here is touched only on that thread (sessions run on `ioc` itself, no strand).
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <cstdint>
#include <list>
#include <optional>
#include <thread>
#include <vector>

#include "proxy/asio_fwd.hpp"
#include "proxy/upstream_pool.hpp"

namespace consent::proxy {

// How the server reaches a running session to drain it (STYLE section 6).
struct SessionControl {
  tcp::socket* client = nullptr;    // set by the session for its whole life
  tcp::socket* upstream = nullptr;  // the upstream connection in use, if any
  bool is_idle = true;              // between exchanges: safe to close at once when draining
  bool is_draining = false;         // finish the current exchange, then close
};

struct Worker {
  Worker(std::size_t pool_per_host, std::size_t pool_total, std::chrono::milliseconds keepalive)
      : pool(pool_per_host, pool_total, keepalive) {
    spare_buffers.reserve(max_spare_buffers);  // giving a buffer back never allocates
  }
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{ioc.get_executor()};
  UpstreamPool pool;
  std::list<SessionControl> sessions;
  // Upstream read buffers recycled between the exchanges of this worker's sessions (a 16 KiB malloc and
  // free per exchange otherwise: bench profile); at most max_spare_buffers are kept, empty.
  static constexpr std::size_t max_spare_buffers = 64;
  std::vector<beast::flat_buffer> spare_buffers;
  bool is_draining = false;
  std::optional<asio::steady_timer> grace_timer;  // armed by drain: shutdown_grace, then terminal
  std::thread thread;

  // Called on the worker's thread when a session ends: the last one out lets ioc.run() return.
  void on_session_end() {
    if (!is_draining || !sessions.empty()) return;
    if (grace_timer) grace_timer->cancel();
    guard.reset();
  }
};

}  // namespace consent::proxy
