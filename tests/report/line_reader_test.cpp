#include "report/line_reader.hpp"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

using consent::report::LineReader;

namespace {
struct Read {
  std::vector<std::string> lines;  // "<too long>" for skipped lines
  bool error = false;
};
Read read_all(const std::string& input, std::size_t max_line) {
  std::istringstream in(input);
  LineReader reader(in, max_line);
  Read out;
  std::string_view line;
  for (;;) {
    const auto st = reader.next(line);
    if (st == LineReader::Status::end) break;
    if (st == LineReader::Status::error) {
      out.error = true;
      break;
    }
    out.lines.emplace_back(st == LineReader::Status::line ? std::string(line) : std::string("<too long>"));
    REQUIRE(reader.capacity_bytes() <= LineReader::chunk_bytes + 2 * max_line + 64);
  }
  return out;
}
}  // namespace

TEST_CASE("lines are split on LF; a last line without LF counts; empty lines are lines", "[report]") {
  CHECK(read_all("", 100).lines.empty());
  CHECK(read_all("a", 100).lines == std::vector<std::string>{"a"});
  CHECK(read_all("a\n", 100).lines == std::vector<std::string>{"a"});
  CHECK(read_all("a\n\nb\r\nc", 100).lines == std::vector<std::string>{"a", "", "b\r", "c"});
  CHECK(read_all("\n", 100).lines == std::vector<std::string>{""});
}

TEST_CASE("a line longer than the limit is skipped to its end, whatever its size", "[report]") {
  const std::string big(3 * LineReader::chunk_bytes + 17, 'x');
  CHECK(read_all("ok\n" + big + "\nnext\n", 1000).lines == std::vector<std::string>{"ok", "<too long>", "next"});
  CHECK(read_all(big, 1000).lines == std::vector<std::string>{"<too long>"});
  CHECK(read_all(std::string(1000, 'y') + "\n" + std::string(1001, 'z'), 1000).lines ==
        std::vector<std::string>{std::string(1000, 'y'), "<too long>"});
}

TEST_CASE("lines spanning chunk boundaries are reassembled exactly", "[report]") {
  std::string input;
  std::vector<std::string> expected;
  for (int i = 0; i < 3000; ++i) {
    expected.push_back(std::string(static_cast<std::size_t>(i % 97), static_cast<char>('a' + i % 26)) +
                       std::to_string(i));
    input += expected.back() + "\n";
  }
  CHECK(read_all(input, 200).lines == expected);
}
