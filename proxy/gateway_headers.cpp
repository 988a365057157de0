#include "proxy/gateway_headers.hpp"

#include <string>

namespace consent::proxy {
namespace {

// Every line named `name`, joined with ", " (RFC 9110 section 5.3).
std::string joined(const Headers& headers, std::string_view name) {
  std::string out;
  for (const auto field : headers) {
    if (!iequals(field.name, name) || field.value.empty()) continue;
    if (!out.empty()) out += ", ";
    out += field.value;
  }
  return out;
}

// Sets `name` to `value`, or removes it when the value cannot be sent (it came from a client).
void set_or_remove(Headers& headers, std::string_view name, std::string_view value) {
  if (!headers.set(name, value)) headers.remove(name);
}

// RFC 7239 section 4: a value that is not a token is a quoted-string.
std::string forwarded_value(std::string_view value) {
  if (is_token(value)) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::string forwarded_node(std::string_view address) {
  if (address.find(':') == std::string_view::npos) return std::string(address);
  return "\"[" + std::string(address) + "]\"";
}

void apply_forwarded_headers(Headers& headers, const ForwardedInput& in) {
  const std::string_view proto = in.is_https ? "https" : "http";
  std::string element = "for=" + forwarded_node(in.client);
  if (!in.host.empty() && is_field_value(in.host)) element += ";host=" + forwarded_value(in.host);
  element += ";proto=";
  element += proto;

  if (!in.is_trusted_peer) {
    // One pass over the head: none of the peer's own forwarding lines survive, and ours are appended.
    for (std::size_t i = headers.size(); i-- > 0;) {
      const auto name = headers[i].name;
      if (iequals(name, "X-Forwarded-For") || iequals(name, "Forwarded") || iequals(name, "X-Forwarded-Proto") ||
          iequals(name, "X-Forwarded-Host") || iequals(name, "X-Real-IP")) {
        headers.erase(i);
      }
    }
    (void)headers.add("X-Forwarded-For", in.client);
    (void)headers.add("Forwarded", element);
    (void)headers.add("X-Forwarded-Proto", proto);
    if (!in.host.empty()) (void)headers.add("X-Forwarded-Host", in.host);
    return;
  }
  std::string xff;
  std::string forwarded;
  std::string xf_proto;
  std::string xf_host;
  xff = joined(headers, "X-Forwarded-For");
  forwarded = joined(headers, "Forwarded");
  xf_proto = joined(headers, "X-Forwarded-Proto");
  xf_host = joined(headers, "X-Forwarded-Host");
  if (xff.size() + in.client.size() + 2 > max_forwarded_bytes) xff.clear();
  if (forwarded.size() + element.size() + 2 > max_forwarded_bytes) forwarded.clear();
  if (!xff.empty()) xff += ", ";
  xff += in.client;
  if (!forwarded.empty()) forwarded += ", ";
  forwarded += element;
  if (xf_proto.empty() || xf_proto.size() > 16) xf_proto = proto;
  if (xf_host.empty() || xf_host.size() > 256) xf_host = in.host;

  set_or_remove(headers, "X-Forwarded-For", xff);
  set_or_remove(headers, "Forwarded", forwarded);
  set_or_remove(headers, "X-Forwarded-Proto", xf_proto);
  if (xf_host.empty()) {
    headers.remove("X-Forwarded-Host");
  } else {
    set_or_remove(headers, "X-Forwarded-Host", xf_host);
  }
  // A rewrite a trusted peer's bytes made unsendable falls back to describing the peer alone.
  if (!headers.contains("X-Forwarded-For")) set_or_remove(headers, "X-Forwarded-For", in.client);
  if (!headers.contains("Forwarded")) set_or_remove(headers, "Forwarded", element);
}

void set_consent_header(Headers& headers, std::string_view name, const std::vector<std::string_view>& purposes) {
  if (name.empty()) return;
  std::string value;
  for (auto p : purposes) {
    if (!value.empty()) value += ", ";
    value += p;
  }
  set_or_remove(headers, name, value);
}

void set_consent_header_value(Headers& headers, std::string_view name, std::string_view joined_purposes) {
  if (name.empty()) return;
  set_or_remove(headers, name, joined_purposes);
}

bool varies_on(const Headers& headers, std::string_view token) noexcept {
  for (const auto field : headers) {
    if (!iequals(field.name, "Vary")) continue;
    if (list_contains(field.value, token) || list_contains(field.value, "*")) return true;
  }
  return false;
}

void add_vary(Headers& headers, std::string_view token) {
  if (varies_on(headers, token)) return;
  auto value = joined(headers, "Vary");
  if (!value.empty()) value += ", ";
  value += token;
  set_or_remove(headers, "Vary", value);
  if (!headers.contains("Vary")) (void)headers.add("Vary", token);
}

}  // namespace consent::proxy
