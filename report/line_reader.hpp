#pragma once
// Reads '\n'-terminated lines from a stream with bounded memory: one fixed chunk buffer plus at most
// max_line_bytes for the line being assembled. A longer line is skipped to its end and reported as
// too_long, so a log without newlines (or a binary file) cannot make us allocate its size.
#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>

namespace consent::report {

class LineReader {
 public:
  static constexpr std::size_t chunk_bytes = 64 * 1024;

  enum class Status : std::uint8_t { line, too_long, end, error };

  // `in` must outlive the reader.
  LineReader(std::istream& in, std::size_t max_line_bytes);

  // line: `line` holds the next line without '\n' (a last line without '\n' counts), valid until the
  // next call. too_long: a line was skipped. end: no more input. error: the stream failed (bad()).
  Status next(std::string_view& line);

  [[nodiscard]] std::uint64_t line_number() const noexcept { return line_number_; }  // of the last line
  [[nodiscard]] std::size_t capacity_bytes() const noexcept { return buffer_.capacity() + line_.capacity(); }

 private:
  bool fill();

  std::istream& in_;
  std::size_t max_line_bytes_;
  std::string buffer_;
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  std::string line_;
  bool overflow_ = false;
  bool eof_ = false;
  bool error_ = false;
  std::uint64_t line_number_ = 0;
};

}  // namespace consent::report
