#include "proxy/session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <iostream>
#include <optional>
#include <span>
#include <string>

#include "policy/host.hpp"
#include "proxy/ca_page.hpp"
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

// What a session shares with its sub-coroutines, each awaited at once (STYLE section 5).
struct SessionContext {
  Stream& client;
  beast::flat_buffer& in;
  std::shared_ptr<const Runtime> runtime;
  Worker* worker;
  SessionControl* control;
  const ListenerContext& listener;
  std::string client_address;
  std::optional<InterceptedTarget> intercepted;
};

asio::awaitable<error_code> read_more(Stream& stream, beast::flat_buffer& buffer) {
  auto [ec, n] = co_await stream.read_some(buffer.prepare(read_chunk_bytes));
  buffer.commit(n);
  co_return ec;
}

// Like read_more, but bounded by a deadline that cancels the read instead of closing the socket, so the 408
// can still be sent. Expiry -> beast::error::timeout.
asio::awaitable<error_code> read_more_before(Stream& stream, beast::flat_buffer& buffer, Stream::time_point deadline) {
  auto [ec, n] = co_await stream.read_some_until(buffer.prepare(read_chunk_bytes), deadline);
  buffer.commit(n);
  co_return ec;
}

asio::awaitable<void> close_gracefully(Stream& stream) {
  stream.shutdown_send();
  stream.arm(linger_time);
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
  s.client.arm(s.runtime->generation()->settings.timeouts.idle);
  const auto ec = co_await s.client.write(reply.bytes);
  co_return !ec && may_keep_alive && !reply.closes_connection;
}

enum class BodyEnd { complete, source_failed, sink_failed, malformed };

// Streams one message body from `parser` (fed from `from`/`in`) to `to`, re-encoded as `out` says.
// Body views point into `in` and are written before `in` is consumed: no copy, bounded memory.
template <class Parser>
asio::awaitable<BodyEnd> relay_body(Parser& parser, Stream& from, beast::flat_buffer& in, Stream& to, OutBody out,
                                    std::chrono::milliseconds idle) {
  for (;;) {
    auto step = parser.feed(view_of(in));
    switch (step.event) {
      case ParseEvent::body: {
        if (!step.body.empty()) {
          to.arm(idle);
          error_code ec;
          if (out == OutBody::chunked) {
            ChunkHeaderBuffer header_buffer;
            const auto header = format_chunk_header(step.body.size(), header_buffer);
            const std::array<asio::const_buffer, 3> pieces{asio::buffer(header.data(), header.size()),
                                                           asio::buffer(step.body.data(), step.body.size()),
                                                           asio::buffer(crlf.data(), crlf.size())};
            ec = co_await to.write(std::span<const asio::const_buffer>(pieces));
          } else {
            ec = co_await to.write(step.body);
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
          to.arm(idle);
          if (co_await to.write(last)) co_return BodyEnd::sink_failed;
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
        from.arm(idle);
        const auto ec = co_await read_more(from, in);
        if (ec == asio::error::eof) {
          auto end = parser.finish();
          if (end.event == ParseEvent::message_complete) {
            if (out == OutBody::chunked) {
              std::string last;
              append_last_chunk(nullptr, last);
              to.arm(idle);
              if (co_await to.write(last)) co_return BodyEnd::sink_failed;
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
  std::optional<Stream> stream;
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
      up.stream.emplace(std::move(*pooled));
      up.is_reused = true;
      s.runtime->stats().upstream_reuses.fetch_add(1, std::memory_order_relaxed);
      s.control->upstream = &up.stream->socket();
      co_return std::nullopt;
    }
  }
  up.is_reused = false;
  auto [ec, connected] = co_await connect_upstream(address, g.settings.timeouts.connect);
  if (ec) {
    s.runtime->stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
    co_return reply_kind_for_upstream_error(ec);
  }
  s.runtime->stats().upstream_connects.fetch_add(1, std::memory_order_relaxed);
  up.stream.emplace(std::move(connected));
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
    s.worker->pool.give(up.key, std::move(*up.stream));
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
  s.client.arm(timeouts.idle);
  if (co_await s.client.write(LocalReply::connection_established().bytes)) co_return false;
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

  UpstreamConnection up;
  if (auto kind = co_await open_upstream(s, x, up, false)) {
    co_await reply_error(s, x, *kind);
    co_return false;
  }
  s.client.arm(g.settings.timeouts.idle);
  if (co_await s.client.write(LocalReply::connection_established().bytes)) co_return false;
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
    up.stream->arm(received_any ? timeouts.idle : timeouts.first_byte);
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
  const FilterChain& chain = is_gateway ? gateway_chain() : s.intercepted ? intercepted_chain() : default_chain();
  if (is_gateway) {
    x.client_tls = s.client.is_tls();
    // Routing, health and CSP-report endpoints, unknown Host: all answered by the gateway itself.
    if (prepare_gateway_exchange(x, s.listener) == FilterStatus::respond) {
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
    if (auto kind = co_await open_upstream(s, x, up, attempt == 0)) {
      co_return co_await reply_error(s, x, *kind);
    }
    up.stream->arm(timeouts.idle);
    if (auto ec = co_await up.stream->write(head_bytes)) {
      release_upstream(s, up, false);
      if (attempt == 0) continue;
      rt.stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
      co_return co_await reply_error(s, x, ReplyKind::upstream_reset);
    }
    if (wants_continue && has_body) {
      s.client.arm(timeouts.idle);
      if (co_await s.client.write(LocalReply::continue_100().bytes)) {
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
    s.client.arm(timeouts.idle);
    if (co_await s.client.write(head)) {
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
  s.client.arm(timeouts.idle);
  if (co_await s.client.write(head)) {
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
  const auto deadline = limit.count() > 0 ? std::chrono::steady_clock::now() + limit : Stream::never;
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
    const auto ec = co_await read_more_before(s.client, s.in, deadline);
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
  const auto ec = co_await s.client.start_tls(std::move(ssl), Stream::Role::server,
                                              rt.generation()->settings.timeouts.tls_handshake);
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
  SessionContext s{client, in, runtime, worker, control, listener, address.to_string(), std::nullopt};

  if (!runtime->generation()->client_acl.allows(s.client_address)) {
    runtime->stats().connections_refused_acl.fetch_add(1, std::memory_order_relaxed);
    ReplyOptions options;
    options.keep_alive = false;
    co_await send_local_reply(s, LocalReply::error(ReplyKind::forbidden_client, options), false);
    co_await close_gracefully(client);
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
      in.shrink_to_fit();  // nothing buffered while idle
      const auto& t = runtime->generation()->settings.timeouts;
      const bool readable = co_await client.wait_readable(is_first ? t.client_head : t.keepalive);
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
    const bool was_plain = !client.is_tls();
    const bool keep_alive = co_await run_exchange(s, parser);
    // The first request inside an intercepted CONNECT gets the client_head limit to arrive, like a new
    // connection's first request.
    is_first = was_plain && client.is_tls();
    if (!keep_alive || control->is_draining || !client.is_open()) break;
  }
  control->is_idle = true;
  if (close_softly && client.is_open()) {
    co_await close_gracefully(client);
  } else {
    client.close();
  }
  control->client = nullptr;
}

}  // namespace consent::proxy
