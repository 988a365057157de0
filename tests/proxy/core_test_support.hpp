#pragma once
// Integration test helpers: an HTTP origin on 127.0.0.1 port 0 (in-process, blocking sockets, one thread
// per connection), the real consentgate binary started on 127.0.0.1:0, and raw-socket / curl clients.
// Every wait has a deadline; only processes started here are signalled, by PID.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace consent::test {

using namespace std::chrono_literals;

// What the origin saw of one request (heads only; bodies are counted).
struct SeenRequest {
  std::string request_line;
  std::map<std::string, std::string> headers;  // lower-cased names; repeated ones joined with "\n"
  std::uint64_t body_bytes = 0;
  std::uint64_t connection = 0;  // 1-based number of the connection that carried it
  std::string sni;               // TLS origins: the server name the client sent
};

// Routes (path without query):
//   /hello                 200 "hello" (Content-Length)
//   /cookie                200, body = the Cookie header received
//   /set-cookie?c=NAME     200 with "Set-Cookie: NAME=v1; Max-Age=63072000; Path=/" per c= (repeatable)
//   /set-consent?v=VALUE   200 with "Set-Cookie: eu-consent=VALUE; Path=/"
//   /big?bytes=N           200, N bytes, Content-Length;  /bigchunked?bytes=N: the same, chunked
//   /echo                  200, body = decimal number of request body bytes received
//   /close                 200 without length, body "until close", then closes
//   /slow?ms=N             waits N ms before answering (first-byte timeouts)
//   /ws                    101 Switching Protocols, then echoes bytes back (WebSocket stand-in)
//   anything else          200 "ok"
class TestOrigin {
 public:
  // `tls` non-null: an HTTPS origin presenting that context's certificate (the origin keeps a reference).
  explicit TestOrigin(ssl_ctx_st* tls = nullptr);
  ~TestOrigin();
  TestOrigin(const TestOrigin&) = delete;
  TestOrigin& operator=(const TestOrigin&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::uint64_t connections() const noexcept { return connections_.load(); }
  [[nodiscard]] std::uint64_t tls_failures() const noexcept { return tls_failures_.load(); }
  [[nodiscard]] std::vector<SeenRequest> requests() const;
  [[nodiscard]] std::optional<SeenRequest> last_request() const;
  [[nodiscard]] std::size_t request_count() const;

 private:
  void accept_loop();
  void serve(int fd, std::uint64_t number);
  ssl_ctx_st* tls_ = nullptr;
  std::atomic<std::uint64_t> tls_failures_{0};
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<SeenRequest> requests_;
  std::vector<int> fds_;
  std::thread acceptor_;
  std::vector<std::thread> threads_;
};

struct ProxyOptions {
  std::vector<std::string> extra_args;
  std::vector<std::string> connect_to_first;  // --connect-to rules tried before the catch-all to the origin
  std::string settings_yaml;                  // extra top-level YAML lines appended to the generated settings
  std::string timeouts_yaml =
      "  client_head: 1s\n  connect: 1s\n  first_byte: 2s\n  idle: 5s\n"
      "  keepalive: 5s\n  tunnel_idle: 5s\n  shutdown_grace: 3s\n";
  std::string limits_yaml;  // lines under "limits:"
  std::string connect_ports = "[443]";
  std::uint16_t origin_port = 0;  // every host:port is sent there (--connect-to ::127.0.0.1:PORT)
  std::string mode = "enforce";
  std::string data_dir;  // --data-dir; empty: <dir>/data (the CA is created there on first start)
};

// Options that send every host to `origin`; adjust fields afterwards.
inline ProxyOptions options_for(std::uint16_t origin_port) {
  ProxyOptions o;
  o.origin_port = origin_port;
  return o;
}

// The consentgate binary with a generated config in a fresh temporary directory.
class ProxyProcess {
 public:
  explicit ProxyProcess(const ProxyOptions& options);
  ~ProxyProcess();  // SIGTERM, then SIGKILL after 10 s; never another process
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] std::filesystem::path log_path() const { return dir_ / "decisions.log"; }
  [[nodiscard]] std::filesystem::path policy_dir() const { return dir_ / "policies"; }
  // The interception CA's certificate (created by the proxy in its --data-dir on first start).
  [[nodiscard]] std::filesystem::path ca_path() const { return data_dir_ / "consentgate-ca.pem"; }
  [[nodiscard]] std::string log_text() const;
  [[nodiscard]] std::string stderr_text() const;
  // Waits (bounded) until the decision log contains `needle`.
  [[nodiscard]] bool wait_for_log(const std::string& needle, std::chrono::milliseconds limit = 3s) const;
  [[nodiscard]] bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds limit = 5s) const;
  void signal(int number) const;
  // Waits for exit (bounded); the exit status, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  [[nodiscard]] std::uint64_t rss_kib() const;  // VmRSS from /proc

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  bool exited_ = false;
  std::filesystem::path dir_;
  std::filesystem::path data_dir_;
};

// A blocking client socket with deadlines.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  [[nodiscard]] bool is_connected() const noexcept { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // Reads until `n` bytes are buffered, the peer closes, or `limit` passes; returns everything read so far.
  std::string read_some(std::chrono::milliseconds limit);
  std::string read_until(const std::string& needle, std::chrono::milliseconds limit);
  std::string read_until_close(std::chrono::milliseconds limit);
  // True when the peer closed (EOF or reset) within `limit`.
  bool wait_closed(std::chrono::milliseconds limit);
  void shutdown_write();
  [[nodiscard]] const std::string& buffered() const noexcept { return buffer_; }
  void clear() { buffer_.clear(); }

 private:
  int fd_ = -1;
  std::string buffer_;
  bool closed_ = false;
};

struct CurlResult {
  int exit_code = -1;
  std::string out;  // stdout (with -D - headers first when asked)
};
// Runs curl with `args` (each one argument, no shell), bounded by --max-time 10.
CurlResult run_curl(const std::vector<std::string>& args);
// Runs argv[0] from PATH with stdin and stderr on /dev/null; stdout read for at most 15 s.
CurlResult run_process(std::vector<std::string> argv);

// Starts args[0] (a path) with stdout on a pipe and stderr into `stderr_path`; `pid` gets the child's pid.
// Returns the pipe's read end (the caller closes it).
int spawn_with_stdout(std::vector<std::string> args, const std::filesystem::path& stderr_path, pid_t& pid);

// Counts occurrences of `needle` in `haystack`.
std::size_t count_of(const std::string& haystack, const std::string& needle);

}  // namespace consent::test
