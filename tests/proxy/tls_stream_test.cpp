// proxy::Stream over real loopback sockets: TLS both ways with a minted leaf, bytes read before the
// handshake, deadlines that cancel without closing, and pooled-connection liveness.
#include "proxy/stream.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <array>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "tests/tls/tls_test_util.hpp"
#include "tls/certificate_authority.hpp"
#include "tls/contexts.hpp"
#include "tls/leaf_cache.hpp"

using namespace consent::proxy;
using namespace std::chrono_literals;
using consent::tls::test::TempDir;

namespace {

struct Pair {
  asio::io_context ioc;
  std::optional<Stream> server;
  std::optional<Stream> client;
  Pair() {
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    beast::tcp_stream c(ioc);
    c.socket().connect(acceptor.local_endpoint());
    tcp::socket s(ioc);
    acceptor.accept(s);
    client.emplace(std::move(c));
    server.emplace(beast::tcp_stream(std::move(s)));
  }
  template <class Awaitable>
  auto run(Awaitable a) {
    auto f = asio::co_spawn(ioc, std::move(a), asio::use_future);
    ioc.restart();
    ioc.run_for(10s);
    return f.get();
  }
};

struct Pki {
  TempDir dir;
  std::shared_ptr<const consent::tls::CertificateAuthority> ca =
      consent::tls::CertificateAuthority::load_or_create(dir.path()).ca;
  consent::tls::LeafCache leaves{ca, 8};
  consent::tls::SslCtxPtr server_ctx = consent::tls::make_client_facing_context().context;
  consent::tls::SslCtxPtr client_ctx =
      consent::tls::make_upstream_context({(dir.path() / "consentgate-ca.pem").string()}).context;

  consent::tls::SslPtr server_ssl(std::string_view host) {
    consent::tls::SslPtr ssl(SSL_new(server_ctx.get()));
    REQUIRE(consent::tls::use_leaf(ssl.get(), leaves, host).empty());
    return ssl;
  }
  consent::tls::SslPtr client_ssl(std::string_view host) {
    consent::tls::SslPtr ssl(SSL_new(client_ctx.get()));
    REQUIRE(consent::tls::prepare_upstream(ssl.get(), host));
    return ssl;
  }
};

asio::awaitable<std::string> handshake_and_echo(Stream& server, Stream& client, consent::tls::SslPtr server_ssl,
                                                consent::tls::SslPtr client_ssl) {
  using namespace asio::experimental::awaitable_operators;
  auto [a, b] = co_await (server.start_tls(std::move(server_ssl), Stream::Role::server, 5s) &&
                          client.start_tls(std::move(client_ssl), Stream::Role::client, 5s));
  if (a || b) co_return "handshake failed: " + a.message() + " / " + b.message();
  const std::array<asio::const_buffer, 3> pieces{asio::buffer("GET ", 4), asio::buffer("/ ", 2),
                                                 asio::buffer("HTTP/1.1", 8)};
  if (auto ec = co_await client.write(std::span<const asio::const_buffer>(pieces))) co_return ec.message();
  std::string got;
  std::array<char, 64> buffer{};
  while (got.size() < 14) {
    auto [ec, n] = co_await server.read_some(asio::buffer(buffer));
    if (ec) co_return ec.message();
    got.append(buffer.data(), n);
  }
  // A reply read by the client also consumes the TLS 1.3 session tickets sent after the handshake, as an
  // upstream exchange does before its connection is pooled.
  if (auto ec = co_await server.write("ok")) co_return ec.message();
  auto [ec, n] = co_await client.read_some(asio::buffer(buffer));
  if (ec || std::string_view(buffer.data(), n) != "ok") co_return "no reply";
  co_return got;
}

}  // namespace

TEST_CASE("TLS streams handshake with a minted leaf and carry gathered writes", "[proxy][tls]") {
  Pair pair;
  Pki pki;
  const auto got = pair.run(
      handshake_and_echo(*pair.server, *pair.client, pki.server_ssl("news.example"), pki.client_ssl("news.example")));
  CHECK(got == "GET / HTTP/1.1");
  CHECK(pair.server->is_tls());
  CHECK(pair.client->is_idle_alive());
}

