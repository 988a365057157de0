// Runs the real `consentgate report` binary: exit codes are the CI contract (0 / 1 / 2).
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const std::string fixtures = std::string(CONSENT_SOURCE_DIR) + "/tests/report/fixtures/";

struct Temp {
  fs::path dir = fs::temp_directory_path() / ("report_cli_" + std::to_string(::getpid()));
  Temp() { fs::create_directories(dir); }
  ~Temp() { fs::remove_all(dir); }
  [[nodiscard]] std::string path(const std::string& name) const { return (dir / name).string(); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Exit status of `consentgate report ARGS` (stdout and stderr into files of `t`).
int report(const Temp& t, const std::string& args) {
  REQUIRE(fs::exists(CONSENTGATE_BINARY));  // build the consentgate target first
  const std::string cmd =
      std::string(CONSENTGATE_BINARY) + " report " + args + " >" + t.path("out.txt") + " 2>" + t.path("err.txt");
  const int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("consentgate report exits 1 on violations and writes JSON, HTML and text", "[report][cli]") {
  Temp t;
  CHECK(report(t, fixtures + "tracker_before_consent.log --json " + t.path("s.json") + " --html " + t.path("r.html")) ==
        1);
  const auto summary = nlohmann::json::parse(slurp(t.path("s.json")));
  CHECK(summary["schema_version"] == 1);
  CHECK(summary["totals"]["violations"] == 2);
  CHECK(slurp(t.path("r.html")).rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(slurp(t.path("out.txt")).find("result: FAIL (2 violation(s))") != std::string::npos);
}

TEST_CASE("consentgate report exits 0 when --allow accepts every violation, and with --quiet prints nothing",
          "[report][cli]") {
  Temp t;
  CHECK(report(t, "--allow kind=tracker_before_consent --allow 'reason=purpose_not_granted' " + fixtures +
                      "tracker_before_consent.log --quiet") == 0);
  CHECK(slurp(t.path("out.txt")).empty());
}

TEST_CASE("consentgate report reads stdin and several logs; malformed lines are not fatal", "[report][cli]") {
  Temp t;
  std::ofstream(t.path("clean.log"))
      << R"({"time":"2026-11-22T13:00:00Z","site":"a.example","host":"a.example","action":"allow","mode":"enforce"})"
      << "\nnot json\n";
  CHECK(report(t, "- " + t.path("clean.log") + " --json - < " + t.path("clean.log")) == 0);
  const auto summary = nlohmann::json::parse(slurp(t.path("out.txt")));
  CHECK(summary["inputs"].size() == 2);
  CHECK(summary["inputs"][0]["name"] == "-");
  CHECK(summary["lines"]["malformed"] == 2);
  CHECK(slurp(t.path("err.txt")).find("result: PASS") != std::string::npos);  // stdout carries the JSON
}

TEST_CASE("consentgate report exits 2 on usage and I/O errors", "[report][cli]") {
  Temp t;
  CHECK(report(t, "") == 2);
  CHECK(slurp(t.path("err.txt")).find("no decision log given") != std::string::npos);
  CHECK(report(t, t.path("missing.log")) == 2);
  CHECK(slurp(t.path("err.txt")).find("cannot open") != std::string::npos);
  CHECK(report(t, t.dir.string()) == 2);
  CHECK(report(t, "--allow hots=x " + fixtures + "set_cookie_before_consent.log") == 2);
  CHECK(slurp(t.path("err.txt")).find("unknown key \"hots\"") != std::string::npos);
  CHECK(report(t, "--bogus " + fixtures + "set_cookie_before_consent.log") == 2);
  CHECK(report(t, "- - ") == 2);
  CHECK(report(t, fixtures + "set_cookie_before_consent.log --json " + t.path("no/such/dir/s.json")) == 2);
}
