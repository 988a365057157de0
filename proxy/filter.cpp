#include "proxy/filter.hpp"

#include "proxy/consent_filter.hpp"
#include "proxy/exchange.hpp"

namespace consent::proxy {

FilterStatus FilterChain::run_request(Exchange& x) const {
  for (const auto& f : request) {
    if (f->on_request(x) == FilterStatus::respond) return FilterStatus::respond;
  }
  return FilterStatus::proceed;
}

void FilterChain::run_response(Exchange& x) const {
  for (auto it = response.rbegin(); it != response.rend(); ++it) (*it)->on_response(x);
}

FilterChain make_default_chain() {
  FilterChain chain;
  chain.request.push_back(std::make_shared<ProxyAuthFilter>());
  chain.request.push_back(std::make_shared<ConsentGate>());
  chain.request.push_back(std::make_shared<CookieFilter>());
  // Response filters run last to first: the ledger reads the consent cookie from the response as the
  // site sent it, before the Set-Cookie filter changes anything.
  chain.response.push_back(std::make_shared<SetCookieFilter>());
  chain.response.push_back(std::make_shared<LedgerUpdate>());
  return chain;
}

const FilterChain& default_chain() {
  static const FilterChain chain = make_default_chain();
  return chain;
}

std::string describe(const FilterChain& chain) {
  std::string out = "request: ";
  for (std::size_t i = 0; i < chain.request.size(); ++i) {
    if (i > 0) out += ", ";
    out += chain.request[i]->name();
  }
  out += "; response: ";
  for (auto it = chain.response.rbegin(); it != chain.response.rend(); ++it) {
    if (it != chain.response.rbegin()) out += ", ";
    out += (*it)->name();
  }
  return out;
}

}  // namespace consent::proxy
