// Downloads from a local fake hub: the cache layout other tools share, resuming, hash checks,
// and the errors users see (gated, missing, unreachable).
#include "hub/hf_pull.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "base/error.h"
#include "hub/hf_cache.h"
#include "hub/model_source.h"
#include "hub_test_util.h"

namespace ug::hub {
namespace {

namespace fs = std::filesystem;
using testing::FakeHub;
using testing::FakeRepo;

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

FakeRepo hf_folder_repo() {
  FakeRepo r;
  r.commit = kCommit;
  r.files["config.json"] = {R"({"architectures":["Gemma4UnifiedForConditionalGeneration"]})"};
  r.files["generation_config.json"] = {R"({"top_k":64})"};
  r.files["tokenizer.json"] = {R"({"model":{}})"};
  r.files["tokenizer_config.json"] = {R"({"add_bos_token":false})"};
  r.files["chat_template.jinja"] = {"{{ messages }}"};
  r.files["model.safetensors.index.json"] = {
      R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors",)"
      R"("b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}})"};
  r.files["model-00001-of-00002.safetensors"] = {testing::pseudo_random_bytes(300000, 1), true};
  r.files["model-00002-of-00002.safetensors"] = {testing::pseudo_random_bytes(200000, 2), true};
  r.files["README.md"] = {"# model card"};
  r.files["original/consolidated.safetensors"] = {testing::pseudo_random_bytes(1000, 3), true};
  return r;
}

FakeRepo gguf_repo() {
  FakeRepo r;
  r.commit = "89abcdef0123456789abcdef0123456789abcdef";
  for (const char* f :
       {"gemma-4-12b-it-Q4_K_M.gguf", "gemma-4-12b-it-Q8_0.gguf", "gemma-4-12b-it-Q4_0.gguf",
        "mmproj-gemma-4-12b-it-f16.gguf", "mmproj-gemma-4-12b-it-Q8_0.gguf",
        "gemma-4-12b-it-assistant-Q8_0.gguf", "gemma-4-12b-it-assistant-f16.gguf", "imatrix.gguf"})
    r.files[f] = {testing::pseudo_random_bytes(5000, uint32_t(std::string(f).size())), true};
  r.files["README.md"] = {"card"};
  return r;
}

size_t count_requests(FakeHub& hub, const std::string& needle) {
  size_t n = 0;
  for (const auto& q : hub.log())
    if (q.path.find(needle) != std::string::npos) ++n;
  return n;
}

TEST(HfPull, HfFolderLandsInTheHubCacheLayout) {
  FakeHub hub;
  FakeRepo repo = hf_folder_repo();
  hub.add("google/gemma-4-12B-it", repo);
  const fs::path cache = testing::fresh_dir("cache");
  HubSettings s = testing::settings_for(hub, cache);
  HfModelRef ref = parse_hf_ref("google/gemma-4-12B-it");
  PullOptions o;
  o.assistant = false;
  PulledModel m = hf_pull(s, ref, o);

  const fs::path root = cache / "models--google--gemma-4-12B-it";
  EXPECT_EQ(m.model, root / "snapshots" / kCommit);
  EXPECT_FALSE(m.gguf);
  EXPECT_EQ(testing::slurp(root / "refs" / "main"), kCommit);
  for (const auto& [path, f] : repo.files) {
    const fs::path snap = root / "snapshots" / kCommit / path;
    const bool wanted = path != "README.md" && path.rfind("original/", 0) != 0;
    EXPECT_EQ(fs::exists(snap), wanted) << path;
    if (!wanted) continue;
    ASSERT_TRUE(fs::is_symlink(snap)) << path;
    // The link is relative into blobs/, named by the sha256 for LFS files.
    const std::string etag = f.lfs ? testing::sha256_of(f.content) : testing::small_etag(f.content);
    EXPECT_EQ(fs::read_symlink(snap), fs::path("../../blobs") / etag) << path;
    EXPECT_EQ(testing::slurp(snap), f.content) << path;
  }
  EXPECT_FALSE(
      fs::exists(root / "blobs" /
                 (testing::sha256_of(repo.files["model-00001-of-00002.safetensors"].content) +
                  ".incomplete")));
}

