// TLS interception through the real proxy (issue 4): HTTPS origins with their own test CA (trusted by the
// proxy through --upstream-ca), real curl / openssl clients trusting the consentgate CA the proxy created in
// its --data-dir, and a blocking TLS client for what curl cannot show (SNI choices, serials, SANs).
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "core_test_support.hpp"
#include "proxy/interception.hpp"
#include "tests/tls/tls_test_util.hpp"
#include "tls_test_support.hpp"

using namespace consent::test;
using consent::tls::test::TempDir;

namespace {

std::string proxy_url(const ProxyProcess& p) { return "http://127.0.0.1:" + std::to_string(p.port()); }

// An HTTPS origin for `names`, and a proxy that sends every host to it and trusts its CA.
struct HttpsWorld {
  explicit HttpsWorld(const TestPki::Leaf& leaf = {{"news.example", "www.google-analytics.com"}},
                      std::vector<std::string> extra_args = {}, std::string connect_ports = "[443]")
      : pki(dir.path()),
        context(pki.server_context(leaf)),
        origin(context.get()),
        proxy(make_options(extra_args, std::move(connect_ports))) {}

  ProxyOptions make_options(const std::vector<std::string>& extra_args, std::string connect_ports) {
    auto options = options_for(origin.port());
    options.connect_ports = std::move(connect_ports);
    options.extra_args = {"--upstream-ca", pki.ca_pem().string()};
    options.extra_args.insert(options.extra_args.end(), extra_args.begin(), extra_args.end());
    return options;
  }

  CurlResult curl(const std::string& url, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"--cacert", proxy.ca_path().string(), "-x", proxy_url(proxy), "-D", "-"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(url);
    return run_curl(args);
  }

