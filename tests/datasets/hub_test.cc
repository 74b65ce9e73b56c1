// Models by hub id (issue #18): the Hugging Face cache layout resolved offline (a cache folder
// built here exactly as huggingface_hub lays it out), and `doge model fetch` against a loopback
// server that answers like the hub: the model-info API, HEAD with X-Repo-Commit / ETag /
// X-Linked-Etag / X-Linked-Size, an absolute redirect of LFS files to a "CDN" path, a relative
// redirect (a renamed repo), and Range requests for resumed downloads.
//
// The layout the tests expect is written down from huggingface_hub's documentation
// ("Manage the cache" / file_download.py):
//   <cache>/models--ORG--NAME/{refs/<rev>, blobs/<etag>, snapshots/<commit>/<file> -> ../../blobs/<etag>}
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/hub_cache.h"
#include "tasks/data/hub_fetch.h"
#include "tests/datasets/http_test_server.h"
#include "tests/datasets/test_util.h"

namespace doge::testing {
namespace {

namespace fs = std::filesystem;

const std::string kTiny = std::string(DOGE_TEST_DATA) + "/tiny-model";
const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kCommitV1 = "89abcdef0123456789abcdef0123456789abcdef";

// Sets an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

// Writes `files` (name -> contents) into `cache` the way huggingface_hub does: each content once
// under blobs/<etag>, a relative symlink per file under snapshots/<commit>/, refs/<rev>.
void MakeCachedRepo(const std::string& cache, const std::string& repo_id, const std::string& commit,
                    const std::vector<std::pair<std::string, std::string>>& files,
                    const std::vector<std::string>& refs) {
  const std::string repo = cache + "/models--" + repo_id.substr(0, repo_id.find('/')) + "--" +
                           repo_id.substr(repo_id.find('/') + 1);
  for (const auto& [name, body] : files) {
    const std::string etag = Sha256Hex(body);
    Spit(repo + "/blobs/" + etag, body);
    fs::create_directories(repo + "/snapshots/" + commit);
    fs::create_symlink("../../blobs/" + etag, repo + "/snapshots/" + commit + "/" + name);
  }
  for (const std::string& r : refs) Spit(repo + "/refs/" + r, commit);
}

std::vector<std::pair<std::string, std::string>> TinyFiles() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* n : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                        "special_tokens_map.json"}) {
    out.emplace_back(n, Slurp(kTiny + "/" + n));
  }
  return out;
}

