// Helpers shared by the dataset tests: a temporary directory removed at the end, whole-file
// read/write, and archives (zip / tar / tar.gz) built with libarchive from in-memory files.
#ifndef DOGE_TESTS_DATASETS_TEST_UTIL_H_
#define DOGE_TESTS_DATASETS_TEST_UTIL_H_

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace doge::testing {

inline const std::string kSamples = std::string(DOGE_TEST_DATA) + "/datasets";
inline const std::string kCanonical = std::string(DOGE_TEST_DATA) + "/datasets-canonical";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "doge-data-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void Spit(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// Entries are (path inside the archive, contents); `format` is "zip", "tar" or "tar.gz".
inline std::string MakeArchive(const std::string& format,
                               const std::vector<std::pair<std::string, std::string>>& entries) {
  archive* a = archive_write_new();
  if (format == "zip") {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (format == "tar.gz") archive_write_add_filter_gzip(a);
  }
  size_t total = 1 << 20;  // headers and padding
  for (const auto& e : entries) total += 2 * (e.first.size() + e.second.size()) + 1024;
  std::vector<char> buf(total);
  size_t used = 0;
  if (archive_write_open_memory(a, buf.data(), buf.size(), &used) != ARCHIVE_OK) {
    throw std::runtime_error("archive_write_open_memory failed");
  }
  for (const auto& [name, data] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

}  // namespace doge::testing

#endif  // DOGE_TESTS_DATASETS_TEST_UTIL_H_
