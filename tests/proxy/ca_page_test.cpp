#include "proxy/ca_page.hpp"

#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "tls/certificate_authority.hpp"

using consent::proxy::ca_page;
using consent::proxy::LocalReply;
using consent::proxy::ReplyOptions;
using consent::tls::CertificateAuthority;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("consentgate-ca-page-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Parsed {
  std::string status_line;
  std::string headers;  // "\r\n"-separated, ending with "\r\n"
  std::string body;
};

Parsed split(const std::string& bytes) {
  const auto eol = bytes.find("\r\n");
  const auto end = bytes.find("\r\n\r\n");
  REQUIRE(eol != std::string::npos);
  REQUIRE(end != std::string::npos);
  return {bytes.substr(0, eol), bytes.substr(eol + 2, end - eol), bytes.substr(end + 4)};
}

bool has_header(const Parsed& p, std::string_view line) {
  return p.headers.find(std::string(line) + "\r\n") != std::string::npos;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

// Runs a shell command (openssl, our real client for certificates) and returns its standard output.
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 512> buf{};
  while (const auto n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  REQUIRE(::pclose(pipe) == 0);
  return out;
}

std::shared_ptr<const CertificateAuthority> fresh_ca(const TempDir& dir) {
  auto r = CertificateAuthority::load_or_create(dir.path() / "data");
  REQUIRE(r.error.empty());
  REQUIRE(r.ca);
  return r.ca;
}

ReplyOptions html() {
  ReplyOptions o;
  o.prefers_html = true;
  return o;
}

}  // namespace

TEST_CASE("the CA page names the CA, its fingerprint, both files and every platform's instructions", "[proxy]") {
  TempDir dir;
  const auto ca = fresh_ca(dir);
  for (const bool as_html : {false, true}) {
    ReplyOptions o;
    o.prefers_html = as_html;
    const LocalReply r = ca_page(*ca, "/", o);
    CHECK(r.status == 200);
    CHECK(r.reason_code == "ca_page");
    CHECK_FALSE(r.closes_connection);
    const auto p = split(r.bytes);
    CHECK(p.status_line == "HTTP/1.1 200 OK");
    CHECK(
        has_header(p, as_html ? "Content-Type: text/html; charset=utf-8" : "Content-Type: text/plain; charset=utf-8"));
    CHECK(has_header(p, "Content-Length: " + std::to_string(p.body.size())));
    CHECK(has_header(p, "Cache-Control: no-store"));
    CHECK(has_header(p, "X-Content-Type-Options: nosniff"));
    CHECK(has_header(p, "X-Consentgate-Reason: ca_page"));
    CHECK(has_header(p, "Content-Security-Policy: default-src 'none'") == as_html);
    CHECK_FALSE(has_header(p, "Connection: close"));
    CHECK_THAT(p.body, Catch::Contains(ca->subject_name()));
    CHECK_THAT(p.body, Catch::Contains(ca->sha256_fingerprint()));
    CHECK_THAT(p.body, Catch::Contains("/ca.pem") && Catch::Contains("/ca.der"));
    CHECK_THAT(p.body, Catch::Contains("update-ca-certificates"));                 // Debian / Ubuntu
    CHECK_THAT(p.body, Catch::Contains("certutil -d sql:"));                       // NSS: Firefox, Chromium
    CHECK_THAT(p.body, Catch::Contains("security add-trusted-cert"));              // macOS
    CHECK_THAT(p.body, Catch::Contains("Import-Certificate"));                     // Windows
    CHECK_THAT(p.body, Catch::Contains("consentgate-ca.pem"));                     // the name the link saves as
    CHECK_THAT(p.body, !Catch::Contains(ca->cert_path().parent_path().string()));  // nothing about the server's disk
    CHECK_THAT(p.body, !Catch::Contains("PRIVATE KEY"));
  }
  // The HTML page carries the PEM itself, so it can be copied from the page.
  const auto p = split(ca_page(*ca, "/", html()).bytes);
  CHECK_THAT(p.body, Catch::Contains("<a href=\"/ca.pem\"") && Catch::Contains("<a href=\"/ca.der\""));
  CHECK_THAT(p.body, Catch::Contains("-----BEGIN CERTIFICATE-----"));
}

