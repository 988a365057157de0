#pragma once
// What a session knows about the socket it was accepted on. Forward mode has one plain listener;
// gateway mode has one listener per distinct `gateway.routes[].listen`, HTTPS when its routes carry the
// operator's certificate. Built once at start by the server, immutable, shared by every worker thread.
#include <cstddef>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace consent::proxy {

enum class ListenerKind { forward, gateway };

struct ListenerContext {
  ListenerKind kind = ListenerKind::forward;
  std::string listen;  // as configured ("0.0.0.0:443"): gateway routes are matched on it
  // Non-null: the client side speaks TLS from the first byte (gateway HTTPS listener, operator's
  // certificate, SNI picks among the routes' certificates). Null: plain HTTP.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::size_t index = 0;  // position in the server's listener list
};

}  // namespace consent::proxy
