// tls_load: a small HTTPS load client for the interception benchmark (issue 4).
//
//   tls_load --connect 127.0.0.1:PORT [--proxy 127.0.0.1:PPORT] --cafile CA.pem --hosts N --host-suffix .bench.test
//            --mode keepalive|newconn|idle --connections 64 --seconds 10 --path /small
//            [--requests N] [--connect-port 443] [--cookie VALUE]
//
// Each of `connections` threads owns one connection at a time (blocking sockets: the point is to load the
// server, not to be clever). With --proxy it first sends `CONNECT host:443` and then does TLS through the tunnel,
// with SNI = the host name, so every distinct host makes an intercepting proxy mint (or reuse) a leaf.
// keepalive: one TLS connection per thread, requests back to back. newconn: a new TCP+TLS connection (and
// CONNECT) per request, host names cycling through `hosts` names. Prints requests/s, p50/p99 latency (per
// request, including the handshake in newconn mode) and the number of failures. Every loop ends by deadline.
// --requests N ends newconn mode after N connections (with --hosts N: each one a host never seen before, so
// an intercepting proxy mints a leaf for every one). idle: opens `connections` connections one after the
// other, does one exchange on each, prints a JSON line and keeps them open until stdin closes or the
// deadline passes (the memory figure: the caller reads the proxy's RSS meanwhile).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string connect = "127.0.0.1:443";
  std::string proxy;  // empty: connect directly
  std::string cafile;
  std::string host_suffix = ".bench.test";
  std::string fixed_host;  // when set, every connection uses this SNI/Host
  std::string path = "/small";
  std::string mode = "keepalive";
  std::string cookie;  // Cookie header value sent with every request (policy work in the proxy)
  int hosts = 1;
  int connect_port = 443;  // the port named in CONNECT
  long requests = 0;       // newconn: stop after this many connections (0 = until the deadline)
  int connections = 64;
  double seconds = 10;
};

struct Endpoint {
  sockaddr_in addr{};
};

Endpoint parse_endpoint(const std::string& s) {
  Endpoint e;
  const auto colon = s.rfind(':');
  e.addr.sin_family = AF_INET;
  e.addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(s.substr(colon + 1).c_str())));
  if (inet_pton(AF_INET, s.substr(0, colon).c_str(), &e.addr.sin_addr) != 1) {
    std::fprintf(stderr, "bad address %s\n", s.c_str());
    std::exit(2);
  }
  return e;
}

int dial(const Endpoint& e) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // Generous: a loaded proxy minting for 64 new hosts at once is slow, not failed.
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&e.addr), sizeof e.addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads a CONNECT response head byte by byte (it is tiny, and nothing after it may be consumed).
bool read_connect_reply(int fd) {
  std::string head;
  char c;
  while (head.size() < 8192) {
    if (::recv(fd, &c, 1, 0) != 1) return false;
    head += c;
    if (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0) break;
  }
  return head.rfind("HTTP/1.1 200", 0) == 0 || head.rfind("HTTP/1.0 200", 0) == 0;
}

