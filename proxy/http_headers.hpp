#pragma once
// An ordered list of HTTP field lines (RFC 9110 section 5) with case-insensitive lookup, stored allocation-light:
// all names and values live in one contiguous string and an index of offsets, so a typical head costs two
// allocations, and clear() keeps both for the next message.
//
// Lifetime of views: every std::string_view returned (name, value, get(), fields) points into this object and is
// invalidated by ANY mutation of it (add, set, remove, clear, assignment), like iterators of a std::vector.
// Copy what you need before mutating.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace consent::proxy {

// RFC 9110 section 5.6.2: token = 1*tchar.
[[nodiscard]] bool is_token(std::string_view s) noexcept;
// RFC 9110 section 5.5: field-value = *field-content; no CR, LF, NUL or other CTL except HTAB; no leading or
// trailing whitespace. Empty is allowed.
[[nodiscard]] bool is_field_value(std::string_view s) noexcept;
// ASCII case-insensitive equality (field names, tokens); never locale-dependent.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;
// True when the comma-separated list `list` (RFC 9110 section 5.6.1, OWS around elements, empty elements
// ignored) contains `token`, compared case-insensitively. Parameters (";q=1") are not stripped.
[[nodiscard]] bool list_contains(std::string_view list, std::string_view token) noexcept;
// Removes leading and trailing SP/HTAB.
[[nodiscard]] std::string_view trim_ows(std::string_view s) noexcept;

struct Field {
  std::string_view name;  // as received (case preserved)
  std::string_view value;
};

class Headers {
 public:
  class const_iterator;

  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }
  [[nodiscard]] bool empty() const noexcept { return index_.empty(); }
  [[nodiscard]] Field operator[](std::size_t i) const noexcept;
  [[nodiscard]] const_iterator begin() const noexcept;
  [[nodiscard]] const_iterator end() const noexcept;

  // Value of the first line named `name` (case-insensitive); empty view if absent (use contains() to tell apart).
  [[nodiscard]] std::string_view get(std::string_view name) const noexcept;
  [[nodiscard]] bool contains(std::string_view name) const noexcept;
  [[nodiscard]] std::size_t count(std::string_view name) const noexcept;
  // True when any line named `name` carries `token` in its comma-separated list (Connection, Upgrade, TE, ...).
  [[nodiscard]] bool has_token(std::string_view name, std::string_view token) const noexcept;

  // Appends a line. Refuses (returns false, changes nothing) a name that is not a token or a value with CR, LF,
  // NUL or another CTL, or with surrounding whitespace: no caller can inject a header line.
  [[nodiscard]] bool add(std::string_view name, std::string_view value);
  // Replaces all lines named `name` by one line at the position of the first (appended if none). Same refusals.
  [[nodiscard]] bool set(std::string_view name, std::string_view value);
  // Removes all lines named `name`; returns how many.
  std::size_t remove(std::string_view name) noexcept;
  // Removes the i-th line.
  void erase(std::size_t i) noexcept;
  void clear() noexcept;

  // Bytes held (names + values), for budgets.
  [[nodiscard]] std::size_t storage_bytes() const noexcept { return storage_.size(); }

  // For the parser, which validated the bytes already: appends without checks.
  void add_unchecked(std::string_view name, std::string_view value);
  // For the parser, which receives a line in pieces: the pieces go straight into storage, no scratch copy.
  // Call order per line: append_pending_name()+, end_pending_name(), append_pending_value()*,
  // commit_pending() (trims trailing SP/HTAB of the value). pending_name_size() tells an empty name apart.
  void append_pending_name(std::string_view piece);
  void end_pending_name() noexcept;
  void append_pending_value(std::string_view piece);
  void commit_pending();
  [[nodiscard]] std::size_t pending_name_size() const noexcept;

  friend bool operator==(const Headers& a, const Headers& b) noexcept;

 private:
  struct Entry {
    std::uint32_t name_offset;
    std::uint32_t name_size;
    std::uint32_t value_offset;
    std::uint32_t value_size;
  };
  [[nodiscard]] Field field(const Entry& e) const noexcept {
    return {std::string_view(storage_.data() + e.name_offset, e.name_size),
            std::string_view(storage_.data() + e.value_offset, e.value_size)};
  }
  [[nodiscard]] Entry append(std::string_view name, std::string_view value);

  static constexpr std::uint32_t no_pending = 0xffffffff;

  std::string storage_;
  std::vector<Entry> index_;
  std::uint32_t pending_name_offset_ = no_pending;
  std::uint32_t pending_value_offset_ = no_pending;
};

class Headers::const_iterator {
 public:
  using value_type = Field;
  using difference_type = std::ptrdiff_t;
  const_iterator() = default;
  const_iterator(const Headers* h, std::size_t i) : headers_(h), i_(i) {}
  Field operator*() const noexcept { return (*headers_)[i_]; }
  const_iterator& operator++() noexcept {
    ++i_;
    return *this;
  }
  const_iterator operator++(int) noexcept {
    auto copy = *this;
    ++i_;
    return copy;
  }
  friend bool operator==(const const_iterator& a, const const_iterator& b) noexcept { return a.i_ == b.i_; }

 private:
  const Headers* headers_ = nullptr;
  std::size_t i_ = 0;
};

inline Field Headers::operator[](std::size_t i) const noexcept { return field(index_[i]); }
inline Headers::const_iterator Headers::begin() const noexcept { return {this, 0}; }
inline Headers::const_iterator Headers::end() const noexcept { return {this, index_.size()}; }

}  // namespace consent::proxy