int RunShell(const std::string& cmd) {
  const int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(HubCacheTest, ParsesHubIdsAndRefusesPaths) {
  HubModelId id;
  ASSERT_TRUE(ParseHubModelId("SmallDoge/Doge-20M", &id));
  EXPECT_EQ(id.repo_id, "SmallDoge/Doge-20M");
  EXPECT_EQ(id.revision, "main");
  ASSERT_TRUE(ParseHubModelId("SmallDoge/Doge-20M@v1.0", &id));
  EXPECT_EQ(id.revision, "v1.0");
  ASSERT_TRUE(ParseHubModelId("org/name@refs/pr/1", &id));
  EXPECT_EQ(id.revision, "refs/pr/1");
  for (const char* bad : {"Doge-20M", "/abs/dir", "./a/b", "a/b/c", "a//b", "../x", "a/b@", "a/b@../x", "a--b/c",
                          "a/.hidden", "a b/c", ""}) {
    EXPECT_FALSE(ParseHubModelId(bad, nullptr)) << bad;
  }
}

TEST(HubCacheTest, CacheFolderFromTheEnvironmentAsHuggingfaceHubReadsIt) {
  const std::string a = "/x/hub-cache", home = "/y/hf-home", xdg = "/z/xdg", user = "/home/u";
  ScopedEnv e1("HF_HUB_CACHE", &a), e2("HUGGINGFACE_HUB_CACHE", nullptr), e3("HF_HOME", &home),
      e4("XDG_CACHE_HOME", &xdg), e5("HOME", &user);
  EXPECT_EQ(HubCacheDir(), "/x/hub-cache");
  {
    ScopedEnv unset("HF_HUB_CACHE", nullptr);
    EXPECT_EQ(HubCacheDir(), "/y/hf-home/hub");
    ScopedEnv unset_home("HF_HOME", nullptr);
    EXPECT_EQ(HubCacheDir(), "/z/xdg/huggingface/hub");
    ScopedEnv unset_xdg("XDG_CACHE_HOME", nullptr);
    EXPECT_EQ(HubCacheDir(), "/home/u/.cache/huggingface/hub");
  }
  const std::string one = "1", yes = "yes", zero = "0";
  {
    ScopedEnv off("HF_HUB_OFFLINE", &one);
    EXPECT_TRUE(HubOffline());
  }
  {
    ScopedEnv off("HF_HUB_OFFLINE", &yes);
    EXPECT_TRUE(HubOffline());
  }
  {
    ScopedEnv off("HF_HUB_OFFLINE", &zero);
    EXPECT_FALSE(HubOffline());
  }
  EXPECT_EQ(HubRepoFolder("/c", "SmallDoge/Doge-20M"), "/c/models--SmallDoge--Doge-20M");
}

TEST(HubCacheTest, ResolvesRefsAndCommitsOfACacheBuiltInTheHubLayout) {
  TempDir tmp;
  const std::string home = tmp.path() + "/hf", offline = "1";
  ScopedEnv e1("HF_HUB_CACHE", nullptr), e2("HUGGINGFACE_HUB_CACHE", nullptr), e3("HF_HOME", &home),
      e4("HF_HUB_OFFLINE", &offline);
  MakeCachedRepo(home + "/hub", "TestOrg/tiny-doge", kCommit, TinyFiles(), {"main"});
  MakeCachedRepo(home + "/hub", "TestOrg/tiny-doge", kCommitV1, {{"config.json", "{}"}}, {"v1"});
  const std::string repo = home + "/hub/models--TestOrg--tiny-doge";
  EXPECT_EQ(ResolveModelPath("TestOrg/tiny-doge"), repo + "/snapshots/" + kCommit);
  EXPECT_EQ(ResolveModelPath("TestOrg/tiny-doge@main"), repo + "/snapshots/" + kCommit);
  EXPECT_EQ(ResolveModelPath("TestOrg/tiny-doge@v1"), repo + "/snapshots/" + kCommitV1);
  EXPECT_EQ(ResolveModelPath("TestOrg/tiny-doge@" + kCommitV1), repo + "/snapshots/" + kCommitV1);
  EXPECT_EQ(ModelDisplayName("TestOrg/tiny-doge@v1"), "tiny-doge");
  // The files read through the snapshot links are the originals.
  EXPECT_EQ(Slurp(ResolveModelPath("TestOrg/tiny-doge") + "/model.safetensors"), Slurp(kTiny + "/model.safetensors"));

  try {
    ResolveModelPath("TestOrg/tiny-doge@v2");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), repo);
    EXPECT_EQ(e.field(), "refs/v2");
    EXPECT_NE(std::string(e.what()).find("doge model fetch TestOrg/tiny-doge --revision v2"), std::string::npos) << e.what();
  }
  try {
    ResolveModelPath("TestOrg/absent");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not in the Hugging Face cache"), std::string::npos) << e.what();
  }
  // A ref pointing at a commit whose snapshot is gone.
  Spit(repo + "/refs/broken", "fedcba9876543210fedcba9876543210fedcba98");
  EXPECT_THROW(ResolveModelPath("TestOrg/tiny-doge@broken"), Error);
  Spit(repo + "/refs/garbage", "not a hash");
  EXPECT_THROW(ResolveModelPath("TestOrg/tiny-doge@garbage"), Error);

  // A local folder spelled like a hub id wins over the cache.
  const fs::path cwd = fs::current_path();
  fs::create_directories(tmp.path() + "/work/TestOrg/tiny-doge");
  fs::current_path(tmp.path() + "/work");
  EXPECT_EQ(ResolveModelPath("TestOrg/tiny-doge"), "TestOrg/tiny-doge");
  EXPECT_EQ(ModelDisplayName("TestOrg/tiny-doge"), "tiny-doge");
  fs::current_path(cwd);

  // Listing: the Doge model with its refs, not the config-less or foreign ones.
  MakeCachedRepo(home + "/hub", "Other/bert", kCommit, {{"config.json", R"({"model_type":"bert"})"}}, {"main"});
  fs::create_directories(home + "/hub/models--Empty--repo/blobs");
  std::vector<CachedModel> all = ListCachedModels(home + "/hub");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].repo_id, "Other/bert");
  EXPECT_EQ(all[0].model_type, "bert");
  EXPECT_EQ(all[1].repo_id, "TestOrg/tiny-doge");
  EXPECT_EQ(all[1].model_type, "doge");
  EXPECT_EQ(all[1].refs.at("main"), kCommit);
  EXPECT_EQ(all[1].refs.at("v1"), kCommitV1);
  // A config.json whose model_type is given twice with different values is not trusted: the
  // model is listed, its model_type left empty.
  MakeCachedRepo(home + "/hub", "Other/dup", kCommit,
                 {{"config.json", R"({"model_type":"bert","model_type":"doge"})"}}, {"main"});
  all = ListCachedModels(home + "/hub");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].repo_id, "Other/dup");
  EXPECT_EQ(all[1].model_type, "");
}

