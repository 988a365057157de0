#pragma once
// Asynchronous DNS for upstream connections on c-ares (issue 3 "async DNS"; issue 5 "CNAME cloaking").
// Asio's resolver calls getaddrinfo on a thread and cannot show CNAMEs; c-ares gives both addresses and
// the CNAME chain, and its sockets are driven here by the io_context, so nothing blocks an I/O thread.
//
// Threading: one DnsResolver per io_context (worker thread). It is NOT thread-safe: call resolve() and
// destroy it only from the thread that runs its io_context. Strands of a one-thread io_context are fine.
// Completions are always posted to the caller's associated executor (never run inside resolve()).
//
// Lifetime and cancellation: resolve() honours per-operation cancellation (awaitable operators `||`, a
// cancellation_signal); the caller then receives asio::error::operation_aborted at once, and the
// c-ares query left behind ends on its own timeout without touching the caller. Destroying the resolver
// (ares_destroy) completes every query in flight with operation_aborted; no callback outlives it.
//
// Construction reads /etc/resolv.conf when `servers` is empty (c-ares): build such resolvers at startup only,
// or fill `servers` from system_dns_servers() at startup; with `servers` set, no file is read.
// The hosts file is not consulted (lookups "b": a file read per query would block the thread);
// "localhost", "*.localhost" (RFC 6761 section 6.3) and IP literals are answered without a query.
// Search domains are not applied: a URL's host is a complete name.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace consent::proxy {

// Data-plane DNS failures; each maps to one local reply and reason code.
enum class dns_errc {
  invalid_host = 1,      // not a host name (empty, too long, bad characters) -> 400 "bad host", invalid_host
  not_found,             // NXDOMAIN or no address for the name -> 502 "unknown host", unknown_host
  timeout,               // no server answered within timeout x tries -> 504, dns_timeout
  server_failure,        // SERVFAIL, REFUSED, malformed answer, connection refused -> 502, dns_failure
  resolver_unavailable,  // c-ares could not be initialised (see init_error()) -> 502, dns_failure
};
const boost::system::error_category& dns_category() noexcept;
inline boost::system::error_code make_error_code(dns_errc e) noexcept { return {static_cast<int>(e), dns_category()}; }

struct DnsOptions {
  // "ADDR:PORT" or "[V6ADDR]:PORT" (settings key `dns`, flag `--dns`, repeatable); empty = /etc/resolv.conf.
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{2'000};  // per try; c-ares doubles it on each round over the servers
  int tries = 2;                             // rounds over the server list
  // Positive answers are cached for min(TTL over the answer, max_cache_ttl); 0 entries disables the cache.
  // Least recently used entries are evicted past the limit. Failures are not cached.
  std::size_t cache_entries = 4'096;
  std::chrono::seconds max_cache_ttl{300};
  std::function<std::chrono::steady_clock::time_point()> now;  // tests inject time; empty = steady_clock
};

// The worst-case time c-ares spends before reporting dns_errc::timeout with these options and one server:
// sum over tries of timeout << try (c-ares 1.18 ares_send.c). Race resolve() against a shorter timer if needed.
[[nodiscard]] std::chrono::milliseconds dns_timeout_bound(const DnsOptions& options, std::size_t server_count = 1);

// Checks one `servers` entry as c-ares will read it; returns an explanation, or empty when valid.
// For config/ or startup code, so a bad `--dns` fails at load time, not at the first query.
[[nodiscard]] std::string check_dns_server(std::string_view server);

// The servers of /etc/resolv.conf as c-ares reads them ("ADDR:PORT", "[V6]:PORT"), for DnsOptions::servers;
// c-ares' own default (127.0.0.1:53) when the file names none. Reads a file: call it at startup or reload,
// never on an I/O thread. Empty with `error` set when c-ares cannot start.
[[nodiscard]] std::vector<std::string> system_dns_servers(std::string& error);

struct DnsResult {
  boost::system::error_code error;                        // dns_errc, or asio::error::operation_aborted
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // IPv4 and IPv6, in the server's order, with the port
  std::vector<std::string> cname_chain;  // targets from the host on: lower-case, no trailing dot, in order
};

namespace detail {
class DnsState;
}

class DnsResolver {
 public:
  DnsResolver(boost::asio::any_io_executor executor, DnsOptions options);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // Set when c-ares could not start (bad server string, no memory); every resolve() then fails with
  // dns_errc::resolver_unavailable. Startup should check it and exit with the message.
  [[nodiscard]] boost::system::error_code init_error() const noexcept;
  [[nodiscard]] const std::string& init_message() const noexcept;

  // `host` as in policy::Request (normalised); brackets around an IPv6 literal are accepted.
  // Never throws for DNS failures: they are in DnsResult::error.
  template <class CompletionToken>
  auto async_resolve(std::string host, std::uint16_t port, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(DnsResult)>(
        [this](auto handler, std::string h, std::uint16_t p) {
          boost::asio::any_io_executor ex = boost::asio::get_associated_executor(handler, executor());
          start(std::move(h), p, std::move(ex),
                boost::asio::any_completion_handler<void(DnsResult)>(std::move(handler)));
        },
        token, std::move(host), port);
  }

  // The answer when it needs no query: an IP literal, localhost, or a cached name not yet expired. For the
  // hot path (a keep-alive pool hit): no allocation of a completion, no post. nullopt: call resolve().
  [[nodiscard]] std::optional<DnsResult> try_immediate(std::string_view host, std::uint16_t port);

  // co_await resolver.resolve(host, port): the resolver must outlive the co_await's start, not its end.
  [[nodiscard]] boost::asio::awaitable<DnsResult> resolve(std::string host, std::uint16_t port);

  [[nodiscard]] std::size_t queries_in_flight() const noexcept;  // caller-visible, not yet completed
  [[nodiscard]] std::size_t cache_size() const noexcept;

 private:
  [[nodiscard]] const boost::asio::any_io_executor& executor() const noexcept;
  void start(std::string host, std::uint16_t port, boost::asio::any_io_executor handler_executor,
             boost::asio::any_completion_handler<void(DnsResult)> handler);
  boost::asio::any_io_executor executor_;
  std::shared_ptr<detail::DnsState> state_;
};

}  // namespace consent::proxy

template <>
struct boost::system::is_error_code_enum<consent::proxy::dns_errc> : std::true_type {};