// Reads one HTTP/1.1 response with Content-Length (the bench origins always send it).
bool read_response(SSL* ssl, std::string& buf) {
  std::size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    char tmp[16384];
    const int n = SSL_read(ssl, tmp, sizeof tmp);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  std::size_t length = 0;
  for (const char* key : {"Content-Length:", "content-length:"}) {
    if (auto p = buf.find(key); p != std::string::npos && p < head_end) {
      length = std::strtoul(buf.c_str() + p + std::strlen(key), nullptr, 10);
    }
  }
  const bool ok_status = buf.compare(0, 12, "HTTP/1.1 200") == 0;
  const std::size_t total = head_end + 4 + length;
  while (buf.size() < total) {
    char tmp[16384];
    const int n = SSL_read(ssl, tmp, sizeof tmp);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  buf.erase(0, total);
  return ok_status;
}

struct Connection {
  int fd = -1;
  SSL* ssl = nullptr;
  ~Connection() {
    if (ssl != nullptr) SSL_free(ssl);
    if (fd >= 0) ::close(fd);
  }
};

bool open_connection(Connection& c, SSL_CTX* ctx, const Options& opt, const Endpoint& target, const Endpoint* proxy,
                     const std::string& host) {
  // TLS_LOAD_DEBUG=1 says which step failed (on stderr), to tell a slow proxy from a broken set-up.
  static const bool debug = std::getenv("TLS_LOAD_DEBUG") != nullptr;
  auto fail = [&](const char* step) {
    if (debug) {
      char reason[256] = "";
      ERR_error_string_n(ERR_peek_last_error(), reason, sizeof reason);
      std::fprintf(stderr, "%s: %s failed (errno %d, %s)\n", host.c_str(), step, errno, reason);
    }
    return false;
  };
  c.fd = dial(proxy != nullptr ? *proxy : target);
  if (c.fd < 0) return fail("connect");
  if (proxy != nullptr) {
    const std::string authority = host + ":" + std::to_string(opt.connect_port);
    if (!write_all(c.fd, "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")) {
      return fail("CONNECT write");
    }
    if (!read_connect_reply(c.fd)) return fail("CONNECT reply");
  }
  c.ssl = SSL_new(ctx);
  SSL_set_fd(c.ssl, c.fd);
  SSL_set_tlsext_host_name(c.ssl, host.c_str());
  SSL_set1_host(c.ssl, host.c_str());
  return SSL_connect(c.ssl) == 1 || fail("TLS handshake");
}

// RFC 9110 7.2: the Host header names the port when it is not the scheme's default, and a bumping proxy
// (squid) takes the upstream port from it.
std::string host_header(const Options& opt, const std::string& host) {
  return opt.proxy.empty() || opt.connect_port == 443 ? host : host + ":" + std::to_string(opt.connect_port);
}

// The idle-memory figure: `connections` intercepted connections, each after one exchange, held open.
int hold_idle(SSL_CTX* ctx, const Options& opt, const Endpoint& target, const Endpoint* proxy,
              Clock::time_point deadline, const std::string& cookie_line) {
  std::vector<std::unique_ptr<Connection>> held;
  long failed = 0;
  std::string buf;
  for (int i = 0; i < opt.connections && Clock::now() < deadline; ++i) {
    const std::string host =
        opt.fixed_host.empty() ? "h" + std::to_string(i % opt.hosts) + opt.host_suffix : opt.fixed_host;
    auto c = std::make_unique<Connection>();
    buf.clear();
    const std::string req =
        "GET " + opt.path + " HTTP/1.1\r\nHost: " + host_header(opt, host) + "\r\n" + cookie_line + "\r\n";
    if (!open_connection(*c, ctx, opt, target, proxy, host) ||
        SSL_write(c->ssl, req.data(), static_cast<int>(req.size())) <= 0 || !read_response(c->ssl, buf)) {
      ++failed;
      ERR_clear_error();
      continue;
    }
    held.push_back(std::move(c));
  }
  std::printf("{\"mode\":\"idle\",\"open\":%zu,\"failed\":%ld}\n", held.size(), failed);
  std::fflush(stdout);
  // Hold until the caller closes our stdin (it has read the proxy's memory) or the deadline passes.
  while (Clock::now() < deadline) {
    pollfd p{0, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::clamp<long long>(left, 0, 1000))) > 0) {
      char c;
      if (::read(0, &c, 1) <= 0) break;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--connect")
      opt.connect = v;
    else if (k == "--proxy")
      opt.proxy = v;
    else if (k == "--cafile")
      opt.cafile = v;
    else if (k == "--hosts")
      opt.hosts = std::max(1, std::atoi(v.c_str()));
    else if (k == "--host-suffix")
      opt.host_suffix = v;
    else if (k == "--host")
      opt.fixed_host = v;
    else if (k == "--path")
      opt.path = v;
    else if (k == "--mode")
      opt.mode = v;
    else if (k == "--connections")
      opt.connections = std::max(1, std::atoi(v.c_str()));
    else if (k == "--cookie")
      opt.cookie = v;
    else if (k == "--connect-port")
      opt.connect_port = std::atoi(v.c_str());
    else if (k == "--requests")
      opt.requests = std::atol(v.c_str());
    else if (k == "--seconds")
      opt.seconds = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (opt.cafile.empty() || SSL_CTX_load_verify_locations(ctx, opt.cafile.c_str(), nullptr) != 1) {
    std::fprintf(stderr, "need --cafile with the CA that signs the server's (or proxy's) certificates\n");
    return 2;
  }
  // Session resumption would hide the handshake cost newconn mode is meant to measure.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);

  const Endpoint target = parse_endpoint(opt.connect);
  const Endpoint proxy = opt.proxy.empty() ? Endpoint{} : parse_endpoint(opt.proxy);
  const Endpoint* proxy_ptr = opt.proxy.empty() ? nullptr : &proxy;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.seconds));
  std::atomic<long> ok{0}, failed{0};
  std::atomic<int> next_host{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(opt.connections));
  auto host_name = [&](int n) {
    return opt.fixed_host.empty() ? "h" + std::to_string(n % opt.hosts) + opt.host_suffix : opt.fixed_host;
  };

  const std::string cookie_line = opt.cookie.empty() ? std::string{} : "Cookie: " + opt.cookie + "\r\n";
  if (opt.mode == "idle") return hold_idle(ctx, opt, target, proxy_ptr, deadline, cookie_line);

  std::atomic<long> claimed{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int t = 0; t < opt.connections; ++t) {
    threads.emplace_back([&, t] {
      auto& lat = latencies[static_cast<std::size_t>(t)];
      lat.reserve(100000);
      std::string buf;
      if (opt.mode == "keepalive") {
        const std::string host = host_name(t);
        Connection c;
        if (!open_connection(c, ctx, opt, target, proxy_ptr, host)) {
          failed++;
          return;
        }
        const std::string req =
            "GET " + opt.path + " HTTP/1.1\r\nHost: " + host_header(opt, host) + "\r\n" + cookie_line + "\r\n";
        while (Clock::now() < deadline) {
          const auto t0 = Clock::now();
          if (SSL_write(c.ssl, req.data(), static_cast<int>(req.size())) <= 0 || !read_response(c.ssl, buf)) {
            failed++;
            return;
          }
          lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          ok++;
        }
      } else {
        while (Clock::now() < deadline && (opt.requests == 0 || claimed++ < opt.requests)) {
          const std::string host = host_name(next_host++);
          const auto t0 = Clock::now();
          Connection c;
          buf.clear();
          const std::string req = "GET " + opt.path + " HTTP/1.1\r\nHost: " + host_header(opt, host) + "\r\n" +
                                  cookie_line + "Connection: close\r\n\r\n";
          if (!open_connection(c, ctx, opt, target, proxy_ptr, host) ||
              SSL_write(c.ssl, req.data(), static_cast<int>(req.size())) <= 0 || !read_response(c.ssl, buf)) {
            failed++;
            ERR_clear_error();
            continue;
          }
          SSL_shutdown(c.ssl);
          lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          ok++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[static_cast<std::size_t>(p * static_cast<double>(all.size() - 1))];
  };
  std::printf("{\"mode\":\"%s\",\"requests\":%ld,\"failed\":%ld,\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
              opt.mode.c_str(), ok.load(), failed.load(), static_cast<double>(ok.load()) / elapsed, pct(0.5),
              pct(0.99));
  SSL_CTX_free(ctx);
  return 0;
}