TEST(HubCacheTest, EveryCommandLoadsAHubIdFromTheCacheOffline) {
  TempDir tmp;
  const std::string home = tmp.path() + "/hf";
  MakeCachedRepo(home + "/hub", "TestOrg/tiny-doge", kCommit, TinyFiles(), {"main"});
  const std::string env = "env -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE HF_HOME=" + home + " HF_HUB_OFFLINE=1 ";
  const std::string out = tmp.path() + "/out.txt";
  ASSERT_EQ(RunShell(env + DOGE_BINARY + " info --model TestOrg/tiny-doge --format json > " + out), 0);
  EXPECT_NE(Slurp(out).find("\"hidden_size\": 64"), std::string::npos) << Slurp(out);
  ASSERT_EQ(RunShell(env + DOGE_BINARY + " tokenize --tokenizer TestOrg/tiny-doge --text 'hello world' > " + out), 0);
  ASSERT_EQ(RunShell(env + DOGE_BINARY + " score --model TestOrg/tiny-doge --context 'a b' --continuation ' c' > " + out), 0);
  ASSERT_EQ(RunShell(env + DOGE_BINARY + " model ls > " + out), 0);
  EXPECT_NE(Slurp(out).find("TestOrg/tiny-doge"), std::string::npos) << Slurp(out);
  ASSERT_EQ(RunShell(env + DOGE_BINARY + " model path TestOrg/tiny-doge > " + out), 0);
  EXPECT_EQ(Slurp(out), home + "/hub/models--TestOrg--tiny-doge/snapshots/" + kCommit + "\n");
  // Not cached: a clear error (exit 3, input data), naming how to get it.
  const std::string err = tmp.path() + "/err.txt";
  EXPECT_EQ(RunShell(env + DOGE_BINARY + " info --model TestOrg/other 2> " + err), 3);
  EXPECT_NE(Slurp(err).find("doge model fetch TestOrg/other"), std::string::npos) << Slurp(err);
}

// A loopback server answering like the hub for one repository at one commit.
class FakeHub {
 public:
  FakeHub(TestHttpServer* s, std::string repo, std::string commit) : s_(s), repo_(std::move(repo)), commit_(std::move(commit)) {}

  // A file kept in git: answered directly, ETag = a git-blob-like 40-hex id.
  void AddSmall(const std::string& name, const std::string& body) {
    const std::string path = ResolvePath(name);
    s_->Serve(path, body);
    s_->SetHeaders(path, "ETag: \"" + Sha256Hex("blob " + body).substr(0, 40) + "\"\r\nX-Repo-Commit: " + commit_ + "\r\n");
    names_.push_back(name);
  }
  // An LFS file: the resolve URL redirects (absolute) to a CDN path; the hub's headers carry the
  // SHA-256 (`announced`, the true one unless a test lies) and the size.
  void AddLfs(const std::string& name, const std::string& body, std::string announced = "") {
    if (announced.empty()) announced = Sha256Hex(body);
    const std::string path = ResolvePath(name);
    const std::string cdn = "/cdn/" + Sha256Hex(body);
    s_->Redirect(path, s_->base_url() + cdn);
    s_->SetHeaders(path, "X-Linked-Etag: \"" + announced + "\"\r\nX-Linked-Size: " + std::to_string(body.size()) +
                             "\r\nETag: W/\"" + Sha256Hex(name).substr(0, 40) + "\"\r\nX-Repo-Commit: " + commit_ + "\r\n");
    s_->Serve(cdn, body);
    names_.push_back(name);
  }
  // GET /api/models/<repo>/revision/<rev> -> {"sha", "siblings"} (plus files doge must skip).
  void ServeInfo(const std::string& revision = "main") {
    std::string json = "{\"id\":\"" + repo_ + "\",\"sha\":\"" + commit_ + "\",\"siblings\":[";
    std::vector<std::string> all = names_;
    all.push_back("README.md");
    all.push_back("onnx/model.safetensors");
    for (size_t i = 0; i < all.size(); ++i) json += (i ? "," : "") + std::string("{\"rfilename\":\"") + all[i] + "\"}";
    json += "]}";
    s_->Serve("/api/models/" + repo_ + "/revision/" + revision, json);
  }
  std::string ResolvePath(const std::string& name) const { return "/" + repo_ + "/resolve/" + commit_ + "/" + name; }

