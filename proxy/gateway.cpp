// placeholder: owner gateway. Replaced by the gateway implementation.
#include "proxy/gateway.hpp"

#include "proxy/exchange.hpp"

namespace consent::proxy {

FilterStatus prepare_gateway_exchange(Exchange& x, const ListenerContext&) {
  x.local_reply = LocalReply::error(ReplyKind::internal_error, x.reply_options());
  return FilterStatus::respond;
}

const FilterChain& gateway_chain() { return default_chain(); }

GatewayListeners make_gateway_listeners(const config::Settings&) {
  GatewayListeners out;
  out.errors.push_back("gateway mode is not implemented yet");
  return out;
}

}  // namespace consent::proxy
