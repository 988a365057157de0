#include "proxy/session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include "policy/host.hpp"
#include "proxy/errors.hpp"
#include "proxy/exchange.hpp"
#include "proxy/filter.hpp"
#include "proxy/gateway.hpp"
#include "proxy/http_parser.hpp"
#include "proxy/http_writer.hpp"
#include "proxy/local_reply.hpp"
#include "proxy/tunnel.hpp"
#include "proxy/upstream.hpp"

namespace consent::proxy {

using namespace asio::experimental::awaitable_operators;

namespace {

// One read never asks for more than this: with the parser consuming what it is offered, a connection's
// buffer stays near this size whatever the body size (issue 3: bounded memory per connection).
constexpr std::size_t read_chunk_bytes = 16 * 1024;
// After an error reply, how much of the client's unread request we swallow so that closing does not reset
// the connection before the client read our reply (RFC 9112 section 9.6, "lingering close").
constexpr std::size_t linger_bytes = 256 * 1024;
constexpr std::chrono::milliseconds linger_time{500};
constexpr auto never = std::chrono::steady_clock::time_point::max();

std::string_view view_of(const beast::flat_buffer& b) {
  const auto d = b.data();
  return {static_cast<const char*>(d.data()), d.size()};
}

std::int64_t epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// What a session shares with its sub-coroutines, each awaited at once (STYLE section 5).
struct SessionContext {
  beast::tcp_stream& client;
  beast::flat_buffer& in;
  std::shared_ptr<const Runtime> runtime;
  Worker* worker;
  SessionControl* control;
  const ListenerContext& listener;
  std::string client_address;
};

asio::awaitable<error_code> read_more(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(read_chunk_bytes), use_nothrow);
  buffer.commit(n);
  co_return ec;
}

// Like read_more, but bounded by a deadline that cancels the read instead of closing the socket (a
// beast::tcp_stream expiry closes it, and the 408 could no longer be sent). Expiry -> beast::error::timeout.
asio::awaitable<error_code> read_more_before(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                             std::chrono::steady_clock::time_point deadline) {
  stream.expires_never();
  if (deadline == never) co_return co_await read_more(stream, buffer);
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto raced = co_await (stream.socket().async_read_some(buffer.prepare(read_chunk_bytes), use_nothrow) ||
                         timer.async_wait(use_nothrow));
  if (raced.index() == 1) co_return beast::error::timeout;
  auto [ec, n] = std::get<0>(raced);
  buffer.commit(n);
  co_return ec;
}

asio::awaitable<error_code> write_all(beast::tcp_stream& stream, std::string_view bytes) {
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()), use_nothrow);
  co_return ec;
}

// Waits until the socket is readable without holding a buffer: an idle keep-alive connection costs no
// read buffer (issue 3: at most 8 KiB per idle connection).
asio::awaitable<bool> wait_readable(tcp::socket& socket, std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) {
    auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, use_nothrow);
    co_return !ec;
  }
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto raced = co_await (socket.async_wait(tcp::socket::wait_read, use_nothrow) || timer.async_wait(use_nothrow));
  if (raced.index() == 1) co_return false;
  auto [ec] = std::get<0>(raced);
  co_return !ec;
}

asio::awaitable<void> close_gracefully(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(linger_time);
  std::array<char, 4096> sink{};
  std::size_t total = 0;
  while (total < linger_bytes) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
    total += n;
    if (ec) break;
  }
  stream.socket().close(ignored);
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

// Writes a local reply; true when the client connection may carry another request.
asio::awaitable<bool> send_local_reply(SessionContext& s, const LocalReply& reply, bool may_keep_alive) {
  arm(s.client, s.runtime->generation()->settings.timeouts.idle);
  const auto ec = co_await write_all(s.client, reply.bytes);
  co_return !ec && may_keep_alive && !reply.closes_connection;
}

enum class BodyEnd { complete, source_failed, sink_failed, malformed };