 private:
  TestHttpServer* s_;
  std::string repo_, commit_;
  std::vector<std::string> names_;
};

class HubFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_ = std::make_unique<FakeHub>(&server_, "TestOrg/tiny-doge", kCommit);
    for (const auto& [name, body] : TinyFiles()) {
      if (name == "model.safetensors") {
        hub_->AddLfs(name, body);
      } else {
        hub_->AddSmall(name, body);
      }
    }
    hub_->ServeInfo();
    opt_.repo_id = "TestOrg/tiny-doge";
    opt_.endpoint = server_.base_url();
    opt_.cache_dir = tmp_.path() + "/hub";
    opt_.download.retries = 1;
    opt_.download.backoff_ms = 1;
    opt_.download.log = nullptr;
  }
  std::string Repo() const { return opt_.cache_dir + "/models--TestOrg--tiny-doge"; }

  TempDir tmp_;
  TestHttpServer server_;
  std::unique_ptr<FakeHub> hub_;
  data::HubFetchOptions opt_;
};

TEST(HubFetchFilesTest, TakesWhatTheEngineReadsAndNothingElse) {
  EXPECT_EQ(data::HubFilesToFetch({"README.md", "config.json", "model-00002-of-00002.safetensors",
                                   "model-00001-of-00002.safetensors", "model.safetensors.index.json",
                                   "tokenizer.json", "onnx/model.safetensors", "pytorch_model.bin",
                                   "generation_config.json", "tokenizer.model", ".gitattributes"}),
            (std::vector<std::string>{"config.json", "generation_config.json", "model-00001-of-00002.safetensors",
                                      "model-00002-of-00002.safetensors", "model.safetensors.index.json",
                                      "tokenizer.json", "tokenizer.model"}));
}

TEST_F(HubFetchTest, DownloadsIntoTheHubCacheLayout) {
  const data::HubFetchResult r = data::FetchHubModel(opt_);
  EXPECT_EQ(r.commit, kCommit);
  EXPECT_EQ(r.snapshot_dir, Repo() + "/snapshots/" + kCommit);
  ASSERT_EQ(r.files.size(), 5u);
  EXPECT_EQ(Slurp(Repo() + "/refs/main"), kCommit);  // no newline, as huggingface_hub writes it
  const std::string weights_sha = Sha256Hex(Slurp(kTiny + "/model.safetensors"));
  for (const auto& [name, body] : TinyFiles()) {
    const fs::path link = r.snapshot_dir + "/" + name;
    ASSERT_TRUE(fs::is_symlink(link)) << link;
    const std::string target = fs::read_symlink(link).string();
    EXPECT_EQ(target.rfind("../../blobs/", 0), 0u) << target;
    const std::string etag = target.substr(12);
    if (name == "model.safetensors") {
      EXPECT_EQ(etag, weights_sha);  // LFS: the blob is named by its SHA-256 (X-Linked-Etag)
    } else {
      EXPECT_EQ(etag, Sha256Hex("blob " + body).substr(0, 40));  // git files: by their ETag, quotes stripped
    }
    EXPECT_EQ(Slurp(link.string()), body) << name;
  }
  for (const data::HubFetchedFile& f : r.files) {
    EXPECT_TRUE(f.downloaded);
    EXPECT_EQ(f.sha256_checked, f.name == "model.safetensors");
  }
  // Skipped: README.md and the nested onnx/ weights.
  EXPECT_FALSE(fs::exists(r.snapshot_dir + "/README.md"));
  EXPECT_FALSE(fs::exists(r.snapshot_dir + "/onnx"));
  // The weights came through the CDN redirect; every file was HEAD-ed first.
  const std::vector<std::string> reqs = server_.requests();
  EXPECT_NE(std::find(reqs.begin(), reqs.end(), "GET /cdn/" + weights_sha), reqs.end());
  EXPECT_NE(std::find(reqs.begin(), reqs.end(), "HEAD " + hub_->ResolvePath("config.json")), reqs.end());

  // A second fetch finds every blob and downloads nothing.
  const size_t before = server_.requests().size();
  const data::HubFetchResult again = data::FetchHubModel(opt_);
  for (const data::HubFetchedFile& f : again.files) EXPECT_FALSE(f.downloaded) << f.name;
  for (size_t i = before; i < server_.requests().size(); ++i) {
    EXPECT_NE(server_.requests()[i].rfind("GET /cdn/", 0), 0u) << server_.requests()[i];
  }
}

