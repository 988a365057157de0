#include "proxy/session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>

#include "policy/host.hpp"
#include "proxy/ca_page.hpp"
#include "proxy/consent_filter.hpp"
#include "proxy/dns_judge.hpp"
#include "proxy/errors.hpp"
#include "proxy/exchange.hpp"
#include "proxy/filter.hpp"
#include "proxy/gateway.hpp"
#include "proxy/http_parser.hpp"
#include "proxy/http_writer.hpp"
#include "proxy/interception.hpp"
#include "proxy/local_reply.hpp"
#include "proxy/stream.hpp"
#include "proxy/tunnel.hpp"
#include "proxy/upstream.hpp"
#include "tls/contexts.hpp"

// GCC 12, optimising: once Asio's awaitable-frame operator new (aligned_alloc inside its recycling
// allocator) and its operator delete are both inlined into a coroutine, -Wmismatched-new-delete pairs them
// wrongly. A false positive: Asio frees those frames with the matching aligned deallocation.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace consent::proxy {

namespace {

// One read never asks for more than this: with the parser consuming what it is offered, a connection's
// buffer stays near this size whatever the body size (issue 3: bounded memory per connection).
constexpr std::size_t read_chunk_bytes = 16 * 1024;
// After an error reply, how much of the client's unread request we swallow so that closing does not reset
// the connection before the client read our reply (RFC 9112 section 9.6, "lingering close").
constexpr std::size_t linger_bytes = 256 * 1024;
constexpr std::chrono::milliseconds linger_time{500};
// The read that waits for a request on an idle keep-alive connection: most request heads fit, and 2,000 idle
// connections hold 2 MB for it.
constexpr std::size_t idle_read_bytes = 1024;
// 103 Early Hints relayed per exchange at most (an origin may send several, RFC 8297 section 2).
constexpr int max_early_hints = 8;

// The proxy's own host (issue 4, like mitmproxy's mitm.it): answered here, never forwarded.
constexpr std::string_view magic_host = ca_page_host;

std::string_view view_of(const beast::flat_buffer& b) {
  const auto d = b.data();
  return {static_cast<const char*>(d.data()), d.size()};
}

std::int64_t epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Inside an intercepted CONNECT: the name the client's TLS verified and the port it asked for. Every inner
// request must address exactly these (see check_intercepted_target).
struct InterceptedTarget {
  std::string tls_name;
  std::uint16_t port = 443;
};

// The session's one timer. Every wait of a session -- keep-alive, request head, first byte, idle I/O,
// lingering close -- sets a deadline here, and setting it is a store, not a timer operation. The timer wakes
// at most every `tick` (the shortest configured timeout, so a deadline set later than a pending wake never
// needs a re-arm) and, once the deadline has passed, cancels what the session's sockets are doing: that
// operation completes with operation_aborted, which timed() reports as beast::error::timeout.
// Why not Beast's per-operation expiry or `read || timer`: each read or write then added and cancelled a
// timer (plus one more completion), and `||` spawned two child coroutines per read; together about a
// quarter of the CPU per exchange (bench/results/forward-http-profile.md).
class Watchdog {
 public:
  using time_point = Stream::time_point;

  Watchdog(const asio::any_io_executor& executor, SessionControl* control, std::chrono::milliseconds tick)
      : state_(std::make_shared<State>(executor, control, std::max(tick, std::chrono::milliseconds(100)))) {}
  ~Watchdog() {
    // The pending wake (if any) completes later with the state it shares; it must not touch the session.
    state_->control = nullptr;
    state_->timer.cancel();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Zero = no deadline (STYLE section 6).
  void expire_after(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) {
      expire_at(Stream::never);
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    set(now + timeout, now);
  }
  void expire_at(time_point deadline) { set(deadline, std::chrono::steady_clock::now()); }
  void disable() { set(Stream::never, {}); }

  [[nodiscard]] bool has_expired() const noexcept { return state_->expired; }
  // An operation cancelled by this watchdog's expiry is a timeout; anything else is returned as is.
  [[nodiscard]] error_code timed(const error_code& ec) const {
    if (ec == asio::error::operation_aborted && state_->expired) return beast::error::timeout;
    return ec;
  }

 private:
  struct State {
    State(const asio::any_io_executor& executor, SessionControl* c, std::chrono::milliseconds t)
        : timer(executor), control(c), tick(t) {}
    asio::steady_timer timer;
    SessionControl* control;  // null once the session ended
    std::chrono::milliseconds tick;
    time_point deadline = Stream::never;
    time_point wake = Stream::never;  // expiry of the pending wait; never = none pending
    std::uint64_t wait_id = 0;        // a wake superseded by an earlier one is ignored
    bool expired = false;
  };

  void set(time_point deadline, time_point now) {
    auto& st = *state_;
    st.expired = false;
    st.deadline = deadline;
    if (deadline == Stream::never) return;
    if (st.wake == Stream::never || deadline < st.wake) wait(state_, std::min(deadline, now + st.tick));
  }

  static void wait(const std::shared_ptr<State>& st, time_point at) {
    st->wake = at;
    st->timer.expires_at(at);
    st->timer.async_wait([st, id = ++st->wait_id](const error_code&) { on_wake(st, id); });
  }

  static void on_wake(const std::shared_ptr<State>& st, std::uint64_t id) {
    if (id != st->wait_id) return;
    st->wake = Stream::never;
    if (st->control == nullptr || st->deadline == Stream::never) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < st->deadline) {
      wait(st, std::min(st->deadline, now + st->tick));
      return;
    }
    st->expired = true;
    error_code ignored;
    if (st->control->client != nullptr) st->control->client->cancel(ignored);
    if (st->control->upstream != nullptr) st->control->upstream->cancel(ignored);
  }