TEST(HfPull, CachedFilesAreNotFetchedAgain) {
  FakeHub hub;
  hub.add("google/gemma-4-12B-it", hf_folder_repo());
  HubSettings s = testing::settings_for(hub, testing::fresh_dir("cache"));
  PullOptions o;
  o.assistant = false;
  hf_pull(s, parse_hf_ref("google/gemma-4-12B-it"), o);
  hub.clear_log();
  // pull asks the hub for the file list only.
  hf_pull(s, parse_hf_ref("google/gemma-4-12B-it"), o);
  EXPECT_EQ(count_requests(hub, "/api/models/"), 1u);
  EXPECT_EQ(count_requests(hub, "/resolve/"), 0u);
  EXPECT_EQ(count_requests(hub, "/cdn/"), 0u);
  // -m hf://... (cache first) asks nothing at all.
  hub.clear_log();
  o.cache_first = true;
  PulledModel m = hf_pull(s, parse_hf_ref("hf://google/gemma-4-12B-it"), o);
  EXPECT_TRUE(m.from_cache);
  EXPECT_TRUE(hub.log().empty());
}

TEST(HfPull, AnInterruptedTransferResumesWithARange) {
  FakeHub hub;
  FakeRepo repo = hf_folder_repo();
  hub.add("google/gemma-4-12B-it", repo);
  const std::string& big = repo.files["model-00001-of-00002.safetensors"].content;
  hub.cut_next_transfer(testing::sha256_of(big), 120000);
  HubSettings s = testing::settings_for(hub, testing::fresh_dir("cache"));
  PullOptions o;
  o.assistant = false;
  PulledModel m = hf_pull(s, parse_hf_ref("google/gemma-4-12B-it"), o);
  EXPECT_EQ(testing::slurp(m.model / "model-00001-of-00002.safetensors"), big);
  bool resumed = false;
  for (const auto& q : hub.log()) resumed |= q.range == "bytes=120000-";
  EXPECT_TRUE(resumed) << "no request resumed at the cut";
}

TEST(HfPull, APartialFileFromAnEarlierRunIsResumed) {
  FakeHub hub;
  FakeRepo repo = hf_folder_repo();
  hub.add("google/gemma-4-12B-it", repo);
  const std::string& big = repo.files["model-00002-of-00002.safetensors"].content;
  hub.cut_next_transfer(testing::sha256_of(big), 50000);
  const fs::path cache = testing::fresh_dir("cache");
  HubSettings s = testing::settings_for(hub, cache);
  s.attempts = 1;  // the first run gives up at the cut
  PullOptions o;
  o.assistant = false;
  EXPECT_THROW(hf_pull(s, parse_hf_ref("google/gemma-4-12B-it"), o), Error);
  const fs::path part = cache / "models--google--gemma-4-12B-it" / "blobs" /
                        (testing::sha256_of(big) + ".incomplete");
  ASSERT_TRUE(fs::exists(part));
  EXPECT_EQ(fs::file_size(part), 50000u);
  hub.clear_log();
  PulledModel m = hf_pull(s, parse_hf_ref("google/gemma-4-12B-it"), o);
  EXPECT_EQ(testing::slurp(m.model / "model-00002-of-00002.safetensors"), big);
  EXPECT_FALSE(fs::exists(part));
  bool resumed = false;
  for (const auto& q : hub.log()) resumed |= q.range == "bytes=50000-";
  EXPECT_TRUE(resumed);
}

