#include "hub/hf_cache.h"

#include <cctype>
#include <fstream>

#include "base/error.h"

namespace ug::hub {

namespace fs = std::filesystem;

namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

bool is_valid_name(const std::string& s) {
  if (s.empty() || s.size() > 96) return false;
  for (char c : s)
    if (!is_name_char(c)) return false;
  if (s.front() == '.' || s.front() == '-' || s.back() == '.' || s.back() == '-') return false;
  return s.find("..") == std::string::npos && s.find("--") == std::string::npos;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t a = 0;
  while (true) {
    size_t b = s.find(sep, a);
    out.push_back(s.substr(a, b == std::string::npos ? std::string::npos : b - a));
    if (b == std::string::npos) return out;
    a = b + 1;
  }
}

}  // namespace

bool is_valid_repo_id(const std::string& repo) {
  auto parts = split(repo, '/');
  return parts.size() == 2 && is_valid_name(parts[0]) && is_valid_name(parts[1]);
}

bool is_safe_repo_path(const std::string& path) {
  if (path.empty() || path.size() > 1024 || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos)
    return false;
  for (const auto& seg : split(path, '/'))
    if (seg.empty() || seg == "." || seg == "..") return false;
  return true;
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

HfRepoCache::HfRepoCache(fs::path cache_dir, const std::string& repo) {
  if (!is_valid_repo_id(repo))
    fail("'", repo, "' is not a Hugging Face repository id (expected ORG/NAME)");
  const size_t slash = repo.find('/');
  root_ = cache_dir / ("models--" + repo.substr(0, slash) + "--" + repo.substr(slash + 1));
}

fs::path HfRepoCache::blob(const std::string& etag) const { return root_ / "blobs" / etag; }

fs::path HfRepoCache::snapshot_dir(const std::string& commit) const {
  return root_ / "snapshots" / commit;
}

fs::path HfRepoCache::snapshot_file(const std::string& commit, const std::string& path) const {
  return snapshot_dir(commit) / path;
}

std::optional<std::string> HfRepoCache::commit_for(const std::string& revision) const {
  if (is_commit_hash(revision)) return revision;
  if (!is_safe_repo_path(revision)) return std::nullopt;
  std::ifstream in(root_ / "refs" / revision);
  std::string commit;
  if (!in || !std::getline(in, commit)) return std::nullopt;
  while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back())))
    commit.pop_back();
  if (!is_commit_hash(commit)) return std::nullopt;
  return commit;
}

void HfRepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit || !is_safe_repo_path(revision)) return;
  const fs::path ref = root_ / "refs" / revision;
  fs::create_directories(ref.parent_path());
  const fs::path tmp = ref.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << commit;
    if (!out) fail(tmp.string(), ": cannot write");
  }
  fs::rename(tmp, ref);
}

void HfRepoCache::link(const std::string& commit, const std::string& path,
                       const std::string& etag) const {
  const fs::path dst = snapshot_file(commit, path);
  fs::create_directories(dst.parent_path());
  std::error_code ec;
  fs::remove(dst, ec);
  // From snapshots/<commit>/<a>/<b>/file up to the repository folder: 2 + depth levels.
  fs::path target;
  for (size_t i = 0, depth = split(path, '/').size() - 1; i < 2 + depth; ++i) target /= "..";
  target = target / "blobs" / etag;
  fs::create_symlink(target, dst, ec);
  if (ec) fs::copy_file(blob(etag), dst, fs::copy_options::overwrite_existing);
}

std::vector<std::string> HfRepoCache::snapshot_files(const std::string& commit) const {
  std::vector<std::string> out;
  const fs::path dir = snapshot_dir(commit);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (fs::is_regular_file(it->path(), ec))  // follows the symlink: the blob exists
      out.push_back(it->path().lexically_relative(dir).generic_string());
  }
  return out;
}

}  // namespace ug::hub