  std::shared_ptr<State> state_;
};

// What a session shares with its sub-coroutines, each awaited at once (STYLE section 5).
struct SessionContext {
  Stream& client;
  beast::flat_buffer& in;
  std::shared_ptr<const Runtime> runtime;
  Worker* worker;
  SessionControl* control;
  const ListenerContext& listener;
  Watchdog& watchdog;
  // The configuration in force, taken once per exchange (Runtime::generation() locks a mutex shared by
  // every worker); an exchange keeps its own copy until it ends.
  std::shared_ptr<const Generation> generation;
  std::string client_address;
  std::optional<InterceptedTarget> intercepted;
};

// Reads what is there (up to max_bytes) into `buffer`, bounded by the watchdog's current deadline.
// A plain stream is read through its socket directly: the session never arms a Stream (the watchdog does
// the timing), so Stream::read_some would only add a coroutine frame per read.
asio::awaitable<error_code> read_more(Stream& stream, beast::flat_buffer& buffer, const Watchdog& watchdog,
                                      std::size_t max_bytes = read_chunk_bytes) {
  error_code ec;
  std::size_t n = 0;
  if (stream.is_tls()) {
    std::tie(ec, n) = co_await stream.read_some(buffer.prepare(max_bytes));
  } else {
    std::tie(ec, n) = co_await stream.socket().async_read_some(buffer.prepare(max_bytes), use_nothrow);
  }
  buffer.commit(n);
  co_return watchdog.timed(ec);
}

asio::awaitable<void> close_gracefully(Stream& stream, Watchdog& watchdog) {
  stream.shutdown_send();
  watchdog.expire_after(linger_time);
  std::array<char, 4096> sink{};
  std::size_t total = 0;
  while (total < linger_bytes) {
    auto [ec, n] = co_await stream.read_some(asio::buffer(sink));
    total += n;
    if (ec) break;
  }
  stream.close();
}

ReplyKind reply_kind_for_request_error(const error_code& ec) {
  switch (status_for(ec, MessageSide::request)) {
    case 414:
      return ReplyKind::uri_too_long;
    case 431:
      return ReplyKind::header_fields_too_large;
    default:
      return ReplyKind::bad_request;
  }
}

ReplyKind reply_kind_for_upstream_error(const error_code& ec) {
  if (ec == errc::upstream_timeout || ec == errc::upstream_first_byte_timeout) return ReplyKind::upstream_timeout;
  if (ec == errc::upstream_unreachable) return ReplyKind::upstream_unreachable;
  if (ec == errc::upstream_bad_response) return ReplyKind::upstream_bad_response;
  return ReplyKind::upstream_reset;
}

// A failed upstream verification, by the reason the person reading the 502 page can act on.
ReplyKind reply_kind_for_verify_result(long result) {
  switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return ReplyKind::upstream_tls_expired;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return ReplyKind::upstream_tls_wrong_host;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return ReplyKind::upstream_tls_unknown_issuer;
    default:
      return ReplyKind::upstream_tls_failed;
  }
}

// Writes a local reply; true when the client connection may carry another request.
asio::awaitable<bool> send_local_reply(SessionContext& s, const LocalReply& reply, bool may_keep_alive) {
  s.watchdog.expire_after(s.generation->settings.timeouts.idle);
  const auto ec = co_await s.client.write(reply.bytes);
  co_return !ec && may_keep_alive && !reply.closes_connection;
}

enum class BodyEnd { complete, source_failed, sink_failed, malformed };

struct Relayed {
  BodyEnd end = BodyEnd::complete;
  bool wrote_any = false;  // false: not even the prefix went out, so the caller may still answer instead
};

// What relay_body has parsed from one read and not yet written: a head, body views, chunk framing, the last
// chunk. They go out in one gathered write (a small response is one sendmsg, not one per piece; profile:
// a send costs ~6% of an exchange on loopback). The views point into the source buffer, whose bytes stay in
// place after consume() (it only moves the read position) until the next read, which comes after a flush.
class GatherWrite {
 public:
  // Within Asio's 64 buffers per writev, and small enough that relay_body's coroutine frame stays in
  // malloc's per-thread cache (a frame over ~1 KiB took the slow path on every exchange: bench profile).
  static constexpr std::size_t max_pieces = 16;

  [[nodiscard]] bool has_room_for_chunk() const noexcept {
    return count_ + 3 <= max_pieces && headers_used_ < headers_.size();
  }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  void add(std::string_view bytes) noexcept {
    if (!bytes.empty()) pieces_[count_++] = asio::buffer(bytes.data(), bytes.size());
  }
  void add_chunk(std::string_view body) noexcept {
    const auto header = format_chunk_header(body.size(), headers_[headers_used_++]);
    add(header);
    add(body);
    add(crlf);
  }
  [[nodiscard]] std::span<const asio::const_buffer> pieces() const noexcept { return {pieces_.data(), count_}; }
  void clear() noexcept {
    count_ = 0;
    headers_used_ = 0;
  }

 private:
  std::array<asio::const_buffer, max_pieces> pieces_{};
  std::array<ChunkHeaderBuffer, max_pieces / 3> headers_{};
  std::size_t count_ = 0;
  std::size_t headers_used_ = 0;
};

asio::awaitable<bool> write_pending(GatherWrite& pending, Stream& to, Watchdog& watchdog,
                                    std::chrono::milliseconds idle, bool& wrote_any) {
  if (pending.empty()) co_return true;
  watchdog.expire_after(idle);
  const auto pieces = pending.pieces();
  error_code ec;
  if (!to.is_tls()) {
    // Never armed (see read_more): the socket directly, one frame less per write.
    std::size_t n = 0;
    std::tie(ec, n) = co_await asio::async_write(to.socket(), pieces, use_nothrow);
  } else if (pieces.size() == 1) {
    ec = co_await to.write(std::string_view(static_cast<const char*>(pieces[0].data()), pieces[0].size()));
  } else {
    ec = co_await to.write(pieces);
  }
  pending.clear();
  wrote_any = true;
  co_return !ec;
}

