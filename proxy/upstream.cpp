#include "proxy/upstream.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <charconv>
#include <memory>
#include <utility>
#include <variant>
#include <vector>

#include "proxy/errors.hpp"

namespace consent::proxy {

using namespace asio::experimental::awaitable_operators;

namespace {

// Reloads rarely change the dns settings; past this many, the oldest resolver goes (its queries in flight
// end with operation_aborted, a 502 for those exchanges).
constexpr std::size_t max_resolvers_per_context = 4;

// One per io_context: the io_context's lifetime is the resolvers' lifetime, with no edit to the worker.
class DnsService final : public asio::execution_context::service {
 public:
  static asio::execution_context::id id;

  explicit DnsService(asio::execution_context& context) : service(context) {}

  DnsResolver& resolver(const asio::any_io_executor& executor, const config::Dns& dns) {
    for (auto& entry : resolvers_) {
      if (entry.first == dns) return *entry.second;
    }
    if (resolvers_.size() >= max_resolvers_per_context) resolvers_.erase(resolvers_.begin());
    resolvers_.emplace_back(dns, std::make_unique<DnsResolver>(executor, dns_options_of(dns)));
    return *resolvers_.back().second;
  }

 private:
  // Services shut down newest first, while every service still exists: the timer and descriptor services
  // the resolvers use were registered before this one (see service_for), so they outlive what is closed here.
  void shutdown() override { resolvers_.clear(); }

  std::vector<std::pair<config::Dns, std::unique_ptr<DnsResolver>>> resolvers_;
};

asio::execution_context::id DnsService::id;

DnsService& service_for(const asio::any_io_executor& executor) {
  auto& context = asio::query(executor, asio::execution::context);
  if (!asio::has_service<DnsService>(context)) {
    // Registers the services a resolver's timer and sockets use before DnsService, so they are destroyed
    // after it (Asio destroys services newest first).
    asio::steady_timer timer(executor);
    asio::posix::stream_descriptor descriptor(executor);
  }
  return asio::use_service<DnsService>(context);
}

asio::awaitable<DnsResult> query(DnsResolver& resolver, std::string host, std::uint16_t port) {
  co_return co_await resolver.resolve(std::move(host), port);
}

asio::awaitable<void> wait_until(asio::steady_timer& timer) { co_await timer.async_wait(use_nothrow); }

}  // namespace

DnsOptions dns_options_of(const config::Dns& dns) {
  DnsOptions o;
  o.servers = dns.servers;
  o.timeout = dns.timeout;
  o.tries = static_cast<int>(dns.tries);
  o.cache_entries = dns.max_cache_ttl.count() > 0 ? dns.cache_entries : 0;
  o.max_cache_ttl = std::chrono::duration_cast<std::chrono::seconds>(dns.max_cache_ttl);
  return o;
}

DnsResolver& upstream_resolver(const asio::any_io_executor& executor, const config::Dns& dns) {
  return service_for(executor).resolver(executor, dns);
}

bool is_dns_error(const error_code& ec) noexcept { return ec && ec.category() == dns_category(); }

asio::awaitable<DnsResult> resolve_upstream(std::string host, std::uint16_t port, const config::Dns& dns,
                                            std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  DnsResolver& resolver = upstream_resolver(executor, dns);
  if (auto now = resolver.try_immediate(host, port)) co_return std::move(*now);
  if (timeout.count() <= 0) co_return co_await query(resolver, std::move(host), port);
  asio::steady_timer timer(executor, timeout);
  auto raced = co_await (query(resolver, std::move(host), port) || wait_until(timer));
  if (raced.index() == 1) co_return DnsResult{make_error_code(dns_errc::timeout), {}, {}};
  co_return std::move(std::get<0>(raced));
}

asio::awaitable<std::tuple<error_code, beast::tcp_stream>> connect_upstream(ConnectAddress where,
                                                                            std::chrono::milliseconds timeout,
                                                                            const config::Dns& dns) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;

  std::uint16_t port = 0;
  const auto* first = where.port.data();
  const auto* last = first + where.port.size();
  if (auto [end, err] = std::from_chars(first, last, port); err != std::errc{} || end != last || port == 0) {
    co_return std::tuple{make_error_code(errc::upstream_unreachable), std::move(stream)};
  }
  auto resolved = co_await resolve_upstream(where.host, port, dns, timeout);
  if (resolved.error) co_return std::tuple{resolved.error, std::move(stream)};

  if (timeout.count() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      co_return std::tuple{make_error_code(errc::upstream_timeout), std::move(stream)};
    }
    stream.expires_at(deadline);
  } else {
    stream.expires_never();
  }
  auto [ec, endpoint] = co_await stream.async_connect(resolved.endpoints, use_nothrow);
  stream.expires_never();
  if (ec == beast::error::timeout) co_return std::tuple{make_error_code(errc::upstream_timeout), std::move(stream)};
  if (ec) co_return std::tuple{make_error_code(errc::upstream_unreachable), std::move(stream)};
  stream.socket().set_option(tcp::no_delay(true), ec);
  co_return std::tuple{error_code{}, std::move(stream)};
}

}  // namespace consent::proxy
