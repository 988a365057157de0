#include "proxy/stream.hpp"

#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <cerrno>
#include <string>
#include <variant>

// GCC 12, optimising: once Asio's awaitable-frame operator new (aligned_alloc inside its recycling
// allocator) and its operator delete are both inlined into a coroutine, -Wmismatched-new-delete pairs them
// wrongly. A false positive: Asio frees those frames with the matching aligned deallocation.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace consent::proxy {

using namespace asio::experimental::awaitable_operators;

namespace {

// Pieces up to this size are gathered into one TLS record (chunk header + body + CRLF): one record and
// one syscall instead of three. Bigger bodies are written as they are.
constexpr std::size_t gather_bytes = 16 * 1024;

error_code ssl_error_from_queue() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return asio::error::eof;
  return {static_cast<int>(code), asio::error::get_ssl_category()};
}

}  // namespace

Stream::Stream(beast::tcp_stream connection) noexcept : tcp_(std::move(connection)) {}
Stream::Stream(Stream&&) noexcept = default;
Stream::~Stream() = default;

void Stream::arm(std::chrono::milliseconds timeout) {
  if (ssl_) {
    deadline_ = timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout : never;
    return;
  }
  is_plain_armed_ = timeout.count() > 0;
  if (is_plain_armed_) {
    tcp_.expires_after(timeout);
  } else {
    tcp_.expires_never();
  }
}

void Stream::disarm() {
  deadline_ = never;
  is_plain_armed_ = false;
  tcp_.expires_never();
}

asio::awaitable<error_code> Stream::wait_ready(int want, time_point deadline) {
  auto& socket = tcp_.socket();
  const auto type = want == SSL_ERROR_WANT_WRITE ? tcp::socket::wait_write : tcp::socket::wait_read;
  if (deadline == never) {
    auto [ec] = co_await socket.async_wait(type, use_nothrow);
    co_return ec;
  }
  if (std::chrono::steady_clock::now() >= deadline) co_return beast::error::timeout;
  asio::steady_timer timer(socket.get_executor(), deadline);
  auto raced = co_await (socket.async_wait(type, use_nothrow) || timer.async_wait(use_nothrow));
  if (raced.index() == 1) co_return beast::error::timeout;
  auto [ec] = std::get<0>(raced);
  co_return ec;
}

// Runs `op` (an SSL call returning 1 when done) until it completes, waiting for the socket as OpenSSL
// asks. `op` is a plain callable, not a coroutine; it outlives every suspension (a parameter).
template <class Op>
asio::awaitable<error_code> Stream::run_ssl(Op op, time_point deadline) {
  for (;;) {
    if (!ssl_) co_return asio::error::bad_descriptor;
    ERR_clear_error();
    errno = 0;
    const int rc = op(ssl_.get());
    if (rc == 1) co_return error_code{};
    const int err = SSL_get_error(ssl_.get(), rc);
    switch (err) {
      case SSL_ERROR_WANT_READ:
        if (is_prereading_) {
          // The pre-read bytes are consumed: from now on OpenSSL reads the socket.
          is_prereading_ = false;
          BIO* socket_bio = BIO_new_socket(static_cast<int>(tcp_.socket().native_handle()), BIO_NOCLOSE);
          if (socket_bio == nullptr) co_return ssl_error_from_queue();
          SSL_set0_rbio(ssl_.get(), socket_bio);
          continue;
        }
        [[fallthrough]];
      case SSL_ERROR_WANT_WRITE: {
        if (auto ec = co_await wait_ready(err, deadline)) co_return ec;
        continue;
      }
      case SSL_ERROR_ZERO_RETURN:
        co_return asio::error::eof;
      case SSL_ERROR_SYSCALL: {
        const int saved = errno;
        if (ERR_peek_last_error() != 0) co_return ssl_error_from_queue();
        if (saved == 0) co_return asio::error::eof;
        co_return error_code(saved, boost::system::system_category());
      }
      default:
        co_return ssl_error_from_queue();
    }
  }
}

