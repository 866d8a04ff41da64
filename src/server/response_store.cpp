#include "server/response_store.h"

namespace ug::server {

namespace {

const std::string* item_id(const nlohmann::json& item) {
  auto it = item.find("id");
  return it != item.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

}  // namespace

void ResponseStore::put(const std::string& id, StoredResponse r) {
  if (capacity_ == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = by_id_.find(id); it != by_id_.end()) drop(it->second.pos);
  while (by_id_.size() >= capacity_) drop(std::prev(order_.end()));
  order_.push_front(id);
  for (const auto& item : r.history)
    if (const std::string* iid = item_id(item)) item_owner_[*iid] = id;
  by_id_.emplace(id, Entry{std::move(r), order_.begin()});
}

std::optional<StoredResponse> ResponseStore::get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  order_.splice(order_.begin(), order_, it->second.pos);
  return it->second.value;
}

bool ResponseStore::erase(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  drop(it->second.pos);
  return true;
}

std::optional<nlohmann::json> ResponseStore::item(const std::string& iid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto owner = item_owner_.find(iid);
  if (owner == item_owner_.end()) return std::nullopt;
  auto it = by_id_.find(owner->second);
  if (it == by_id_.end()) return std::nullopt;
  for (const auto& item : it->second.value.history)
    if (const std::string* id = item_id(item); id && *id == iid) return item;
  return std::nullopt;
}

size_t ResponseStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_id_.size();
}

void ResponseStore::drop(std::list<std::string>::iterator pos) {
  auto it = by_id_.find(*pos);
  if (it != by_id_.end()) {
    // A later response that carried the same item (its history includes earlier ones) may own
    // it now; only forget items this response still owns.
    for (const auto& item : it->second.value.history)
      if (const std::string* iid = item_id(item)) {
        auto o = item_owner_.find(*iid);
        if (o != item_owner_.end() && o->second == *pos) item_owner_.erase(o);
      }
    by_id_.erase(it);
  }
  order_.erase(pos);
}

}  // namespace ug::server