// Streams one message body from `parser` (fed from `from`/`in`) to `to`, re-encoded as `out` says, after
// `prefix` (a head, or nothing). Body views point into `in` and are written before `in` is read into again:
// no copy, bounded memory. Pieces of a message that turns out malformed, or whose source fails, are not
// written after the last complete read.
template <class Parser>
asio::awaitable<Relayed> relay_body(Parser& parser, Stream& from, beast::flat_buffer& in, Stream& to, OutBody out,
                                    Watchdog& watchdog, std::chrono::milliseconds idle, std::string_view prefix = {}) {
  GatherWrite pending;
  Relayed r;
  pending.add(prefix);
  std::string last;  // the last chunk and trailers: lives until flushed
  for (;;) {
    auto step = parser.feed(view_of(in));
    switch (step.event) {
      case ParseEvent::body: {
        if (!step.body.empty()) {
          if (!pending.has_room_for_chunk() && !co_await write_pending(pending, to, watchdog, idle, r.wrote_any)) {
            r.end = BodyEnd::sink_failed;
            co_return r;
          }
          if (out == OutBody::chunked) {
            pending.add_chunk(step.body);
          } else {
            pending.add(step.body);
          }
        }
        in.consume(step.consumed);
        break;
      }
      case ParseEvent::message_complete: {
        in.consume(step.consumed);
        if (out == OutBody::chunked) {
          append_last_chunk(&parser.trailers(), last);
          pending.add(last);
        }
        if (!co_await write_pending(pending, to, watchdog, idle, r.wrote_any)) r.end = BodyEnd::sink_failed;
        co_return r;
      }
      case ParseEvent::error:
        in.consume(step.consumed);
        r.end = BodyEnd::malformed;
        co_return r;
      case ParseEvent::head:
        // A second head inside a body cannot happen: the parser stops at message_complete.
        in.consume(step.consumed);
        r.end = BodyEnd::malformed;
        co_return r;
      case ParseEvent::need_more: {
        in.consume(step.consumed);
        // Before reading: the pending views point into `in`, and the peer may wait for them.
        if (!co_await write_pending(pending, to, watchdog, idle, r.wrote_any)) {
          r.end = BodyEnd::sink_failed;
          co_return r;
        }
        watchdog.expire_after(idle);
        const auto ec = co_await read_more(from, in, watchdog);
        if (ec == asio::error::eof) {
          auto end = parser.finish();
          if (end.event == ParseEvent::message_complete) {
            if (out == OutBody::chunked) {
              append_last_chunk(nullptr, last);
              pending.add(last);
            }
            if (!co_await write_pending(pending, to, watchdog, idle, r.wrote_any)) r.end = BodyEnd::sink_failed;
            co_return r;
          }
          r.end = BodyEnd::source_failed;
          co_return r;
        }
        if (ec) {
          r.end = BodyEnd::source_failed;
          co_return r;
        }
        break;
      }
    }
  }
}

// A request body the proxy consumes itself (a gateway CSP report), read whole up to `limit` bytes. nullopt:
// larger, malformed, or the client went away; the caller then answers and closes, never reading on.
asio::awaitable<std::optional<std::string>> read_small_body(SessionContext& s, RequestParser& parser,
                                                            std::size_t limit) {
  std::string body;
  for (;;) {
    const auto step = parser.feed(view_of(s.in));
    s.in.consume(step.consumed);
    switch (step.event) {
      case ParseEvent::body:
        if (step.body.size() > limit - body.size()) co_return std::nullopt;
        body.append(step.body);
        break;
      case ParseEvent::message_complete:
        co_return body;
      case ParseEvent::error:
      case ParseEvent::head:
        co_return std::nullopt;
      case ParseEvent::need_more: {
        s.watchdog.expire_after(s.generation->settings.timeouts.idle);
        const auto ec = co_await read_more(s.client, s.in, s.watchdog);
        if (ec == asio::error::eof && parser.finish().event == ParseEvent::message_complete) co_return body;
        if (ec) co_return std::nullopt;
        break;
      }
    }
  }
}

// An upstream read buffer for one exchange, borrowed from the worker's spares and given back empty.
class BufferLease {
 public:
  explicit BufferLease(Worker& worker) : worker_(worker) {
    if (!worker_.spare_buffers.empty()) {
      buffer = std::move(worker_.spare_buffers.back());
      worker_.spare_buffers.pop_back();
    }
  }
  ~BufferLease() {
    if (worker_.spare_buffers.size() >= Worker::max_spare_buffers || buffer.capacity() > 2 * read_chunk_bytes) return;
    buffer.clear();
    worker_.spare_buffers.push_back(std::move(buffer));
  }
  BufferLease(const BufferLease&) = delete;
  BufferLease& operator=(const BufferLease&) = delete;

  beast::flat_buffer buffer;

 private:
  Worker& worker_;
};

struct UpstreamConnection {
  std::unique_ptr<Stream> stream;  // a pointer: the pool hands it over without moving the Stream
  std::string key;
  bool is_reused = false;
};

// TLS towards the upstream: chain, name (or IP) and SNI verified against the system store plus
// upstream_ca (issue 4). A failure is never forwarded: the caller answers 502 with the returned kind.
asio::awaitable<std::optional<ReplyKind>> start_upstream_tls(SessionContext& s, const Exchange& x, Stream& stream,
                                                             const ConnectAddress& address, std::string_view name) {
  const auto& rt = *s.runtime;
  const auto* tls = rt.interception.get();
  auto ssl = tls != nullptr ? tls->new_upstream(name) : tls::SslPtr{};
  if (!ssl) {
    std::cerr << "consentgate: upstream TLS to " << address.key() << ": no TLS context (exchange " << x.id << ")\n";
    co_return ReplyKind::upstream_tls_failed;
  }
  const auto ec =
      co_await stream.start_tls(std::move(ssl), Stream::Role::client, x.generation->settings.timeouts.tls_handshake);
  if (!ec) co_return std::nullopt;
  rt.stats().upstream_tls_failures.fetch_add(1, std::memory_order_relaxed);
  const long verify = stream.ssl() != nullptr ? SSL_get_verify_result(stream.ssl()) : X509_V_OK;
  const auto kind = verify != X509_V_OK ? reply_kind_for_verify_result(verify) : ReplyKind::upstream_tls_failed;
  // Host and reason only (STYLE section 1: our logs are personal data too).
  std::cerr << "consentgate: upstream TLS to " << name << " (" << address.key() << ") refused: "
            << (verify != X509_V_OK ? tls::describe_verify_result(verify)
                                    : (ec == beast::error::timeout ? std::string("handshake timeout") : ec.message()))
            << " [" << reason_code_of(kind) << "] (exchange " << x.id << ")\n";
  co_return kind;
}

