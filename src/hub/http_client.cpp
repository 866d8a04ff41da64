#include "hub/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "base/error.h"

namespace ug::hub {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResponse* response = nullptr;
  const BodySink* sink = nullptr;
  size_t max_body = 0;
  bool body_too_large = false;
  bool sink_refused = false;
  bool started = false;  // a status line arrived
};

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (redirects give several): start over
    t->response->headers.clear();
    t->started = true;
    const size_t sp = line.find(' ');
    t->response->status = sp == std::string::npos ? 0 : std::atol(line.c_str() + sp + 1);
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    t->response->headers[name] = trim(line.substr(colon + 1));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  const long s = t->response->status;
  if (t->sink && s >= 200 && s < 300) {
    if (!(*t->sink)(s, data, len)) {
      t->sink_refused = true;
      return 0;
    }
    return len;
  }
  // Error answers and fetch() bodies are kept (error bodies only up to 64 KiB).
  const size_t cap = t->sink ? size_t(64) << 10 : t->max_body;
  if (t->response->body.size() + len > cap) {
    if (!t->sink) {
      t->body_too_large = true;
      return 0;
    }
    return len;
  }
  t->response->body.append(data, len);
  return len;
}

struct Easy {
  CURL* h = nullptr;
  curl_slist* headers = nullptr;
  Easy() : h(curl_easy_init()) {
    if (!h) fail("network: libcurl could not start a transfer");
  }
  ~Easy() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
  }
};

CURLcode perform(const HttpRequest& req, Transfer& t, char* errbuf) {
  global_init();
  Easy e;
  curl_easy_setopt(e.h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(e.h, CURLOPT_USERAGENT, "unigemma/0.1.0");
  curl_easy_setopt(e.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e.h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e.h, CURLOPT_CONNECTTIMEOUT, long(req.connect_timeout_s));
  curl_easy_setopt(e.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e.h, CURLOPT_LOW_SPEED_TIME, long(req.stall_timeout_s));
  curl_easy_setopt(e.h, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(e.h, CURLOPT_MAXREDIRS, 10L);
  // Ask for the bytes as stored: a compressed transfer would change sizes and break ranges.
  curl_easy_setopt(e.h, CURLOPT_ACCEPT_ENCODING, nullptr);
  if (req.head) curl_easy_setopt(e.h, CURLOPT_NOBODY, 1L);
  if (req.resume_from > 0)
    curl_easy_setopt(e.h, CURLOPT_RESUME_FROM_LARGE, curl_off_t(req.resume_from));
  for (const auto& h : req.headers) e.headers = curl_slist_append(e.headers, h.c_str());
  e.headers = curl_slist_append(e.headers, "Accept-Encoding: identity");
  curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.headers);
  curl_easy_setopt(e.h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e.h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &t);
  CURLcode rc = curl_easy_perform(e.h);
  char* last = nullptr;
  if (curl_easy_getinfo(e.h, CURLINFO_EFFECTIVE_URL, &last) == CURLE_OK && last)
    t.response->url = last;
  return rc;
}

std::string describe(CURLcode rc, const char* errbuf) {
  return errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string url_host(const std::string& url) {
  size_t a = url.find("://");
  a = a == std::string::npos ? 0 : a + 3;
  size_t b = url.find_first_of("/?#", a);
  return url.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

std::string url_encode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

HttpResponse http_fetch(const HttpRequest& req, size_t max_body) {
  HttpResponse r;
  Transfer t;
  t.response = &r;
  t.max_body = max_body;
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURLcode rc = perform(req, t, errbuf);
  if (t.body_too_large)
    fail(req.url, ": the answer is larger than ", max_body >> 20, " MiB; refusing it");
  if (rc != CURLE_OK) fail("network: cannot reach ", url_host(req.url), ": ", describe(rc, errbuf));
  return r;
}

StreamResult http_stream(const HttpRequest& req, const BodySink& sink) {
  StreamResult s;
  Transfer t;
  t.response = &s.response;
  t.sink = &sink;
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURLcode rc = perform(req, t, errbuf);
  if (rc == CURLE_OK) {
    s.complete = true;
    return s;
  }
  if (t.sink_refused) {
    s.error = "the download was stopped (the file could not be written)";
    return s;
  }
  if (!t.started) fail("network: cannot reach ", url_host(req.url), ": ", describe(rc, errbuf));
  s.error = describe(rc, errbuf);
  return s;
}

}  // namespace ug::hub
