#include "proxy/consent_record.hpp"

#include <fcntl.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

#include "proxy/decision_log.hpp"

namespace consent::proxy {
namespace {

void append_time(std::string& out, std::int64_t epoch_seconds) {
  const auto t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  out += '"';
  out.append(buf, n);
  out += '"';
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  detail::append_json_string(out, value, DecisionLog::max_field_bytes);
}

void append_list(std::string& out, std::string_view key, const std::vector<std::string_view>& values) {
  out += ",\"";
  out += key;
  out += "\":[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    detail::append_json_string(out, values[i], DecisionLog::max_field_bytes);
  }
  out += ']';
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

bool read_key_file(const std::filesystem::path& file, std::string& key, std::string& error) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot read consent-record key " + file.string() + ": " + std::strerror(errno);
    return false;
  }
  char buf[4096];
  key.clear();
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    key.append(buf, static_cast<std::size_t>(n));
    if (key.size() > 4096) break;
  }
  ::close(fd);
  if (key.size() < consent_record_key_bytes) {
    error = "consent-record key " + file.string() + " holds fewer than 32 bytes";
    return false;
  }
  return true;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 0xF];
  }
  return out;
}

std::string format_consent_record(const ConsentRecordFields& r) {
  std::string out = "{\"time\":";
  append_time(out, std::chrono::duration_cast<std::chrono::seconds>(r.time.time_since_epoch()).count());
  append_field(out, "visitor", r.visitor);
  append_field(out, "site", r.site);
  append_field(out, "route", r.route);
  append_field(out, "source", r.source);
  append_field(out, "cookie", r.cookie);
  append_field(out, "status", r.status);
  if (r.choice_time > 0) {
    out += ",\"choice_time\":";
    append_time(out, r.choice_time);
  }
  append_list(out, "granted", r.granted);
  append_list(out, "refused", r.refused);
  out += r.gpc ? ",\"gpc\":true" : ",\"gpc\":false";
  append_field(out, "policy_hash", r.policy_hash);
  out += "}\n";
  return out;
}

bool RecentKeys::insert(const std::string& key) {
  if (auto it = map_.find(key); it != map_.end()) {
    order_.splice(order_.begin(), order_, it->second);
    return false;
  }
  if (capacity_ == 0) return true;
  if (map_.size() >= capacity_) {
    map_.erase(order_.back());
    order_.pop_back();
  }
  order_.push_front(key);
  map_.emplace(order_.front(), order_.begin());
  return true;
}

std::string rotate_files(const std::filesystem::path& path, unsigned keep) {
  std::error_code ec;
  const auto numbered = [&](unsigned i) { return std::filesystem::path(path.string() + "." + std::to_string(i)); };
  for (unsigned i = keep; i > 1; --i) {
    if (!std::filesystem::exists(numbered(i - 1), ec)) continue;
    std::filesystem::rename(numbered(i - 1), numbered(i), ec);
    if (ec) return "cannot rotate " + numbered(i - 1).string() + ": " + ec.message();
  }
  if (keep == 0) {
    std::filesystem::remove(path, ec);
  } else {
    std::filesystem::rename(path, numbered(1), ec);
  }
  if (ec) return "cannot rotate " + path.string() + ": " + ec.message();
  return {};
}

std::string load_consent_record_key(const std::string& key_file, const std::filesystem::path& data_dir,
                                    std::string& error) {
  std::string key;
  if (!key_file.empty()) {
    // The loader already checked it is readable and private; read it now.
    return read_key_file(key_file, key, error) ? key : std::string{};
  }
  const auto file = data_dir / "consent-records.key";
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    // Whoever reads the key can test guessed cookie values against the records: owner only, like the CA key.
    if ((st.st_mode & 077) != 0) {
      error = "consent-record key " + file.string() + " is accessible to group or others (mode " +
              mode_text(st.st_mode) + "); refusing to start. Run: chmod 600 " + file.string();
      return {};
    }
    return read_key_file(file, key, error) ? key : std::string{};
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    error = "cannot create " + data_dir.string() + ": " + ec.message();
    return {};
  }
  ::chmod(data_dir.c_str(), 0700);
  key.resize(consent_record_key_bytes);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    error = "cannot generate a consent-record key: no randomness";
    return {};
  }
  // Created 0600 from the start (never chmod after the fact), O_EXCL so two starts never mix keys.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot create consent-record key " + file.string() + ": " + std::strerror(errno);
    return {};
  }
  const bool ok = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size());
  ::close(fd);
  if (!ok) {
    error = "cannot write consent-record key " + file.string();
    return {};
  }
  return key;
}