// nullopt: connected (fresh or pooled); else the reply to send.
asio::awaitable<std::optional<ReplyKind>> open_upstream(SessionContext& s, const Exchange& x, UpstreamConnection& up,
                                                        bool allow_pool) {
  const auto& g = *x.generation;
  ConnectAddress address{x.host, std::to_string(x.port)};
  if (x.upstream.address) {
    address = *x.upstream.address;  // a gateway route's origin: the operator's choice, no connect-to
  } else if (auto target = g.connect_to.lookup(x.host, x.port)) {
    address = ConnectAddress{std::string(target->host), std::to_string(target->port)};
  }
  const bool is_tls = x.upstream.tls;
  const std::string_view tls_name = x.upstream.tls_name.empty() ? std::string_view(x.host) : x.upstream.tls_name;
  up.key = upstream_key(address.key(), is_tls, tls_name);
  if (allow_pool) {
    if (auto pooled = s.worker->pool.take(up.key)) {
      up.stream = std::move(pooled);
      up.is_reused = true;
      s.runtime->stats().upstream_reuses.fetch_add(1, std::memory_order_relaxed);
      s.control->upstream = &up.stream->socket();
      co_return std::nullopt;
    }
  }
  up.is_reused = false;
  s.watchdog.disable();  // connect and TLS handshake have their own timeouts
  // dns (issue 5): names resolved by c-ares with the dns settings; a DNS failure has its own 502 page.
  auto [ec, connected] = co_await connect_upstream(address, g.settings.timeouts.connect, g.settings.dns);
  if (ec) {
    s.runtime->stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
    co_return is_dns_error(ec) ? ReplyKind::upstream_dns_failed : reply_kind_for_upstream_error(ec);
  }
  s.runtime->stats().upstream_connects.fetch_add(1, std::memory_order_relaxed);
  up.stream = std::make_unique<Stream>(std::move(connected));
  s.control->upstream = &up.stream->socket();
  if (is_tls) {
    if (auto kind = co_await start_upstream_tls(s, x, *up.stream, address, tls_name)) {
      s.control->upstream = nullptr;
      up.stream.reset();
      co_return kind;
    }
  }
  co_return std::nullopt;
}

void release_upstream(SessionContext& s, UpstreamConnection& up, bool is_reusable) {
  s.control->upstream = nullptr;
  if (!up.stream) return;
  if (is_reusable && !s.control->is_draining) {
    s.worker->pool.give(up.key, std::move(up.stream));
  } else {
    up.stream->close();
  }
  up.stream.reset();
}

asio::awaitable<bool> reply_error(SessionContext& s, Exchange& x, ReplyKind kind) {
  auto options = x.reply_options();
  const auto reply = LocalReply::error(kind, options);
  co_return co_await send_local_reply(s, reply, x.request.keep_alive && !x.request.has_body());
}

// http://consentgate.ca/ (plain or intercepted): the CA page, answered here and never forwarded.
asio::awaitable<bool> reply_magic_host(SessionContext& s, Exchange& x) {
  const auto* interception = s.runtime->interception.get();
  if (interception == nullptr || interception->ca() == nullptr) {
    co_return co_await reply_error(s, x, ReplyKind::forbidden_loop);
  }
  if (x.request.method != Method::get && x.request.method != Method::head) {
    co_return co_await reply_error(s, x, ReplyKind::method_not_allowed);
  }
  const auto reply = ca_page(*interception->ca(), x.path_and_query, x.reply_options());
  co_return co_await send_local_reply(s, reply, x.request.keep_alive && !x.request.has_body());
}

// Interception (issue 4): answer 200, then be the TLS server with a leaf minted for the client's SNI (or
// the CONNECT host). True when the session goes on reading requests over TLS.
asio::awaitable<bool> intercept_connect(SessionContext& s, Exchange& x) {
  const auto& rt = *s.runtime;
  const auto& timeouts = x.generation->settings.timeouts;
  s.watchdog.expire_after(timeouts.idle);
  if (co_await s.client.write(LocalReply::connection_established().bytes)) co_return false;
  s.watchdog.disable();  // the handshake has its own timeout
  LeafSelection selection;
  selection.connect_host = x.host;
  auto ssl = rt.interception->new_client_facing(&selection);
  if (!ssl) {
    std::cerr << "consentgate: cannot create a TLS session for " << x.host << '\n';
    co_return false;
  }
  // Bytes behind the CONNECT head (a ClientHello sent without waiting for our 200) go to OpenSSL first.
  const std::string pending(view_of(s.in));
  s.in.consume(s.in.size());
  const auto ec = co_await s.client.start_tls(std::move(ssl), Stream::Role::server, timeouts.tls_handshake, pending);
  Interception::end_selection(s.client.ssl());
  if (ec) {
    rt.stats().client_tls_failures.fetch_add(1, std::memory_order_relaxed);
    if (!selection.error.empty()) {
      std::cerr << "consentgate: no certificate for " << x.host << ": " << selection.error << '\n';
    } else if (is_untrusted_ca_alert(ec) && rt.interception->is_first_untrusted(s.client_address)) {
      // Once per client address: a browser retries many hosts, the operator needs one line.
      std::cerr << "consentgate: client " << s.client_address << " refused our certificate for " << x.host
                << " (it does not trust the consentgate CA); install the CA: consentgate ca install-help\n";
    }
    co_return false;
  }
  rt.stats().intercepted_connections.fetch_add(1, std::memory_order_relaxed);
  // A resumed session selected no certificate: the name comes from its SNI as it would have.
  if (selection.tls_name.empty()) selection.tls_name = tls_name_of(s.client.ssl(), x.host);
  s.intercepted = InterceptedTarget{selection.tls_name, x.port};
  co_return true;
}

