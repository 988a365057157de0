#include "proxy/decision_log.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace consent::proxy {

std::string_view to_string(config::Mode m) noexcept {
  switch (m) {
    case config::Mode::enforce:
      return "enforce";
    case config::Mode::report_only:
      return "report-only";
    case config::Mode::gateway:
      return "gateway";
  }
  return "enforce";
}

namespace detail {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when the bytes there are not one (RFC 3629
// section 4: no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  const std::size_t left = s.size() - i;
  const auto cont = [&](std::size_t k) { return (byte(i + k) & 0xC0U) == 0x80U; };
  if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    const unsigned char b1 = byte(i + 1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b0 == 0xED && b1 >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    const unsigned char b1 = byte(i + 1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b0 == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

constexpr char hex_digits[] = "0123456789abcdef";

}  // namespace

void append_json_string(std::string& out, std::string_view s, std::size_t max_bytes) {
  out.push_back('"');
  std::size_t i = 0;
  std::size_t emitted = 0;  // input bytes consumed so far, compared with max_bytes
  while (i < s.size()) {
    if (emitted >= max_bytes) {
      out.append("...");
      break;
    }
    // Fast path: copy a run of printable ASCII that needs no escaping in one append.
    std::size_t run = i;
    const std::size_t run_end = std::min(s.size(), i + (max_bytes - emitted));
    while (run < run_end) {
      const auto b = static_cast<unsigned char>(s[run]);
      if (b < 0x20 || b >= 0x7F || b == '"' || b == '\\') break;
      ++run;
    }
    if (run != i) {
      out.append(s.data() + i, run - i);
      emitted += run - i;
      i = run;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out.append("\\u00");
            out.push_back(hex_digits[c >> 4U]);
            out.push_back(hex_digits[c & 0xFU]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      ++emitted;
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out.append("\\ufffd");  // one replacement per bad byte: the log shows how much was garbage
      ++i;
      ++emitted;
      continue;
    }
    if (emitted + n > max_bytes) {
      out.append("...");
      break;
    }
    // U+2028/U+2029 are valid JSON but break JavaScript consumers that eval or embed lines.
    if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out.append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
    emitted += n;
  }
  out.push_back('"');
}

std::string_view loggable_client(std::string_view client) noexcept {
  // RFC 4291 section 2.5.5.2: the IPv4 address is the last four bytes; only the dotted form can follow.
  constexpr std::string_view prefix = "::ffff:";
  if (client.size() <= prefix.size() || client.size() > prefix.size() + 15) return client;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = client[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != prefix[i]) return client;
  }
  const auto v4 = client.substr(prefix.size());
  std::size_t dots = 0;
  for (const char c : v4) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return client;
    }
  }
  return dots == 3 ? v4 : client;
}

int open_log_file(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) error = "cannot open " + path + ": " + std::strerror(errno);
  return fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void append_rfc3339_ms(std::string& out, std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms_total = floor<milliseconds>(t);
  const auto day = floor<days>(ms_total);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms_total - day};
  char buf[32];
  const auto put = [&](std::size_t pos, long value, int width) {
    for (int k = width - 1; k >= 0; --k) {
      buf[pos + static_cast<std::size_t>(k)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) y = 0;  // RFC 3339 has four-digit years; a clock that far off is a bug elsewhere
  put(0, y, 4);
  buf[4] = '-';
  put(5, static_cast<long>(static_cast<unsigned>(ymd.month())), 2);
  buf[7] = '-';
  put(8, static_cast<long>(static_cast<unsigned>(ymd.day())), 2);
  buf[10] = 'T';
  put(11, hms.hours().count(), 2);
  buf[13] = ':';
  put(14, hms.minutes().count(), 2);
  buf[16] = ':';
  put(17, static_cast<long>(hms.seconds().count()), 2);
  buf[19] = '.';
  put(20, static_cast<long>(hms.subseconds().count()), 3);
  buf[23] = 'Z';
  out.append(buf, 24);
}

}  // namespace detail

namespace {

// One append per key: keys are ours and short, so they are composed on the stack.
void append_key(std::string& out, std::string_view key) {
  char buf[40];
  const std::size_t n = std::min(key.size(), sizeof buf - 4);
  buf[0] = ',';
  buf[1] = '"';
  std::memcpy(buf + 2, key.data(), n);
  buf[n + 2] = '"';
  buf[n + 3] = ':';
  out.append(buf, n + 4);
}

void append_string_field(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  append_key(out, key);
  detail::append_json_string(out, value, DecisionLog::max_field_bytes);
}

void append_array_field(std::string& out, std::string_view key, const std::vector<std::string_view>& values,
                        bool even_empty = false) {
  if (values.empty() && !even_empty) return;
  append_key(out, key);
  out.push_back('[');
  // Bounded like a field: a response with thousands of Set-Cookie lines must not make a giant line.
  constexpr std::size_t max_items = 64;
  std::size_t n = 0;
  for (const auto v : values) {
    if (n == max_items) {
      out.append(",\"...\"");
      break;
    }
    if (n != 0) out.push_back(',');
    detail::append_json_string(out, v, 256);
    ++n;
  }
  out.push_back(']');
}

// The query (and any fragment) may hold identifiers: cut unless the operator asked for full URLs.
std::string_view loggable_path(std::string_view path, bool log_full_urls) {
  if (log_full_urls) return path;
  const auto cut = path.find_first_of("?#");
  return cut == std::string_view::npos ? path : path.substr(0, cut);
}

}  // namespace

std::string DecisionLog::format(const DecisionRecord& r, bool log_full_urls) {
  std::string out;
  out.reserve(512 + std::min(r.path.size(), max_field_bytes));
  out.append("{\"time\":\"");
  detail::append_rfc3339_ms(out, r.time);
  out.push_back('"');
  if (r.exchange_id != 0) {
    append_key(out, "exchange_id");
    out.append(std::to_string(r.exchange_id));
  }
  append_string_field(out, "client", detail::loggable_client(r.client));
  append_string_field(out, "site", r.site);
  append_string_field(out, "method", r.method);
  append_string_field(out, "host", r.host);
  append_string_field(out, "path", loggable_path(r.path, log_full_urls));
  append_string_field(out, "purpose", r.purpose);
  append_key(out, "action");
  detail::append_json_string(out, to_string(r.action), max_field_bytes);
  append_string_field(out, "reason", r.reason);
  append_string_field(out, "rule", r.rule_id);
  append_array_field(out, "cookies", r.cookie_names);
  if (r.max_age_seconds >= 0) {
    append_key(out, "max_age");
    out.append(std::to_string(r.max_age_seconds));
  }
  if (r.status > 0) {
    append_key(out, "status");
    out.append(std::to_string(r.status));
  }
  if (r.violation) {
    append_key(out, "violation");
    detail::append_json_string(out, to_string(*r.violation), max_field_bytes);
  }
  append_string_field(out, "consent", policy::to_string(r.consent));
  append_string_field(out, "consent_source", policy::to_string(r.consent_source));
  // An empty list from a valid choice says "refuses everything", which the reader needs to see withdrawals.
  append_array_field(out, "granted", r.granted, r.consent == policy::ConsentStatus::valid);
  if (r.gpc) {
    append_key(out, "gpc");
    out.append("true");
  }
  append_key(out, "mode");
  detail::append_json_string(out, to_string(r.mode), max_field_bytes);
  append_string_field(out, "policy_hash", r.policy_hash);
  out.append("}\n");
  return out;
}

struct DecisionLog::Impl {
  Options options;
  int fd = -1;
  bool owns_fd = false;
  std::string current_path;  // writer thread only (after open())