// Streams one message body from `parser` (fed from `from`/`in`) to `to`, re-encoded as `out` says.
// Body views point into `in` and are written before `in` is consumed: no copy, bounded memory.
template <class Parser>
asio::awaitable<BodyEnd> relay_body(Parser& parser, beast::tcp_stream& from, beast::flat_buffer& in,
                                    beast::tcp_stream& to, OutBody out, std::chrono::milliseconds idle) {
  for (;;) {
    auto step = parser.feed(view_of(in));
    switch (step.event) {
      case ParseEvent::body: {
        if (!step.body.empty()) {
          arm(to, idle);
          error_code ec;
          if (out == OutBody::chunked) {
            ChunkHeaderBuffer header_buffer;
            const auto header = format_chunk_header(step.body.size(), header_buffer);
            const std::array<asio::const_buffer, 3> pieces{asio::buffer(header.data(), header.size()),
                                                           asio::buffer(step.body.data(), step.body.size()),
                                                           asio::buffer(crlf.data(), crlf.size())};
            auto [wec, n] = co_await asio::async_write(to, pieces, use_nothrow);
            ec = wec;
          } else {
            ec = co_await write_all(to, step.body);
          }
          if (ec) co_return BodyEnd::sink_failed;
        }
        in.consume(step.consumed);
        break;
      }
      case ParseEvent::message_complete: {
        in.consume(step.consumed);
        if (out == OutBody::chunked) {
          std::string last;
          append_last_chunk(&parser.trailers(), last);
          arm(to, idle);
          if (co_await write_all(to, last)) co_return BodyEnd::sink_failed;
        }
        co_return BodyEnd::complete;
      }
      case ParseEvent::error:
        in.consume(step.consumed);
        co_return BodyEnd::malformed;
      case ParseEvent::head:
        // A second head inside a body cannot happen: the parser stops at message_complete.
        in.consume(step.consumed);
        co_return BodyEnd::malformed;
      case ParseEvent::need_more: {
        in.consume(step.consumed);
        arm(from, idle);
        const auto ec = co_await read_more(from, in);
        if (ec == asio::error::eof) {
          auto end = parser.finish();
          if (end.event == ParseEvent::message_complete) {
            if (out == OutBody::chunked) {
              std::string last;
              append_last_chunk(nullptr, last);
              arm(to, idle);
              if (co_await write_all(to, last)) co_return BodyEnd::sink_failed;
            }
            co_return BodyEnd::complete;
          }
          co_return BodyEnd::source_failed;
        }
        if (ec) co_return BodyEnd::source_failed;
        break;
      }
    }
  }
}

struct UpstreamConnection {
  std::optional<beast::tcp_stream> stream;
  std::string key;
  bool is_reused = false;
};

asio::awaitable<error_code> open_upstream(SessionContext& s, const Exchange& x, UpstreamConnection& up,
                                          bool allow_pool) {
  const auto& g = *x.generation;
  ConnectAddress address{x.host, std::to_string(x.port)};
  if (x.upstream.address) {
    address = *x.upstream.address;  // a gateway route's origin: the operator's choice, no connect-to
  } else if (auto target = g.connect_to.lookup(x.host, x.port)) {
    address = ConnectAddress{std::string(target->host), std::to_string(target->port)};
  }
  up.key = address.key();
  if (allow_pool) {
    if (auto pooled = s.worker->pool.take(up.key)) {
      up.stream.emplace(std::move(*pooled));
      up.is_reused = true;
      s.runtime->stats().upstream_reuses.fetch_add(1, std::memory_order_relaxed);
      s.control->upstream = &up.stream->socket();
      co_return error_code{};
    }
  }
  up.is_reused = false;
  auto [ec, stream] = co_await connect_upstream(address, g.settings.timeouts.connect);
  if (ec) co_return ec;
  s.runtime->stats().upstream_connects.fetch_add(1, std::memory_order_relaxed);
  up.stream.emplace(std::move(stream));
  s.control->upstream = &up.stream->socket();
  co_return error_code{};
}

void release_upstream(SessionContext& s, UpstreamConnection& up, bool is_reusable) {
  s.control->upstream = nullptr;
  if (!up.stream) return;
  if (is_reusable && !s.control->is_draining) {
    s.worker->pool.give(up.key, std::move(*up.stream));
  } else {
    error_code ignored;
    up.stream->socket().close(ignored);
  }
  up.stream.reset();
}

asio::awaitable<bool> reply_error(SessionContext& s, Exchange& x, ReplyKind kind) {
  auto options = x.reply_options();
  const auto reply = LocalReply::error(kind, options);
  co_return co_await send_local_reply(s, reply, x.request.keep_alive && !x.request.has_body());
}

