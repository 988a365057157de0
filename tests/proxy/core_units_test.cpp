#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include <thread>

#include "proxy/errors.hpp"
#include "proxy/runtime.hpp"
#include "proxy/server.hpp"
#include "proxy/upstream_pool.hpp"

using namespace consent::proxy;
using namespace std::chrono_literals;

TEST_CASE("listen addresses parse as ADDR:PORT with IPv6 in brackets", "[proxy][core]") {
  auto a = parse_listen_address("127.0.0.1:8080");
  REQUIRE(a);
  CHECK(a->port() == 8080);
  CHECK(a->address().to_string() == "127.0.0.1");
  auto b = parse_listen_address("[::1]:0");
  REQUIRE(b);
  CHECK(b->address().is_v6());
  CHECK(b->port() == 0);
  CHECK(parse_listen_address("localhost:3128")->address().to_string() == "127.0.0.1");
  CHECK_FALSE(parse_listen_address(""));
  CHECK_FALSE(parse_listen_address("127.0.0.1"));
  CHECK_FALSE(parse_listen_address("127.0.0.1:"));
  CHECK_FALSE(parse_listen_address("127.0.0.1:65536"));
  CHECK_FALSE(parse_listen_address("127.0.0.1:80x"));
  CHECK_FALSE(parse_listen_address("[::1:80"));
  CHECK_FALSE(parse_listen_address("example.com:80"));  // an IP literal only: no resolver at start
}

TEST_CASE("proxy error values have stable names", "[proxy][core]") {
  CHECK(make_error_code(errc::upstream_timeout).message() == "upstream_timeout");
  CHECK(make_error_code(errc::malformed_request).message() == "malformed_request");
  CHECK(make_error_code(errc::upstream_timeout).category().name() == std::string("consent.proxy"));
  const boost::system::error_code ec = errc::upstream_unreachable;
  CHECK(ec == errc::upstream_unreachable);
  CHECK(ec != errc::upstream_timeout);
}

namespace {

struct SocketPair {
  boost::asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)};
  tcp::socket server{ioc};
  beast::tcp_stream client{ioc};
  SocketPair() {
    client.socket().connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
};

}  // namespace

TEST_CASE("the upstream pool hands back a live idle connection once", "[proxy][core]") {
  SocketPair pair;
  UpstreamPool pool(4, 8, 10s);
  pool.give("a:80", std::make_unique<Stream>(std::move(pair.client)));
  CHECK(pool.idle_count() == 1);
  CHECK(pool.take("b:80") == nullptr);
  auto taken = pool.take("a:80");
  REQUIRE(taken);
  CHECK(taken->socket().is_open());
  CHECK(pool.reused() == 1);
  CHECK(pool.take("a:80") == nullptr);
}

TEST_CASE("the upstream pool never hands out a connection the origin closed", "[proxy][core]") {
  SocketPair pair;
  UpstreamPool pool(4, 8, 10s);
  pool.give("a:80", std::make_unique<Stream>(std::move(pair.client)));
  pair.server.close();
  std::this_thread::sleep_for(20ms);  // loopback delivers the FIN at once; margin for a loaded machine
  CHECK(pool.take("a:80") == nullptr);
  CHECK(pool.idle_count() == 0);
}

TEST_CASE("the upstream pool discards a connection with stray bytes waiting", "[proxy][core]") {
  SocketPair pair;
  UpstreamPool pool(4, 8, 10s);
  pool.give("a:80", std::make_unique<Stream>(std::move(pair.client)));
  boost::asio::write(pair.server, boost::asio::buffer(std::string("HTTP/1.1 200 OK\r\n\r\n")));
  std::this_thread::sleep_for(20ms);
  CHECK(pool.take("a:80") == nullptr);
}

TEST_CASE("the upstream pool keeps at most per_host connections per key and total overall", "[proxy][core]") {
  SocketPair p1;
  SocketPair p2;
  SocketPair p3;
  UpstreamPool pool(2, 2, 10s);
  pool.give("a:80", std::make_unique<Stream>(std::move(p1.client)));
  pool.give("a:80", std::make_unique<Stream>(std::move(p2.client)));
  pool.give("a:80", std::make_unique<Stream>(std::move(p3.client)));
  CHECK(pool.idle_count() == 2);
  SocketPair p4;
  pool.give("b:80", std::make_unique<Stream>(std::move(p4.client)));
  CHECK(pool.idle_count() == 2);
  CHECK(pool.take("b:80") != nullptr);
}

TEST_CASE("a disabled pool keeps nothing", "[proxy][core]") {
  SocketPair pair;
  UpstreamPool pool(0, 0, 10s);
  pool.give("a:80", std::make_unique<Stream>(std::move(pair.client)));
  CHECK(pool.idle_count() == 0);
}

TEST_CASE("a reload names each setting that needs a restart, and only those", "[proxy][core]") {
  consent::config::Settings before;
  auto after = before;
  after.mode = consent::config::Mode::report_only;  // applies at once
  after.log = "/tmp/other.log";                     // reopened, not a restart
  after.timeouts.idle = std::chrono::milliseconds(1234);
  CHECK(consent::proxy::restart_only_changes(before, after).empty());
  after.listen = "127.0.0.1:9090";
  after.workers = 3;
  after.limits.upstream_pool_per_host = 8;
  after.upstream_ca = {"/etc/a.pem"};
  const std::vector<std::string> expected{
      "listen: 127.0.0.1:8080 -> 127.0.0.1:9090 needs restart", "workers: 0 -> 3 needs restart",
      "limits.upstream_pool_per_host: 64 -> 8 needs restart", "upstream_ca: [] -> [/etc/a.pem] needs restart"};
  CHECK(consent::proxy::restart_only_changes(before, after) == expected);
}