TEST_CASE("the served PEM and DER are the CA openssl reads, with the page's fingerprint", "[proxy]") {
  TempDir dir;
  const auto ca = fresh_ca(dir);
  const auto pem = ca_page(*ca, "/ca.pem", {});
  const auto der = ca_page(*ca, "/ca.der", {});
  REQUIRE(pem.status == 200);
  REQUIRE(der.status == 200);
  const auto pp = split(pem.bytes);
  const auto pd = split(der.bytes);
  CHECK(has_header(pp, "Content-Type: application/x-pem-file"));
  CHECK(has_header(pp, "Content-Disposition: attachment; filename=\"consentgate-ca.pem\""));
  CHECK(has_header(pd, "Content-Type: application/x-x509-ca-cert"));
  CHECK(has_header(pd, "Content-Disposition: attachment; filename=\"consentgate-ca.cer\""));
  CHECK(has_header(pp, "Content-Length: " + std::to_string(pp.body.size())));
  CHECK(has_header(pd, "Content-Length: " + std::to_string(pd.body.size())));
  CHECK(pp.body == ca->pem());
  CHECK(pp.body == read_file(ca->cert_path()));
  CHECK(pd.body.size() == ca->der().size());
  CHECK(pd.body.find('\0') != std::string::npos);  // binary survives intact (a string_view of it would not cut it)

  write_file(dir.path() / "got.pem", pp.body);
  write_file(dir.path() / "got.cer", pd.body);
  const std::string expected = "sha256 Fingerprint=" + ca->sha256_fingerprint() + "\n";
  CHECK(run("openssl x509 -in " + (dir.path() / "got.pem").string() + " -noout -fingerprint -sha256") == expected);
  CHECK(run("openssl x509 -inform DER -in " + (dir.path() / "got.cer").string() + " -noout -fingerprint -sha256") ==
        expected);
  // The page's fingerprint is the one the person will compare against.
  CHECK_THAT(split(ca_page(*ca, "/", {}).bytes).body, Catch::Contains(ca->sha256_fingerprint()));
}

TEST_CASE("HEAD gets the headers and length of the GET, without a body", "[proxy]") {
  TempDir dir;
  const auto ca = fresh_ca(dir);
  ReplyOptions head;
  head.is_head = true;
  for (const char* path : {"/", "/ca.pem", "/ca.der", "/nothing"}) {
    const auto get = split(ca_page(*ca, path, {}).bytes);
    const auto h = split(ca_page(*ca, path, head).bytes);
    CHECK(h.body.empty());
    CHECK(h.headers == get.headers);
  }
}

TEST_CASE("a query string is ignored; any other path is 404 and never the key", "[proxy]") {
  TempDir dir;
  const auto ca = fresh_ca(dir);
  CHECK(ca_page(*ca, "/ca.pem?download=1", {}).bytes == ca_page(*ca, "/ca.pem", {}).bytes);
  CHECK(ca_page(*ca, "/?x=<b>", html()).bytes == ca_page(*ca, "/", html()).bytes);
  CHECK(ca_page(*ca, "", {}).status == 200);
  const std::string key = read_file(dir.path() / "data" / CertificateAuthority::key_file_name);
  REQUIRE(key.find("PRIVATE KEY") != std::string::npos);
  for (const char* path :
       {"/ca.key", "/consentgate-ca-key.pem", "/ca.pem/", "/CA.PEM", "/ca.pem%00", "/../consentgate-ca-key.pem",
        "//ca.pem", "/ca.der.", "/%2e%2e/", "*", "http://consentgate.ca/ca.pem", "/<script>alert(1)</script>"}) {
    for (const bool as_html : {false, true}) {
      ReplyOptions o;
      o.prefers_html = as_html;
      const auto r = ca_page(*ca, path, o);
      CHECK(r.status == 404);
      CHECK(r.reason_code == "not_found");
      const auto p = split(r.bytes);
      CHECK(p.status_line == "HTTP/1.1 404 Not Found");
      CHECK(has_header(p, "Content-Length: " + std::to_string(p.body.size())));
      CHECK_THAT(r.bytes, !Catch::Contains("script>") && !Catch::Contains("PRIVATE KEY"));
      CHECK_THAT(r.bytes, !Catch::Contains(key.substr(30, 40)));
    }
  }
}

TEST_CASE("the page closes the connection when the options say so", "[proxy]") {
  TempDir dir;
  const auto ca = fresh_ca(dir);
  ReplyOptions closing;
  closing.keep_alive = false;
  const auto r = ca_page(*ca, "/ca.pem", closing);
  CHECK(r.closes_connection);
  CHECK(has_header(split(r.bytes), "Connection: close"));
  ReplyOptions unread;
  unread.body_unread = true;
  CHECK(ca_page(*ca, "/", unread).closes_connection);
  ReplyOptions http10;
  http10.is_http10 = true;
  const auto r10 = ca_page(*ca, "/", http10);
  CHECK_FALSE(r10.closes_connection);
  CHECK(has_header(split(r10.bytes), "Connection: keep-alive"));
}

TEST_CASE("a CA name with markup is escaped on the HTML page", "[proxy]") {
  TempDir dir;
  const auto cert = dir.path() / "hostile.pem";
  const auto key = dir.path() / "hostile-key.pem";
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -keyout " + key.string() +
      " -out " + cert.string() + " -subj '/CN=<script>alert(1)<\\/script> & \"x\"'" +
      " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null");
  REQUIRE(::chmod(key.c_str(), 0600) == 0);
  auto loaded = CertificateAuthority::load(cert, key);
  REQUIRE(loaded.error.empty());
  REQUIRE(loaded.ca);
  REQUIRE(loaded.ca->subject_name().find("<script>") != std::string::npos);
  const auto p = split(ca_page(*loaded.ca, "/", html()).bytes);
  CHECK_THAT(p.body, !Catch::Contains("<script>"));
  CHECK_THAT(p.body, Catch::Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
}
