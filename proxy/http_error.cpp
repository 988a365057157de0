#include "proxy/http_error.hpp"

#include <string>

namespace consent::proxy {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are never deleted
// through a base pointer); GCC's -Wnon-virtual-dtor still flags every derived category.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class HttpCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "consent.http"; }
  std::string message(int ev) const override {
    return std::string(reason_code(make_error_code(static_cast<http_errc>(ev))));
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& http_category() noexcept {
  static const HttpCategory category;
  return category;
}

int status_for(const boost::system::error_code& ec, MessageSide side) noexcept {
  if (ec.category() != http_category()) return 500;
  if (side == MessageSide::response) return 502;
  switch (static_cast<http_errc>(ec.value())) {
    case http_errc::head_too_large:
    case http_errc::too_many_headers:
      return 431;
    case http_errc::uri_too_long:
      return 414;
    default:
      return 400;
  }
}

std::string_view reason_code(const boost::system::error_code& ec) noexcept {
  if (ec.category() != http_category()) return "unknown";
  switch (static_cast<http_errc>(ec.value())) {
    case http_errc::head_too_large:
      return "head_too_large";
    case http_errc::too_many_headers:
      return "too_many_headers";
    case http_errc::uri_too_long:
      return "uri_too_long";
    case http_errc::malformed_head:
      return "malformed_head";
    case http_errc::invalid_method:
      return "invalid_method";
    case http_errc::invalid_version:
      return "invalid_version";
    case http_errc::invalid_target:
      return "invalid_target";
    case http_errc::invalid_host:
      return "invalid_host";
    case http_errc::ambiguous_framing:
      return "ambiguous_framing";
    case http_errc::bad_transfer_encoding:
      return "bad_transfer_encoding";
    case http_errc::bad_chunk:
      return "bad_chunk";
    case http_errc::chunk_extension_too_long:
      return "chunk_extension_too_long";
    case http_errc::truncated:
      return "truncated";
    case http_errc::unexpected_data:
      return "unexpected_data";
  }
  return "unknown";
}

}  // namespace consent::proxy