// Browsers authenticate to a proxy on the CONNECT only, never inside the TLS they then speak. So an
// intercepted CONNECT runs proxy_auth alone (the consent decision needs the inner request's Referer and
// cookies, and is taken there exactly as for plain HTTP), and the requests inside it run the default chain
// without proxy_auth: the tunnel they travel in was authenticated.
FilterChain default_chain_where(bool keep_auth) {
  FilterChain chain = default_chain();
  auto& r = chain.request;
  r.erase(std::remove_if(r.begin(), r.end(),
                         [keep_auth](const auto& f) { return (f->name() == "proxy_auth") != keep_auth; }),
          r.end());
  if (keep_auth) chain.response.clear();
  return chain;
}

const FilterChain& auth_only_chain() {
  static const FilterChain chain = default_chain_where(true);
  return chain;
}

const FilterChain& intercepted_chain() {
  static const FilterChain chain = default_chain_where(false);
  return chain;
}

// CONNECT host:port: refused by port; intercepted (tls.intercept, a CA, not a passthrough host: only
// proxy_auth runs here) or judged by host name and tunnelled blind (a tracker host gets 403).

asio::awaitable<bool> run_connect(SessionContext& s, RequestParser& parser, Exchange& x) {
  const auto& g = *x.generation;
  if (s.intercepted) co_return co_await reply_error(s, x, ReplyKind::bad_request);  // no CONNECT in CONNECT
  const auto target = x.request.parsed_target();
  if (!target || target->form != TargetForm::authority) co_return co_await reply_error(s, x, ReplyKind::bad_request);
  auto host = policy::normalise_host(target->authority.host);
  if (!host) co_return co_await reply_error(s, x, ReplyKind::bad_request);
  x.host = std::move(*host);
  x.port = target->authority.port;
  x.path_and_query = "/";
  const auto& ports = g.settings.connect_ports;
  if (std::find(ports.begin(), ports.end(), x.port) == ports.end()) {
    co_await reply_error(s, x, ReplyKind::forbidden_connect_port);
    co_return false;
  }
  const auto* tls = s.runtime->interception.get();
  const bool can_intercept = tls != nullptr && tls->is_intercepting();
  const bool is_magic = x.host == magic_host;
  const bool will_intercept =
      can_intercept && (is_magic || (g.settings.tls.intercept && !is_passthrough(g.settings.tls.passthrough, x.host)));
  const FilterChain& connect_chain = will_intercept ? auth_only_chain() : default_chain();
  if (connect_chain.run_request(x) == FilterStatus::respond) {
    if (x.decision.verdict == policy::Verdict::block) {
      // A blind tunnel has no content type to imitate: the browser shows the connection as refused.
      x.decision.surrogate = policy::Surrogate::forbidden_page;
      x.local_reply =
          LocalReply::surrogate(x.decision, x.engine().purpose_label(x.decision.purpose), x.reply_options());
    }
    co_await send_local_reply(s, *x.local_reply, false);
    co_return false;
  }
  // The CONNECT head has no body: consume its completion, keep what follows (early TLS bytes).
  auto step = parser.feed(view_of(s.in));
  s.in.consume(step.consumed);

  if (is_magic && !can_intercept) {
    // The proxy's own page without a CA to show: never tunnel to whoever owns that name on the internet.
    co_await reply_error(s, x, ReplyKind::forbidden_loop);
    co_return false;
  }
  if (will_intercept) co_return co_await intercept_connect(s, x);

  // dns (issue 5, CNAME cloaking): a tunnel to a name whose CNAME reaches a tracker is refused as the tracker.
  if (std::string cname_target; co_await judge_upstream_name(x, true, cname_target) == FilterStatus::respond) {
    co_await send_local_reply(s, *x.local_reply, false);
    co_return false;
  }
  // end dns

  UpstreamConnection up;
  if (auto kind = co_await open_upstream(s, x, up, false)) {
    co_await reply_error(s, x, *kind);
    co_return false;
  }
  s.watchdog.expire_after(g.settings.timeouts.idle);
  if (co_await s.client.write(LocalReply::connection_established().bytes)) co_return false;
  s.watchdog.disable();  // the tunnel has its own idle timeout
  s.runtime->stats().tunnels.fetch_add(1, std::memory_order_relaxed);
  const std::string pending(view_of(s.in));
  s.in.consume(s.in.size());
  co_await run_tunnel(s.client, *up.stream, pending, {}, g.settings.timeouts.tunnel_idle);
  s.control->upstream = nullptr;
  co_return false;
}

bool is_loop(SessionContext& s, const Exchange& x) {
  if (!s.runtime->is_listen_port(x.port)) return false;
  if (x.host == "localhost") return true;
  error_code ec;
  const auto address = asio::ip::make_address(x.host, ec);
  if (ec) return false;
  if (address.is_loopback() || address.is_unspecified()) return true;
  const auto local = s.client.socket().local_endpoint(ec);
  return !ec && local.address() == address;
}

enum class TargetCheck { ok, bad_request, misdirected };

// Forward mode: host, port and path of the request, from its target (absolute-form or CONNECT-less
// origin-form inside an intercepted CONNECT). Sets what goes upstream: TLS when the client spoke TLS to us
// or asked for an https:// URI (we originate TLS then; issue 3 left these as 400).
TargetCheck parse_forward_target(SessionContext& s, Exchange& x) {
  const auto target = x.request.parsed_target();
  const std::uint16_t default_port = s.intercepted ? 443 : 80;
  const auto authority = x.request.authority(default_port);
  if (!target || !authority || target->form == TargetForm::asterisk) return TargetCheck::bad_request;
  // Outside a tunnel a proxy request names its target in full (RFC 9112 section 3.2.2).
  if (!s.intercepted && target->form != TargetForm::absolute) return TargetCheck::bad_request;
  auto host = policy::normalise_host(authority->host);
  if (!host) return TargetCheck::bad_request;
  x.host = std::move(*host);
  x.port = authority->port;
  x.path_and_query = target->path_and_query.empty() ? std::string("/") : std::string(target->path_and_query);
  if (x.path_and_query.front() == '?') x.path_and_query.insert(0, "/");
  if (s.intercepted) {
    // The client verified our leaf for tls_name and asked the proxy for tls_name:port. A request for any
    // other host or port on this connection would reach an origin the client never authenticated (and
    // evade what was decided at CONNECT): RFC 9110 section 15.5.20, 421 Misdirected Request.
    if (x.host != s.intercepted->tls_name || x.port != s.intercepted->port) return TargetCheck::misdirected;
    x.client_tls = true;
    x.upstream.tls = true;
  } else if (target->is_https) {
    x.upstream.tls = true;
  }
  return TargetCheck::ok;
}

