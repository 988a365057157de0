#include "core_test_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace consent::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Blocking read with a deadline: >0 bytes, 0 on EOF, -1 on timeout or error.
ssize_t read_with_deadline(int fd, char* data, std::size_t size, Clock::time_point deadline) {
  pollfd p{fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, remaining_ms(deadline));
  if (ready <= 0) return -1;
  const auto n = ::read(fd, data, size);  // not recv(): also used on pipes
  if (n < 0) return -1;
  return n;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string query_value(const std::string& query, const std::string& key, std::size_t nth = 0) {
  std::size_t pos = 0;
  std::size_t seen = 0;
  while (pos <= query.size()) {
    auto end = query.find('&', pos);
    if (end == std::string::npos) end = query.size();
    const auto item = query.substr(pos, end - pos);
    const auto eq = item.find('=');
    if (eq != std::string::npos && item.substr(0, eq) == key) {
      if (seen++ == nth) return item.substr(eq + 1);
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------- TestOrigin

TestOrigin::TestOrigin(SSL_CTX* tls) : tls_(tls) {
  if (tls_ != nullptr) SSL_CTX_up_ref(tls_);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    throw std::runtime_error("test origin: cannot listen");
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestOrigin::~TestOrigin() {
  stopping_ = true;
  acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  ::close(listen_fd_);
  if (tls_ != nullptr) SSL_CTX_free(tls_);
}

std::vector<SeenRequest> TestOrigin::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::optional<SeenRequest> TestOrigin::last_request() const {
  std::lock_guard lock(mutex_);
  if (requests_.empty()) return std::nullopt;
  return requests_.back();
}

std::size_t TestOrigin::request_count() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

void TestOrigin::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const auto number = ++connections_;
    std::lock_guard lock(mutex_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd, number] { serve(fd, number); });
  }
}

void TestOrigin::serve(int fd, std::uint64_t number) {
  SSL* ssl = nullptr;
  // Closed under the lock so the destructor never shuts down a number the kernel already reused.
  const auto forget = [this, &ssl](int which) {
    if (ssl != nullptr) SSL_free(ssl);
    ssl = nullptr;
    std::lock_guard lock(mutex_);
    fds_.erase(std::remove(fds_.begin(), fds_.end(), which), fds_.end());
    ::close(which);
  };
  std::string sni;
  if (tls_ != nullptr) {
    // Blocking handshake bounded by socket timeouts: a client that never speaks cannot hold the test.
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ssl = SSL_new(tls_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      ERR_clear_error();
      ++tls_failures_;
      forget(fd);
      return;
    }
    if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) sni = name;
  }
  std::string in;
  char chunk[65536];
  const auto read_some = [&](Clock::time_point deadline) -> ssize_t {
    if (ssl == nullptr) return read_with_deadline(fd, chunk, sizeof chunk, deadline);
    if (SSL_pending(ssl) == 0) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return -1;
    }
    const int n = SSL_read(ssl, chunk, static_cast<int>(sizeof chunk));
    if (n <= 0) {
      const bool closed = SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN;
      ERR_clear_error();
      return closed ? 0 : -1;
    }
    return n;
  };
  const auto fill = [&](Clock::time_point deadline) {
    const auto n = read_some(deadline);
    if (n <= 0) return false;
    in.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  const auto send_all = [&](std::string_view bytes) {
    if (ssl == nullptr) return write_all(fd, bytes);
    while (!bytes.empty()) {
      const int n = SSL_write(ssl, bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 20)));
      if (n <= 0) {
        ERR_clear_error();
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  };
  for (;;) {
    const auto deadline = Clock::now() + 20s;
    std::size_t end = 0;
    while ((end = in.find("\r\n\r\n")) == std::string::npos) {
      if (stopping_ || !fill(deadline)) {
        forget(fd);
        return;
      }
    }
    SeenRequest seen;
    seen.connection = number;
    seen.sni = sni;
    std::istringstream head(in.substr(0, end));
    in.erase(0, end + 4);
    std::getline(head, seen.request_line);
    if (!seen.request_line.empty() && seen.request_line.back() == '\r') seen.request_line.pop_back();
    std::string line;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      auto name = lower(line.substr(0, colon));
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      auto& slot = seen.headers[name];
      slot = slot.empty() ? value : slot + "\n" + value;
    }
    // Body: Content-Length or chunked (extensions and trailers ignored).
    if (seen.headers.count("content-length") != 0U) {
      std::uint64_t left = std::stoull(seen.headers["content-length"]);
      while (left > 0) {
        if (in.empty() && !fill(deadline)) {
          forget(fd);
          return;
        }
        const auto take = std::min<std::uint64_t>(left, in.size());
        in.erase(0, take);
        left -= take;
        seen.body_bytes += take;
      }
    } else if (lower(seen.headers["transfer-encoding"]).find("chunked") != std::string::npos) {
      for (;;) {
        std::size_t eol = 0;
        while ((eol = in.find("\r\n")) == std::string::npos) {
          if (!fill(deadline)) {
            forget(fd);
            return;
          }
        }
        const auto size = std::stoull(in.substr(0, eol), nullptr, 16);
        in.erase(0, eol + 2);
        if (size == 0) {
          while ((eol = in.find("\r\n")) != 0) {
            if (eol == std::string::npos) {
              if (!fill(deadline)) {
                forget(fd);
                return;
              }
            } else {
              in.erase(0, eol + 2);
            }
          }
          in.erase(0, 2);
          break;
        }
        std::uint64_t left = size + 2;
        while (left > 0) {
          if (in.empty() && !fill(deadline)) {
            forget(fd);
            return;
          }
          const auto take = std::min<std::uint64_t>(left, in.size());
          in.erase(0, take);
          left -= take;
        }
        seen.body_bytes += size;
      }
    }
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(seen);
    }
    const auto sp1 = seen.request_line.find(' ');
    const auto sp2 = seen.request_line.rfind(' ');
    const auto target = seen.request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto qpos = target.find('?');
    const auto path = target.substr(0, qpos);
    const auto query = qpos == std::string::npos ? std::string() : target.substr(qpos + 1);
    const bool is_head = seen.request_line.rfind("HEAD ", 0) == 0;
    const bool close_after = lower(seen.headers["connection"]).find("close") != std::string::npos;
    std::string extra;
    std::string body = "ok";
    if (path == "/hello") {
      body = "hello";
    } else if (path == "/cookie") {
      body = seen.headers["cookie"];
    } else if (path == "/set-cookie") {
      for (std::size_t i = 0; i < 8; ++i) {
        const auto name = query_value(query, "c", i);
        if (name.empty()) break;
        extra += "Set-Cookie: " + name + "=v1; Max-Age=63072000; Path=/\r\n";
      }
    } else if (path == "/set-consent") {
      extra += "Set-Cookie: eu-consent=" + query_value(query, "v") + "; Path=/\r\n";
    } else if (path == "/echo") {
      body = std::to_string(seen.body_bytes);
    } else if (path == "/slow") {
      const auto ms = std::stoi(query_value(query, "ms"));
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));  // the point of this route: a late first byte
    } else if (path == "/big" || path == "/bigchunked") {
      const auto total = std::stoull(query_value(query, "bytes"));
      const bool chunked = path == "/bigchunked";
      std::string response = "HTTP/1.1 200 OK\r\n";
      response += chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + std::to_string(total) + "\r\n";
      response += "\r\n";
      if (!send_all(response)) break;
      const std::string block(65536, 'x');
      std::uint64_t sent = 0;
      bool ok = true;
      while (ok && sent < total) {
        const auto n = std::min<std::uint64_t>(block.size(), total - sent);
        if (chunked) {
          std::ostringstream h;
          h << std::hex << n << "\r\n";
          ok = send_all(h.str());
        }
        ok = ok && send_all(std::string_view(block).substr(0, n));
        if (chunked) ok = ok && send_all("\r\n");
        sent += n;
      }
      if (chunked && ok) ok = send_all("0\r\n\r\n");
      if (!ok || close_after) break;
      continue;
    } else if (path == "/close") {
      send_all("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close");
      break;
    } else if (path == "/ws") {
      send_all("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      // Echo whatever arrives until the peer closes.
      const auto ws_deadline = Clock::now() + 10s;
      if (!in.empty()) send_all(in);
      for (;;) {
        const auto n = read_some(ws_deadline);
        if (n <= 0) break;
        send_all(std::string_view(chunk, static_cast<std::size_t>(n)));
      }
      break;
    }
    std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + extra +
                           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    if (!is_head) response += body;
    if (!send_all(response) || close_after) break;
  }
  if (ssl != nullptr) SSL_shutdown(ssl);
  ::shutdown(fd, SHUT_WR);
  forget(fd);
}