TEST_CASE("a TLS client verifying another name fails the handshake with the verify result kept", "[proxy][tls]") {
  Pair pair;
  Pki pki;
  const auto got = pair.run(
      handshake_and_echo(*pair.server, *pair.client, pki.server_ssl("news.example"), pki.client_ssl("other.example")));
  CHECK(got.rfind("handshake failed", 0) == 0);
  REQUIRE(pair.client->ssl() != nullptr);
  CHECK(SSL_get_verify_result(pair.client->ssl()) == X509_V_ERR_HOSTNAME_MISMATCH);
}

namespace {

asio::awaitable<std::string> preread_handshake(Pair& pair, Pki& pki) {
  using namespace asio::experimental::awaitable_operators;
  // The client starts its handshake; the server reads the ClientHello as plain bytes first (as a session
  // reading a CONNECT head may), then hands them to start_tls.
  auto client_side = pair.client->start_tls(pki.client_ssl("news.example"), Stream::Role::client, 5s);
  auto server_side = [](Pair& p, Pki& k) -> asio::awaitable<error_code> {
    std::array<char, 8192> buffer{};
    auto [ec, n] = co_await p.server->read_some(asio::buffer(buffer));
    if (ec) co_return ec;
    co_return co_await p.server->start_tls(k.server_ssl("news.example"), Stream::Role::server, 5s,
                                           std::string_view(buffer.data(), n));
  }(pair, pki);
  auto [a, b] = co_await (std::move(server_side) && std::move(client_side));
  if (a || b) co_return "handshake failed: " + a.message() + " / " + b.message();
  if (auto ec = co_await pair.server->write("hello")) co_return ec.message();
  std::array<char, 16> buffer{};
  auto [ec, n] = co_await pair.client->read_some(asio::buffer(buffer));
  co_return std::string(buffer.data(), n);
}

asio::awaitable<std::string> deadline_then_read(Pair& pair) {
  std::array<char, 16> buffer{};
  const auto deadline = std::chrono::steady_clock::now() + 50ms;
  auto [ec, n] = co_await pair.server->read_some_until(asio::buffer(buffer), deadline);
  if (ec != beast::error::timeout) co_return "expected a timeout, got " + ec.message();
  // The connection survived the deadline: a reply can still be written and read.
  if (auto wec = co_await pair.server->write("late")) co_return wec.message();
  auto [rec, m] = co_await pair.client->read_some(asio::buffer(buffer));
  co_return std::string(buffer.data(), m);
}

}  // namespace

TEST_CASE("bytes read before the handshake are given to OpenSSL first", "[proxy][tls]") {
  Pair pair;
  Pki pki;
  CHECK(pair.run(preread_handshake(pair, pki)) == "hello");
}

TEST_CASE("a read deadline cancels the read but not the connection, plain and TLS", "[proxy][tls]") {
  SECTION("plain") {
    Pair pair;
    CHECK(pair.run(deadline_then_read(pair)) == "late");
  }
  SECTION("TLS") {
    Pair pair;
    Pki pki;
    const auto got = pair.run(
        handshake_and_echo(*pair.server, *pair.client, pki.server_ssl("news.example"), pki.client_ssl("news.example")));
    REQUIRE(got == "GET / HTTP/1.1");
    CHECK(pair.run(deadline_then_read(pair)) == "late");
  }
}

TEST_CASE("an idle TLS connection with a pending close_notify is not alive", "[proxy][tls]") {
  Pair pair;
  Pki pki;
  REQUIRE(pair.run(handshake_and_echo(*pair.server, *pair.client, pki.server_ssl("news.example"),
                                      pki.client_ssl("news.example"))) == "GET / HTTP/1.1");
  CHECK(pair.client->is_idle_alive());
  pair.server->shutdown_send();
  std::this_thread::sleep_for(20ms);  // loopback delivers at once; margin for a loaded machine
  CHECK_FALSE(pair.client->is_idle_alive());
}
