// HTTP messages as handlers see them: a parsed Request, and the Response a handler fills or
// streams. Handlers run on the server's worker threads (see http/server.h).
#pragma once

#include <atomic>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ug::http {

bool iequals(std::string_view a, std::string_view b);  // ASCII case-insensitive

// Header fields in arrival order; names compare case-insensitively.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  void add(std::string name, std::string value);
  void set(std::string_view name, std::string value);  // replaces every field of that name
  void remove(std::string_view name);
  const std::string* find(std::string_view name) const;  // the first field of that name
  std::string get(std::string_view name) const;          // "" when absent
  size_t count(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }

  size_t size() const { return fields_.size(); }
  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }

 private:
  std::vector<Field> fields_;
};

namespace detail {
struct Exchange;
}

struct Request {
  std::string method;  // as sent: "GET", "POST", ...
  std::string target;  // the raw request target: "/v1/models?x=1"
  std::string path;    // the target before '?', percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;            // complete (the server reads it before calling the handler)
  std::string remote_address;  // the peer's IP address
  int version = 11;            // 10 or 11

  std::string header(std::string_view name) const { return headers.get(name); }
  std::optional<std::string> query_param(std::string_view name) const;
  // True once the client closed the connection or it failed; checked without blocking, so a
  // handler doing long work (waiting for a generation) can stop early.
  bool client_gone() const { return gone_ && gone_->load(); }

 private:
  friend struct detail::Exchange;
  const std::atomic<bool>* gone_ = nullptr;
};

// The handler's side of a chunked response body, written from the handler's thread.
class StreamWriter {
 public:
  // Queues bytes (sent as one chunk, or merged with others not yet sent). Blocks while the
  // connection already holds its limit of unsent bytes (back-pressure: a slow reader cannot
  // grow memory). False when the client is gone, stopped reading for the write timeout, or the
  // server is stopping: the handler should stop producing.
  bool write(std::string_view bytes);
  bool is_open() const;
  // Ends the body. Later writes return false. Happens by itself when the handler returns.
  void finish();

 private:
  friend class Response;
  explicit StreamWriter(detail::Exchange* ex) : ex_(ex) {}
  detail::Exchange* ex_;
};

class Response {
 public:
  int status = 200;
  Headers headers;
  std::string body;
  bool close = false;  // close the connection after this response

  void set_content(std::string content, std::string_view content_type);
  void set_header(std::string_view name, std::string value) { headers.set(name, std::move(value)); }
  // Switches to a streamed (chunked) body: the status and the headers set so far go out at once;
  // the body is what the writer gets. Headers cannot change afterwards. Only valid inside a
  // handler the server called (not on a Response made elsewhere).
  StreamWriter& stream(std::string_view content_type);
  bool streaming() const { return writer_.has_value(); }

 private:
  friend struct detail::Exchange;
  detail::Exchange* ex_ = nullptr;
  std::optional<StreamWriter> writer_;
};

}  // namespace ug::http