  std::mutex mutex;
  std::condition_variable wake;     // writer waits for lines, reopen or stop
  std::condition_variable drained;  // flush() waits for the writer
  std::deque<std::string> queue;
  std::uint64_t enqueued = 0;  // lines pushed so far (guarded by mutex)
  std::uint64_t done = 0;      // lines handled (written or dropped on error) so far (guarded by mutex)
  bool reopen_requested = false;
  std::optional<std::string> new_path;  // reopen_as(): switch destination (guarded by mutex)
  bool stopping = false;
  bool flush_requested = false;

  static constexpr std::chrono::milliseconds batch_delay{5};
  static constexpr std::size_t write_chunk_bytes = 64 * 1024;
  std::size_t high_water() const noexcept { return std::max<std::size_t>(options.queue_entries / 2, 1); }

  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> reopen_failures{0};
  std::thread writer;

  void do_reopen(std::optional<std::string> path) {
    if (path && *path == "-") {
      if (owns_fd) ::close(fd);
      fd = STDOUT_FILENO;
      owns_fd = false;
      return;
    }
    if (!path && !owns_fd) return;  // stdout is never reopened
    const std::string& target = path ? *path : current_path;
    std::string error;
    const int fresh = detail::open_log_file(target, error);
    if (fresh < 0) {
      reopen_failures.fetch_add(1, std::memory_order_relaxed);
      if (path) std::cerr << "consentgate: decision log: " << error << "; still writing to " << current_path << '\n';
      return;
    }
    if (owns_fd) ::close(fd);
    fd = fresh;
    owns_fd = true;
    current_path = target;
  }