// ---------------------------------------------------------------- ProxyProcess

ProxyProcess::ProxyProcess(const ProxyOptions& options) {
  char pattern[] = "/tmp/consentgate-core-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  // The shipped purposes and consent settings, with a small tracker list of our own: the full pack (56k
  // domains) takes seconds to load under sanitizers, and these tests are about the proxy, not the pack.
  const std::filesystem::path source(CONSENT_SOURCE_DIR);
  std::filesystem::create_directories(dir_ / "policies");
  for (const char* file : {"purposes.yaml", "consent.yaml", "necessary.yaml"}) {
    std::filesystem::copy_file(source / "config" / "policies" / file, dir_ / "policies" / file);
  }
  std::filesystem::copy_file(source / "tests" / "fixtures" / "policies" / "trackers.yaml",
                             dir_ / "policies" / "trackers.yaml");
  {
    std::ofstream settings(dir_ / "settings.yaml");
    settings << "mode: " << options.mode << "\n"
             << "listen: 127.0.0.1:0\n"
             << "workers: 2\n"
             << "log: " << (dir_ / "decisions.log").string() << "\n"
             << "connect_ports: " << options.connect_ports << "\n"
             << "timeouts:\n"
             << options.timeouts_yaml;
    if (!options.limits_yaml.empty()) settings << "limits:\n" << options.limits_yaml;
    settings << options.settings_yaml << "policies:\n  - policies\n";
  }
  // The interception CA lives in the test's directory, never in the user's data directory.
  data_dir_ = options.data_dir.empty() ? dir_ / "data" : std::filesystem::path(options.data_dir);
  std::vector<std::string> args{CONSENTGATE_BINARY, "run", "--config", (dir_ / "settings.yaml").string(), "--data-dir",
                                data_dir_.string()};
  for (const auto& rule : options.connect_to_first) {
    args.push_back("--connect-to");
    args.push_back(rule);
  }
  if (options.origin_port != 0) {
    args.push_back("--connect-to");
    args.push_back("::127.0.0.1:" + std::to_string(options.origin_port));
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());

  const int out_fd = spawn_with_stdout(args, dir_ / "stderr.log", pid_);
  // The first line of stdout is the bound address.
  std::string line;
  const auto deadline = Clock::now() + 20s;
  char c = 0;
  while (line.find('\n') == std::string::npos) {
    const auto n = read_with_deadline(out_fd, &c, 1, deadline);
    if (n <= 0) break;
    line += c;
  }
  ::close(out_fd);  // stdout is not used afterwards: the decision log goes to a file
  const std::string prefix = "listening on 127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) {
    ::kill(pid_, SIGKILL);
    wait_exit(5s);
    const auto message = "consentgate did not start: \"" + line + "\" stderr: " + stderr_text();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw std::runtime_error(message);
  }
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
}

