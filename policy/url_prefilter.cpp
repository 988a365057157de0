#include "policy/url_prefilter.hpp"

#include <algorithm>
#include <deque>

namespace consent::policy {
namespace {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Index just past the escape that starts at pattern[i] == '\\', or npos for one not followed here.
std::size_t skip_escape(std::string_view p, std::size_t i) noexcept {
  if (i + 1 >= p.size()) return std::string_view::npos;
  const char d = p[i + 1];
  if (d == 'Q') {
    const std::size_t end = p.find("\\E", i + 2);
    return end == std::string_view::npos ? p.size() : end + 2;
  }
  if ((d == 'x' || d == 'p' || d == 'P') && i + 2 < p.size() && p[i + 2] == '{') {
    const std::size_t end = p.find('}', i + 3);
    return end == std::string_view::npos ? std::string_view::npos : end + 1;
  }
  if (d == 'x') return std::min(p.size(), i + 4);  // \xHH
  if (d == 'p' || d == 'P') return std::min(p.size(), i + 3);
  if (d >= '0' && d <= '7') {  // octal: up to three digits
    std::size_t j = i + 1;
    while (j < p.size() && j < i + 4 && p[j] >= '0' && p[j] <= '7') ++j;
    return j;
  }
  return i + 2;
}

// Index just past the character class that starts at pattern[i] == '[', or npos.
std::size_t skip_class(std::string_view p, std::size_t i) noexcept {
  std::size_t j = i + 1;
  if (j < p.size() && p[j] == '^') ++j;
  if (j < p.size() && p[j] == ']') ++j;  // a ']' first is literal
  while (j < p.size()) {
    if (p[j] == ']') return j + 1;
    if (p[j] == '\\') {
      j = skip_escape(p, j);
      if (j == std::string_view::npos) return j;
      continue;
    }
    if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {  // [:alpha:]
      const std::size_t end = p.find(":]", j + 2);
      if (end == std::string_view::npos) return end;
      j = end + 2;
      continue;
    }
    ++j;
  }
  return std::string_view::npos;
}

// Index just past the group that starts at pattern[i] == '(', or npos.
std::size_t skip_group(std::string_view p, std::size_t i) noexcept {
  std::size_t depth = 0;
  std::size_t j = i;
  while (j < p.size()) {
    const char c = p[j];
    if (c == '\\') {
      j = skip_escape(p, j);
      if (j == std::string_view::npos) return j;
      continue;
    }
    if (c == '[') {
      j = skip_class(p, j);
      if (j == std::string_view::npos) return j;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')' && --depth == 0) return j + 1;
    ++j;
  }
  return std::string_view::npos;
}

// RE2 repetition {n}, {n,}, {n,m}: index just past it, or npos when '{' does not start one.
std::size_t skip_repeat(std::string_view p, std::size_t i) noexcept {
  std::size_t j = i + 1;
  const std::size_t digits = j;
  while (j < p.size() && is_digit(p[j])) ++j;
  if (j == digits) return std::string_view::npos;
  if (j < p.size() && p[j] == ',') {
    ++j;
    while (j < p.size() && is_digit(p[j])) ++j;
  }
  return j < p.size() && p[j] == '}' ? j + 1 : std::string_view::npos;
}

// Any flag group that may turn case folding on, anywhere. Under (?i) RE2 folds Unicode, and "k" and "s"
// then also match U+212A KELVIN SIGN and U+017F LONG S, whose bytes hold no 'k' or 's'.
bool may_fold_case(std::string_view p) noexcept {
  for (std::size_t at = p.find("(?"); at != std::string_view::npos; at = p.find("(?", at + 2)) {
    for (std::size_t j = at + 2; j < p.size() && p[j] != ':' && p[j] != ')' && p[j] != '-'; ++j)
      if (p[j] == 'i') return true;
  }
  return false;
}

}  // namespace

std::optional<std::vector<std::string>> required_literals(std::string_view p) {
  const bool folds = may_fold_case(p);
  std::vector<std::string> out;
  std::string best;
  std::string run;
  bool last_in_run = false;  // the previous item is the last byte of `run` (a quantifier takes it back)
  const auto end_run = [&] {
    if (run.size() > best.size()) best = run;
    run.clear();
    last_in_run = false;
  };
  const auto end_alternative = [&]() -> bool {
    end_run();
    if (best.size() < min_prefilter_literal_bytes) return false;
    out.push_back(std::move(best));
    best.clear();
    return true;
  };
  const auto quantifier = [&] {
    if (last_in_run) run.pop_back();  // "ab?" requires "a" only
    end_run();
  };
  std::size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    switch (c) {
      case '|':
        if (!end_alternative()) return std::nullopt;
        ++i;
        continue;
      case '(':
        end_run();
        i = skip_group(p, i);
        if (i == std::string_view::npos) return std::nullopt;
        continue;
      case '[':
        end_run();
        i = skip_class(p, i);
        if (i == std::string_view::npos) return std::nullopt;
        continue;
      case '*':
      case '+':
      case '?':
        quantifier();
        ++i;
        continue;
      case '{':
        i = skip_repeat(p, i);
        if (i == std::string_view::npos) return std::nullopt;  // RE2 would read a literal '{': rare, give up
        quantifier();
        continue;
      case '.':
      case '^':
      case '$':
        end_run();
        ++i;
        continue;
      case '\\': {
        if (i + 1 >= p.size()) return std::nullopt;
        const char d = p[i + 1];
        const auto u = static_cast<unsigned char>(d);
        if (u < 0x80 && !is_alnum(d)) {  // an escaped punctuation byte is that byte
          run += d;
          last_in_run = true;
          i += 2;
          continue;
        }
        if (std::string_view("dDsSwWbBAzCpPxQntrfva01234567").find(d) == std::string_view::npos) return std::nullopt;
        end_run();
        i = skip_escape(p, i);
        if (i == std::string_view::npos) return std::nullopt;
        continue;
      }
      default:
        break;
    }
    const auto u = static_cast<unsigned char>(c);
    const char l = lower(c);
    if (u >= 0x80 || (folds && (l == 'k' || l == 's'))) {
      end_run();  // a multi-byte character (or a Unicode-folded letter) is not a byte literal here
    } else {
      run += l;
      last_in_run = true;
    }
    ++i;
  }
  if (!end_alternative()) return std::nullopt;
  return out;
}

