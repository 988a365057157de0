#include "proxy/http_headers.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <functional>
#include <limits>

namespace consent::proxy {
namespace {

constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto tchar = make_tchar_table();

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

}  // namespace

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return tchar[static_cast<unsigned char>(c)]; });
}

bool is_field_value(std::string_view s) noexcept {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return trim_ows(s).size() == s.size();
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool list_contains(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto element = trim_ows(list.substr(0, comma));
    if (!element.empty() && iequals(element, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view Headers::get(std::string_view name) const noexcept {
  for (const auto& e : index_) {
    const auto f = field(e);
    if (iequals(f.name, name)) return f.value;
  }
  return {};
}

bool Headers::contains(std::string_view name) const noexcept {
  return std::any_of(index_.begin(), index_.end(), [&](const Entry& e) { return iequals(field(e).name, name); });
}

std::size_t Headers::count(std::string_view name) const noexcept {
  return static_cast<std::size_t>(
      std::count_if(index_.begin(), index_.end(), [&](const Entry& e) { return iequals(field(e).name, name); }));
}

bool Headers::has_token(std::string_view name, std::string_view token) const noexcept {
  return std::any_of(index_.begin(), index_.end(), [&](const Entry& e) {
    const auto f = field(e);
    return iequals(f.name, name) && list_contains(f.value, token);
  });
}

Headers::Entry Headers::append(std::string_view name, std::string_view value) {
  // A caller may copy a field of this very object (h.add(h[0].name, ...)): growing storage_ would free the bytes
  // those views point to between the two appends, so aliasing arguments are copied first.
  const auto* lo = storage_.data();
  const auto* hi = lo + storage_.capacity();
  const std::less<const char*> before;  // total order even between unrelated objects
  const auto aliases = [&](std::string_view v) { return !v.empty() && !before(v.data(), lo) && before(v.data(), hi); };
  if (aliases(name) || aliases(value)) {
    const std::string copy_name(name);
    const std::string copy_value(value);
    return append(copy_name, copy_value);
  }
  // Offsets are 32-bit to keep the index small; heads are bounded far below 4 GiB by limits, so overflow is a bug.
  assert(storage_.size() + name.size() + value.size() < std::numeric_limits<std::uint32_t>::max());
  Entry e{};
  e.name_offset = static_cast<std::uint32_t>(storage_.size());
  e.name_size = static_cast<std::uint32_t>(name.size());
  storage_.append(name);
  e.value_offset = static_cast<std::uint32_t>(storage_.size());
  e.value_size = static_cast<std::uint32_t>(value.size());
  storage_.append(value);
  return e;
}

void Headers::append_pending_name(std::string_view piece) {
  if (pending_name_offset_ == no_pending) pending_name_offset_ = static_cast<std::uint32_t>(storage_.size());
  storage_.append(piece);
}

void Headers::end_pending_name() noexcept {
  if (pending_name_offset_ == no_pending) pending_name_offset_ = static_cast<std::uint32_t>(storage_.size());
  pending_value_offset_ = static_cast<std::uint32_t>(storage_.size());
}

void Headers::append_pending_value(std::string_view piece) { storage_.append(piece); }

std::size_t Headers::pending_name_size() const noexcept {
  if (pending_name_offset_ == no_pending) return 0;
  const auto end = pending_value_offset_ == no_pending ? storage_.size() : pending_value_offset_;
  return end - pending_name_offset_;
}

void Headers::commit_pending() {
  if (pending_value_offset_ == no_pending) end_pending_name();
  // llhttp drops the OWS before a value but keeps the OWS after it (RFC 9110 section 5.5: not part of the value).
  while (storage_.size() > pending_value_offset_ && (storage_.back() == ' ' || storage_.back() == '\t')) {
    storage_.pop_back();
  }
  Entry e{};
  e.name_offset = pending_name_offset_;
  e.name_size = pending_value_offset_ - pending_name_offset_;
  e.value_offset = pending_value_offset_;
  e.value_size = static_cast<std::uint32_t>(storage_.size()) - pending_value_offset_;
  index_.push_back(e);
  pending_name_offset_ = no_pending;
  pending_value_offset_ = no_pending;
}

void Headers::add_unchecked(std::string_view name, std::string_view value) { index_.push_back(append(name, value)); }

bool Headers::add(std::string_view name, std::string_view value) {
  if (!is_token(name) || !is_field_value(value)) return false;
  add_unchecked(name, value);
  return true;
}

bool Headers::set(std::string_view name, std::string_view value) {
  if (!is_token(name) || !is_field_value(value)) return false;
  std::size_t first = index_.size();
  for (std::size_t i = 0; i < index_.size();) {
    if (iequals(field(index_[i]).name, name)) {
      if (first == index_.size()) {
        first = i;
        ++i;
      } else {
        index_.erase(index_.begin() + static_cast<std::ptrdiff_t>(i));
      }
    } else {
      ++i;
    }
  }
  const Entry e = append(name, value);
  if (first == index_.size()) {
    index_.push_back(e);
  } else {
    index_[first] = e;
  }
  return true;
}

std::size_t Headers::remove(std::string_view name) noexcept {
  const auto before = index_.size();
  index_.erase(
      std::remove_if(index_.begin(), index_.end(), [&](const Entry& e) { return iequals(field(e).name, name); }),
      index_.end());
  return before - index_.size();
}

void Headers::erase(std::size_t i) noexcept {
  assert(i < index_.size());
  index_.erase(index_.begin() + static_cast<std::ptrdiff_t>(i));
}

void Headers::clear() noexcept {
  storage_.clear();
  index_.clear();
  pending_name_offset_ = no_pending;
  pending_value_offset_ = no_pending;
}

bool operator==(const Headers& a, const Headers& b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto fa = a[i];
    const auto fb = b[i];
    if (fa.name != fb.name || fa.value != fb.value) return false;
  }
  return true;
}

}  // namespace consent::proxy
