// The Responses API's memory: finished responses by id (for previous_response_id and
// GET/DELETE /v1/responses/{id}) and their output items by id (for item_reference inputs), in a
// bounded least-recently-used store. Everything is lost when the server stops.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ug::server {

struct StoredResponse {
  nlohmann::json response;              // the response object as GET returns it
  std::vector<nlohmann::json> history;  // every input item (without instructions) and the output
};

class ResponseStore {
 public:
  explicit ResponseStore(size_t capacity = 256) : capacity_(capacity) {}

  // Stores (or replaces) a response; the oldest unused one goes when the store is full.
  void put(const std::string& id, StoredResponse r);
  std::optional<StoredResponse> get(const std::string& id);  // refreshes its place
  bool erase(const std::string& id);
  // An input or output item of a stored response by its id.
  std::optional<nlohmann::json> item(const std::string& item_id);
  size_t size() const;

 private:
  void drop(std::list<std::string>::iterator it);  // under mu_

  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<std::string> order_;  // most recently used first
  struct Entry {
    StoredResponse value;
    std::list<std::string>::iterator pos;
  };
  std::unordered_map<std::string, Entry> by_id_;
  std::unordered_map<std::string, std::string> item_owner_;  // item id -> response id
};

}  // namespace ug::server
