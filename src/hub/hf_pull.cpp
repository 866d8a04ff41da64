#include "hub/hf_pull.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>

#include "base/error.h"
#include "hub/hf_api.h"
#include "hub/hf_cache.h"
#include "hub/hf_download.h"
#include "hub/hf_select.h"

namespace ug::hub {

namespace fs = std::filesystem;

namespace {

const char* kIndex = "model.safetensors.index.json";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string(), ": cannot open");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Fetches `path` unless the snapshot has it; returns the local path.
class Fetcher {
 public:
  Fetcher(const HubSettings& s, const std::string& repo, const std::string& commit,
          const std::vector<RepoFile>* listing)
      : s_(s), repo_(repo), commit_(commit), listing_(listing), cache_(s.cache_dir, repo) {}

  fs::path get(const std::string& path) const {
    RepoFile f;
    f.path = path;
    if (listing_)
      for (const auto& r : *listing_)
        if (r.path == path) f = r;
    if (!listing_) {  // cache only
      const fs::path p = cache_.snapshot_file(commit_, path);
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) fail(repo_, "/", path, ": not in the cache");
      return p;
    }
    return download_file(s_, repo_, commit_, f);
  }

 private:
  const HubSettings& s_;
  std::string repo_, commit_;
  const std::vector<RepoFile>* listing_;
  HfRepoCache cache_;
};

// Picks and fetches the files of one snapshot whose file list is `paths`. listing: the hub's
// list (downloads allowed) or null (cache only: throws when a file is missing).
PulledModel materialize(const HubSettings& s, const HfModelRef& ref, const PullOptions& o,
                        const std::string& commit, const std::vector<std::string>& paths,
                        const std::vector<RepoFile>* listing) {
  PulledModel m;
  m.repo = ref.repo;
  m.commit = commit;
  Fetcher fetch(s, ref.repo, commit, listing);
  const bool gguf = is_gguf_repo(paths) && (!ref.tag.empty() || !is_safetensors_repo(paths));
  if (gguf) {
    GgufChoice c = choose_gguf(paths, ref.tag);
    m.gguf = true;
    m.model = fetch.get(c.model);
    if (o.mmproj && !c.mmproj.empty()) m.mmproj = fetch.get(c.mmproj);
    if (o.assistant && !c.assistant.empty()) m.assistant = fetch.get(c.assistant);
    return m;
  }
  if (!is_safetensors_repo(paths)) {
    if (!listing) fail(ref.repo, ": the cached snapshot is incomplete");
    fail(ref.repo,
         " holds neither GGUF model files nor a safetensors model (config.json and "
         "*.safetensors); unigemma cannot run it");
  }
  if (!ref.tag.empty())
    fail(ref.repo, " has no GGUF files, so the quant '", ref.tag, "' cannot be chosen; use ",
         ref.repo, " alone (unigemma run --quantize converts while loading)");
  for (const auto& f : safetensors_metadata_files(paths)) fetch.get(f);
  std::vector<std::string> shards = {"model.safetensors"};
  if (contains(paths, kIndex)) {
    const fs::path index = fetch.get(kIndex);
    shards = shards_from_index(read_text(index), index.string());
  }
  for (const auto& sh : shards) {
    if (!contains(paths, sh))
      fail(ref.repo, ": the index names ", sh, ", which is not in the repository");
    fetch.get(sh);
  }
  m.model = HfRepoCache(s.cache_dir, ref.repo).snapshot_dir(commit);
  return m;
}

std::optional<PulledModel> from_cache(const HubSettings& s, const HfModelRef& ref,
                                      const PullOptions& o) {
  HfRepoCache cache(s.cache_dir, ref.repo);
  auto commit = cache.commit_for(ref.revision);
  if (!commit) return std::nullopt;
  const auto paths = cache.snapshot_files(*commit);
  if (paths.empty()) return std::nullopt;
  try {
    PulledModel m = materialize(s, ref, o, *commit, paths, nullptr);
    m.from_cache = true;
    return m;
  } catch (const Error&) {
    return std::nullopt;  // incomplete: the hub decides
  }
}

}  // namespace

HfModelRef parse_hf_ref(const std::string& text) {
  std::string t = text;
  for (const char* prefix :
       {"hf://", "https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/"})
    if (t.rfind(prefix, 0) == 0) {
      t = t.substr(std::string(prefix).size());
      break;
    }
  HfModelRef r;
  const size_t at = t.find('@');
  if (at != std::string::npos) {
    r.revision = t.substr(at + 1);
    t = t.substr(0, at);
    if (r.revision.empty() || !is_safe_repo_path(r.revision))
      fail("'", text, "': the revision after '@' is not a branch, tag or commit name");
  }
  const size_t colon = t.find(':');
  if (colon != std::string::npos) {
    r.tag = t.substr(colon + 1);
    t = t.substr(0, colon);
    if (r.tag.empty() || !is_safe_repo_path(r.tag))
      fail("'", text, "': the part after ':' must name a quant (Q4_K_M) or a .gguf file");
  }
  if (!is_valid_repo_id(t))
    fail("'", text,
         "' is not a Hugging Face model (expected ORG/NAME[:QUANT], e.g. "
         "google/gemma-4-12B-it or ggml-org/gemma-4-12b-it-GGUF:Q4_K_M)");
  r.repo = t;
  return r;
}

std::string known_assistant_repo(const std::string& repo) {
  if (lower(repo) == "google/gemma-4-12b-it") return repo + "-assistant";
  return "";
}

PulledModel hf_pull(const HubSettings& s, const HfModelRef& ref, const PullOptions& o) {
  PulledModel m;
  if (o.cache_first || s.offline) {
    auto cached = from_cache(s, ref, o);
    if (cached) {
      m = *cached;
    } else if (s.offline) {
      fail(ref.repo, ": not in the Hugging Face cache (", s.cache_dir.string(),
           ") and HF_HUB_OFFLINE is set; run `unigemma pull ", ref.repo,
           ref.tag.empty() ? "" : ":" + ref.tag, "` with the network first");
    }
  }
  if (m.model.empty()) {
    RepoInfo info = fetch_repo_info(s, ref.repo, ref.revision);
    HfRepoCache(s.cache_dir, ref.repo).write_ref(ref.revision, info.commit);
    std::vector<std::string> paths;
    for (const auto& f : info.files) paths.push_back(f.path);
    m = materialize(s, ref, o, info.commit, paths, &info.files);
  }
  if (!m.gguf && o.assistant && m.assistant.empty()) {
    const std::string asst = known_assistant_repo(ref.repo);
    if (!asst.empty()) {
      HfModelRef a;
      a.repo = asst;
      PullOptions ao = o;
      ao.assistant = false;
      try {
        m.assistant = hf_pull(s, a, ao).model;
      } catch (const Error& e) {
        std::fprintf(stderr, "note: the assistant %s was not fetched: %s\n", asst.c_str(),
                     e.what());
      }
    }
  }
  return m;
}

}  // namespace ug::hub
