#include "tests/proxy/dns_test_server.hpp"

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <optional>

namespace consent::proxy::test {

namespace asio = boost::asio;

namespace {

constexpr std::uint16_t type_a = 1;
constexpr std::uint16_t type_cname = 5;
constexpr std::uint16_t type_aaaa = 28;

struct Question {
  std::string name;  // lower-case, dotted
  std::size_t end = 0;
  std::uint16_t type = 0;
};

std::uint16_t read16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
}

void put_name(std::vector<std::uint8_t>& out, std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  while (!name.empty()) {
    const auto dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  out.push_back(0);
}

std::string lower(std::string_view s) {
  std::string out{s};
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::optional<Question> parse_question(std::span<const std::uint8_t> q) {
  if (q.size() < 12 || read16(q, 4) != 1) return std::nullopt;
  Question out;
  std::size_t at = 12;
  for (int labels = 0; labels < 128; ++labels) {
    if (at >= q.size()) return std::nullopt;
    const std::size_t len = q[at++];
    if (len == 0) {
      if (at + 4 > q.size()) return std::nullopt;
      out.type = read16(q, at);
      out.end = at + 4;
      out.name = lower(out.name);
      return out;
    }
    if (len > 63 || at + len > q.size()) return std::nullopt;  // compression pointers have no place here
    if (!out.name.empty()) out.name.push_back('.');
    out.name.append(reinterpret_cast<const char*>(q.data() + at), len);  // NOLINT: bytes to chars
    at += len;
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::uint8_t> answer_dns_query(std::span<const std::uint8_t> query, const DnsZone& zone) {
  const auto question = parse_question(query);
  if (!question) return {};
  const auto first = zone.find(question->name);
  const DnsBehaviour behaviour = first == zone.end() ? DnsBehaviour::answer : first->second.behaviour;
  if (behaviour == DnsBehaviour::silent) return {};

  std::vector<std::uint8_t> answers;
  std::uint16_t count = 0;
  std::uint16_t rcode = 0;
  std::string name = question->name;
  std::string written = question->name;  // the owner name as it goes on the wire
  if (behaviour == DnsBehaviour::servfail) {
    rcode = 2;
  } else if (behaviour == DnsBehaviour::garbage) {
    count = 1;
    answers = {0xc0, 0x0c, 0x00, 0x01, 0x00};  // owner, then a type cut short
  } else if (first == zone.end()) {
    rcode = 3;
  } else {
    // A recursive server answers the chain and the final addresses at once (RFC 1034 section 4.3.2).
    for (int hop = 0; hop < 20; ++hop) {
      const auto it = zone.find(name);
      if (it == zone.end()) break;
      const DnsZoneEntry& e = it->second;
      if (!e.cname.empty()) {
        put_name(answers, written);
        put16(answers, type_cname);
        put16(answers, 1);
        put32(answers, e.ttl);
        std::vector<std::uint8_t> target;
        put_name(target, e.cname);
        put16(answers, static_cast<std::uint16_t>(target.size()));
        answers.insert(answers.end(), target.begin(), target.end());
        ++count;
        written = e.cname;
        name = lower(e.cname);
        continue;
      }
      const auto& list = question->type == type_a ? e.a : e.aaaa;
      if (question->type == type_a || question->type == type_aaaa) {
        for (const std::string& text : list) {
          const auto address = asio::ip::make_address(text);
          put_name(answers, written);
          put16(answers, question->type);
          put16(answers, 1);
          put32(answers, e.ttl);
          if (address.is_v4()) {
            const auto bytes = address.to_v4().to_bytes();
            put16(answers, static_cast<std::uint16_t>(bytes.size()));
            answers.insert(answers.end(), bytes.begin(), bytes.end());
          } else {
            const auto bytes = address.to_v6().to_bytes();
            put16(answers, static_cast<std::uint16_t>(bytes.size()));
            answers.insert(answers.end(), bytes.begin(), bytes.end());
          }
          ++count;
        }
      }
      break;
    }
  }

  std::vector<std::uint8_t> out;
  out.insert(out.end(), query.begin(), query.begin() + 2);  // ID
  const std::uint16_t rd = read16(query, 2) & 0x0100;
  put16(out, static_cast<std::uint16_t>(0x8000 | 0x0400 | rd | 0x0080 | rcode));  // QR AA RD RA
  put16(out, 1);
  put16(out, count);
  put16(out, 0);
  put16(out, 0);
  out.insert(out.end(), query.begin() + 12, query.begin() + static_cast<std::ptrdiff_t>(question->end));
  out.insert(out.end(), answers.begin(), answers.end());
  return out;
}

struct DnsTestServer::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(asio::io_context& io, DnsZone z)
      : socket(io, asio::ip::udp::endpoint{asio::ip::make_address("127.0.0.1"), 0}), zone(std::move(z)) {}

  void receive() {
    socket.async_receive_from(asio::buffer(buffer), peer,
                              [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                if (ec == asio::error::operation_aborted || !self->socket.is_open()) return;
                                if (!ec) self->handle(n);
                                self->receive();
                              });
  }

  void handle(std::size_t n) {
    ++total;
    const std::span<const std::uint8_t> query{buffer.data(), n};
    if (const auto q = parse_question(query)) ++per_name[q->name];
    if (all_silent) return;
    auto reply = std::make_shared<std::vector<std::uint8_t>>(answer_dns_query(query, zone));
    if (reply->empty()) return;
    socket.async_send_to(asio::buffer(*reply), peer, [reply](boost::system::error_code, std::size_t) {});
  }

  asio::ip::udp::socket socket;
  asio::ip::udp::endpoint peer;
  std::array<std::uint8_t, 1500> buffer{};
  DnsZone zone;
  bool all_silent = false;
  std::size_t total = 0;
  std::map<std::string, std::size_t> per_name;
};

DnsTestServer::DnsTestServer(asio::io_context& io, DnsZone zone) : impl_(std::make_shared<Impl>(io, std::move(zone))) {
  impl_->receive();
}

DnsTestServer::~DnsTestServer() {
  boost::system::error_code ignored;
  impl_->socket.close(ignored);
}

std::string DnsTestServer::address() const {
  return "127.0.0.1:" + std::to_string(impl_->socket.local_endpoint().port());
}

DnsZoneEntry& DnsTestServer::operator[](const std::string& name) { return impl_->zone[name]; }
void DnsTestServer::set_all_silent(bool is_silent) { impl_->all_silent = is_silent; }
std::size_t DnsTestServer::queries() const { return impl_->total; }
std::size_t DnsTestServer::queries_for(const std::string& name) const {
  const auto it = impl_->per_name.find(name);
  return it == impl_->per_name.end() ? 0 : it->second;
}

}  // namespace consent::proxy::test
