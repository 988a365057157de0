#include "proxy/tunnel.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <memory>
#include <string>

// GCC 12, optimising: once Asio's awaitable-frame operator new (aligned_alloc inside its recycling
// allocator) and its operator delete are both inlined into a coroutine, -Wmismatched-new-delete pairs them
// wrongly. A false positive: Asio frees those frames with the matching aligned deallocation.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace consent::proxy {

using namespace asio::experimental::awaitable_operators;

namespace {

// Tunnel buffers are per direction and bounded; 16 KiB matches one TLS record.
constexpr std::size_t tunnel_buffer_bytes = 16 * 1024;

struct Activity {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

asio::awaitable<void> relay(Stream& from, Stream& to, std::string pending, Activity& activity) {
  if (!pending.empty()) {
    if (auto ec = co_await to.write(pending)) {
      from.close();
      to.close();
      co_return;
    }
    pending.clear();
    pending.shrink_to_fit();
  }
  auto buffer = std::make_unique<std::array<char, tunnel_buffer_bytes>>();
  for (;;) {
    auto [ec, n] = co_await from.read_some(asio::buffer(*buffer));
    if (n > 0) {
      activity.last = std::chrono::steady_clock::now();
      auto wec = co_await to.write(std::string_view(buffer->data(), n));
      activity.last = std::chrono::steady_clock::now();
      if (wec) ec = wec;
    }
    if (ec == asio::error::eof) {
      to.shutdown_send();
      co_return;
    }
    if (ec) {
      // Reset or cancel: end both directions, the other relay sees its socket closed.
      from.close();
      to.close();
      co_return;
    }
  }
}

asio::awaitable<void> watchdog(std::chrono::milliseconds idle, Activity& activity) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_at(activity.last + idle);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;  // cancelled: the relays finished first
    if (std::chrono::steady_clock::now() - activity.last >= idle) co_return;
  }
}

}  // namespace

asio::awaitable<void> run_tunnel(Stream& client, Stream& upstream, std::string_view client_pending,
                                 std::string_view upstream_pending, std::chrono::milliseconds idle) {
  client.disarm();
  upstream.disarm();
  Activity activity;
  std::string to_upstream(client_pending);
  std::string to_client(upstream_pending);
  if (idle.count() > 0) {
    co_await ((relay(client, upstream, std::move(to_upstream), activity) &&
               relay(upstream, client, std::move(to_client), activity)) ||
              watchdog(idle, activity));
  } else {
    co_await (relay(client, upstream, std::move(to_upstream), activity) &&
              relay(upstream, client, std::move(to_client), activity));
  }
  client.close();
  upstream.close();
}

}  // namespace consent::proxy
