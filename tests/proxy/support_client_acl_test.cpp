#include "proxy/client_acl.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using consent::proxy::ClientAcl;

namespace {

ClientAcl build_ok(const std::vector<std::string>& cidrs) {
  std::vector<std::string> errors;
  auto acl = ClientAcl::build(cidrs, errors);
  INFO((errors.empty() ? std::string() : errors.front()));
  REQUIRE(errors.empty());
  return acl;
}

std::vector<std::string> errors_of(const std::vector<std::string>& cidrs) {
  std::vector<std::string> errors;
  (void)ClientAcl::build(cidrs, errors);
  return errors;
}

}  // namespace

TEST_CASE("the default list allows loopback only", "[proxy]") {
  const auto acl = build_ok({"127.0.0.0/8", "::1/128"});
  CHECK(acl.allows("127.0.0.1"));
  CHECK(acl.allows("127.255.255.255"));
  CHECK_FALSE(acl.allows("128.0.0.0"));
  CHECK_FALSE(acl.allows("126.255.255.255"));
  CHECK(acl.allows("::1"));
  CHECK_FALSE(acl.allows("::2"));
  CHECK_FALSE(acl.allows("::"));
  CHECK(acl.allows(ClientAcl::V4{127, 0, 0, 1}));
  CHECK_FALSE(acl.allows(ClientAcl::V4{10, 0, 0, 1}));
}

TEST_CASE("IPv4 prefixes match on both sides of the boundary", "[proxy]") {
  const auto acl = build_ok({"192.168.4.0/22", "10.1.2.3"});
  CHECK(acl.allows("192.168.4.0"));
  CHECK(acl.allows("192.168.7.255"));
  CHECK_FALSE(acl.allows("192.168.3.255"));
  CHECK_FALSE(acl.allows("192.168.8.0"));
  CHECK(acl.allows("10.1.2.3"));
  CHECK_FALSE(acl.allows("10.1.2.4"));
  CHECK_FALSE(acl.allows("10.1.2.2"));
}

TEST_CASE("IPv6 prefixes match on both sides of the boundary", "[proxy]") {
  const auto acl = build_ok({"2001:db8:abcd:12::/63"});
  CHECK(acl.allows("2001:db8:abcd:12::1"));
  CHECK(acl.allows("2001:db8:abcd:13:ffff:ffff:ffff:ffff"));
  CHECK_FALSE(acl.allows("2001:db8:abcd:11:ffff:ffff:ffff:ffff"));
  CHECK_FALSE(acl.allows("2001:db8:abcd:14::"));
  CHECK(acl.allows("2001:DB8:ABCD:12::1"));
}

TEST_CASE("v4 rules match v4-mapped clients and the other way round", "[proxy]") {
  const auto acl = build_ok({"10.0.0.0/8"});
  CHECK(acl.allows("::ffff:10.9.8.7"));
  CHECK_FALSE(acl.allows("::ffff:11.0.0.1"));
  ClientAcl::V6 mapped{};
  mapped[10] = mapped[11] = 0xFF;
  mapped[12] = 10;
  mapped[15] = 1;
  CHECK(acl.allows(mapped));
  // The v4-compatible (deprecated) form is not a v4 address.
  CHECK_FALSE(acl.allows("::10.0.0.1"));
  const auto mapped_rule = build_ok({"::ffff:10.0.0.0/104"});
  CHECK(mapped_rule.allows("10.200.0.1"));
  CHECK_FALSE(mapped_rule.allows("11.0.0.1"));
}

TEST_CASE("/0 allows everything of its family and ::/0 everything", "[proxy]") {
  const auto v4 = build_ok({"0.0.0.0/0"});
  CHECK(v4.allows("1.2.3.4"));
  CHECK(v4.allows("255.255.255.255"));
  CHECK_FALSE(v4.allows("2001:db8::1"));
  const auto any = build_ok({"::/0"});
  CHECK(any.allows("2001:db8::1"));
  CHECK(any.allows("1.2.3.4"));
}

TEST_CASE("an empty list allows nobody", "[proxy]") {
  const auto acl = build_ok({});
  CHECK_FALSE(acl.allows("127.0.0.1"));
  CHECK_FALSE(ClientAcl{}.allows("::1"));
}

TEST_CASE("bad entries are reported with their index, others kept", "[proxy]") {
  std::vector<std::string> errors;
  const auto acl = ClientAcl::build({"10.0.0.1/8", "127.0.0.1", "fe80::1%eth0", "1.2.3.4/33", "::/129", "1.2.3/24",
                                     "10.0.0.0/", "10.0.0.0/+8", "", "x\n"},
                                    errors);
  REQUIRE(errors.size() == 9);
  // The words are config::parse_cidr's (one CIDR grammar for every setting), prefixed with the entry.
  const std::string not_cidr = R"( is not an IP network in CIDR notation (e.g. "192.168.0.0/16", "fd00::/8"))";
  CHECK(errors[0] == R"(allowed_clients[0]: "10.0.0.1/8" has host bits set; did you mean "10.0.0.0/8"?)");
  CHECK(errors[1] == R"(allowed_clients[2]: "fe80::1%eth0")" + not_cidr);
  CHECK(errors[2] == R"(allowed_clients[3]: "1.2.3.4/33")" + not_cidr);
  CHECK(errors[3] == R"(allowed_clients[4]: "::/129")" + not_cidr);
  CHECK(errors[4] == R"(allowed_clients[5]: "1.2.3/24")" + not_cidr);
  CHECK(errors[5] == R"(allowed_clients[6]: "10.0.0.0/")" + not_cidr);
  CHECK(errors[6] == R"(allowed_clients[7]: "10.0.0.0/+8")" + not_cidr);
  CHECK(errors[7] == R"(allowed_clients[8]: "")" + not_cidr);
  CHECK(errors[8] == R"(allowed_clients[9]: "x\n")" + not_cidr);
  CHECK(acl.size() == 1);
  CHECK(acl.allows("127.0.0.1"));
  CHECK(errors_of({"2001:db8::1/64"}).at(0) ==
        R"(allowed_clients[0]: "2001:db8::1/64" has host bits set; did you mean "2001:db8::/64"?)");
}

TEST_CASE("unparsable client addresses are refused", "[proxy]") {
  const auto acl = build_ok({"::/0"});
  CHECK_FALSE(acl.allows(""));
  CHECK_FALSE(acl.allows("localhost"));
  CHECK_FALSE(acl.allows(std::string(1000, '1')));
  CHECK_FALSE(acl.allows(std::string_view("127.0.0.1\0", 10)));
}
