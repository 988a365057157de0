#pragma once
// An exchange: one request and its response. Owns the request head, the response head (once read), the
// policy decision, the local reply and the configuration snapshot (Engine included) it started with, so
// views in `decision` stay valid and a reload never changes the rules under it. Lives on one session's
// strand; never shared.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "policy/decision.hpp"
#include "policy/request.hpp"
#include "proxy/first_party.hpp"
#include "proxy/http_message.hpp"
#include "proxy/local_reply.hpp"
#include "proxy/runtime.hpp"
#include "proxy/upstream.hpp"

namespace consent::proxy {

struct Exchange {
  Exchange(std::uint64_t exchange_id, std::shared_ptr<const Generation> snapshot, const Runtime* rt)
      : id(exchange_id), generation(std::move(snapshot)), runtime(rt) {}

  std::uint64_t id;
  std::shared_ptr<const Generation> generation;
  const Runtime* runtime;  // outlives the exchange (the session holds a shared_ptr)

  std::string client;  // client address without port ("127.0.0.1")
  RequestHead request;
  std::optional<ResponseHead> response;

  // Facts extracted once, before the filters run.
  std::string host;  // normalised (policy::normalise_host), no port
  std::uint16_t port = 80;
  std::string path_and_query;  // origin-form, starts with '/'
  FirstParty first_party;
  policy::ConsentState consent;
  bool is_first_party_request = false;  // the host belongs to the first-party site

  // How the exchange reached us and where it goes. Forward mode: client_tls inside an intercepted
  // CONNECT; upstream derived from host/port (TLS when client_tls or an https:// absolute URI). Gateway
  // mode: set by prepare_gateway_exchange from the route (origin address, its TLS and verified name).
  bool client_tls = false;
  struct Upstream {
    std::optional<ConnectAddress> address;  // empty: host:port (after --connect-to rules)
    bool tls = false;                       // speak TLS to the upstream, verifying `tls_name`
    std::string tls_name;                   // SNI and name to verify; empty: x.host
  } upstream;

  policy::Decision decision;
  std::optional<LocalReply> local_reply;
  std::int64_t now = 0;  // epoch seconds, read once per exchange (consent lifetimes, Set-Cookie caps)

  [[nodiscard]] const policy::Engine& engine() const noexcept { return *generation->engine; }
  [[nodiscard]] bool is_report_only() const noexcept { return generation->is_report_only(); }
  // Views into this exchange: valid while it is neither moved nor modified.
  [[nodiscard]] policy::Request policy_request() const noexcept;
  [[nodiscard]] ReplyOptions reply_options() const noexcept;
};

}  // namespace consent::proxy
