#include "proxy/dns_resolver.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <variant>

#include "tests/proxy/dns_test_server.hpp"

namespace asio = boost::asio;
using consent::proxy::dns_errc;
using consent::proxy::DnsOptions;
using consent::proxy::DnsResolver;
using consent::proxy::DnsResult;
using consent::proxy::test::DnsBehaviour;
using consent::proxy::test::DnsTestServer;
using Chain = std::vector<std::string>;

namespace {

constexpr auto test_bound = std::chrono::seconds{10};

// Runs handlers until `done` holds or the bound passes; every wait in these tests is bounded by it.
template <class Predicate>
bool run_until(asio::io_context& io, Predicate done, std::chrono::steady_clock::duration bound = test_bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  return done();
}

DnsResult resolve_now(asio::io_context& io, DnsResolver& resolver, std::string host, std::uint16_t port = 80) {
  std::optional<DnsResult> out;
  resolver.async_resolve(std::move(host), port, [&](DnsResult r) { out = std::move(r); });
  REQUIRE(run_until(io, [&] { return out.has_value(); }));
  return std::move(*out);
}

DnsOptions options_for(const DnsTestServer& server) {
  DnsOptions o;
  o.servers = {server.address()};
  o.timeout = std::chrono::milliseconds{200};
  o.tries = 2;
  return o;
}

std::vector<std::string> addresses_of(const DnsResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.endpoints) out.push_back(e.address().to_string());
  return out;
}

}  // namespace

TEST_CASE("an A record resolves to its address with the port", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["www.site.example"].a = {"192.0.2.10", "192.0.2.11"};
  DnsResolver resolver{io.get_executor(), options_for(server)};
  REQUIRE_FALSE(resolver.init_error());

  const DnsResult r = resolve_now(io, resolver, "www.site.example", 8080);
  REQUIRE_FALSE(r.error);
  CHECK(addresses_of(r) == Chain{"192.0.2.10", "192.0.2.11"});
  for (const auto& e : r.endpoints) CHECK(e.port() == 8080);
  CHECK(r.cname_chain.empty());
  CHECK(server.queries_for("www.site.example") == 2);  // A and AAAA
}

TEST_CASE("an AAAA record resolves, alone or next to an A record", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["v6.site.example"].aaaa = {"2001:db8::1"};
  server["dual.site.example"].a = {"192.0.2.1"};
  server["dual.site.example"].aaaa = {"2001:db8::2"};
  DnsResolver resolver{io.get_executor(), options_for(server)};

  const DnsResult v6 = resolve_now(io, resolver, "v6.site.example", 443);
  REQUIRE_FALSE(v6.error);
  CHECK(addresses_of(v6) == Chain{"2001:db8::1"});
  CHECK(v6.endpoints.at(0).address().is_v6());

  const DnsResult dual = resolve_now(io, resolver, "Dual.Site.Example.", 443);
  REQUIRE_FALSE(dual.error);
  auto got = addresses_of(dual);
  std::sort(got.begin(), got.end());
  CHECK(got == Chain{"192.0.2.1", "2001:db8::2"});
}

TEST_CASE("a cname chain to a tracker is returned in order, normalised", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["metrics.site.example"].cname = "Site.Edge.CDN.example.";
  server["site.edge.cdn.example"].cname = "site.collect.tracker.example";
  server["site.collect.tracker.example"].a = {"198.51.100.7"};
  server["site.collect.tracker.example"].aaaa = {"2001:db8::7"};
  server["one.site.example"].cname = "x.tracker.example";
  server["x.tracker.example"].a = {"198.51.100.8"};
  DnsResolver resolver{io.get_executor(), options_for(server)};

  const DnsResult r = resolve_now(io, resolver, "metrics.site.example");
  REQUIRE_FALSE(r.error);
  CHECK(r.cname_chain == Chain{"site.edge.cdn.example", "site.collect.tracker.example"});
  auto got = addresses_of(r);
  std::sort(got.begin(), got.end());
  CHECK(got == Chain{"198.51.100.7", "2001:db8::7"});

  const DnsResult one = resolve_now(io, resolver, "one.site.example");
  REQUIRE_FALSE(one.error);
  CHECK(one.cname_chain == Chain{"x.tracker.example"});
  CHECK(addresses_of(one) == Chain{"198.51.100.8"});
}