struct ConsentRecordLog::Impl {
  Options options;
  int fd = -1;
  bool owns_fd = false;
  std::size_t file_bytes = 0;

  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable drained;
  std::deque<std::string> queue;
  RecentKeys recent{0};
  std::uint64_t enqueued = 0;
  std::uint64_t done = 0;
  bool stopping = false;
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> dropped{0};
  std::thread writer;

  bool open_file(std::string& error) {
    fd = detail::open_log_file(options.path, error);
    if (fd < 0) return false;
    struct stat st {};
    file_bytes = ::fstat(fd, &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
    return true;
  }

  void rotate() {
    ::close(fd);
    fd = -1;
    std::string error;
    // A failed rotation keeps appending to the same file: losing proof of consent is worse than a big file.
    (void)rotate_files(options.path, options.keep);
    if (!open_file(error)) fd = -1;
  }

  void run() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    std::deque<std::string> batch;
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return stopping || !queue.empty(); });
      batch.swap(queue);
      const bool stop = stopping && batch.empty();
      lock.unlock();
      for (const auto& line : batch) {
        if (owns_fd && fd < 0) {
          std::string error;
          if (!open_file(error)) fd = -1;
        }
        if (fd >= 0 && detail::write_all(fd, line)) {
          written.fetch_add(1, std::memory_order_relaxed);
          file_bytes += line.size();
          if (owns_fd && file_bytes >= options.rotate_bytes) rotate();
        } else {
          dropped.fetch_add(1, std::memory_order_relaxed);
        }
      }
      const auto n = batch.size();
      batch.clear();
      lock.lock();
      done += n;
      drained.notify_all();
      if (stop) return;
    }
  }
};

ConsentRecordLog::ConsentRecordLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<ConsentRecordLog> ConsentRecordLog::open(Options options, std::string& error) {
  if (options.key.size() < consent_record_key_bytes) {
    error = "consent-record key is shorter than 32 bytes";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->recent = RecentKeys(impl->options.recent_entries);
  if (impl->options.path == "-") {
    impl->fd = STDOUT_FILENO;
  } else {
    impl->owns_fd = true;
    if (!impl->open_file(error)) return nullptr;
  }
  Impl* raw = impl.get();
  raw->writer = std::thread([raw] { raw->run(); });
  return std::unique_ptr<ConsentRecordLog>(new ConsentRecordLog(std::move(impl)));
}

ConsentRecordLog::~ConsentRecordLog() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  impl_->writer.join();
  if (impl_->owns_fd && impl_->fd >= 0) ::close(impl_->fd);
}

std::string ConsentRecordLog::visitor_hash(std::string_view cookie_value) const {
  return hmac_sha256_hex(impl_->options.key, cookie_value);
}

bool ConsentRecordLog::record(const ConsentRecordFields& fields, std::string_view state_key) {
  std::string key(fields.visitor);
  key += '|';
  key += state_key;
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->recent.insert(key)) return false;
  }
  auto line = format_consent_record(fields);
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->queue.size() >= impl_->options.queue_entries) {
      impl_->dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    impl_->queue.push_back(std::move(line));
    ++impl_->enqueued;
  }
  impl_->wake.notify_one();
  return true;
}

void ConsentRecordLog::flush() {
  std::unique_lock lock(impl_->mutex);
  const auto target = impl_->enqueued;
  impl_->wake.notify_one();
  impl_->drained.wait(lock, [&] { return impl_->done >= target; });
}

std::uint64_t ConsentRecordLog::written() const noexcept { return impl_->written.load(std::memory_order_relaxed); }
std::uint64_t ConsentRecordLog::dropped() const noexcept { return impl_->dropped.load(std::memory_order_relaxed); }

}  // namespace consent::proxy
