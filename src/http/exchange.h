// Internal to src/http: one request and its response, shared by the connection's I/O coroutine
// and the worker thread that runs the handler. The worker fills the response or streams into
// `pending`; the I/O side takes the bytes and writes them. Every field below `mu` is guarded by it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "http/message.h"

namespace ug::http::detail {

struct Exchange {
  Exchange(size_t buffer_limit, std::chrono::milliseconds write_timeout)
      : buffer_limit(buffer_limit), write_timeout(write_timeout) {
    request.gone_ = &gone;
    response.ex_ = this;
  }
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  void set_request(Request r) {
    request = std::move(r);
    request.gone_ = &gone;
  }
  // Ends the exchange from the I/O side (client gone, write failed) or at a hard stop: writers
  // return false from now on.
  void close() {
    {
      std::lock_guard<std::mutex> lock(mu);
      closed = true;
    }
    gone = true;
    cv.notify_all();
  }
  // Wakes the I/O coroutine (posts to the connection's strand; a no-op once it ended).
  void notify_io() const {
    if (wake) wake();
  }

  Request request;
  Response response;
  const size_t buffer_limit;  // unsent stream bytes above which write() waits
  const std::chrono::milliseconds write_timeout;
  std::function<void()> wake;  // set by the connection before the handler starts
  std::atomic<bool> gone{false};

  std::mutex mu;
  std::condition_variable cv;   // a writer waits here for room
  bool stream_started = false;  // Response::stream was called: the head can go out
  bool stream_finished = false;
  bool handler_done = false;
  bool handler_failed = false;  // threw after the stream had started: the body is cut short
  bool closed = false;
  std::string pending;  // stream bytes not yet taken by the I/O side
  size_t unsent = 0;    // pending + bytes being written
};

}  // namespace ug::http::detail