TEST_CASE("an unknown name or a name without addresses is not found; a cname loop fails", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["empty.site.example"].ttl = 60;  // exists, no records: NODATA
  server["loop-a.example"].cname = "loop-b.example";
  server["loop-b.example"].cname = "loop-a.example";
  server["dangling.example"].cname = "nowhere.example";
  DnsResolver resolver{io.get_executor(), options_for(server)};

  for (const char* name : {"nx.site.example", "empty.site.example", "dangling.example"}) {
    INFO(name);
    const DnsResult r = resolve_now(io, resolver, name);
    CHECK(r.error == dns_errc::not_found);
    CHECK(r.endpoints.empty());
    CHECK(r.cname_chain.empty());
  }
  // The server answers a loop with its bounded chain and no address; c-ares rejects that answer.
  CHECK(resolve_now(io, resolver, "loop-a.example").error == dns_errc::server_failure);
  CHECK(consent::proxy::make_error_code(dns_errc::not_found).message() == "unknown host");
}

TEST_CASE("SERVFAIL and a malformed answer are server failures", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["fail.example"].behaviour = DnsBehaviour::servfail;
  server["garbage.example"].behaviour = DnsBehaviour::garbage;
  DnsResolver resolver{io.get_executor(), options_for(server)};
  CHECK(resolve_now(io, resolver, "fail.example").error == dns_errc::server_failure);
  CHECK(resolve_now(io, resolver, "garbage.example").error == dns_errc::server_failure);
}

TEST_CASE("a server that never answers gives a timeout within timeout x tries", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server.set_all_silent(true);
  DnsOptions o = options_for(server);
  o.timeout = std::chrono::milliseconds{100};
  o.tries = 2;
  DnsResolver resolver{io.get_executor(), o};
  const auto bound = consent::proxy::dns_timeout_bound(o, 1);
  CHECK(bound == std::chrono::milliseconds{300});

  std::optional<DnsResult> out;
  resolver.async_resolve("slow.example", 80, [&](DnsResult r) { out = std::move(r); });
  // Generous slack for a loaded machine; without a timeout the run would end on the bound with nothing.
  REQUIRE(run_until(
      io, [&] { return out.has_value(); }, bound + std::chrono::seconds{3}));
  CHECK(out->error == dns_errc::timeout);
  CHECK(server.queries_for("slow.example") >= 2);
  CHECK(resolver.queries_in_flight() == 0);
}

TEST_CASE("IP literals and localhost are answered without a query", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  DnsResolver resolver{io.get_executor(), options_for(server)};

  CHECK(addresses_of(resolve_now(io, resolver, "192.0.2.1")) == Chain{"192.0.2.1"});
  CHECK(addresses_of(resolve_now(io, resolver, "::1")) == Chain{"::1"});
  CHECK(addresses_of(resolve_now(io, resolver, "[2001:db8::5]")) == Chain{"2001:db8::5"});
  CHECK(addresses_of(resolve_now(io, resolver, "localhost")) == Chain{"127.0.0.1", "::1"});
  CHECK(addresses_of(resolve_now(io, resolver, "app.LOCALHOST.")) == Chain{"127.0.0.1", "::1"});
  CHECK(resolve_now(io, resolver, "192.0.2.1", 8443).endpoints.at(0).port() == 8443);
  CHECK(server.queries() == 0);
}

TEST_CASE("hostile host names are refused without a query", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  DnsResolver resolver{io.get_executor(), options_for(server)};
  const std::string long_label(64, 'a');
  std::string long_name;
  while (long_name.size() < 254) long_name += "abcdefgh.";
  long_name += "example";
  for (const std::string& bad :
       {std::string{}, std::string{"."}, std::string{"a..example"}, std::string{".a.example"},
        std::string{"ex ample.com"}, std::string{"a.example/x"}, std::string{"caf\xc3\xa9.example"},
        std::string{"a\0b.example", 11}, long_label + ".example", long_name, std::string{"[not-an-ip]"},
        std::string{"1.2.3.4.5"}}) {
    INFO(bad);
    CHECK(resolve_now(io, resolver, bad).error == dns_errc::invalid_host);
  }
  CHECK(server.queries() == 0);
  CHECK_FALSE(resolve_now(io, resolver, std::string(63, 'a') + ".localhost").error);
}

