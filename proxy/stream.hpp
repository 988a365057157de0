#pragma once
// A connection's byte stream, on either side of the proxy: plain TCP, or TLS over TCP (client side after
// an intercepted CONNECT or on a gateway HTTPS listener; upstream side towards https origins). The one
// pipeline (STYLE section 5, issue 4) runs over it whatever the transport.
//
// TLS drives OpenSSL directly on the non-blocking socket (SSL_set_fd) and waits for readiness with
// async_wait: no BIO pair and no Asio ssl::stream buffers, which cost ~68 KiB per connection whatever
// its state. With SSL_MODE_RELEASE_BUFFERS (tls/contexts.cpp) an idle TLS connection holds OpenSSL's SSL
// object and nothing else.
//
// Timeouts: arm() sets one deadline for the operations that follow, until the next arm()/disarm().
// Plain: the beast::tcp_stream expiry (which closes the socket). TLS: each readiness wait races a timer
// (the socket stays open). Either way an expiry completes the operation with beast::error::timeout.
// read_some_until() never closes, plain or TLS, so a 408 can still be written after it.
//
// Errors: Asio/system codes for the socket, asio::error::eof for an orderly or unannounced close (TLS
// peers that close without close_notify are common; HTTP framing detects truncation), and OpenSSL errors
// in asio::error::get_ssl_category() (value = ERR_peek_last_error()).
//
// Not thread-safe: one strand. At most one read and one write may be outstanding at once (tunnels).
// The socket object keeps its address for the Stream's life (SessionControl points at it), also when
// start_tls() turns a plain stream into a TLS one; moving the Stream moves the socket.
#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>
#include <tuple>

#include "proxy/asio_fwd.hpp"
#include "tls/openssl_ptr.hpp"

namespace consent::proxy {

class Stream {
 public:
  enum class Role { server, client };
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr time_point never = time_point::max();

  explicit Stream(beast::tcp_stream connection) noexcept;
  Stream(Stream&&) noexcept;
  Stream& operator=(Stream&&) = delete;  // beast::tcp_stream cannot be move-assigned
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  [[nodiscard]] bool is_tls() const noexcept { return ssl_ != nullptr; }
  // The TLS session (null when plain): SNI, ALPN, verify result, peer certificate.
  [[nodiscard]] SSL* ssl() const noexcept { return ssl_.get(); }
  [[nodiscard]] tcp::socket& socket() noexcept { return tcp_.socket(); }
  [[nodiscard]] bool is_open() const noexcept { return tcp_.socket().is_open(); }

  // Zero = no limit (STYLE section 6).
  void arm(std::chrono::milliseconds timeout);
  void disarm();

  // Turns this plain connection into TLS with `ssl` (already configured by the caller: leaf callback,
  // SNI, verification parameters) and runs the handshake within `timeout`. On failure the SSL stays
  // attached so the caller can read SSL_get_verify_result() and the peer's alert from the error.
  // `preread`: bytes already read from the peer that belong to the handshake (a ClientHello sent right
  // behind a CONNECT); OpenSSL consumes them before reading the socket.
  asio::awaitable<error_code> start_tls(tls::SslPtr ssl, Role role, std::chrono::milliseconds timeout,
                                        std::string_view preread = {});

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer buffer);
  // Like read_some, bounded by `deadline` (never = none); expiry cancels the read, never the connection.
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some_until(asio::mutable_buffer buffer,
                                                                       time_point deadline);
  asio::awaitable<error_code> write(std::string_view bytes);
  // All pieces, in order. TLS: small pieces are gathered into one record rather than one record each.
  asio::awaitable<error_code> write(std::span<const asio::const_buffer> pieces);

  // True once bytes can be read (TLS: also when OpenSSL already holds decrypted bytes); false on
  // timeout (zero = none), error or cancellation. Holds no buffer while it waits.
  asio::awaitable<bool> wait_readable(std::chrono::milliseconds timeout);

  // No more writes: TLS close_notify (best effort, no wait for the peer's), then TCP FIN.
  void shutdown_send() noexcept;
  void close() noexcept;

  // For pooled idle connections: open, silent, and nothing buffered inside OpenSSL. Bytes from an idle
  // upstream (stray data, a close_notify) make a connection unusable (issue 3: never reuse after them).
  [[nodiscard]] bool is_idle_alive() noexcept;

 private:
  template <class Op>
  asio::awaitable<error_code> run_ssl(Op op, time_point deadline);
  asio::awaitable<error_code> wait_ready(int want, time_point deadline);

  beast::tcp_stream tcp_;
  tls::SslPtr ssl_;              // declared after tcp_: freed first, never closes the socket itself
  time_point deadline_ = never;  // TLS only; plain streams use tcp_'s expiry
  bool is_plain_armed_ = false;
  bool is_prereading_ = false;  // TLS: the read BIO still holds bytes read before start_tls()  // plain: tcp_'s expiry
                                // is set, so operations go through tcp_
};

// Zero means "disabled" (STYLE section 6), never "expire now".
inline void arm(Stream& stream, std::chrono::milliseconds timeout) { stream.arm(timeout); }

}  // namespace consent::proxy