TEST(HfPull, BytesThatDoNotMatchTheLfsHashAreRefusedAndDeleted) {
  FakeHub hub;
  FakeRepo repo = hf_folder_repo();
  hub.add("google/gemma-4-12B-it", repo);
  const std::string sha =
      testing::sha256_of(repo.files["model-00001-of-00002.safetensors"].content);
  hub.corrupt(sha);
  const fs::path cache = testing::fresh_dir("cache");
  HubSettings s = testing::settings_for(hub, cache);
  PullOptions o;
  o.assistant = false;
  try {
    hf_pull(s, parse_hf_ref("google/gemma-4-12B-it"), o);
    FAIL() << "a corrupted download was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sha256"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(sha), std::string::npos) << e.what();
  }
  const fs::path blobs = cache / "models--google--gemma-4-12B-it" / "blobs";
  EXPECT_FALSE(fs::exists(blobs / sha));
  EXPECT_FALSE(fs::exists(blobs / (sha + ".incomplete")));
  EXPECT_FALSE(fs::exists(cache / "models--google--gemma-4-12B-it" / "snapshots" / kCommit /
                          "model-00001-of-00002.safetensors"));
}

TEST(HfPull, MissingRepositoriesAndFilesAreNamed) {
  FakeHub hub;
  FakeRepo broken = hf_folder_repo();
  broken.files.erase("model-00002-of-00002.safetensors");  // the index names a missing shard
  hub.add("org/broken", broken);
  HubSettings s = testing::settings_for(hub, testing::fresh_dir("cache"));
  PullOptions o;
  try {
    hf_pull(s, parse_hf_ref("org/nothing-here"), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no such repository"), std::string::npos) << e.what();
  }
  try {
    hf_pull(s, parse_hf_ref("org/broken"), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00002-of-00002.safetensors"), std::string::npos)
        << e.what();
  }
  FakeRepo gguf = gguf_repo();
  hub.add("org/gguf", gguf);
  try {
    hf_pull(s, parse_hf_ref("org/gguf:Q5_K_S"), o);
    FAIL();
  } catch (const Error& e) {  // the message lists what there is
    EXPECT_NE(std::string(e.what()).find("gemma-4-12b-it-Q8_0.gguf"), std::string::npos)
        << e.what();
  }
}

TEST(HfPull, AGatedModelNeedsTheLicenceAndAToken) {
  FakeHub hub;
  FakeRepo repo = hf_folder_repo();
  repo.gated_token = "hf_secret";
  hub.add("google/gemma-4-12B-it", repo);
  HubSettings s = testing::settings_for(hub, testing::fresh_dir("cache"));
  PullOptions o;
  o.assistant = false;
  try {
    hf_pull(s, parse_hf_ref("google/gemma-4-12B-it"), o);
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("gated"), std::string::npos) << m;
    EXPECT_NE(m.find("licence"), std::string::npos) << m;
    EXPECT_NE(m.find("HF_TOKEN"), std::string::npos) << m;
  }
  s.token = "hf_other";
  try {
    hf_pull(s, parse_hf_ref("google/gemma-4-12B-it"), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no access"), std::string::npos) << e.what();
  }
  s.token = "hf_secret";
  hub.clear_log();
  PulledModel m = hf_pull(s, parse_hf_ref("google/gemma-4-12B-it"), o);
  EXPECT_TRUE(fs::exists(m.model / "config.json"));
  for (const auto& q : hub.log()) {
    if (q.path.find("/resolve/") != std::string::npos) {
      EXPECT_EQ(q.authorization, "Bearer hf_secret");
    }
  }
}

TEST(HfPull, AGgufRepoGivesTheQuantItsMmprojAndAssistant) {
  FakeHub hub;
  hub.add("org/gemma-4-12b-it-GGUF", gguf_repo());
  HubSettings s = testing::settings_for(hub, testing::fresh_dir("cache"));
  PulledModel m = hf_pull(s, parse_hf_ref("org/gemma-4-12b-it-GGUF:q8_0"), {});
  EXPECT_TRUE(m.gguf);
  EXPECT_EQ(m.model.filename(), "gemma-4-12b-it-Q8_0.gguf");
  EXPECT_EQ(m.mmproj.filename(), "mmproj-gemma-4-12b-it-Q8_0.gguf");
  EXPECT_EQ(m.assistant.filename(), "gemma-4-12b-it-assistant-Q8_0.gguf");
  // Only those three were fetched.
  EXPECT_EQ(count_requests(hub, "/cdn/"), 3u);
  // Without a tag: Q4_K_M, and the sidecars closest to 4 bits.
  PulledModel d = hf_pull(s, parse_hf_ref("org/gemma-4-12b-it-GGUF"), {});
  EXPECT_EQ(d.model.filename(), "gemma-4-12b-it-Q4_K_M.gguf");
  EXPECT_EQ(d.mmproj.filename(), "mmproj-gemma-4-12b-it-Q8_0.gguf");
  PullOptions no_sidecars;
  no_sidecars.mmproj = no_sidecars.assistant = false;
  PulledModel f =
      hf_pull(s, parse_hf_ref("org/gemma-4-12b-it-GGUF:gemma-4-12b-it-Q4_0.gguf"), no_sidecars);
  EXPECT_EQ(f.model.filename(), "gemma-4-12b-it-Q4_0.gguf");
  EXPECT_TRUE(f.mmproj.empty());
  EXPECT_TRUE(f.assistant.empty());
}

TEST(HfPull, OfflineUsesTheCacheAndNeverTheNetwork) {
  FakeHub hub;
  hub.add("org/gemma-4-12b-it-GGUF", gguf_repo());
  HubSettings s = testing::settings_for(hub, testing::fresh_dir("cache"));
  s.offline = true;
  try {
    hf_pull(s, parse_hf_ref("org/gemma-4-12b-it-GGUF:Q8_0"), {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("HF_HUB_OFFLINE"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(hub.log().empty());
  s.offline = false;
  hf_pull(s, parse_hf_ref("org/gemma-4-12b-it-GGUF:Q8_0"), {});
  hub.clear_log();
  s.offline = true;
  PulledModel m = hf_pull(s, parse_hf_ref("org/gemma-4-12b-it-GGUF:Q8_0"), {});
  EXPECT_EQ(m.model.filename(), "gemma-4-12b-it-Q8_0.gguf");
  EXPECT_EQ(m.mmproj.filename(), "mmproj-gemma-4-12b-it-Q8_0.gguf");
  EXPECT_TRUE(hub.log().empty());
}

TEST(HfPull, AnUnreachableHubIsANetworkError) {
  HubSettings s;
  s.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  s.cache_dir = testing::fresh_dir("cache");
  s.progress = false;
  try {
    hf_pull(s, parse_hf_ref("org/model"), {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot reach 127.0.0.1:1"), std::string::npos)
        << e.what();
  }
}

TEST(HfPull, ModelSourceResolvesHfUrlsThroughTheEnvironment) {
  FakeHub hub;
  hub.add("org/gemma-4-12b-it-GGUF", gguf_repo());
  const fs::path cache = testing::fresh_dir("cache");
  ::setenv("HF_ENDPOINT", (hub.endpoint() + "/").c_str(), 1);
  ::setenv("HF_HUB_CACHE", cache.c_str(), 1);
  ::unsetenv("HF_HUB_OFFLINE");
  ModelSource src = resolve_model_source("hf://org/gemma-4-12b-it-GGUF:Q4_0");
  ::unsetenv("HF_ENDPOINT");
  ::unsetenv("HF_HUB_CACHE");
  EXPECT_EQ(fs::path(src.model).filename(), "gemma-4-12b-it-Q4_0.gguf");
  EXPECT_EQ(fs::path(src.mmproj).filename(), "mmproj-gemma-4-12b-it-Q8_0.gguf");
  EXPECT_EQ(fs::path(src.assistant).filename(), "gemma-4-12b-it-assistant-Q8_0.gguf");
  EXPECT_EQ(src.origin, "hf://org/gemma-4-12b-it-GGUF");
  EXPECT_EQ(fs::path(src.model).parent_path().parent_path().parent_path(),
            cache / "models--org--gemma-4-12b-it-GGUF");
}

}  // namespace
}  // namespace ug::hub