TEST_CASE("many concurrent queries all complete with their own answers", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  constexpr int names = 50;
  for (int i = 0; i < names; i += 2)
    server["h" + std::to_string(i) + ".site.example"].a = {"10.0.0." + std::to_string(i)};
  for (int i = 1; i < names; i += 2) {
    const std::string target = "t" + std::to_string(i) + ".tracker.example";
    server["h" + std::to_string(i) + ".site.example"].cname = target;
    server[target].a = {"10.0.1." + std::to_string(i)};
  }
  DnsOptions o = options_for(server);
  o.cache_entries = 0;  // every call is a real query
  DnsResolver resolver{io.get_executor(), o};

  constexpr int total = 200;
  std::vector<std::optional<DnsResult>> results(total);
  for (int k = 0; k < total; ++k) {
    resolver.async_resolve("h" + std::to_string(k % names) + ".site.example", 80,
                           [&results, k](DnsResult r) { results[static_cast<std::size_t>(k)] = std::move(r); });
  }
  CHECK(resolver.queries_in_flight() == total);
  REQUIRE(run_until(
      io, [&] { return std::all_of(results.begin(), results.end(), [](auto& r) { return r.has_value(); }); }));
  for (int k = 0; k < total; ++k) {
    const int i = k % names;
    const DnsResult& r = *results[static_cast<std::size_t>(k)];
    INFO(k);
    REQUIRE_FALSE(r.error);
    if (i % 2 == 0) {
      CHECK(addresses_of(r) == Chain{"10.0.0." + std::to_string(i)});
      CHECK(r.cname_chain.empty());
    } else {
      CHECK(addresses_of(r) == Chain{"10.0.1." + std::to_string(i)});
      CHECK(r.cname_chain == Chain{"t" + std::to_string(i) + ".tracker.example"});
    }
  }
  CHECK(resolver.queries_in_flight() == 0);
  CHECK(server.queries() == 2 * total);
}

TEST_CASE("answers are cached for their TTL and the cache is bounded", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["a.example"].a = {"192.0.2.1"};
  server["a.example"].ttl = 30;
  server["b.example"].cname = "c.tracker.example";
  server["c.tracker.example"].a = {"192.0.2.3"};
  server["c.tracker.example"].ttl = 600;  // beyond max_cache_ttl
  server["d.example"].a = {"192.0.2.4"};
  server["zero.example"].a = {"192.0.2.5"};
  server["zero.example"].ttl = 0;
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours{1};
  DnsOptions o = options_for(server);
  o.cache_entries = 2;
  o.max_cache_ttl = std::chrono::seconds{300};
  o.now = [&now] { return now; };
  DnsResolver resolver{io.get_executor(), o};

  CHECK(addresses_of(resolve_now(io, resolver, "a.example")) == Chain{"192.0.2.1"});
  CHECK(addresses_of(resolve_now(io, resolver, "A.example.", 9)) == Chain{"192.0.2.1"});
  CHECK(server.queries_for("a.example") == 2);  // one A + one AAAA, then from the cache
  now += std::chrono::seconds{29};
  CHECK_FALSE(resolve_now(io, resolver, "a.example").error);
  CHECK(server.queries_for("a.example") == 2);
  now += std::chrono::seconds{1};
  CHECK_FALSE(resolve_now(io, resolver, "a.example").error);
  CHECK(server.queries_for("a.example") == 4);

  const DnsResult b1 = resolve_now(io, resolver, "b.example");
  const DnsResult b2 = resolve_now(io, resolver, "b.example");
  CHECK(b2.cname_chain == Chain{"c.tracker.example"});  // the chain is cached with the addresses
  CHECK(b1.cname_chain == b2.cname_chain);
  CHECK(server.queries_for("b.example") == 2);
  CHECK(resolver.cache_size() == 2);

  CHECK_FALSE(resolve_now(io, resolver, "d.example").error);  // evicts a.example, the least recently used
  CHECK(resolver.cache_size() == 2);
  CHECK_FALSE(resolve_now(io, resolver, "a.example").error);
  CHECK(server.queries_for("a.example") == 6);

  CHECK_FALSE(resolve_now(io, resolver, "zero.example").error);
  CHECK_FALSE(resolve_now(io, resolver, "zero.example").error);
  CHECK(server.queries_for("zero.example") == 4);  // TTL 0 is not cached

  CHECK(resolve_now(io, resolver, "nx.example").error == dns_errc::not_found);
  CHECK(resolve_now(io, resolver, "nx.example").error == dns_errc::not_found);
  CHECK(server.queries_for("nx.example") == 4);  // failures are not cached
}

