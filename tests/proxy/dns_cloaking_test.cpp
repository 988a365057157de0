// CNAME cloaking end to end (issue 5): the real consentgate binary resolves upstream names through a loopback
// DNS server of the test's own (--dns), and curl checks what a browser would see. The DNS server answers the
// cloaked names with a CNAME to a tracker of tests/fixtures/policies/trackers.yaml and every final name with
// 127.0.0.1, where the test origin listens: no --connect-to, nothing leaves loopback.
#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core_test_support.hpp"
#include "tests/proxy/dns_test_server.hpp"

using namespace consent::test;
using consent::proxy::test::DnsBehaviour;
using consent::proxy::test::DnsTestServer;
using consent::proxy::test::DnsZone;
using consent::proxy::test::DnsZoneEntry;

namespace {

namespace asio = boost::asio;

// The DNS test server on its own thread (it is not thread-safe: counters are read on that thread).
class DnsThread {
 public:
  explicit DnsThread(DnsZone zone) : server_(io_, std::move(zone)), thread_([this] { io_.run(); }) {}
  ~DnsThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  DnsThread(const DnsThread&) = delete;
  DnsThread& operator=(const DnsThread&) = delete;

  [[nodiscard]] std::string address() const { return server_.address(); }
  [[nodiscard]] std::size_t queries_for(const std::string& name) {
    std::promise<std::size_t> done;
    asio::post(io_, [&] { done.set_value(server_.queries_for(name)); });
    auto result = done.get_future();
    REQUIRE(result.wait_for(std::chrono::seconds{5}) == std::future_status::ready);
    return result.get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  DnsTestServer server_;
  std::thread thread_;
};

DnsZoneEntry address(std::string a) {
  DnsZoneEntry e;
  e.a = {std::move(a)};
  return e;
}

DnsZoneEntry alias(std::string target) {
  DnsZoneEntry e;
  e.cname = std::move(target);
  return e;
}

DnsZoneEntry behaving(DnsBehaviour behaviour) {
  DnsZoneEntry e;
  e.behaviour = behaviour;
  return e;
}

// news.example's names: a tracker behind metrics./tunnel. (the case and trailing dot of the wire are kept),
// a CDN behind static., the site itself, and names whose lookup fails.
DnsZone news_zone() {
  DnsZone zone;
  zone["metrics.news.example"] = alias("Stats.G.DoubleClick.NET.");
  zone["tunnel.news.example"] = alias("stats.g.doubleclick.net");
  zone["collect.news.example"] = alias("stats.g.doubleclick.net");
  zone["stats.g.doubleclick.net"] = address("127.0.0.1");
  zone["static.news.example"] = alias("news.cdn-provider.example");
  zone["news.cdn-provider.example"] = address("127.0.0.1");
  zone["www.news.example"] = address("127.0.0.1");
  zone["broken.news.example"] = behaving(DnsBehaviour::servfail);
  zone["slow.news.example"] = behaving(DnsBehaviour::silent);
  return zone;
}

ProxyOptions options_with_dns(const DnsThread& dns) {
  ProxyOptions o;  // no origin_port: no --connect-to catch-all, every name goes through DNS
  o.extra_args = {"--dns", dns.address()};
  o.settings_yaml = "dns:\n  timeout: 150ms\n  tries: 1\n  servers: [\"192.0.2.1:53\"]\n";  // --dns wins
  return o;
}

std::string proxy_url(const ProxyProcess& p) { return "http://127.0.0.1:" + std::to_string(p.port()); }

std::string origin_url(const TestOrigin& origin, const std::string& host, const std::string& path) {
  return "http://" + host + ":" + std::to_string(origin.port()) + path;
}

CurlResult fetch(const ProxyProcess& p, const std::vector<std::string>& urls, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"-x", proxy_url(p), "-D", "-"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), urls.begin(), urls.end());
  return run_curl(args);
}

const std::vector<std::string> from_site{"-H", "Referer: http://www.news.example/article"};

std::vector<std::string> from_site_with_cookie(const std::string& cookie) {
  return {"-H", "Referer: http://www.news.example/article", "-H", "Cookie: " + cookie};
}

std::string body_of(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string{} : response.substr(end + 4);
}

}  // namespace

