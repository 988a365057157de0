#include "proxy/upstream.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <variant>

#include "proxy/errors.hpp"

namespace consent::proxy {

using namespace asio::experimental::awaitable_operators;

namespace {

asio::awaitable<std::tuple<error_code, tcp::resolver::results_type>> resolve(tcp::resolver& resolver,
                                                                             const ConnectAddress& where) {
  auto [ec, results] = co_await resolver.async_resolve(where.host, where.port, use_nothrow);
  co_return std::tuple{ec, std::move(results)};
}

asio::awaitable<void> wait_until(asio::steady_timer& timer) { co_await timer.async_wait(use_nothrow); }

}  // namespace

asio::awaitable<std::tuple<error_code, beast::tcp_stream>> connect_upstream(ConnectAddress where,
                                                                            std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;

  tcp::resolver resolver(executor);
  tcp::resolver::results_type endpoints;
  if (timeout.count() > 0) {
    asio::steady_timer timer(executor, deadline);
    auto raced = co_await (resolve(resolver, where) || wait_until(timer));
    if (raced.index() == 1) co_return std::tuple{make_error_code(errc::upstream_timeout), std::move(stream)};
    auto [ec, results] = std::move(std::get<0>(raced));
    if (ec) co_return std::tuple{make_error_code(errc::upstream_unreachable), std::move(stream)};
    endpoints = std::move(results);
  } else {
    auto [ec, results] = co_await resolve(resolver, where);
    if (ec) co_return std::tuple{make_error_code(errc::upstream_unreachable), std::move(stream)};
    endpoints = std::move(results);
  }

  if (timeout.count() > 0) {
    stream.expires_at(deadline);
  } else {
    stream.expires_never();
  }
  auto [ec, endpoint] = co_await stream.async_connect(endpoints, use_nothrow);
  stream.expires_never();
  if (ec == beast::error::timeout) co_return std::tuple{make_error_code(errc::upstream_timeout), std::move(stream)};
  if (ec) co_return std::tuple{make_error_code(errc::upstream_unreachable), std::move(stream)};
  stream.socket().set_option(tcp::no_delay(true), ec);
  co_return std::tuple{error_code{}, std::move(stream)};
}

}  // namespace consent::proxy
