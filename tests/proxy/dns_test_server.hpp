#pragma once
// A tiny authoritative-and-recursive-looking DNS server for the resolver tests: UDP on 127.0.0.1, port 0,
// answering A/AAAA from a table and following its CNAMEs the way a recursive resolver does (the whole
// chain, then the final name's addresses, in one answer). Runs on the test's io_context; nothing leaves
// loopback. Not a DNS implementation: one question per query, no compression, no EDNS, no TCP.
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace consent::proxy::test {

enum class DnsBehaviour : std::uint8_t {
  answer,    // records from the table; NXDOMAIN for unknown names
  silent,    // drop the query: the resolver must time out
  servfail,  // RCODE 2
  garbage,   // a header that promises an answer record, then a truncated one
};

struct DnsZoneEntry {
  std::vector<std::string> a;     // dotted quads
  std::vector<std::string> aaaa;  // IPv6 text
  std::string cname;              // target, as written (case and trailing dot kept on the wire)
  std::uint32_t ttl = 60;
  DnsBehaviour behaviour = DnsBehaviour::answer;
};

using DnsZone = std::map<std::string, DnsZoneEntry>;  // keys lower-case, no trailing dot

// The answer to one query datagram; empty when the query is malformed or the name is silent.
[[nodiscard]] std::vector<std::uint8_t> answer_dns_query(std::span<const std::uint8_t> query, const DnsZone& zone);

class DnsTestServer {
 public:
  explicit DnsTestServer(boost::asio::io_context& io, DnsZone zone = {});
  ~DnsTestServer();
  DnsTestServer(const DnsTestServer&) = delete;
  DnsTestServer& operator=(const DnsTestServer&) = delete;

  [[nodiscard]] std::string address() const;  // "127.0.0.1:PORT", for DnsOptions::servers
  DnsZoneEntry& operator[](const std::string& name);
  void set_all_silent(bool is_silent);
  [[nodiscard]] std::size_t queries() const;                             // datagrams received
  [[nodiscard]] std::size_t queries_for(const std::string& name) const;  // by lower-case question name

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace consent::proxy::test