TEST_CASE("a first-party name that is a CNAME to a tracker is blocked until consent, then reaches the origin",
          "[proxy][dns][integration]") {
  DnsThread dns(news_zone());
  TestOrigin origin;
  ProxyProcess proxy(options_with_dns(dns));

  const auto blocked = fetch(proxy, {origin_url(origin, "metrics.news.example", "/pixel.gif?uid=secret")}, from_site);
  CHECK(blocked.out.rfind("HTTP/1.1 200", 0) == 0);  // the tracker's surrogate: a transparent GIF
  CHECK(blocked.out.find("Content-Type: image/gif") != std::string::npos);
  CHECK(origin.request_count() == 0);  // judged before anything went upstream
  REQUIRE(proxy.wait_for_log("\"reason\":\"cname_cloaked\""));
  const auto log = proxy.log_text();
  CHECK(log.find("\"violation\":\"cname_cloaked_tracker\"") != std::string::npos);
  CHECK(log.find("\"host\":\"metrics.news.example\"") != std::string::npos);
  CHECK(log.find("\"purpose\":\"advertising-personalised\"") != std::string::npos);
  CHECK(log.find("secret") == std::string::npos);

  // A page asks: the same surrogate a direct request to the tracker gets (403 page for a document).
  const auto page = fetch(proxy, {origin_url(origin, "metrics.news.example", "/")},
                          {"-H", "Referer: http://www.news.example/", "-H", "Sec-Fetch-Dest: iframe"});
  CHECK(page.out.rfind("HTTP/1.1 403", 0) == 0);
  CHECK(origin.request_count() == 0);

  // With consent for the tracker's purpose, the request reaches the origin through the name's A record.
  // The second request on the same client connection (same worker) is judged from the resolver's cache and
  // rides the pooled upstream connection: no DNS query, no connect.
  const auto allowed = fetch(
      proxy,
      {origin_url(origin, "collect.news.example", "/hello"), origin_url(origin, "collect.news.example", "/hello")},
      from_site_with_cookie("eu-consent=advertising-personalised:true"));
  CHECK(allowed.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(count_of(allowed.out, "hello") == 2);
  CHECK(origin.request_count() == 2);
  CHECK(origin.connections() == 1);
  CHECK(dns.queries_for("collect.news.example") == 2);  // one A and one AAAA question for both requests
}

TEST_CASE("cookies of a cloaked tracker are judged as the tracker's, a CDN's are untouched",
          "[proxy][dns][integration]") {
  DnsThread dns(news_zone());
  TestOrigin origin;
  ProxyProcess proxy(options_with_dns(dns));
  // Advertising granted, measurement not: "_ga" is exempt first-party measurement on the site's own names,
  // but the tracker behind metrics.news.example is a third party and may not read or set it.
  const std::string cookies = "eu-consent=advertising-personalised:true; _ga=GA1.2.3; sid=abc";

  const auto cdn = fetch(proxy, {origin_url(origin, "static.news.example", "/cookie")}, from_site_with_cookie(cookies));
  CHECK(cdn.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(body_of(cdn.out).find("_ga=GA1.2.3") != std::string::npos);
  const auto cloaked =
      fetch(proxy, {origin_url(origin, "metrics.news.example", "/cookie")}, from_site_with_cookie(cookies));
  CHECK(cloaked.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(body_of(cloaked.out).find("_ga") == std::string::npos);
  CHECK(body_of(cloaked.out).find("sid=abc") != std::string::npos);
  REQUIRE(proxy.wait_for_log("\"action\":\"strip_cookie\""));

  const auto cdn_set = fetch(proxy, {origin_url(origin, "static.news.example", "/set-cookie?c=_ga&c=sid")},
                             from_site_with_cookie(cookies));
  CHECK(cdn_set.out.find("Set-Cookie: _ga=v1") != std::string::npos);  // kept (lifetime capped to 13 months)
  CHECK(cdn_set.out.find("Set-Cookie: sid=v1") != std::string::npos);
  const auto cloaked_set = fetch(proxy, {origin_url(origin, "metrics.news.example", "/set-cookie?c=_ga&c=sid")},
                                 from_site_with_cookie(cookies));
  CHECK(cloaked_set.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(cloaked_set.out.find("Set-Cookie: _ga") == std::string::npos);
  CHECK(cloaked_set.out.find("Set-Cookie: sid=v1") != std::string::npos);
  REQUIRE(proxy.wait_for_log("\"action\":\"drop_set_cookie\""));

  CHECK(proxy.log_text().find("cname_cloaked") == std::string::npos);  // nothing was blocked
}

TEST_CASE("CONNECT to a cloaked tracker is refused, and an intercepted request to one is blocked",
          "[proxy][dns][integration]") {
  DnsThread dns(news_zone());
  TestOrigin origin;
  auto options = options_with_dns(dns);
  options.extra_args.insert(options.extra_args.end(), {"--passthrough", "tunnel.news.example"});
  ProxyProcess proxy(options);

  const auto tunnel =
      run_curl({"-x", proxy_url(proxy), "-o", "/dev/null", "-w", "%{http_connect}", "https://tunnel.news.example/"});
  CHECK(tunnel.out == "403");
  REQUIRE(proxy.wait_for_log("\"host\":\"tunnel.news.example\""));
  CHECK(proxy.log_text().find("\"reason\":\"cname_cloaked\"") != std::string::npos);

  // Intercepted: the CONNECT is answered, the request inside it is judged by the name's CNAME chain.
  const auto inner = run_curl({"-x", proxy_url(proxy), "--cacert", proxy.ca_path().string(), "-D", "-", "-H",
                               "Referer: https://www.news.example/", "https://metrics.news.example/pixel.gif"});
  CHECK(inner.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(inner.out.find("Content-Type: image/gif") != std::string::npos);
  REQUIRE(proxy.wait_for_log("\"host\":\"metrics.news.example\""));
  CHECK(origin.connections() == 0);
}

TEST_CASE("a name that does not resolve gets a clear 502 page and the proxy keeps serving",
          "[proxy][dns][integration]") {
  DnsThread dns(news_zone());
  TestOrigin origin;
  ProxyProcess proxy(options_with_dns(dns));
  for (const std::string host : {"broken.news.example", "unknown.news.example", "slow.news.example"}) {
    INFO(host);
    const auto r = fetch(proxy, {origin_url(origin, host, "/hello")}, {"-H", "Accept: text/html"});
    CHECK(r.out.rfind("HTTP/1.1 502", 0) == 0);
    CHECK(r.out.find("could not be resolved") != std::string::npos);
    CHECK(r.out.find(host) != std::string::npos);
  }
  const auto ok = fetch(proxy, {origin_url(origin, "www.news.example", "/hello")});
  CHECK(ok.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(origin.request_count() == 1);
  CHECK(proxy.stderr_text().find("AddressSanitizer") == std::string::npos);
}
