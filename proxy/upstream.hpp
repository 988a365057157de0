#pragma once
// Resolving and connecting to an upstream (origin) address. Names are resolved with c-ares
// (proxy/dns_resolver.hpp, issue 5): one resolver per worker io_context and per `dns` setting, each with its
// TTL cache, so an exchange whose name was resolved moments ago (its CNAME judgement, a keep-alive pool hit)
// costs no DNS query. Resolution and the TCP connect share one deadline, timeouts.connect.
// Everything here runs on the calling io_context's one thread (a worker); nothing blocks it.
#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>

#include "config/settings.hpp"
#include "proxy/asio_fwd.hpp"
#include "proxy/dns_resolver.hpp"

namespace consent::proxy {

// Where to open a TCP connection, after --connect-to rules were applied.
struct ConnectAddress {
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::string port;  // decimal
  [[nodiscard]] std::string key() const { return host + ':' + port; }
};

// DnsOptions for the settings' `dns` key.
[[nodiscard]] DnsOptions dns_options_of(const config::Dns& dns);

// The resolver of the io_context behind `executor` for these settings, made on first use and destroyed with
// the io_context (an Asio service). A reload with other dns settings gets a new resolver; the last few are
// kept so that queries in flight finish. Call only on the thread that runs that io_context. With
// dns.servers empty c-ares reads /etc/resolv.conf when the resolver is made: cli_run fills the servers at
// start (system_dns_servers) so that workers never do.
[[nodiscard]] DnsResolver& upstream_resolver(const asio::any_io_executor& executor, const config::Dns& dns);

// Resolves `host`: at once when no query is needed (IP literal, localhost, cached answer), else with a query
// raced against `timeout` (0 = only the resolver's own bound). Errors are dns_errc values in
// DnsResult::error (dns_errc::timeout when `timeout` passed first).
asio::awaitable<DnsResult> resolve_upstream(std::string host, std::uint16_t port, const config::Dns& dns,
                                            std::chrono::milliseconds timeout);

// True for the errors of resolve_upstream (a DNS failure gets its own 502 page, upstream_dns_failed).
[[nodiscard]] bool is_dns_error(const error_code& ec) noexcept;

// Errors: a dns_errc value when the name did not resolve (is_dns_error), errc::upstream_timeout when resolve
// + connect took longer than `timeout` (0 = no limit), errc::upstream_unreachable when every address refused.
// `dns` must stay valid until the coroutine ends (it lives in the exchange's generation).
asio::awaitable<std::tuple<error_code, beast::tcp_stream>> connect_upstream(ConnectAddress where,
                                                                            std::chrono::milliseconds timeout,
                                                                            const config::Dns& dns);

}  // namespace consent::proxy