enum class HeadResult { ok, early_hints, failed, retry };

// Reads the final response head, after rp.reset(method). A 103 Early Hints returns early_hints (rp.head() is the
// 103; call again for what follows); other 1xx but 101 are skipped (we answered 100-continue ourselves).
// `received_any`: bytes came back for this request (no retry then, and the idle timeout rather than first_byte).
asio::awaitable<std::pair<HeadResult, error_code>> read_response_head(ResponseParser& rp, UpstreamConnection& up,
                                                                      beast::flat_buffer& up_in, Method method,
                                                                      const config::Timeouts& timeouts,
                                                                      Watchdog& watchdog, bool& received_any) {
  for (;;) {
    auto step = rp.feed(view_of(up_in));
    up_in.consume(step.consumed);
    switch (step.event) {
      case ParseEvent::head:
        if (rp.head().status == 103) co_return std::pair{HeadResult::early_hints, error_code{}};
        if (rp.head().is_informational() && !rp.head().is_upgrade) continue;
        co_return std::pair{HeadResult::ok, error_code{}};
      case ParseEvent::message_complete:  // end of a 1xx
        rp.reset(method);
        continue;
      case ParseEvent::error:
        co_return std::pair{HeadResult::failed, make_error_code(errc::upstream_bad_response)};
      case ParseEvent::body:
        continue;  // cannot happen before a head
      case ParseEvent::need_more:
        break;
    }
    watchdog.expire_after(received_any ? timeouts.idle : timeouts.first_byte);
    const auto ec = co_await read_more(*up.stream, up_in, watchdog);
    if (up_in.size() > 0) received_any = true;
    if (ec == beast::error::timeout) {
      co_return std::pair{HeadResult::failed, make_error_code(errc::upstream_first_byte_timeout)};
    }
    if (ec) {
      // A pooled connection the origin closed just as we reused it: safe to retry when nothing came back.
      if (up.is_reused && !received_any) co_return std::pair{HeadResult::retry, make_error_code(errc::upstream_closed)};
      co_return std::pair{HeadResult::failed, make_error_code(errc::upstream_closed)};
    }
  }
}

