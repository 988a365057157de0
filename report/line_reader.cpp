#include "report/line_reader.hpp"

#include <algorithm>
#include <cstring>

namespace consent::report {

LineReader::LineReader(std::istream& in, std::size_t max_line_bytes)
    : in_(in), max_line_bytes_(max_line_bytes), buffer_(chunk_bytes, '\0') {}

bool LineReader::fill() {
  if (eof_) return false;
  in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  len_ = static_cast<std::size_t>(in_.gcount());
  pos_ = 0;
  if (in_.bad()) {
    error_ = true;
    eof_ = true;
    return false;
  }
  if (len_ == 0) {
    eof_ = true;
    return false;
  }
  return true;
}

LineReader::Status LineReader::next(std::string_view& line) {
  line_.clear();
  overflow_ = false;
  bool any = false;  // bytes of a line seen (a final line without '\n')
  for (;;) {
    if (pos_ == len_ && !fill()) {
      if (error_) return Status::error;
      if (!any) return Status::end;
      ++line_number_;
      if (overflow_) return Status::too_long;
      line = line_;
      return Status::line;
    }
    const char* begin = buffer_.data() + pos_;
    const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', len_ - pos_));
    const std::size_t n = nl != nullptr ? static_cast<std::size_t>(nl - begin) : len_ - pos_;
    any = true;
    if (!overflow_) {
      if (line_.size() + n > max_line_bytes_) {
        overflow_ = true;
        line_.clear();
        line_.shrink_to_fit();
      } else {
        line_.append(begin, n);
      }
    }
    pos_ += n;
    if (nl != nullptr) {
      ++pos_;
      ++line_number_;
      if (overflow_) return Status::too_long;
      line = line_;
      return Status::line;
    }
  }
}

}  // namespace consent::report
