#include "proxy/tunnel.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <string>

namespace consent::proxy {

using namespace asio::experimental::awaitable_operators;

namespace {

// Tunnel buffers are per direction and bounded; 16 KiB matches one TLS record.
constexpr std::size_t tunnel_buffer_bytes = 16 * 1024;

struct Activity {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

asio::awaitable<void> relay(tcp::socket& from, tcp::socket& to, std::string pending, Activity& activity) {
  if (!pending.empty()) {
    auto [ec, n] = co_await asio::async_write(to, asio::buffer(pending), use_nothrow);
    if (ec) {
      error_code ignored;
      from.close(ignored);
      to.close(ignored);
      co_return;
    }
    pending.clear();
    pending.shrink_to_fit();
  }
  auto buffer = std::make_unique<std::array<char, tunnel_buffer_bytes>>();
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(*buffer), use_nothrow);
    if (n > 0) {
      activity.last = std::chrono::steady_clock::now();
      auto [wec, written] = co_await asio::async_write(to, asio::buffer(buffer->data(), n), use_nothrow);
      activity.last = std::chrono::steady_clock::now();
      if (wec) ec = wec;
    }
    if (ec == asio::error::eof) {
      error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (ec) {
      // Reset or cancel: end both directions, the other relay sees its socket closed.
      error_code ignored;
      from.close(ignored);
      to.close(ignored);
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

asio::awaitable<void> run_tunnel(beast::tcp_stream& client, beast::tcp_stream& upstream,
                                 std::string_view client_pending, std::string_view upstream_pending,
                                 std::chrono::milliseconds idle) {
  client.expires_never();
  upstream.expires_never();
  Activity activity;
  std::string to_upstream(client_pending);
  std::string to_client(upstream_pending);
  auto& a = client.socket();
  auto& b = upstream.socket();
  if (idle.count() > 0) {
    co_await ((relay(a, b, std::move(to_upstream), activity) && relay(b, a, std::move(to_client), activity)) ||
              watchdog(idle, activity));
  } else {
    co_await (relay(a, b, std::move(to_upstream), activity) && relay(b, a, std::move(to_client), activity));
  }
  error_code ignored;
  a.close(ignored);
  b.close(ignored);
}

}  // namespace consent::proxy