  TempDir dir;
  TestPki pki;
  consent::tls::SslCtxPtr context;
  TestOrigin origin;
  ProxyProcess proxy;
};

// The response after curl's "-D -" output of the proxy's CONNECT reply.
std::string final_response(const std::string& out) {
  const auto connect_end = out.find("\r\n\r\n");
  if (out.rfind("HTTP/1.1 200 Connection established", 0) != 0 || connect_end == std::string::npos) return out;
  return out.substr(connect_end + 4);
}

std::string body_of(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

std::string first_pem_certificate(const std::string& text) {
  const std::string begin = "-----BEGIN CERTIFICATE-----";
  const std::string end = "-----END CERTIFICATE-----";
  const auto b = text.find(begin);
  const auto e = text.find(end, b);
  if (b == std::string::npos || e == std::string::npos) return {};
  return text.substr(b, e + end.size() - b) + "\n";
}

}  // namespace

TEST_CASE("passthrough patterns match a host and its subdomains, wildcards only subdomains", "[proxy][tls]") {
  using consent::proxy::is_passthrough;
  const std::vector<std::string> patterns{"bank.example", "*.apple.com", "Pinned.Example."};
  CHECK(is_passthrough(patterns, "bank.example"));
  CHECK(is_passthrough(patterns, "www.bank.example"));
  CHECK_FALSE(is_passthrough(patterns, "notbank.example"));
  CHECK_FALSE(is_passthrough(patterns, "bank.example.evil"));
  CHECK(is_passthrough(patterns, "idmsa.apple.com"));
  CHECK_FALSE(is_passthrough(patterns, "apple.com"));
  CHECK_FALSE(is_passthrough(patterns, "pineapple.com"));
  CHECK(is_passthrough(patterns, "pinned.example"));
  CHECK_FALSE(is_passthrough({}, "bank.example"));
}

TEST_CASE("curl trusting the consentgate CA reaches an HTTPS origin through interception",
          "[proxy][tls][integration]") {
  HttpsWorld world;
  const auto r = world.curl("https://news.example/hello");
  CHECK(r.exit_code == 0);
  const auto response = final_response(r.out);
  CHECK(response.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(body_of(response) == "hello");
  REQUIRE(world.origin.last_request());
  CHECK(world.origin.last_request()->sni == "news.example");  // upstream SNI, verified by name
  CHECK(world.origin.last_request()->request_line == "GET /hello HTTP/1.1");

  // Keep-alive on both sides: two requests in one curl run, one TLS connection upstream.
  const auto before = world.origin.connections();
  const auto two = run_curl({"--cacert", world.proxy.ca_path().string(), "-x", proxy_url(world.proxy),
                             "https://news.example/hello", "https://news.example/hello"});
  CHECK(two.out == "hellohello");
  CHECK(world.origin.connections() - before <= 1);
  CHECK(world.origin.tls_failures() == 0);
}

TEST_CASE("a minted chain verifies with openssl against the consentgate CA", "[proxy][tls][integration]") {
  HttpsWorld world;
  const auto shown =
      run_process({"openssl", "s_client", "-proxy", "127.0.0.1:" + std::to_string(world.proxy.port()), "-connect",
                   "news.example:443", "-servername", "news.example", "-showcerts", "-alpn", "h2,http/1.1"});
  CHECK(shown.out.find("ALPN protocol: http/1.1") != std::string::npos);  // http/1.1 only, even when h2 is offered
  const auto leaf = first_pem_certificate(shown.out);
  REQUIRE_FALSE(leaf.empty());
  const auto leaf_file = world.dir.path() / "leaf.pem";
  std::ofstream(leaf_file) << leaf;
  const auto verified = run_process({"openssl", "verify", "-CAfile", world.proxy.ca_path().string(), "-purpose",
                                     "sslserver", "-verify_hostname", "news.example", leaf_file.string()});
  CHECK(verified.exit_code == 0);
  CHECK(verified.out.find(": OK") != std::string::npos);
  const auto text = run_process({"openssl", "x509", "-noout", "-issuer", "-in", leaf_file.string()});
  CHECK(text.out.find("consentgate CA") != std::string::npos);
}

TEST_CASE("a tracker is blocked and its cookies stripped over HTTPS exactly as over HTTP",
          "[proxy][tls][integration]") {
  HttpsWorld world;
  const std::vector<std::string> from_site{"-H", "Referer: https://news.example/article"};
  // The CONNECT is not judged by host alone when intercepted: the inner request is, with its Referer.
  const auto blocked = world.curl("https://www.google-analytics.com/g/collect?cid=secret-id", from_site);
  CHECK(final_response(blocked.out).rfind("HTTP/1.1 204", 0) == 0);
  CHECK(world.origin.request_count() == 0);
  REQUIRE(world.proxy.wait_for_log("\"action\":\"block\""));
  CHECK(world.proxy.log_text().find("secret-id") == std::string::npos);

  const std::vector<std::string> navigation{"-H", "Sec-Fetch-Dest: document", "-H", "Sec-Fetch-Mode: navigate"};
  auto with_cookie = navigation;
  with_cookie.insert(with_cookie.end(),
                     {"-H", "Cookie: eu-consent=advertising-personalised:false; _fbp=fb.1.2; sid=abc"});
  const auto stripped = world.curl("https://news.example/cookie", with_cookie);
  const auto body = body_of(final_response(stripped.out));
  CHECK(body.find("_fbp") == std::string::npos);
  CHECK(body.find("sid=abc") != std::string::npos);
  REQUIRE(world.proxy.wait_for_log("\"action\":\"strip_cookie\""));

  const auto set = world.curl("https://news.example/set-cookie?c=_fbp&c=sid", navigation);
  CHECK(set.out.find("Set-Cookie: sid=v1") != std::string::npos);
  CHECK(set.out.find("_fbp") == std::string::npos);

  // Consent given on the site (remembered by the ledger) lets the tracker through over HTTPS too.
  auto consenting = navigation;
  consenting.insert(consenting.end(), {"-H", "Cookie: eu-consent=audience-measurement:true"});
  CHECK(final_response(world.curl("https://news.example/", consenting).out).rfind("HTTP/1.1 200", 0) == 0);
  const auto allowed = world.curl("https://www.google-analytics.com/g/collect?cid=1", from_site);
  CHECK(final_response(allowed.out).rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("upstream certificates that do not verify answer 502 and the origin never sees the request",
          "[proxy][tls][integration]") {
  struct Case {
    const char* name;
    TestPki::Leaf leaf;
    const char* reason;
  };
  const std::vector<Case> cases{
      {"self-signed",
       {{"news.example"}, std::chrono::seconds(-3600), std::chrono::seconds(86400), true},
       "upstream_tls_unknown_issuer"},
      {"expired",
       {{"news.example"}, std::chrono::seconds(-86400 * 10), std::chrono::seconds(-86400)},
       "upstream_tls_expired"},
      {"wrong host", {{"other.example"}}, "upstream_tls_wrong_host"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      HttpsWorld world(c.leaf);
      const auto r = world.curl("https://news.example/hello");
      const auto response = final_response(r.out);
      CHECK(response.rfind("HTTP/1.1 502", 0) == 0);
      CHECK(response.find(std::string("X-Consentgate-Reason: ") + c.reason) != std::string::npos);
      CHECK(world.origin.request_count() == 0);
      CHECK(world.proxy.wait_for_stderr(c.reason));
    }
  }
}

TEST_CASE("distinct hosts each get their own leaf, and a second round mints nothing", "[proxy][tls][integration]") {
  TestOrigin origin;  // never reached: handshakes only
  ProxyProcess proxy(options_for(origin.port()));
  constexpr int hosts = 500;
  std::vector<std::string> serials;
  std::set<std::string> distinct;
  for (int i = 0; i < hosts; ++i) {
    const auto host = "h" + std::to_string(i) + ".example";
    const auto probe = probe_through_proxy(proxy.port(), host, 443, host, proxy.ca_path());
    REQUIRE(probe.handshake_ok);
    CHECK(probe.verify_result == 0);  // X509_V_OK: chain to our CA, and the name matches
    CHECK(probe.san == "DNS:" + host);
    serials.push_back(probe.serial);
    distinct.insert(probe.serial);
  }
  CHECK(distinct.size() == static_cast<std::size_t>(hosts));
  // Cache hits serve the very certificate minted first: same serial (a new mint has a random one).
  for (int i = 0; i < hosts; i += 7) {
    const auto host = "h" + std::to_string(i) + ".example";
    const auto probe = probe_through_proxy(proxy.port(), host, 443, host, proxy.ca_path());
    CHECK(probe.serial == serials[static_cast<std::size_t>(i)]);
  }
  CHECK(origin.connections() == 0);  // the upstream is opened by the first request, not by CONNECT
}

TEST_CASE("the leaf names the SNI host, else the CONNECT host, and an IP literal as an IP SAN",
          "[proxy][tls][integration]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const auto no_sni = probe_through_proxy(proxy.port(), "plain.example", 443, "", proxy.ca_path());
  CHECK(no_sni.san == "DNS:plain.example");
  const auto ip = probe_through_proxy(proxy.port(), "127.0.0.1", 443, "", proxy.ca_path());
  CHECK(ip.san == "IP:127.0.0.1");
  CHECK(ip.verify_result == 0);
  const auto other = probe_through_proxy(proxy.port(), "news.example", 443, "cdn.example", proxy.ca_path());
  CHECK(other.san == "DNS:cdn.example");
}

TEST_CASE("a request for another host than the TLS name is refused as misdirected", "[proxy][tls][integration]") {
  HttpsWorld world;
  const auto r = world.curl("https://news.example/hello", {"-H", "Host: other.example"});
  const auto response = final_response(r.out);
  CHECK(response.rfind("HTTP/1.1 421 Misdirected Request\r\n", 0) == 0);
  CHECK(response.find("X-Consentgate-Reason: misdirected_request") != std::string::npos);
  CHECK(response.find("Connection: close") != std::string::npos);
  CHECK(world.origin.request_count() == 0);
  const auto port = world.curl("https://news.example/hello", {"-H", "Host: news.example:8443"});
  CHECK(final_response(port.out).rfind("HTTP/1.1 421 ", 0) == 0);
  CHECK(world.origin.request_count() == 0);
}

// RFC 9110 section 15.5.20 with a raw client: the SNI (cdn.example) names the leaf, the Host header names
// another site. Nothing reaches the origin, and the connection closes after the 421 (the pipelined
// second request is never answered): the client must open a new connection for news.example.
TEST_CASE("openssl s_client with an SNI other than the Host header gets 421 and a closed connection",
          "[proxy][tls][integration]") {
  HttpsWorld world({{"news.example", "cdn.example"}});
  const std::string proxy = "127.0.0.1:" + std::to_string(world.proxy.port());
  const auto s_client = [&](const std::string& sni, const std::string& requests) {
    return run_process({"sh", "-c",
                        "printf '" + requests + "' | openssl s_client -quiet -ign_eof -proxy " + proxy +
                            " -connect news.example:443 -servername " + sni + " -CAfile " +
                            world.proxy.ca_path().string() + " -verify_return_error 2>/dev/null"});
  };
  const std::string get_news = "GET /hello HTTP/1.1\\r\\nHost: news.example\\r\\n\\r\\n";
  const auto misdirected = s_client("cdn.example", get_news + get_news);
  CHECK(misdirected.out.rfind("HTTP/1.1 421 Misdirected Request\r\n", 0) == 0);
  CHECK(count_of(misdirected.out, "HTTP/1.1 ") == 1);
  CHECK(world.origin.request_count() == 0);

  // Same client, matching SNI and Host: served (the 421 above came from the mismatch alone).
  const auto served =
      s_client("news.example", "GET /hello HTTP/1.1\\r\\nHost: news.example\\r\\nConnection: close\\r\\n\\r\\n");
  CHECK(served.out.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(world.origin.request_count() == 1);
}

// curl --connect-to rewrites the CONNECT target (news.example:8443) but not the URL (port 443): the
// request names a port the client never asked the proxy to reach.
TEST_CASE("curl --connect-to to another port than the URL's gets 421", "[proxy][tls][integration]") {
  HttpsWorld world({{"news.example"}}, {}, "[443, 8443]");
  const auto r = world.curl("https://news.example/hello", {"--connect-to", "news.example:443:news.example:8443"});
  CHECK(r.out.find("HTTP/1.1 200 Connection established") != std::string::npos);
  CHECK(final_response(r.out).rfind("HTTP/1.1 421 ", 0) == 0);
  CHECK(world.origin.request_count() == 0);
}

TEST_CASE("passthrough hosts are tunnelled: the client sees the origin's own certificate",
          "[proxy][tls][integration]") {
  HttpsWorld world({{"news.example", "bank.example"}}, {"--passthrough", "bank.example"});
  const auto own =
      run_curl({"--cacert", world.pki.ca_pem().string(), "-x", proxy_url(world.proxy), "https://bank.example/hello"});
  CHECK(own.exit_code == 0);
  CHECK(own.out == "hello");
  const auto ours = run_curl(
      {"--cacert", world.proxy.ca_path().string(), "-x", proxy_url(world.proxy), "https://bank.example/hello"});
  CHECK(ours.exit_code == 60);  // the origin's certificate is not ours: curl refuses it
  // Not listed: intercepted.
  CHECK(world.curl("https://news.example/hello").exit_code == 0);
}

TEST_CASE("a passthrough tracker host is still refused at CONNECT", "[proxy][tls][integration]") {
  HttpsWorld world({{"news.example"}}, {"--passthrough", "doubleclick.net"});
  const auto r = run_curl(
      {"-x", proxy_url(world.proxy), "-o", "/dev/null", "-w", "%{http_connect}", "https://stats.doubleclick.net/"});
  CHECK(r.out == "403");
  CHECK(world.origin.connections() == 0);
}

TEST_CASE("with --no-intercept every CONNECT is tunnelled blind", "[proxy][tls][integration]") {
  HttpsWorld world({{"news.example"}}, {"--no-intercept"});
  const auto own =
      run_curl({"--cacert", world.pki.ca_pem().string(), "-x", proxy_url(world.proxy), "https://news.example/hello"});
  CHECK(own.out == "hello");
}

TEST_CASE("a client that does not trust the CA fails the handshake and the hint is logged once",
          "[proxy][tls][integration]") {
  HttpsWorld world;
  // Trusting only the origin's CA: our leaf is refused (curl sends an unknown_ca alert).
  for (int i = 0; i < 3; ++i) {
    const auto r =
        run_curl({"--cacert", world.pki.ca_pem().string(), "-x", proxy_url(world.proxy), "https://news.example/hello"});
    CHECK(r.exit_code == 60);
  }
  REQUIRE(world.proxy.wait_for_stderr("does not trust the consentgate CA"));
  CHECK(count_of(world.proxy.stderr_text(), "does not trust the consentgate CA") == 1);
  CHECK(world.origin.request_count() == 0);
}

TEST_CASE("an https:// absolute URI in forward mode is fetched over TLS", "[proxy][tls][integration]") {
  HttpsWorld world;
  RawClient client(world.proxy.port());
  REQUIRE(client.send("GET https://news.example/hello HTTP/1.1\r\nHost: news.example\r\nConnection: close\r\n\r\n"));
  const auto reply = client.read_until_close(10s);
  CHECK(reply.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(body_of(reply) == "hello");
  REQUIRE(world.origin.last_request());
  CHECK(world.origin.last_request()->sni == "news.example");
}

TEST_CASE("http://consentgate.ca serves the CA through the proxy, plain and intercepted, never upstream",
          "[proxy][tls][integration]") {
  HttpsWorld world;
  std::ifstream file(world.proxy.ca_path());
  const std::string ca_pem((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  REQUIRE(ca_pem.find("BEGIN CERTIFICATE") != std::string::npos);

  const auto plain = run_curl({"-s", "-x", proxy_url(world.proxy), "http://consentgate.ca/ca.pem"});
  CHECK(plain.exit_code == 0);
  CHECK(plain.out == ca_pem);

  const auto over_tls = run_curl(
      {"-s", "--cacert", world.proxy.ca_path().string(), "-x", proxy_url(world.proxy), "https://consentgate.ca/"});
  CHECK(over_tls.exit_code == 0);
  CHECK(over_tls.out.find("SHA-256 fingerprint") != std::string::npos);  // the text page: fingerprint and links
  CHECK(over_tls.out.find("http://consentgate.ca/ca.pem") != std::string::npos);
  CHECK(over_tls.out.find("certutil") != std::string::npos);  // the install instructions

  const auto missing = run_curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy_url(world.proxy),
                                 "http://consentgate.ca/nothing-here"});
  CHECK(missing.out == "404");
  CHECK_FALSE(world.origin.last_request());
}

TEST_CASE("the CA key is created private, and a key readable by others stops the start", "[proxy][tls][integration]") {
  TestOrigin origin;
  std::filesystem::path data_dir;
  {
    ProxyProcess proxy(options_for(origin.port()));
    const auto key = proxy.ca_path().parent_path() / "consentgate-ca-key.pem";
    const auto perms = std::filesystem::status(key).permissions();
    CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
          std::filesystem::perms::none);
  }
  TempDir dir;
  REQUIRE(consent::tls::CertificateAuthority::load_or_create(dir.path()).ca);
  std::filesystem::permissions(dir.path() / "consentgate-ca-key.pem", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  auto options = options_for(origin.port());
  options.data_dir = dir.path().string();
  CHECK_THROWS_WITH(ProxyProcess(options), Catch::Contains("chmod 600"));
}