ProxyProcess::~ProxyProcess() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!wait_exit(10s)) {
      ::kill(pid_, SIGKILL);
      wait_exit(5s);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string ProxyProcess::log_text() const {
  std::ifstream in(log_path());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ProxyProcess::stderr_text() const {
  std::ifstream in(dir_ / "stderr.log");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ProxyProcess::wait_for_log(const std::string& needle, std::chrono::milliseconds limit) const {
  const auto deadline = Clock::now() + limit;
  for (int i = 0; i < 1000 && Clock::now() < deadline; ++i) {
    if (log_text().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);  // polling a file another process appends to; bounded by `limit`
  }
  return log_text().find(needle) != std::string::npos;
}

bool ProxyProcess::wait_for_stderr(const std::string& needle, std::chrono::milliseconds limit) const {
  const auto deadline = Clock::now() + limit;
  for (int i = 0; i < 1000 && Clock::now() < deadline; ++i) {
    if (stderr_text().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return stderr_text().find(needle) != std::string::npos;
}

void ProxyProcess::signal(int number) const {
  if (!exited_ && pid_ > 0) ::kill(pid_, number);
}

std::optional<int> ProxyProcess::wait_exit(std::chrono::milliseconds limit) {
  if (exited_) return 0;
  const auto deadline = Clock::now() + limit;
  for (int i = 0; i < 100000 && Clock::now() < deadline; ++i) {
    int status = 0;
    const auto r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

std::uint64_t ProxyProcess::rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

// ---------------------------------------------------------------- RawClient

RawClient::RawClient(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(const std::string& bytes) { return fd_ >= 0 && write_all(fd_, bytes); }

std::string RawClient::read_some(std::chrono::milliseconds limit) {
  char chunk[65536];
  const auto n = read_with_deadline(fd_, chunk, sizeof chunk, Clock::now() + limit);
  if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
  if (n == 0) closed_ = true;
  return buffer_;
}

std::string RawClient::read_until(const std::string& needle, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  char chunk[65536];
  while (buffer_.find(needle) == std::string::npos && !closed_) {
    const auto n = read_with_deadline(fd_, chunk, sizeof chunk, deadline);
    if (n < 0) break;
    if (n == 0) {
      closed_ = true;
      break;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  return buffer_;
}

std::string RawClient::read_until_close(std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  char chunk[65536];
  while (!closed_) {
    const auto n = read_with_deadline(fd_, chunk, sizeof chunk, deadline);
    if (n < 0) {
      if (Clock::now() >= deadline) break;
      closed_ = true;  // reset
      break;
    }
    if (n == 0) {
      closed_ = true;
      break;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  return buffer_;
}

bool RawClient::wait_closed(std::chrono::milliseconds limit) {
  read_until_close(limit);
  return closed_;
}

void RawClient::shutdown_write() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

// ---------------------------------------------------------------- curl

CurlResult run_curl(const std::vector<std::string>& args) {
  std::vector<std::string> all{"curl", "-s", "--max-time", "10"};
  all.insert(all.end(), args.begin(), args.end());
  return run_process(all);
}

CurlResult run_process(std::vector<std::string> all) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);  // s_client and friends read stdin: give them an immediate EOF
      ::dup2(null, 2);
    }
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  CurlResult result;
  char chunk[65536];
  const auto deadline = Clock::now() + 15s;
  for (;;) {
    const auto n = read_with_deadline(out[0], chunk, sizeof chunk, deadline);
    if (n <= 0) break;
    result.out.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t count = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++count;
  return count;
}

int spawn_with_stdout(std::vector<std::string> args, const std::filesystem::path& stderr_path, pid_t& pid) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const auto err_path = stderr_path.string();
  pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err >= 0) ::dup2(err, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  return out[0];
}

}  // namespace consent::test