TEST_F(HubFetchTest, ResumesAnIncompleteBlobWithARangeRequest) {
  const std::string body = Slurp(kTiny + "/model.safetensors");
  const std::string sha = Sha256Hex(body);
  const size_t half = body.size() / 2;
  Spit(Repo() + "/blobs/" + sha + ".incomplete", body.substr(0, half));
  const data::HubFetchResult r = data::FetchHubModel(opt_);
  const std::vector<std::string> reqs = server_.requests();
  EXPECT_NE(std::find(reqs.begin(), reqs.end(), "GET /cdn/" + sha + " range=" + std::to_string(half) + "-"), reqs.end());
  EXPECT_EQ(Sha256File(Repo() + "/blobs/" + sha), sha);
  EXPECT_FALSE(fs::exists(Repo() + "/blobs/" + sha + ".incomplete"));
}

TEST_F(HubFetchTest, AWeightFileWithTheWrongHashIsRefusedAndLeavesNothing) {
  TestHttpServer liar;
  FakeHub hub(&liar, "TestOrg/tiny-doge", kCommit);
  const std::string wrong = Sha256Hex("something else");
  hub.AddSmall("config.json", Slurp(kTiny + "/config.json"));
  hub.AddLfs("model.safetensors", Slurp(kTiny + "/model.safetensors"), wrong);
  hub.ServeInfo();
  opt_.endpoint = liar.base_url();
  try {
    data::FetchHubModel(opt_);
    FAIL() << "expected a hash error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataset);
    EXPECT_EQ(e.field(), "sha256");
    EXPECT_NE(std::string(e.what()).find(wrong), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(Repo() + "/blobs/" + wrong));
  EXPECT_FALSE(fs::exists(Repo() + "/blobs/" + wrong + ".incomplete"));
  EXPECT_FALSE(fs::exists(Repo() + "/snapshots/" + kCommit + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(Repo() + "/refs/main"));  // the snapshot is incomplete: no ref to it
}

TEST_F(HubFetchTest, FollowsARelativeRedirectOfARenamedRepository) {
  TestHttpServer s;
  FakeHub moved(&s, "NewOrg/tiny-doge", kCommit);
  moved.AddSmall("config.json", Slurp(kTiny + "/config.json"));
  moved.AddLfs("model.safetensors", Slurp(kTiny + "/model.safetensors"));
  FakeHub old(&s, "TestOrg/tiny-doge", kCommit);
  old.AddSmall("config.json", "");  // listed, then redirected below
  old.AddSmall("model.safetensors", "");
  old.ServeInfo();
  for (const char* n : {"config.json", "model.safetensors"}) s.Redirect(old.ResolvePath(n), moved.ResolvePath(n), 307);
  opt_.endpoint = s.base_url();
  const data::HubFetchResult r = data::FetchHubModel(opt_);
  EXPECT_EQ(Slurp(r.snapshot_dir + "/config.json"), Slurp(kTiny + "/config.json"));
  EXPECT_EQ(Slurp(r.snapshot_dir + "/model.safetensors"), Slurp(kTiny + "/model.safetensors"));
}

TEST_F(HubFetchTest, MissingHubHeadersAndHttpErrorsAreClear) {
  TestHttpServer plain;  // a web server, not a hub: no X-Repo-Commit
  FakeHub hub(&plain, "TestOrg/tiny-doge", kCommit);
  hub.AddSmall("config.json", "{}");
  hub.AddSmall("model.safetensors", "x");
  hub.ServeInfo();
  plain.SetHeaders(hub.ResolvePath("config.json"), "ETag: \"abc\"\r\n");
  opt_.endpoint = plain.base_url();
  try {
    data::FetchHubModel(opt_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "X-Repo-Commit");
  }
  opt_.repo_id = "TestOrg/absent";
  try {
    data::FetchHubModel(opt_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNetwork);
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
  const std::string one = "1";
  ScopedEnv off("HF_HUB_OFFLINE", &one);
  EXPECT_THROW(data::FetchHubModel(opt_), Error);
}

// A fetch that fetched nothing exits non-zero and leaves no ref: every listed file missing
// (404), a repository without the files doge reads, a model-info answer that says two things.
TEST_F(HubFetchTest, FetchThatFetchedNothingIsAnError) {
  const std::string info = "/api/models/TestOrg/";
  auto serve_info = [&](const std::string& repo, const std::string& json) {
    server_.Serve(info + repo + "/revision/main", json);
  };
  const std::string sha = "\"sha\":\"" + kCommit + "\"";
  serve_info("gone", "{" + sha + R"(,"siblings":[{"rfilename":"config.json"},{"rfilename":"model.safetensors"}]})");
  serve_info("empty", "{" + sha + R"(,"siblings":[]})");
  serve_info("docs-only", "{" + sha + R"(,"siblings":[{"rfilename":"README.md"},{"rfilename":"pytorch_model.bin"}]})");
  serve_info("two-shas", "{" + sha + R"(,"siblings":[{"rfilename":"config.json"}],"sha":")" +
                             kCommitV1 + "\"}");
  const std::string home = tmp_.path() + "/hf-home-nothing";
  const std::string env = "env -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE -u HF_HUB_OFFLINE -u HF_TOKEN HF_ENDPOINT=" +
                          server_.base_url() + " HF_HOME=" + home + " ";
  for (const char* repo : {"gone", "empty", "docs-only", "two-shas"}) {
    SCOPED_TRACE(repo);
    const std::string err = tmp_.path() + "/err.txt";
    EXPECT_EQ(RunShell(env + DOGE_BINARY + " model fetch TestOrg/" + repo + " > /dev/null 2> " + err), 3);
    EXPECT_FALSE(fs::exists(home + "/hub/models--TestOrg--" + std::string(repo) + "/refs/main"));
    const std::string msg = Slurp(err);
    if (std::string(repo) == "gone") {
      EXPECT_NE(msg.find("config.json: HTTP 404"), std::string::npos) << msg;
    } else if (std::string(repo) == "two-shas") {
      EXPECT_NE(msg.find(": sha: appears twice in one object with different values"), std::string::npos) << msg;
    } else {
      EXPECT_NE(msg.find("siblings: "), std::string::npos) << msg;
      EXPECT_NE(msg.find("has no config.json or no *.safetensors weights"), std::string::npos) << msg;
    }
  }
}

TEST_F(HubFetchTest, CliHonoursHfEndpointHfHomeAndHfToken) {
  const std::string home = tmp_.path() + "/hf-home";
  const std::string out = tmp_.path() + "/out.txt";
  const std::string env = "env -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE -u HF_HUB_OFFLINE HF_ENDPOINT=" +
                          server_.base_url() + " HF_HOME=" + home + " HF_TOKEN=hf_test_token ";
  ASSERT_EQ(RunShell(env + DOGE_BINARY + " model fetch TestOrg/tiny-doge > " + out + " 2>/dev/null"), 0);
  const std::string snap = home + "/hub/models--TestOrg--tiny-doge/snapshots/" + kCommit;
  EXPECT_EQ(Slurp(out), snap + "\n");
  EXPECT_TRUE(fs::is_symlink(snap + "/model.safetensors"));
  for (const std::string& a : server_.authorizations()) EXPECT_EQ(a, "Bearer hf_test_token");
  // ... and the model then loads by id with the network off.
  ASSERT_EQ(RunShell("env -u HF_HUB_CACHE HF_HOME=" + home + " HF_HUB_OFFLINE=1 " + DOGE_BINARY +
                     " info --model TestOrg/tiny-doge > " + out),
            0);
  EXPECT_NE(Slurp(out).find("parameters:"), std::string::npos);
  // Offline fetch refuses with a usage error.
  EXPECT_EQ(RunShell(env + "HF_HUB_OFFLINE=1 " + DOGE_BINARY + " model fetch TestOrg/tiny-doge 2>/dev/null"), 2);
}

// README "Using it with the real models" runs as written: every `doge` line of its recipe, with
// SmallDoge/Doge-20M served by the fake hub as TestOrg/tiny-doge. Only what the fake setting
// needs is added: the bundled sample data for eval (the `doge data` lines are skipped here;
// tests/datasets/fetch_test.cc runs data fetch against a fake server), and short lengths for the
// benchmark and the eval.
TEST_F(HubFetchTest, ReadmeRealModelRecipeRunsAsWritten) {
  const std::string readme = Slurp(std::string(DOGE_SOURCE_DIR) + "/README.md");
  const size_t section = readme.find("## Using it with the real models");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = readme.find("```sh\n", section);
  const size_t end = readme.find("```\n", begin + 6);
  ASSERT_TRUE(begin != std::string::npos && end != std::string::npos);
  std::vector<std::string> lines;
  size_t p = begin + 6;
  while (p < end) {
    const size_t nl = readme.find('\n', p);
    std::string line = readme.substr(p, nl - p);
    p = nl + 1;
    const size_t comment = line.find("  #");
    if (comment != std::string::npos) line = line.substr(0, comment);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.rfind("doge ", 0) == 0) lines.push_back(line);
  }
  // The four steps the README promises, in this order.
  std::vector<std::string> steps = {"doge model fetch SmallDoge/Doge-20M", "doge data fetch",
                                    "doge eval --model SmallDoge/Doge-20M --tasks card", "doge report card"};
  size_t next = 0;
  for (const std::string& l : lines) {
    if (next < steps.size() && l.rfind(steps[next], 0) == 0) ++next;
  }
  EXPECT_EQ(next, steps.size()) << "README recipe lost a step: " << (next < steps.size() ? steps[next] : "");

  const std::string home = tmp_.path() + "/hf-home", work = tmp_.path() + "/work";
  fs::create_directories(work);
  const std::string env = "cd " + work + " && env -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE -u HF_HUB_OFFLINE HF_ENDPOINT=" +
                          server_.base_url() + " HF_HOME=" + home + " ";
  int ran = 0;
  for (std::string line : lines) {
    if (line.rfind("doge data ", 0) == 0) continue;
    std::string cmd = std::string(DOGE_BINARY) + line.substr(4);
    for (size_t at = cmd.find("SmallDoge/Doge-20M"); at != std::string::npos; at = cmd.find("SmallDoge/Doge-20M")) {
      cmd.replace(at, 18, "TestOrg/tiny-doge");
    }
    if (line.rfind("doge eval ", 0) == 0) {
      cmd += " --data-dir " + std::string(DOGE_TEST_DATA) + "/datasets-canonical --allow-count-mismatch --limit 2 -t 1";
    }
    if (line.rfind("doge bench e2e ", 0) == 0) {
      // Inserted before any shell redirection the README line ends with.
      const size_t redirect = cmd.find(" >");
      cmd.insert(redirect == std::string::npos ? cmd.size() : redirect, " -p 8 -n 4 -t 1 -r 1 --probe-reps 1");
    }
    const std::string err = tmp_.path() + "/err.txt";
    EXPECT_EQ(RunShell(env + cmd + " 2> " + err + (cmd.find(" >") == std::string::npos ? " > /dev/null" : "")), 0)
        << line << "\n" << Slurp(err);
    EXPECT_EQ(Slurp(err).find("deprecated"), std::string::npos) << line << ": an old flag spelling\n" << Slurp(err);
    ++ran;
  }
  EXPECT_GE(ran, 4);
  EXPECT_TRUE(fs::exists(work + "/runs/doge-20m/results.json"));
}

}  // namespace
}  // namespace doge::testing
