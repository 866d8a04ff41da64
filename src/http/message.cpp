#include "http/message.h"

#include <algorithm>

#include "http/exchange.h"

namespace ug::http {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string_view name, std::string value) {
  remove(name);
  fields_.emplace_back(std::string(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.first, name); });
}

const std::string* Headers::find(std::string_view name) const {
  for (const Field& f : fields_)
    if (iequals(f.first, name)) return &f.second;
  return nullptr;
}

std::string Headers::get(std::string_view name) const {
  const std::string* v = find(name);
  return v ? *v : std::string();
}

size_t Headers::count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(fields_.begin(), fields_.end(),
                                           [&](const Field& f) { return iequals(f.first, name); }));
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return std::nullopt;
}

bool StreamWriter::write(std::string_view bytes) {
  if (!ex_) return false;
  detail::Exchange& ex = *ex_;
  std::unique_lock<std::mutex> lock(ex.mu);
  if (ex.closed || ex.stream_finished) return false;
  if (bytes.empty()) return true;
  // The I/O side drains the buffer or closes the exchange within its own write timeout; the extra
  // margin only guards against a connection that can no longer run at all.
  const auto deadline = std::chrono::steady_clock::now() + 2 * ex.write_timeout;
  while (!ex.closed && ex.unsent >= ex.buffer_limit)
    if (ex.cv.wait_until(lock, deadline) == std::cv_status::timeout) return false;
  if (ex.closed) return false;
  const bool was_empty = ex.pending.empty();
  ex.pending.append(bytes);
  ex.unsent += bytes.size();
  lock.unlock();
  if (was_empty) ex.notify_io();
  return true;
}

bool StreamWriter::is_open() const {
  if (!ex_) return false;
  std::lock_guard<std::mutex> lock(ex_->mu);
  return !ex_->closed && !ex_->stream_finished;
}

void StreamWriter::finish() {
  if (!ex_) return;
  {
    std::lock_guard<std::mutex> lock(ex_->mu);
    if (ex_->stream_finished) return;
    ex_->stream_finished = true;
  }
  ex_->notify_io();
}

void Response::set_content(std::string content, std::string_view content_type) {
  body = std::move(content);
  headers.set("Content-Type", std::string(content_type));
}

StreamWriter& Response::stream(std::string_view content_type) {
  if (writer_) return *writer_;
  headers.set("Content-Type", std::string(content_type));
  writer_.emplace(StreamWriter(ex_));
  if (ex_) {
    {
      std::lock_guard<std::mutex> lock(ex_->mu);
      ex_->stream_started = true;
    }
    ex_->notify_io();
  }
  return *writer_;
}

}  // namespace ug::http
