#include "proxy/exchange.hpp"

#include <string>

#include "proxy/http_headers.hpp"

namespace consent::proxy {

policy::Request Exchange::policy_request() const noexcept {
  policy::Request r;
  r.method = method_name(request.method);
  r.host = host;
  r.path_and_query = path_and_query;
  r.first_party = first_party.site;
  r.dest = first_party.dest;
  r.is_navigation = first_party.is_navigation;
  r.has_referer = first_party.has_referer;
  r.user_agent = request.headers.get("User-Agent");
  r.consent = consent;
  return r;
}

ReplyOptions Exchange::reply_options() const noexcept {
  ReplyOptions o;
  o.prefers_html = prefers_html(request.headers.get("Accept"));
  o.is_head = request.method == Method::head;
  o.keep_alive = request.keep_alive;
  o.body_unread = request.has_body();
  o.host = host;
  o.realm = generation->auth.realm();
  return o;
}

}  // namespace consent::proxy