asio::awaitable<error_code> Stream::start_tls(tls::SslPtr ssl, Role role, std::chrono::milliseconds timeout,
                                              std::string_view preread) {
  tcp_.expires_never();
  is_plain_armed_ = false;
  ssl_ = std::move(ssl);
  error_code ec;
  tcp_.socket().non_blocking(true, ec);
  if (ec) co_return ec;
  const int fd = static_cast<int>(tcp_.socket().native_handle());
  BIO* wbio = BIO_new_socket(fd, BIO_NOCLOSE);
  if (wbio == nullptr) co_return ssl_error_from_queue();
  if (preread.empty()) {
    SSL_set_bio(ssl_.get(), wbio, wbio);  // the same BIO both ways: one reference, as SSL_set_fd does
  } else {
    // Bytes the client sent right behind its CONNECT: OpenSSL reads them first, then the socket
    // (run_ssl swaps the read BIO once they are consumed).
    BIO* rbio = BIO_new(BIO_s_mem());
    if (rbio == nullptr) {
      BIO_free(wbio);
      co_return ssl_error_from_queue();
    }
    BIO_write(rbio, preread.data(), static_cast<int>(preread.size()));
    BIO_ctrl(rbio, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nullptr);  // empty = "retry", not EOF
    is_prereading_ = true;
    SSL_set_bio(ssl_.get(), rbio, wbio);
  }
  // Partial writes let one write loop serve both plain and TLS; moving buffers because a retried
  // SSL_write may come from a different coroutine frame address after a gather.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Many servers (and clients) close without close_notify; HTTP's own framing detects a truncated
  // message, and close-delimited bodies end exactly this way (RFC 9112 section 9.8).
  SSL_set_options(ssl_.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (role == Role::server) {
    SSL_set_accept_state(ssl_.get());
  } else {
    SSL_set_connect_state(ssl_.get());
  }
  const auto deadline = timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout : never;
  ec = co_await run_ssl([](SSL* s) { return SSL_do_handshake(s); }, deadline);
  deadline_ = never;
  co_return ec;
}

asio::awaitable<std::tuple<error_code, std::size_t>> Stream::read_some(asio::mutable_buffer buffer) {
  if (!ssl_) {
    // Unarmed: the socket itself, whose operations honour per-operation cancellation (tunnels race
    // their relays against a watchdog with ||).
    if (!is_plain_armed_) co_return co_await tcp_.socket().async_read_some(buffer, use_nothrow);
    co_return co_await tcp_.async_read_some(buffer, use_nothrow);
  }
  std::size_t n = 0;
  auto ec = co_await run_ssl([&](SSL* s) { return SSL_read_ex(s, buffer.data(), buffer.size(), &n); }, deadline_);
  co_return std::tuple{ec, n};
}

asio::awaitable<std::tuple<error_code, std::size_t>> Stream::read_some_until(asio::mutable_buffer buffer,
                                                                             time_point deadline) {
  if (ssl_) {
    std::size_t n = 0;
    auto ec = co_await run_ssl([&](SSL* s) { return SSL_read_ex(s, buffer.data(), buffer.size(), &n); }, deadline);
    co_return std::tuple{ec, n};
  }
  tcp_.expires_never();
  is_plain_armed_ = false;
  if (deadline == never) co_return co_await tcp_.socket().async_read_some(buffer, use_nothrow);
  // Not the tcp_stream expiry: it would close the socket, and the 408 could no longer be sent.
  asio::steady_timer timer(tcp_.get_executor(), deadline);
  auto raced = co_await (tcp_.socket().async_read_some(buffer, use_nothrow) || timer.async_wait(use_nothrow));
  if (raced.index() == 1) co_return std::tuple{error_code(beast::error::timeout), std::size_t{0}};
  co_return std::get<0>(raced);
}

asio::awaitable<error_code> Stream::write(std::string_view bytes) {
  if (!ssl_) {
    const auto buffer = asio::buffer(bytes.data(), bytes.size());
    if (!is_plain_armed_) {
      auto [ec, n] = co_await asio::async_write(tcp_.socket(), buffer, use_nothrow);
      co_return ec;
    }
    auto [ec, n] = co_await asio::async_write(tcp_, buffer, use_nothrow);
    co_return ec;
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    std::size_t n = 0;
    const char* from = bytes.data() + done;
    const std::size_t size = bytes.size() - done;
    auto ec = co_await run_ssl([&](SSL* s) { return SSL_write_ex(s, from, size, &n); }, deadline_);
    if (ec) co_return ec;
    done += n;
  }
  co_return error_code{};
}

asio::awaitable<error_code> Stream::write(std::span<const asio::const_buffer> pieces) {
  if (!ssl_) {
    if (!is_plain_armed_) {
      auto [ec, n] = co_await asio::async_write(tcp_.socket(), pieces, use_nothrow);
      co_return ec;
    }
    auto [ec, n] = co_await asio::async_write(tcp_, pieces, use_nothrow);
    co_return ec;
  }
  std::size_t total = 0;
  for (const auto& p : pieces) total += p.size();
  if (pieces.size() > 1 && total <= gather_bytes) {
    std::string gathered;
    gathered.reserve(total);
    for (const auto& p : pieces) gathered.append(static_cast<const char*>(p.data()), p.size());
    co_return co_await write(std::string_view(gathered));
  }
  for (const auto& p : pieces) {
    if (auto ec = co_await write(std::string_view(static_cast<const char*>(p.data()), p.size()))) co_return ec;
  }
  co_return error_code{};
}

asio::awaitable<bool> Stream::wait_readable(std::chrono::milliseconds timeout) {
  if (ssl_ && SSL_pending(ssl_.get()) > 0) co_return true;
  const auto deadline = timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout : never;
  auto ec = co_await wait_ready(SSL_ERROR_WANT_READ, deadline);
  co_return !ec;
}

void Stream::shutdown_send() noexcept {
  if (ssl_) {
    ERR_clear_error();
    // One non-blocking attempt: the close_notify is a courtesy; the TCP FIN below is what ends the stream.
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }
  error_code ignored;
  tcp_.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void Stream::close() noexcept {
  error_code ignored;
  tcp_.socket().close(ignored);
}

bool Stream::is_idle_alive() noexcept {
  auto& socket = tcp_.socket();
  if (!socket.is_open()) return false;
  if (ssl_ && SSL_pending(ssl_.get()) > 0) return false;
  char byte = 0;
  // A peek that would block means "open and silent": the only state in which reuse is safe.
  const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace consent::proxy
