#pragma once
// The filter chain (STYLE section 4): request filters run in order before going upstream, response
// filters in reverse order on the response head. Filters are synchronous, do no I/O and talk to each
// other only through the Exchange. A filter object is built once per configuration generation,
// immutable, shared by every thread: per-exchange state lives in the Exchange, never in the filter.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace consent::proxy {

struct Exchange;

enum class FilterStatus { proceed, respond };  // respond: x.local_reply is set and the chain stops

class RequestFilter {
 public:
  virtual ~RequestFilter() = default;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  virtual FilterStatus on_request(Exchange& x) const = 0;
};

class ResponseFilter {
 public:
  virtual ~ResponseFilter() = default;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  virtual void on_response(Exchange& x) const = 0;
};

struct FilterChain {
  std::vector<std::shared_ptr<const RequestFilter>> request;
  std::vector<std::shared_ptr<const ResponseFilter>> response;  // run last to first

  // Runs the request filters; stops at the first that responds.
  FilterStatus run_request(Exchange& x) const;
  void run_response(Exchange& x) const;
};

// The standard chain: proxy authentication, consent gate, cookie filter; Set-Cookie filter, ledger update.
[[nodiscard]] FilterChain make_default_chain();
// The one chain every session runs, built on first use (thread-safe), immutable afterwards.
[[nodiscard]] const FilterChain& default_chain();
// "request: a, b, c; response: d, e" in the order they run, for the startup log line.
[[nodiscard]] std::string describe(const FilterChain& chain);

}  // namespace consent::proxy
