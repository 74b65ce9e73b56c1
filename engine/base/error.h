// doge::Error: the one exception type that loading code throws. It always names the file, a field
// (JSON key, tensor name, `line:col`) and what was expected versus found. Kernels and the forward
// pass never throw; they use DOGE_CHECK / DOGE_DCHECK.
#ifndef DOGE_ENGINE_BASE_ERROR_H_
#define DOGE_ENGINE_BASE_ERROR_H_

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace doge {

// The exit code of the CLI depends on the kind: kUsage -> 2, kIo/kFormat/kShape/kConfig/kDataset
// (bad input data) -> 3, kInternal -> 1, kInterrupted (Ctrl-C honoured at a safe point) -> 130,
// the shell's code for a command ended by SIGINT.
enum class ErrorKind { kIo, kFormat, kShape, kConfig, kDataset, kUsage, kNetwork, kInternal, kInterrupted };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string file, std::string field, std::string message);

  ErrorKind kind() const { return kind_; }
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  const std::string& message() const { return message_; }

 private:
  ErrorKind kind_;
  std::string file_;
  std::string field_;
  std::string message_;
};

// Exit code for the CLI (see ErrorKind).
int ExitCodeFor(ErrorKind kind);

// "[1024, 512]"
std::string FormatShape(const std::vector<int64_t>& shape);

// The candidate nearest to `name` by edit distance when it is close enough to be a misspelling
// (distance <= max(2, |name| / 3)), else "".
std::string NearestName(const std::string& name, const std::vector<std::string>& candidates);

// "unknown task 'arc_esay'; did you mean arc_easy? available: a, b, c" (edit distance based).
std::string UnknownNameMessage(const std::string& what, const std::string& name,
                               const std::vector<std::string>& available);

}  // namespace doge

// Unrecoverable invariant violations on hot paths: prints and aborts (never thrown).
#define DOGE_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) ::doge::internal::CheckFailed(#cond, __FILE__, __LINE__);          \
  } while (0)
#ifdef NDEBUG
#define DOGE_DCHECK(cond) \
  do {                    \
  } while (0)
#else
#define DOGE_DCHECK(cond) DOGE_CHECK(cond)
#endif

namespace doge::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace doge::internal

#endif  // DOGE_ENGINE_BASE_ERROR_H_