TEST_CASE("a cancelled query completes at once with operation_aborted", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["slow.example"].behaviour = DnsBehaviour::silent;
  server["fast.example"].a = {"192.0.2.9"};
  DnsOptions o = options_for(server);
  o.timeout = std::chrono::milliseconds{60'000};  // only cancellation can end it within the test bound
  DnsResolver resolver{io.get_executor(), o};

  asio::cancellation_signal signal;
  std::optional<DnsResult> out;
  resolver.async_resolve("slow.example", 80,
                         asio::bind_cancellation_slot(signal.slot(), [&](DnsResult r) { out = std::move(r); }));
  REQUIRE(run_until(io, [&] { return server.queries_for("slow.example") >= 2; }));
  CHECK_FALSE(out.has_value());
  signal.emit(asio::cancellation_type::terminal);
  signal.emit(asio::cancellation_type::terminal);  // twice: harmless
  REQUIRE(run_until(io, [&] { return out.has_value(); }));
  CHECK(out->error == asio::error::operation_aborted);
  CHECK(resolver.queries_in_flight() == 0);
  // The resolver keeps working for others while the abandoned c-ares query waits for its timeout.
  CHECK(addresses_of(resolve_now(io, resolver, "fast.example")) == Chain{"192.0.2.9"});
}

namespace {

using namespace asio::experimental::awaitable_operators;

// The session's pattern: race the resolve against the phase timer; the loser is cancelled.
asio::awaitable<std::variant<DnsResult, std::monostate>> resolve_or_time_out(DnsResolver& resolver, std::string host,
                                                                             std::chrono::milliseconds limit) {
  asio::steady_timer timer{co_await asio::this_coro::executor, limit};
  co_return co_await (resolver.resolve(std::move(host), 80) || timer.async_wait(asio::use_awaitable));
}

}  // namespace

TEST_CASE("racing resolve against a timer with || cancels the loser either way", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["slow.example"].behaviour = DnsBehaviour::silent;
  server["fast.example"].a = {"192.0.2.9"};
  DnsOptions o = options_for(server);
  o.timeout = std::chrono::milliseconds{60'000};
  DnsResolver resolver{io.get_executor(), o};

  std::optional<std::variant<DnsResult, std::monostate>> slow;
  asio::co_spawn(io, resolve_or_time_out(resolver, "slow.example", std::chrono::milliseconds{50}),
                 [&](std::exception_ptr e, std::variant<DnsResult, std::monostate> v) {
                   REQUIRE_FALSE(e);
                   slow = std::move(v);
                 });
  REQUIRE(run_until(io, [&] { return slow.has_value(); }));
  CHECK(slow->index() == 1);
  CHECK(resolver.queries_in_flight() == 0);

  std::optional<std::variant<DnsResult, std::monostate>> fast;
  asio::co_spawn(io, resolve_or_time_out(resolver, "fast.example", std::chrono::milliseconds{60'000}),
                 [&](std::exception_ptr e, std::variant<DnsResult, std::monostate> v) {
                   REQUIRE_FALSE(e);
                   fast = std::move(v);
                 });
  REQUIRE(run_until(io, [&] { return fast.has_value(); }));
  REQUIRE(fast->index() == 0);
  CHECK(addresses_of(std::get<0>(*fast)) == Chain{"192.0.2.9"});
}

namespace {

asio::awaitable<void> resolve_into(DnsResolver& resolver, std::string host, std::optional<DnsResult>& out) {
  out = co_await resolver.resolve(std::move(host), 80);
}

}  // namespace

TEST_CASE("destroying the resolver with queries in flight aborts them all safely", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["fast.example"].a = {"192.0.2.9"};
  DnsOptions o;
  o.servers = {server.address()};
  o.timeout = std::chrono::milliseconds{60'000};
  server.set_all_silent(true);
  auto resolver = std::make_unique<DnsResolver>(io.get_executor(), o);

  constexpr std::size_t count = 20;
  std::vector<std::optional<DnsResult>> callbacks(count);
  std::vector<std::optional<DnsResult>> coroutines(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = "q" + std::to_string(i) + ".example";
    resolver->async_resolve(name, 80, [&callbacks, i](DnsResult r) { callbacks[i] = std::move(r); });
    asio::co_spawn(io, resolve_into(*resolver, name, coroutines[i]), [](std::exception_ptr e) { REQUIRE_FALSE(e); });
  }
  REQUIRE(run_until(io, [&] { return server.queries() >= 4 * count; }));
  CHECK(resolver->queries_in_flight() == 2 * count);
  resolver.reset();
  server.set_all_silent(false);  // late answers must find nothing to call
  REQUIRE(run_until(io, [&] {
    return std::all_of(callbacks.begin(), callbacks.end(), [](auto& r) { return r.has_value(); }) &&
           std::all_of(coroutines.begin(), coroutines.end(), [](auto& r) { return r.has_value(); });
  }));
  for (std::size_t i = 0; i < count; ++i) {
    CHECK(callbacks[i]->error == asio::error::operation_aborted);
    CHECK(coroutines[i]->error == asio::error::operation_aborted);
  }
  // A new resolver on the same io_context works: nothing of the old one is left registered.
  DnsResolver again{io.get_executor(), options_for(server)};
  CHECK(addresses_of(resolve_now(io, again, "fast.example")) == Chain{"192.0.2.9"});
}

TEST_CASE("bad server strings fail at construction, never at query time", "[proxy]") {
  using consent::proxy::check_dns_server;
  CHECK(check_dns_server("127.0.0.1:5353").empty());
  CHECK(check_dns_server("127.0.0.1").empty());
  CHECK(check_dns_server("[::1]:53").empty());
  CHECK(check_dns_server("[::1]").empty());
  CHECK(check_dns_server("::1") == "\"::1\" is not a DNS server: write an IPv6 server as [ADDR]:PORT");
  CHECK(check_dns_server("dns.example:53") ==
        "\"dns.example:53\" is not a DNS server: not an IP address (a DNS server cannot be a name)");
  CHECK(check_dns_server("127.0.0.1:0") == "\"127.0.0.1:0\" is not a DNS server: port must be 1 to 65535");
  CHECK_FALSE(check_dns_server("127.0.0.1:65536").empty());
  CHECK_FALSE(check_dns_server("127.0.0.1:").empty());
  CHECK_FALSE(check_dns_server("127.0.0.1:53x").empty());
  CHECK_FALSE(check_dns_server("[127.0.0.1]:53").empty());
  CHECK_FALSE(check_dns_server("[::1").empty());
  CHECK_FALSE(check_dns_server("[::1]53").empty());
  CHECK_FALSE(check_dns_server("").empty());

  asio::io_context io;
  DnsOptions o;
  o.servers = {"127.0.0.1:53", "nonsense"};
  DnsResolver resolver{io.get_executor(), o};
  CHECK(resolver.init_error() == dns_errc::resolver_unavailable);
  CHECK(resolver.init_message() ==
        "\"nonsense\" is not a DNS server: not an IP address (a DNS server cannot be a name)");
  CHECK(resolve_now(io, resolver, "a.example").error == dns_errc::resolver_unavailable);
}

TEST_CASE("dns error values have a category and readable messages", "[proxy]") {
  const auto& cat = consent::proxy::dns_category();
  CHECK(std::string{cat.name()} == "consent.dns");
  for (int v = 1; v <= 5; ++v) CHECK_FALSE(cat.message(v).empty());
  const boost::system::error_code ec = dns_errc::timeout;
  CHECK(ec.category() == cat);
  CHECK(ec != dns_errc::not_found);
}

TEST_CASE("try_immediate answers literals and cached names at once, and nothing it would have to ask", "[proxy]") {
  asio::io_context io;
  DnsTestServer server{io};
  server["metrics.site.example"].cname = "edge.tracker.example";
  server["edge.tracker.example"].a = {"198.51.100.9"};
  DnsResolver resolver{io.get_executor(), options_for(server)};

  const auto literal = resolver.try_immediate("[2001:db8::5]", 443);
  REQUIRE(literal);
  CHECK(addresses_of(*literal) == Chain{"2001:db8::5"});
  const auto bad = resolver.try_immediate("bad_host!", 80);
  REQUIRE(bad);
  CHECK(bad->error == dns_errc::invalid_host);
  CHECK_FALSE(resolver.try_immediate("metrics.site.example", 80));  // not cached yet: a query is needed
  CHECK(server.queries() == 0);
  CHECK(resolver.queries_in_flight() == 0);

  REQUIRE_FALSE(resolve_now(io, resolver, "metrics.site.example").error);
  const auto before = server.queries();
  const auto cached = resolver.try_immediate("Metrics.Site.Example.", 8443);
  REQUIRE(cached);
  CHECK_FALSE(cached->error);
  CHECK(cached->cname_chain == Chain{"edge.tracker.example"});
  REQUIRE(cached->endpoints.size() == 1);
  CHECK(cached->endpoints[0].port() == 8443);
  CHECK(server.queries() == before);
}

TEST_CASE("the system's DNS servers are read as entries the resolver accepts", "[proxy]") {
  std::string error;
  const auto servers = consent::proxy::system_dns_servers(error);
  INFO(error);
  REQUIRE_FALSE(servers.empty());  // c-ares falls back to 127.0.0.1:53 when resolv.conf names none
  for (const auto& s : servers) {
    INFO(s);
    CHECK(consent::proxy::check_dns_server(s).empty());
    CHECK(s.find(':') != std::string::npos);  // always with the port
  }
}