// One exchange after its request head was parsed. Returns true when the session may read another request.
asio::awaitable<bool> run_exchange(SessionContext& s, RequestParser& parser) {
  const auto& rt = *s.runtime;
  Exchange x(rt.next_exchange_id(), s.generation, s.runtime.get());
  const auto& g = *x.generation;
  const auto& timeouts = g.settings.timeouts;
  x.client = s.client_address;
  x.request = std::move(parser.head());
  x.now = epoch_seconds();
  rt.stats().exchanges.fetch_add(1, std::memory_order_relaxed);

  const bool is_gateway = s.listener.kind == ListenerKind::gateway;
  const FilterChain& chain = is_gateway ? gateway_chain() : s.intercepted ? intercepted_chain() : default_chain();
  if (is_gateway) {
    x.client_tls = s.client.is_tls();
    // Routing, health and CSP-report endpoints, unknown Host: all answered by the gateway itself.
    if (prepare_gateway_exchange(x, s.listener) == FilterStatus::respond) {
      // The browser's CSP violation report is read and written into the decision log (issue 6); one too
      // large or malformed still gets the 204, and the connection closes with its body unread.
      if (is_csp_report(x) && x.request.has_body()) {
        if (auto body = co_await read_small_body(s, parser, max_csp_report_body_bytes)) {
          record_csp_report(x, *body);
          co_return co_await send_local_reply(s, csp_report_reply(x, true), x.request.keep_alive);
        }
      }
      co_return co_await send_local_reply(s, *x.local_reply, x.request.keep_alive && !x.request.has_body());
    }
  } else {
    if (x.request.is_connect()) co_return co_await run_connect(s, parser, x);
    switch (parse_forward_target(s, x)) {
      case TargetCheck::ok:
        break;
      case TargetCheck::bad_request:
        co_return co_await reply_error(s, x, ReplyKind::bad_request);
      case TargetCheck::misdirected:  // tls (issue 4): 421, closes (proxy/local_reply.hpp)
        co_return co_await reply_error(s, x, ReplyKind::misdirected_request);
    }
    if (is_loop(s, x)) co_return co_await reply_error(s, x, ReplyKind::forbidden_loop);
  }

  if (chain.run_request(x) == FilterStatus::respond) {
    co_return co_await send_local_reply(s, *x.local_reply, x.request.keep_alive && !x.request.has_body());
  }
  if (!is_gateway && x.host == magic_host) co_return co_await reply_magic_host(s, x);

  // dns (issue 5, CNAME cloaking): the name is resolved and judged by its CNAME chain before anything goes
  // upstream; cname_target is the tracker it was judged as (empty: none).
  std::string cname_target;
  if (!is_gateway && co_await judge_upstream_name(x, false, cname_target) == FilterStatus::respond) {
    co_return co_await send_local_reply(s, *x.local_reply, x.request.keep_alive && !x.request.has_body());
  }
  // end dns

  const bool has_body = x.request.has_body();
  const bool wants_continue = x.request.expect_100_continue;
  // We answer 100-continue ourselves once policy let the request through, so a blocked request never has
  // its body sent, and the upstream never waits on an expectation we would have to relay.
  x.request.headers.remove("Expect");
  auto options = upstream_options_for(x.request);
  options.forward_websocket = x.request.is_websocket;
  std::string head_bytes;
  head_bytes.reserve(1024);  // one allocation from malloc's per-thread cache, not one per doubling
  if (!write_upstream_request_head(x.request, options, head_bytes)) {
    co_return co_await reply_error(s, x, ReplyKind::bad_request);
  }

  UpstreamConnection up;
  BufferLease up_in_lease(*s.worker);
  beast::flat_buffer& up_in = up_in_lease.buffer;
  ResponseParser rp(g.settings.limits);
  bool request_sent = false;
  for (int attempt = 0; attempt < 2 && !request_sent; ++attempt) {
    if (auto kind = co_await open_upstream(s, x, up, attempt == 0)) {
      co_return co_await reply_error(s, x, *kind);
    }
    // The head goes out with the body's first bytes (one write), except on a reused connection with a
    // body: there a failed head write can still be retried on a new connection, the body being unread.
    const bool head_with_body = !has_body || !up.is_reused;
    if (!head_with_body) {
      s.watchdog.expire_after(timeouts.idle);
      if (auto ec = co_await up.stream->write(head_bytes)) {
        release_upstream(s, up, false);
        if (attempt == 0) continue;
        rt.stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
        co_return co_await reply_error(s, x, ReplyKind::upstream_reset);
      }
    }
    if (wants_continue && has_body) {
      s.watchdog.expire_after(timeouts.idle);
      if (co_await s.client.write(LocalReply::continue_100().bytes)) {
        release_upstream(s, up, false);
        co_return false;
      }
    }
    const auto body_end = (co_await relay_body(parser, s.client, s.in, *up.stream, options.body, s.watchdog,
                                               timeouts.idle, head_with_body ? head_bytes : std::string_view{}))
                              .end;
    if (body_end == BodyEnd::malformed) {
      release_upstream(s, up, false);
      rt.stats().malformed_requests.fetch_add(1, std::memory_order_relaxed);
      co_await send_local_reply(s, LocalReply::error(reply_kind_for_request_error(parser.error()), x.reply_options()),
                                false);
      co_return false;
    }
    if (body_end == BodyEnd::source_failed) {
      release_upstream(s, up, false);
      co_return false;
    }
    if (body_end == BodyEnd::sink_failed) {
      release_upstream(s, up, false);
      if (attempt == 0 && !has_body) continue;  // only the head was lost: send it on a new connection
      rt.stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
      co_await send_local_reply(s, LocalReply::error(ReplyKind::upstream_reset, x.reply_options()), false);
      co_return false;
    }
    bool received_any = false;
    rp.reset(x.request.method);
    auto [result, ec] =
        co_await read_response_head(rp, up, up_in, x.request.method, timeouts, s.watchdog, received_any);
    for (int hints = 0; result == HeadResult::early_hints; ++hints) {
      // RFC 8297: relayed as they come to an HTTP/1.1 client (never to HTTP/1.0, RFC 9110 section 15.2); a
      // flood of them from the origin is bounded, the rest are skipped.
      if (x.request.version >= 11 && hints < max_early_hints) {
        std::string hint_bytes;
        write_informational_head(rp.head(), hint_bytes);
        s.watchdog.expire_after(timeouts.idle);
        if (co_await s.client.write(hint_bytes)) {
          release_upstream(s, up, false);
          co_return false;
        }
      }
      std::tie(result, ec) =
          co_await read_response_head(rp, up, up_in, x.request.method, timeouts, s.watchdog, received_any);
    }
    if (result == HeadResult::retry && !has_body && attempt == 0) {
      release_upstream(s, up, false);
      up_in.consume(up_in.size());
      continue;
    }
    if (result != HeadResult::ok) {
      release_upstream(s, up, false);
      rt.stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
      const auto kind = reply_kind_for_upstream_error(ec);
      co_return co_await send_local_reply(s, LocalReply::error(kind, x.reply_options()), x.request.keep_alive);
    }
    request_sent = true;
  }
  if (!request_sent) co_return false;

  x.response = rp.head();
  if (x.response->status == 101) {
    if (!x.request.is_websocket) {
      release_upstream(s, up, false);
      co_await send_local_reply(s, LocalReply::error(ReplyKind::upstream_bad_response, x.reply_options()), false);
      co_return false;
    }
    ClientResponseOptions copts;
    copts.forward_upgrade = true;
    copts.keep_alive = false;
    copts.client_version = x.request.version;
    std::string head;
    write_client_response_head(*x.response, copts, head);
    s.watchdog.expire_after(timeouts.idle);
    if (co_await s.client.write(head)) {
      release_upstream(s, up, false);
      co_return false;
    }
    s.watchdog.disable();  // the tunnel has its own idle timeout
    rt.stats().tunnels.fetch_add(1, std::memory_order_relaxed);
    const std::string client_pending(view_of(s.in));
    const std::string upstream_pending(view_of(up_in));
    s.in.consume(s.in.size());
    co_await run_tunnel(s.client, *up.stream, client_pending, upstream_pending, timeouts.tunnel_idle);
    s.control->upstream = nullptr;
    co_return false;
  }

  filter_set_cookies_as_cname_target(x, cname_target);  // dns (issue 5): Set-Cookie of the tracker behind the name
  chain.run_response(x);
  const bool client_keep_alive = x.request.keep_alive && !s.control->is_draining && !x.request.is_upgrade;
  auto copts = client_options_for(*x.response, x.request.method, x.request.version, client_keep_alive);
  std::string head;
  head.reserve(1024);
  write_client_response_head(*x.response, copts, head);
  // The head goes out with the first body bytes: for a small response, head and body are one write.
  const auto relayed =
      co_await relay_body(rp, *up.stream, up_in, s.client, copts.body, s.watchdog, timeouts.idle, head);
  const auto end = relayed.end;
  // Reuse only after a complete, unambiguous response and nothing unsolicited behind it (issue 3).
  const bool upstream_reusable =
      end == BodyEnd::complete && rp.head().keep_alive && !rp.must_close() && up_in.size() == 0;
  release_upstream(s, up, upstream_reusable);
  if (end != BodyEnd::complete && !relayed.wrote_any && end != BodyEnd::sink_failed) {
    // Not a byte of this response reached the client yet: say what happened rather than just closing.
    rt.stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
    const auto kind = end == BodyEnd::malformed ? ReplyKind::upstream_bad_response : ReplyKind::upstream_reset;
    co_await send_local_reply(s, LocalReply::error(kind, x.reply_options()), false);
    co_return false;
  }
  if (end != BodyEnd::complete) co_return false;  // the client cannot tell a truncated body otherwise
  co_return copts.keep_alive&& copts.body != OutBody::close_delimited;
}