// CONNECT host:port: refused by port and by policy (a tracker host gets 403), else a blind tunnel.
asio::awaitable<bool> run_connect(SessionContext& s, RequestParser& parser, Exchange& x) {
  const auto& g = *x.generation;
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
  if (default_chain().run_request(x) == FilterStatus::respond) {
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
  UpstreamConnection up;
  if (auto ec = co_await open_upstream(s, x, up, false)) {
    s.runtime->stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
    co_await reply_error(s, x, reply_kind_for_upstream_error(ec));
    co_return false;
  }
  arm(s.client, g.settings.timeouts.idle);
  if (co_await write_all(s.client, "HTTP/1.1 200 Connection established\r\n\r\n")) co_return false;
  s.runtime->stats().tunnels.fetch_add(1, std::memory_order_relaxed);
  const std::string pending(view_of(s.in));
  s.in.consume(s.in.size());
  co_await run_tunnel(s.client, *up.stream, pending, {}, g.settings.timeouts.tunnel_idle);
  s.control->upstream = nullptr;
  co_return false;
}

bool is_loop(const SessionContext& s, const Exchange& x) {
  if (!s.runtime->is_listen_port(x.port)) return false;
  if (x.host == "localhost") return true;
  error_code ec;
  const auto address = asio::ip::make_address(x.host, ec);
  if (ec) return false;
  if (address.is_loopback() || address.is_unspecified()) return true;
  const auto local = s.client.socket().local_endpoint(ec);
  return !ec && local.address() == address;
}

enum class HeadResult { ok, failed, retry };

// Reads the final response head (1xx other than 101 are skipped: we answered 100-continue ourselves).
asio::awaitable<std::pair<HeadResult, error_code>> read_response_head(ResponseParser& rp, UpstreamConnection& up,
                                                                      beast::flat_buffer& up_in, Method method,
                                                                      const config::Timeouts& timeouts) {
  rp.reset(method);
  bool received_any = false;
  for (;;) {
    auto step = rp.feed(view_of(up_in));
    up_in.consume(step.consumed);
    switch (step.event) {
      case ParseEvent::head:
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
    arm(*up.stream, received_any ? timeouts.idle : timeouts.first_byte);
    const auto ec = co_await read_more(*up.stream, up_in);
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
  Exchange x(rt.next_exchange_id(), rt.generation(), s.runtime.get());
  const auto& g = *x.generation;
  const auto& timeouts = g.settings.timeouts;
  x.client = s.client_address;
  x.request = std::move(parser.head());
  x.now = epoch_seconds();
  rt.stats().exchanges.fetch_add(1, std::memory_order_relaxed);

  const bool is_gateway = s.listener.kind == ListenerKind::gateway;
  const FilterChain& chain = is_gateway ? gateway_chain() : default_chain();
  if (is_gateway) {
    x.client_tls = s.listener.tls != nullptr;
    // Routing, health and CSP-report endpoints, unknown Host: all answered by the gateway itself.
    if (prepare_gateway_exchange(x, s.listener) == FilterStatus::respond) {
      co_return co_await send_local_reply(s, *x.local_reply, x.request.keep_alive && !x.request.has_body());
    }
  } else {
    if (x.request.is_connect()) co_return co_await run_connect(s, parser, x);

    const auto target = x.request.parsed_target();
    const auto authority = x.request.authority(80);
    // Absolute https:// URIs would need us to originate TLS: clients use CONNECT for those.
    if (!target || !authority || target->is_https || target->form == TargetForm::asterisk) {
      co_return co_await reply_error(s, x, ReplyKind::bad_request);
    }
    auto host = policy::normalise_host(authority->host);
    if (!host) co_return co_await reply_error(s, x, ReplyKind::bad_request);
    x.host = std::move(*host);
    x.port = authority->port;
    x.path_and_query = target->path_and_query.empty() ? std::string("/") : std::string(target->path_and_query);
    if (x.path_and_query.front() == '?') x.path_and_query.insert(0, "/");
    if (is_loop(s, x)) co_return co_await reply_error(s, x, ReplyKind::forbidden_loop);
  }

  if (chain.run_request(x) == FilterStatus::respond) {
    co_return co_await send_local_reply(s, *x.local_reply, x.request.keep_alive && !x.request.has_body());
  }

  const bool has_body = x.request.has_body();
  const bool wants_continue = x.request.expect_100_continue;
  // We answer 100-continue ourselves once policy let the request through, so a blocked request never has
  // its body sent, and the upstream never waits on an expectation we would have to relay.
  x.request.headers.remove("Expect");
  auto options = upstream_options_for(x.request);
  options.forward_websocket = x.request.is_websocket;
  std::string head_bytes;
  if (!write_upstream_request_head(x.request, options, head_bytes)) {
    co_return co_await reply_error(s, x, ReplyKind::bad_request);
  }

  UpstreamConnection up;
  beast::flat_buffer up_in;
  ResponseParser rp(g.settings.limits);
  bool request_sent = false;
  for (int attempt = 0; attempt < 2 && !request_sent; ++attempt) {
    if (auto ec = co_await open_upstream(s, x, up, attempt == 0)) {
      rt.stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
      co_return co_await reply_error(s, x, reply_kind_for_upstream_error(ec));
    }
    arm(*up.stream, timeouts.idle);
    if (auto ec = co_await write_all(*up.stream, head_bytes)) {
      release_upstream(s, up, false);
      if (attempt == 0) continue;
      rt.stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
      co_return co_await reply_error(s, x, ReplyKind::upstream_reset);
    }
    if (wants_continue && has_body) {
      arm(s.client, timeouts.idle);
      if (co_await write_all(s.client, "HTTP/1.1 100 Continue\r\n\r\n")) {
        release_upstream(s, up, false);
        co_return false;
      }
    }
    const auto body_end = co_await relay_body(parser, s.client, s.in, *up.stream, options.body, timeouts.idle);
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
      if (attempt == 0 && up.is_reused && !has_body) continue;
      rt.stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
      co_await send_local_reply(s, LocalReply::error(ReplyKind::upstream_reset, x.reply_options()), false);
      co_return false;
    }
    auto [result, ec] = co_await read_response_head(rp, up, up_in, x.request.method, timeouts);
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
    arm(s.client, timeouts.idle);
    if (co_await write_all(s.client, head)) {
      release_upstream(s, up, false);
      co_return false;
    }
    rt.stats().tunnels.fetch_add(1, std::memory_order_relaxed);
    const std::string client_pending(view_of(s.in));
    const std::string upstream_pending(view_of(up_in));
    s.in.consume(s.in.size());
    co_await run_tunnel(s.client, *up.stream, client_pending, upstream_pending, timeouts.tunnel_idle);
    s.control->upstream = nullptr;
    co_return false;
  }

  chain.run_response(x);
  const bool client_keep_alive = x.request.keep_alive && !s.control->is_draining && !x.request.is_upgrade;
  auto copts = client_options_for(*x.response, x.request.method, x.request.version, client_keep_alive);
  std::string head;
  write_client_response_head(*x.response, copts, head);
  arm(s.client, timeouts.idle);
  if (co_await write_all(s.client, head)) {
    release_upstream(s, up, false);
    co_return false;
  }
  const auto end = co_await relay_body(rp, *up.stream, up_in, s.client, copts.body, timeouts.idle);
  // Reuse only after a complete, unambiguous response and nothing unsolicited behind it (issue 3).
  const bool upstream_reusable =
      end == BodyEnd::complete && rp.head().keep_alive && !rp.must_close() && up_in.size() == 0;
  release_upstream(s, up, upstream_reusable);
  if (end != BodyEnd::complete) co_return false;  // the client cannot tell a truncated body otherwise
  co_return copts.keep_alive&& copts.body != OutBody::close_delimited;
}

enum class HeadRead { ok, closed, replied };

asio::awaitable<HeadRead> read_request_head(SessionContext& s, RequestParser& parser) {
  const auto& g = *s.runtime->generation();
  const auto limit = g.settings.timeouts.client_head;
  // One deadline for the whole head, however many reads it takes (slowloris).
  const auto deadline = std::chrono::steady_clock::now() + limit;
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
    const auto ec = co_await read_more_before(s.client, s.in, limit.count() > 0 ? deadline : never);
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

}  // namespace

asio::awaitable<void> run_session(beast::tcp_stream client, std::shared_ptr<const Runtime> runtime, Worker* worker,
                                  SessionControl* control, const ListenerContext& listener) {
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
  SessionContext s{client, in, runtime, worker, control, listener, address.to_string()};

  if (!runtime->generation()->client_acl.allows(s.client_address)) {
    runtime->stats().connections_refused_acl.fetch_add(1, std::memory_order_relaxed);
    ReplyOptions options;
    options.keep_alive = false;
    co_await send_local_reply(s, LocalReply::error(ReplyKind::forbidden_client, options), false);
    co_await close_gracefully(client);
    co_return;
  }

  bool is_first = true;
  bool close_softly = true;
  for (;;) {
    control->is_idle = true;
    if (in.size() == 0) {
      if (control->is_draining) break;
      in.shrink_to_fit();  // nothing buffered while idle
      const auto& t = runtime->generation()->settings.timeouts;
      const bool readable = co_await wait_readable(client.socket(), is_first ? t.client_head : t.keepalive);
      if (!readable || control->is_draining) {
        close_softly = false;
        break;
      }
    }
    control->is_idle = false;
    RequestParser parser(runtime->generation()->settings.limits);
    const auto head = co_await read_request_head(s, parser);
    if (head != HeadRead::ok) {
      close_softly = head == HeadRead::replied;
      break;
    }
    const bool keep_alive = co_await run_exchange(s, parser);
    is_first = false;
    if (!keep_alive || control->is_draining || !client.socket().is_open()) break;
  }
  control->is_idle = true;
  if (close_softly && client.socket().is_open()) {
    co_await close_gracefully(client);
  } else {
    client.socket().close(ec);
  }
  control->client = nullptr;
}

}  // namespace consent::proxy
