#include "engine/base/file_util.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "engine/base/error.h"

namespace doge {

std::string ReadFileToString(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(ErrorKind::kIo, path, "", std::string("cannot open: ") + std::strerror(errno));
  if (IsDirectory(path)) {
    std::fclose(f);
    throw Error(ErrorKind::kIo, path, "", "is a directory, expected a file");
  }
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw Error(ErrorKind::kIo, path, "", "read error");
  return out;
}

void MakeDirs(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::kIo, dir, "", "cannot create directory: " + ec.message());
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  auto parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) MakeDirs(parent.string());
  temp_path_ = path_ + ".tmp." + std::to_string(::getpid());
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_) {
    throw Error(ErrorKind::kIo, temp_path_, "", std::string("cannot create: ") + std::strerror(errno));
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_) {
    std::fclose(file_);
    std::remove(temp_path_.c_str());
  }
}

void AtomicFileWriter::Write(std::string_view data) {
  if (!file_) throw Error(ErrorKind::kInternal, path_, "", "write after commit");
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    throw Error(ErrorKind::kIo, temp_path_, "", std::string("write failed: ") + std::strerror(errno));
  }
}

void AtomicFileWriter::Commit() {
  if (!file_) return;
  bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok || std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(temp_path_.c_str());
    throw Error(ErrorKind::kIo, path_, "", "cannot finish writing: " + why);
  }
}

void WriteFileAtomic(const std::string& path, std::string_view contents) {
  AtomicFileWriter w(path);
  w.Write(contents);
  w.Commit();
}

namespace {
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
std::string ToHex(const unsigned char* d, unsigned n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 15]);
  }
  return out;
}
}  // namespace

std::string Sha256Hex(std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return ToHex(md, len);
}

std::string Sha256File(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(ErrorKind::kIo, path, "", std::string("cannot open: ") + std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::string buf(1 << 20, '\0');
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) EVP_DigestUpdate(ctx.get(), buf.data(), n);
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw Error(ErrorKind::kIo, path, "", "read error");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return ToHex(md, len);
}

}  // namespace doge
