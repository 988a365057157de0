// Integration tests of the forward proxy: the real binary, a test origin and real clients on loopback.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <string>

#include "core_test_support.hpp"

using namespace consent::test;

namespace {

std::string proxy_url(const ProxyProcess& p) { return "http://127.0.0.1:" + std::to_string(p.port()); }

std::string get(const std::string& host_path, const std::string& extra = "") {
  return "GET http://" + host_path + " HTTP/1.1\r\nHost: " + host_path.substr(0, host_path.find('/')) + "\r\n" + extra +
         "\r\n";
}

}  // namespace

TEST_CASE("run prints its bound address and forwards a GET in absolute form", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  CHECK(proxy.port() != 0);
  const auto r = run_curl({"-x", proxy_url(proxy), "http://news.example/hello"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hello");
  const auto seen = origin.last_request();
  REQUIRE(seen);
  CHECK(seen->request_line == "GET /hello HTTP/1.1");
  CHECK(seen->headers.at("host") == "news.example");
  CHECK(seen->headers.at("via").find("consentgate") != std::string::npos);
  CHECK(seen->headers.count("proxy-connection") == 0);
}

TEST_CASE("keep-alive connections are reused on both sides", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  RawClient client(proxy.port());
  REQUIRE(client.is_connected());
  for (int i = 0; i < 4; ++i) {
    client.clear();
    REQUIRE(client.send(get("news.example/hello")));
    const auto response = client.read_until("hello", 5s);
    REQUIRE(response.find("HTTP/1.1 200") == 0);
    REQUIRE(response.find("hello") != std::string::npos);
  }
  CHECK(origin.request_count() == 4);
  CHECK(origin.connections() == 1);  // the upstream saw one connection for every request
}

TEST_CASE("pipelined requests are answered in order", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  RawClient client(proxy.port());
  const std::string batch = get("news.example/hello") +
                            "POST http://news.example/echo HTTP/1.1\r\nHost: news.example\r\nContent-Length: 5\r\n\r\n"
                            "abcde" +
                            get("news.example/other", "Connection: close\r\n");
  REQUIRE(client.send(batch));
  const auto all = client.read_until_close(10s);
  const auto first = all.find("hello");
  const auto second = all.find("\r\n\r\n5");
  const auto third = all.find("\r\n\r\nok");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  REQUIRE(third != std::string::npos);
  CHECK(first < second);
  CHECK(second < third);
  CHECK(count_of(all, "HTTP/1.1 200") == 3);
}

TEST_CASE("every smuggling shape is rejected with 400 and the connection closed", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const std::string line = "POST http://news.example/echo HTTP/1.1\r\nHost: news.example\r\n";
  const std::vector<std::pair<std::string, std::string>> shapes{
      {"Content-Length with Transfer-Encoding",
       line + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"two different Content-Length", line + "Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"},
      {"bad chunk size", line + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
      {"obs-fold", line + "X-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n"},
      {"NUL in a header value", line + "X-Nul: a" + std::string(1, '\0') + "b\r\nContent-Length: 0\r\n\r\n"},
      {"space before the colon", line + "Content-Length : 4\r\n\r\nabcd"},
      {"bare LF in a header value", line + "X-Bad: a\nb\r\nContent-Length: 0\r\n\r\n"},
      {"Transfer-Encoding not ending in chunked", line + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"},
  };
  for (const auto& [name, bytes] : shapes) {
    INFO(name);
    RawClient client(proxy.port());
    REQUIRE(client.send(bytes));
    const auto response = client.read_until_close(5s);
    CHECK(response.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(client.wait_closed(1s));
  }
  CHECK(origin.request_count() == 0);
}

TEST_CASE("a slow request head is cut off by one overall deadline", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));  // client_head: 1s
  RawClient client(proxy.port());
  REQUIRE(client.send("GET http://news.example/hello HTTP/1.1\r\n"));
  const auto start = std::chrono::steady_clock::now();
  // One header byte every 100 ms: each read is quick, only the whole-head deadline can stop it.
  bool answered = false;
  for (int i = 0; i < 40 && !answered; ++i) {
    if (!client.send("X")) break;
    client.read_some(100ms);
    answered = client.buffered().find("408") != std::string::npos;
  }
  const auto took = std::chrono::steady_clock::now() - start;
  INFO("received: " << client.buffered());
  CHECK(client.buffered().rfind("HTTP/1.1 408", 0) == 0);
  CHECK(took < 2500ms);  // client_head is 1 s; 40 slow bytes would take 4 s
  CHECK(client.wait_closed(3s));
  CHECK(origin.request_count() == 0);
}

TEST_CASE("idle keep-alive and silent connections are closed after their timeouts", "[proxy][core][integration]") {
  TestOrigin origin;
  auto options = options_for(origin.port());
  options.timeouts_yaml =
      "  client_head: 600ms\n  connect: 1s\n  first_byte: 2s\n  idle: 5s\n"
      "  keepalive: 300ms\n  tunnel_idle: 5s\n  shutdown_grace: 3s\n";
  ProxyProcess proxy(options);
  RawClient kept(proxy.port());
  RawClient silent(proxy.port());
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(kept.send("GET http://news.example/hello HTTP/1.1\r\nHost: news.example\r\n\r\n"));
  CHECK(kept.read_until("hello", 3s).find("hello") != std::string::npos);
  // Within a keep-alive wait a second request is still served: the deadline is per wait, not per session.
  REQUIRE(kept.send("GET http://news.example/hello HTTP/1.1\r\nHost: news.example\r\n\r\n"));
  kept.clear();
  CHECK(kept.read_until("hello", 3s).find("hello") != std::string::npos);
  CHECK(kept.wait_closed(3s));
  CHECK(silent.wait_closed(3s));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 550ms);  // the silent one waited its client_head (600 ms)
  CHECK(took < 2500ms);
  CHECK(silent.buffered().empty());  // nothing asked, nothing answered
  CHECK(origin.request_count() == 2);
}

TEST_CASE("a large response streams through with small proxy memory", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const auto before = proxy.rss_kib();
  constexpr std::uint64_t bytes = 48ULL << 20;
  for (const auto* route : {"big", "bigchunked"}) {
    const auto r = run_curl({"-x", proxy_url(proxy), "-o", "/dev/null", "-w", "%{size_download}",
                             "http://news.example/" + std::string(route) + "?bytes=" + std::to_string(bytes)});
    CHECK(r.exit_code == 0);
    CHECK(r.out == std::to_string(bytes));
  }
  const auto after = proxy.rss_kib();
  INFO("RSS before " << before << " KiB, after " << after << " KiB");
  CHECK(after < before + 16 * 1024);  // far below the 48 MiB that crossed it (twice)
}

TEST_CASE("a large request body streams upstream with small proxy memory", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const auto file = proxy.dir() / "upload.bin";
  constexpr std::size_t bytes = 32U << 20;
  {
    std::ofstream out(file, std::ios::binary);
    const std::string block(1 << 20, 'u');
    for (std::size_t i = 0; i < bytes / block.size(); ++i) out << block;
  }
  const auto before = proxy.rss_kib();
  const auto r = run_curl({"-x", proxy_url(proxy), "--data-binary", "@" + file.string(), "http://news.example/echo"});
  CHECK(r.out == std::to_string(bytes));
  const auto chunked = run_curl({"-x", proxy_url(proxy), "-H", "Transfer-Encoding: chunked", "--data-binary",
                                 "@" + file.string(), "http://news.example/echo"});
  CHECK(chunked.out == std::to_string(bytes));
  CHECK(proxy.rss_kib() < before + 16 * 1024);
}

TEST_CASE("a 200 MB body streams with bounded memory", "[.][big][proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const auto before = proxy.rss_kib();
  constexpr std::uint64_t bytes = 200ULL << 20;
  const auto r = run_curl({"-x", proxy_url(proxy), "-o", "/dev/null", "-w", "%{size_download}", "--max-time", "120",
                           "http://news.example/bigchunked?bytes=" + std::to_string(bytes)});
  CHECK(r.out == std::to_string(bytes));
  CHECK(proxy.rss_kib() < before + 16 * 1024);
}

TEST_CASE("an HTTP/1.0 client never receives a chunked body", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  RawClient client(proxy.port());
  REQUIRE(client.send("GET http://news.example/bigchunked?bytes=3000 HTTP/1.0\r\n\r\n"));
  const auto response = client.read_until_close(5s);
  const auto head_end = response.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  const auto head = response.substr(0, head_end);
  CHECK(head.find("chunked") == std::string::npos);
  CHECK(response.size() - head_end - 4 == 3000);
}

TEST_CASE("Expect: 100-continue gets an interim answer before the body is sent", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  RawClient client(proxy.port());
  REQUIRE(
      client.send("POST http://news.example/echo HTTP/1.1\r\nHost: news.example\r\nContent-Length: 3\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  CHECK(client.read_until("\r\n\r\n", 5s).rfind("HTTP/1.1 100", 0) == 0);
  client.clear();
  REQUIRE(client.send("xyz"));
  const auto response = client.read_until("\r\n\r\n3", 5s);
  CHECK(response.rfind("HTTP/1.1 200", 0) == 0);
  const auto seen = origin.last_request();
  REQUIRE(seen);
  CHECK(seen->headers.count("expect") == 0);
}

TEST_CASE("a WebSocket upgrade becomes a tunnel after 101", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  RawClient client(proxy.port());
  REQUIRE(
      client.send("GET http://news.example/ws HTTP/1.1\r\nHost: news.example\r\nConnection: Upgrade\r\n"
                  "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
  const auto head = client.read_until("\r\n\r\n", 5s);
  REQUIRE(head.rfind("HTTP/1.1 101", 0) == 0);
  client.clear();
  REQUIRE(client.send("ping-frame"));
  CHECK(client.read_until("ping-frame", 5s) == "ping-frame");
}

TEST_CASE("CONNECT to an allowed host is tunnelled, to another port refused", "[proxy][core][integration]") {
  TestOrigin origin;
  auto options = options_for(origin.port());
  options.extra_args = {"--no-intercept"};  // a blind tunnel (interception: tests/proxy/tls_*)
  ProxyProcess proxy(options);
  // Plain HTTP inside the tunnel: the origin does not speak TLS, the tunnel does not care.
  const auto r = run_curl({"-p", "-x", proxy_url(proxy), "http://news.example:443/hello"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hello");
  RawClient client(proxy.port());
  REQUIRE(client.send("CONNECT news.example:25 HTTP/1.1\r\nHost: news.example:25\r\n\r\n"));
  CHECK(client.read_until_close(5s).rfind("HTTP/1.1 403", 0) == 0);
}

TEST_CASE("upstream failures become 502 and 504 pages", "[proxy][core][integration]") {
  TestOrigin origin;
  // A port that nothing listens on: bind one, note it, close it.
  std::uint16_t dead_port = 0;
  {
    TestOrigin closed;
    dead_port = closed.port();
  }
  auto options = options_for(origin.port());
  options.connect_to_first = {"refused.example:80:127.0.0.1:" + std::to_string(dead_port)};
  ProxyProcess proxy(options);
  const auto refused =
      run_curl({"-x", proxy_url(proxy), "-o", "/dev/null", "-w", "%{http_code}", "http://refused.example/"});
  CHECK(refused.out == "502");
  const auto slow = run_curl({"-x", proxy_url(proxy), "-o", "/dev/null", "-w", "%{http_code}",
                              "http://news.example/slow?ms=3000"});  // first_byte: 2s
  CHECK(slow.out == "504");
}

TEST_CASE("connections over the limit are answered 503", "[proxy][core][integration]") {
  TestOrigin origin;
  auto options = options_for(origin.port());
  options.limits_yaml = "  max_connections: 2\n";
  ProxyProcess proxy(options);
  RawClient a(proxy.port());
  RawClient b(proxy.port());
  REQUIRE(a.send(get("news.example/hello")));
  REQUIRE(b.send(get("news.example/hello")));
  CHECK(a.read_until("hello", 5s).rfind("HTTP/1.1 200", 0) == 0);
  CHECK(b.read_until("hello", 5s).rfind("HTTP/1.1 200", 0) == 0);
  RawClient c(proxy.port());
  CHECK(c.read_until_close(5s).rfind("HTTP/1.1 503", 0) == 0);
}

TEST_CASE("requests aimed at the proxy itself are refused", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const auto r = run_curl({"-x", proxy_url(proxy), "-o", "/dev/null", "-w", "%{http_code}",
                           "http://127.0.0.1:" + std::to_string(proxy.port()) + "/"});
  CHECK(r.out == "403");
  CHECK(origin.request_count() == 0);
}

TEST_CASE("SIGTERM lets the exchange in flight finish, then the proxy exits", "[proxy][core][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  RawClient idle(proxy.port());
  RawClient busy(proxy.port());
  REQUIRE(idle.send(get("news.example/hello")));
  REQUIRE(idle.read_until("hello", 5s).find("hello") != std::string::npos);
  REQUIRE(busy.send(get("news.example/slow?ms=800")));
  // The slow request has reached the origin before we signal.
  for (int i = 0; i < 200 && origin.request_count() < 2; ++i) std::this_thread::sleep_for(5ms);
  proxy.signal(SIGTERM);
  const auto response = busy.read_until_close(5s);
  CHECK(response.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(response.find("\r\n\r\nok") != std::string::npos);
  CHECK(idle.wait_closed(5s));
  const auto status = proxy.wait_exit(10s);
  REQUIRE(status);
  CHECK(*status == 0);
}

TEST_CASE("clients outside allowed_clients are refused", "[proxy][core][integration]") {
  TestOrigin origin;
  auto options = options_for(origin.port());
  options.settings_yaml = "allowed_clients: [10.0.0.0/8]\n";
  ProxyProcess proxy(options);
  const auto r = run_curl({"-x", proxy_url(proxy), "-o", "/dev/null", "-w", "%{http_code}", "http://news.example/"});
  CHECK(r.out == "403");
  CHECK(origin.request_count() == 0);
}

TEST_CASE("proxy authentication asks for credentials and never forwards them", "[proxy][core][integration]") {
  TestOrigin origin;
  auto options = options_for(origin.port());
  options.settings_yaml = "auth:\n  enabled: true\n  users: [\"alice:s3cret\"]\n";
  ProxyProcess proxy(options);
  const auto denied = run_curl({"-x", proxy_url(proxy), "-D", "-", "-o", "/dev/null", "http://news.example/hello"});
  CHECK(denied.out.rfind("HTTP/1.1 407", 0) == 0);
  CHECK(denied.out.find("Proxy-Authenticate: Basic") != std::string::npos);
  const auto wrong = run_curl({"-x", proxy_url(proxy), "-U", "alice:wrong", "-o", "/dev/null", "-w", "%{http_code}",
                               "http://news.example/hello"});
  CHECK(wrong.out == "407");
  const auto ok = run_curl({"-x", proxy_url(proxy), "-U", "alice:s3cret", "http://news.example/hello"});
  CHECK(ok.out == "hello");
  const auto seen = origin.last_request();
  REQUIRE(seen);
  CHECK(seen->headers.count("proxy-authorization") == 0);
  CHECK(origin.request_count() == 1);
}