enum class HeadRead { ok, closed, replied };

asio::awaitable<HeadRead> read_request_head(SessionContext& s, RequestParser& parser) {
  const auto& g = *s.generation;
  // One deadline for the whole head, however many reads it takes (slowloris); set when a second read is
  // needed (the first came with the session's keep-alive wait).
  bool has_deadline = false;
  for (;;) {
    auto step = parser.feed(view_of(s.in));
    s.in.consume(step.consumed);
    if (step.event == ParseEvent::head) co_return HeadRead::ok;
    if (step.event == ParseEvent::error) {
      s.runtime->stats().malformed_requests.fetch_add(1, std::memory_order_relaxed);
      ReplyOptions options;
      options.keep_alive = false;
      const auto reply = LocalReply::error(reply_kind_for_request_error(parser.error()), options);
      co_await send_local_reply(s, reply, false);
      co_return HeadRead::replied;
    }
    if (!has_deadline) {
      s.watchdog.expire_after(g.settings.timeouts.client_head);
      has_deadline = true;
    }
    const auto ec = co_await read_more(s.client, s.in, s.watchdog);
    if (ec == beast::error::timeout) {
      s.runtime->stats().client_head_timeouts.fetch_add(1, std::memory_order_relaxed);
      ReplyOptions options;
      options.keep_alive = false;
      co_await send_local_reply(s, LocalReply::error(ReplyKind::request_timeout, options), false);
      co_return HeadRead::replied;
    }
    if (ec) co_return HeadRead::closed;
  }
}

// Gateway HTTPS listener: the client speaks TLS from its first byte; the listener's context picks the
// operator's certificate by SNI (proxy/gateway.cpp).
asio::awaitable<bool> accept_gateway_tls(SessionContext& s) {
  const auto& rt = *s.runtime;
  tls::SslPtr ssl(SSL_new(s.listener.tls->native_handle()));
  if (!ssl) co_return false;
  const auto ec =
      co_await s.client.start_tls(std::move(ssl), Stream::Role::server, s.generation->settings.timeouts.tls_handshake);
  if (ec) {
    rt.stats().client_tls_failures.fetch_add(1, std::memory_order_relaxed);
    co_return false;
  }
  co_return true;
}

}  // namespace

asio::awaitable<void> run_session(beast::tcp_stream connection, std::shared_ptr<const Runtime> runtime, Worker* worker,
                                  SessionControl* control, const ListenerContext& listener) {
  Stream client(std::move(connection));
  control->client = &client.socket();
  error_code ec;
  const auto remote = client.socket().remote_endpoint(ec);
  if (ec) co_return;
  client.socket().set_option(tcp::no_delay(true), ec);
  beast::flat_buffer in;
  auto address = remote.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  auto generation = runtime->generation();
  const auto& t = generation->settings.timeouts;
  auto tick = std::chrono::milliseconds::max();
  for (const auto timeout : {t.client_head, t.keepalive, t.idle, t.first_byte}) {
    if (timeout.count() > 0) tick = std::min(tick, timeout);
  }
  if (tick == std::chrono::milliseconds::max()) tick = std::chrono::seconds(60);  // every timeout disabled
  Watchdog watchdog(client.socket().get_executor(), control, tick);
  SessionContext s{
      client,      in, runtime, worker, control, listener, watchdog, std::move(generation), address.to_string(),
      std::nullopt};

  if (!s.generation->client_acl.allows(s.client_address)) {
    runtime->stats().connections_refused_acl.fetch_add(1, std::memory_order_relaxed);
    ReplyOptions options;
    options.keep_alive = false;
    co_await send_local_reply(s, LocalReply::error(ReplyKind::forbidden_client, options), false);
    co_await close_gracefully(client, watchdog);
    co_return;
  }
  if (listener.tls && !co_await accept_gateway_tls(s)) {
    client.close();
    control->client = nullptr;
    co_return;
  }

  bool is_first = true;
  bool close_softly = true;
  for (;;) {
    control->is_idle = true;
    if (in.size() == 0) {
      if (control->is_draining) break;
      // While idle the connection holds only a small buffer (issue 3: memory per idle connection), and
      // reading into it at once is the wait: a read that finds the request there costs one recv, where a
      // readiness wait first cost an epoll_ctl and then the read.
      if (in.capacity() > idle_read_bytes) in.shrink_to_fit();
      const auto& timeouts = s.generation->settings.timeouts;
      watchdog.expire_after(is_first ? timeouts.client_head : timeouts.keepalive);
      const auto read_ec = co_await read_more(client, in, watchdog, idle_read_bytes);
      if (read_ec || control->is_draining) {
        close_softly = false;
        break;
      }
    }
    control->is_idle = false;
    s.generation = runtime->generation();  // a reload applies from the next request on
    RequestParser parser(s.generation->settings.limits);
    const auto head = co_await read_request_head(s, parser);
    if (head != HeadRead::ok) {
      close_softly = head == HeadRead::replied;
      break;
    }
    const bool was_plain = !client.is_tls();
    const bool keep_alive = co_await run_exchange(s, parser);
    // The first request inside an intercepted CONNECT gets the client_head limit to arrive, like a new
    // connection's first request.
    is_first = was_plain && client.is_tls();
    if (!keep_alive || control->is_draining || !client.is_open()) break;
  }
  control->is_idle = true;
  if (close_softly && client.is_open()) {
    co_await close_gracefully(client, watchdog);
  } else {
    client.close();
  }
  control->client = nullptr;
}

}  // namespace consent::proxy
