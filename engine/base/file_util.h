// File helpers shared by every layer: whole-file reads with typed errors, atomic writes
// (temp file + fsync + rename, so an interrupted run never leaves a file that looks complete),
// SHA-256 of files and buffers.
#ifndef DOGE_ENGINE_BASE_FILE_UTIL_H_
#define DOGE_ENGINE_BASE_FILE_UTIL_H_

#include <cstdio>
#include <string>
#include <string_view>

namespace doge {

// Reads the whole file; throws Error(kIo, path, "", "cannot open: <strerror>") on failure.
std::string ReadFileToString(const std::string& path);

// Writes `contents` to `path` atomically: `path.tmp.<pid>` is written, flushed, fsynced and
// renamed over `path`. Parent directories are created. Throws Error(kIo) on failure and removes
// the temporary file.
void WriteFileAtomic(const std::string& path, std::string_view contents);

// Streaming form of WriteFileAtomic. Nothing appears at `path` until Commit(); destroying an
// uncommitted writer deletes the temporary file.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void Write(std::string_view data);
  void Commit();

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
};

// Lower-case hex SHA-256.
std::string Sha256Hex(std::string_view data);
std::string Sha256File(const std::string& path);

// mkdir -p; throws Error(kIo) on failure.
void MakeDirs(const std::string& dir);
bool FileExists(const std::string& path);
bool IsDirectory(const std::string& path);

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_FILE_UTIL_H_
