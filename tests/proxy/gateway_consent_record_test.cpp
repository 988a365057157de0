// Consent records: keyed hash, line format, dedup, rotation, key handling.
#include "proxy/consent_record.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace consent::proxy;

namespace {

class ScratchDir {
 public:
  ScratchDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("consentgate-gateway-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string key(32, 'k');

}  // namespace

TEST_CASE("the visitor hash is HMAC-SHA256 (RFC 4231 test case 2)", "[proxy][gateway]") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("a consent record is one JSON line with the documented keys", "[proxy][gateway]") {
  ConsentRecordFields f;
  f.time = std::chrono::system_clock::time_point(std::chrono::seconds(1'795'000'000));
  f.visitor = "ab12";
  f.site = "shop.example";
  f.route = "shop \"main\"";
  f.source = "eu-consent";
  f.cookie = "eu-consent";
  f.status = "valid";
  f.choice_time = 1'794'900'000;
  f.granted = {"audience-measurement"};
  f.refused = {"advertising-personalised", "social-media"};
  f.gpc = true;
  f.policy_hash = "0123456789abcdef";
  CHECK(format_consent_record(f) ==
        R"({"time":"2026-11-18T11:06:40Z","visitor":"ab12","site":"shop.example","route":"shop \"main\"",)"
        R"("source":"eu-consent","cookie":"eu-consent","status":"valid","choice_time":"2026-11-17T07:20:00Z",)"
        R"("granted":["audience-measurement"],"refused":["advertising-personalised","social-media"],"gpc":true,)"
        R"("policy_hash":"0123456789abcdef"})"
        "\n");
  f.choice_time = 0;
  CHECK(format_consent_record(f).find("choice_time") == std::string::npos);
}

TEST_CASE("recent keys forget the least recently used first", "[proxy][gateway]") {
  RecentKeys recent(2);
  CHECK(recent.insert("a"));
  CHECK(recent.insert("b"));
  CHECK_FALSE(recent.insert("a"));  // a is now the most recent
  CHECK(recent.insert("c"));        // evicts b
  CHECK(recent.size() == 2);
  CHECK_FALSE(recent.insert("a"));
  CHECK(recent.insert("b"));
}

TEST_CASE("rotation shifts numbered files and keeps at most N", "[proxy][gateway]") {
  ScratchDir dir;
  const auto log = dir.path() / "records.jsonl";
  for (int i = 0; i < 5; ++i) {
    std::ofstream(log) << "generation " << i << "\n";
    CHECK(rotate_files(log, 3).empty());
  }
  CHECK_FALSE(std::filesystem::exists(log));
  CHECK(slurp(dir.path() / "records.jsonl.1") == "generation 4\n");
  CHECK(slurp(dir.path() / "records.jsonl.2") == "generation 3\n");
  CHECK(slurp(dir.path() / "records.jsonl.3") == "generation 2\n");
  CHECK_FALSE(std::filesystem::exists(dir.path() / "records.jsonl.4"));
}

TEST_CASE("the log writes one line per new state, never the cookie, and rotates by size", "[proxy][gateway]") {
  ScratchDir dir;
  ConsentRecordLog::Options o;
  o.path = (dir.path() / "records.jsonl").string();
  o.rotate_bytes = 4096;
  o.keep = 2;
  o.key = key;
  std::string error;
  auto log = ConsentRecordLog::open(o, error);
  REQUIRE(log);
  const std::string cookie = "analytics:true,ts:1795000000";
  const auto visitor = log->visitor_hash(cookie);
  CHECK(visitor.size() == 64);
  CHECK(visitor == hmac_sha256_hex(key, cookie));
  ConsentRecordFields f;
  f.time = std::chrono::system_clock::now();
  f.visitor = visitor;
  f.status = "valid";
  CHECK(log->record(f, "1"));
  CHECK_FALSE(log->record(f, "1"));  // same visitor, same state
  CHECK(log->record(f, "3"));        // same cookie, another state (GPC, policy)
  log->flush();
  auto text = slurp(o.path);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK(text.find(cookie) == std::string::npos);
  CHECK(text.find(visitor) != std::string::npos);
  struct stat st {};
  REQUIRE(::stat(o.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Enough distinct visitors to pass the rotation size twice: the newest lines stay in the live file.
  for (int i = 0; i < 60; ++i) {
    const auto v = log->visitor_hash("visitor " + std::to_string(i));
    f.visitor = v;
    CHECK(log->record(f, "1"));
  }
  log->flush();
  CHECK(std::filesystem::exists(dir.path() / "records.jsonl.1"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "records.jsonl.3"));
  CHECK(log->written() == 62);
  CHECK(log->dropped() == 0);
}

TEST_CASE("the record key is generated private in the data dir, and refused when exposed", "[proxy][gateway]") {
  ScratchDir dir;
  const auto data = dir.path() / "data";
  std::string error;
  const auto first = load_consent_record_key("", data, error);
  REQUIRE(first.size() == consent_record_key_bytes);
  struct stat st {};
  REQUIRE(::stat((data / "consent-records.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(load_consent_record_key("", data, error) == first);  // reused, not regenerated
  std::filesystem::permissions(data / "consent-records.key", std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  CHECK(load_consent_record_key("", data, error).empty());
  CHECK(error.find("is accessible to group or others") != std::string::npos);
  std::ofstream(dir.path() / "short.key") << "too short";
  CHECK(load_consent_record_key((dir.path() / "short.key").string(), data, error).empty());
  CHECK(error.ends_with("holds fewer than 32 bytes"));
}
