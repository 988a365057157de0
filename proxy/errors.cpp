#include "proxy/errors.hpp"

#include <string>

namespace consent::proxy {
namespace {

std::string_view name_of(int value) noexcept {
  switch (static_cast<errc>(value)) {
    case errc::request_head_too_large:
      return "request_head_too_large";
    case errc::malformed_request:
      return "malformed_request";
    case errc::client_head_timeout:
      return "client_head_timeout";
    case errc::upstream_timeout:
      return "upstream_timeout";
    case errc::upstream_first_byte_timeout:
      return "upstream_first_byte_timeout";
    case errc::upstream_unreachable:
      return "upstream_unreachable";
    case errc::upstream_bad_response:
      return "upstream_bad_response";
    case errc::upstream_closed:
      return "upstream_closed";
    case errc::idle_timeout:
      return "idle_timeout";
    case errc::forbidden_port:
      return "forbidden_port";
    case errc::loop_detected:
      return "loop_detected";
    case errc::body_too_large:
      return "body_too_large";
  }
  return "internal_error";
}

class ProxyCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "consent.proxy"; }
  std::string message(int value) const override { return std::string(name_of(value)); }
};

}  // namespace

const boost::system::error_category& proxy_category() noexcept {
  static const ProxyCategory category;
  return category;
}

}  // namespace consent::proxy