  void run() {
    // A closed stdout pipe must cost us log lines, not the process: with SIGPIPE blocked in this
    // thread, write() fails with EPIPE (the signal it raises is thread-directed and stays pending here).
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);

    std::deque<std::string> batch;
    std::string buffer;
    std::unique_lock lock(mutex);
    const auto urgent = [&] { return stopping || reopen_requested || flush_requested; };
    for (;;) {
      wake.wait(lock, [&] { return urgent() || !queue.empty(); });
      // Let a burst accumulate: one write() then carries many lines, and producers only notify on the
      // empty -> non-empty transition (or at the high-water mark), so log() rarely makes a syscall.
      if (!urgent()) wake.wait_for(lock, batch_delay, [&] { return urgent() || queue.size() >= high_water(); });
      const bool reopen = std::exchange(reopen_requested, false);
      auto path = std::exchange(new_path, std::nullopt);
      flush_requested = false;
      batch.swap(queue);
      const bool stop = stopping && batch.empty();
      lock.unlock();

      if (reopen) do_reopen(std::move(path));
      // Lines go out in writes of about write_chunk_bytes: few syscalls, and a burst of a full queue
      // does not leave a queue-sized buffer allocated.
      const auto n = static_cast<std::uint64_t>(batch.size());
      std::uint64_t pending = 0;
      const auto write_pending = [&] {
        if (pending == 0) return;
        (detail::write_all(fd, buffer) ? written : dropped).fetch_add(pending, std::memory_order_relaxed);
        buffer.clear();
        pending = 0;
      };
      for (auto& line : batch) {
        buffer.append(line);
        ++pending;
        if (buffer.size() >= write_chunk_bytes) write_pending();
      }
      write_pending();
      batch.clear();

      lock.lock();
      done += n;
      drained.notify_all();
      if (stop) return;
    }
  }
};

DecisionLog::DecisionLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<DecisionLog> DecisionLog::open(const Options& options, std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->current_path = options.path;
  if (options.path == "-") {
    impl->fd = STDOUT_FILENO;
  } else {
    impl->fd = detail::open_log_file(options.path, error);
    if (impl->fd < 0) return nullptr;
    impl->owns_fd = true;
  }
  Impl* raw = impl.get();
  raw->writer = std::thread([raw] { raw->run(); });
  return std::unique_ptr<DecisionLog>(new DecisionLog(std::move(impl)));
}

DecisionLog::~DecisionLog() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  impl_->writer.join();
  if (impl_->owns_fd) ::close(impl_->fd);
}

void DecisionLog::log(const DecisionRecord& record) noexcept {
  try {
    std::string line = format(record, impl_->options.log_full_urls);
    bool was_empty = false;
    bool wake_writer = false;
    {
      std::lock_guard lock(impl_->mutex);
      if (impl_->queue.size() >= impl_->options.queue_entries) {
        impl_->dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      was_empty = impl_->queue.empty();
      impl_->queue.push_back(std::move(line));
      ++impl_->enqueued;
      wake_writer = was_empty || impl_->queue.size() == impl_->high_water();
    }
    // The writer sleeps only on an empty queue or while a batch accumulates: waking it once per batch
    // (and once more when half full) is enough.
    if (wake_writer) impl_->wake.notify_one();
  } catch (...) {
    impl_->dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

void DecisionLog::reopen() noexcept {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->reopen_requested = true;
  }
  impl_->wake.notify_one();
}

void DecisionLog::reopen_as(const std::string& path) noexcept {
  try {
    {
      std::lock_guard lock(impl_->mutex);
      impl_->new_path = path;
      impl_->options.path = path;
      impl_->reopen_requested = true;
    }
    impl_->wake.notify_one();
  } catch (...) {
    impl_->reopen_failures.fetch_add(1, std::memory_order_relaxed);
  }
}

std::string DecisionLog::path() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->options.path;
}

void DecisionLog::flush() {
  std::unique_lock lock(impl_->mutex);
  const std::uint64_t target = impl_->enqueued;
  impl_->flush_requested = true;
  impl_->wake.notify_one();
  impl_->drained.wait(lock, [&] { return impl_->done >= target; });
}

std::uint64_t DecisionLog::written() const noexcept { return impl_->written.load(std::memory_order_relaxed); }
std::uint64_t DecisionLog::dropped() const noexcept { return impl_->dropped.load(std::memory_order_relaxed); }
std::uint64_t DecisionLog::reopen_failures() const noexcept {
  return impl_->reopen_failures.load(std::memory_order_relaxed);
}

}  // namespace consent::proxy