bool LiteralScanner::build(const std::vector<std::string>& literals) {
  table_.clear();
  class_of_.fill(0);
  classes_ = 1;
  for (const std::string& l : literals) {
    for (char c : l) {
      const auto u = static_cast<unsigned char>(lower(c));
      if (class_of_[u] == 0) class_of_[u] = static_cast<std::uint8_t>(classes_++);
    }
  }
  for (char c = 'A'; c <= 'Z'; ++c)
    class_of_[static_cast<unsigned char>(c)] = class_of_[static_cast<unsigned char>(lower(c))];
  std::size_t max_states = 1;
  for (const std::string& l : literals) max_states += l.size();
  if (max_states > found_bit / classes_ || max_states * classes_ * sizeof(std::uint32_t) > max_prefilter_table_bytes) {
    class_of_.fill(0);
    classes_ = 1;
    return false;
  }

  // The trie, as rows of classes_ child states (0 = none: the root is never a child).
  std::vector<std::uint32_t> child(classes_, 0);
  std::vector<bool> terminal(1, false);
  for (const std::string& l : literals) {
    std::uint32_t s = 0;
    for (char c : l) {
      const std::size_t at = s * classes_ + class_of_[static_cast<unsigned char>(c)];
      if (child[at] == 0) {
        child[at] = static_cast<std::uint32_t>(terminal.size());
        terminal.push_back(false);
        child.resize(child.size() + classes_, 0);
      }
      s = child[at];
    }
    terminal[s] = true;
  }
  // Breadth-first failure links turn the trie into a full automaton: child[] becomes the transition.
  const std::size_t states = terminal.size();
  std::vector<std::uint32_t> fail(states, 0);
  std::deque<std::uint32_t> queue;
  for (std::size_t k = 0; k < classes_; ++k)
    if (child[k] != 0) queue.push_back(child[k]);
  while (!queue.empty()) {
    const std::uint32_t s = queue.front();
    queue.pop_front();
    if (terminal[fail[s]]) terminal[s] = true;  // a literal ending inside this one
    for (std::size_t k = 0; k < classes_; ++k) {
      std::uint32_t& next = child[s * classes_ + k];
      const std::uint32_t via_fail = child[fail[s] * classes_ + k];
      if (next == 0) {
        next = via_fail;
      } else {
        fail[next] = via_fail;
        queue.push_back(next);
      }
    }
  }
  table_.resize(states * classes_);
  for (std::size_t i = 0; i < table_.size(); ++i) {
    const std::uint32_t next = child[i];
    table_[i] = static_cast<std::uint32_t>(next * classes_) | (terminal[next] ? found_bit : 0U);
  }
  return true;
}

bool LiteralScanner::occurs_in(std::string_view first, std::string_view second) const noexcept {
  if (table_.empty()) return false;
  const std::uint32_t* table = table_.data();
  std::uint32_t row = 0;
  for (std::string_view text : {first, second}) {
    for (char c : text) {
      const std::uint32_t e = table[row + class_of_[static_cast<unsigned char>(c)]];
      if ((e & found_bit) != 0) return true;
      row = e;
    }
  }
  return false;
}

}  // namespace consent::policy
