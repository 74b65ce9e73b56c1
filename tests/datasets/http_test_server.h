// A tiny HTTP/1.1 server for the fetch tests: loopback only (127.0.0.1, a free port), one
// connection at a time, "Connection: close", static bodies with Range support, scripted faults
// (a connection dropped mid-file, 404s) and handlers for dynamic paths (the rows API). It stops
// when destroyed, and by itself after `lifetime_s` seconds, so a hung test cannot leave it behind.
#ifndef DOGE_TESTS_DATASETS_HTTP_TEST_SERVER_H_
#define DOGE_TESTS_DATASETS_HTTP_TEST_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace doge::testing {

class TestHttpServer {
 public:
  struct Response {
    int status = 200;
    std::string body;
  };
  // Receives the request target ("/rows?dataset=...&offset=0").
  using Handler = std::function<Response(const std::string& target)>;

  explicit TestHttpServer(int lifetime_s = 120);
  ~TestHttpServer();

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Serves `body` at `path` (exact match on the path, query ignored), honouring "Range: bytes=N-".
  void Serve(const std::string& path, std::string body);
  // The next `times` full-body GETs of `path` announce the whole Content-Length but send only
  // `after_bytes` bytes, then close the connection (a server dying mid-file).
  void DropAfter(const std::string& path, size_t after_bytes, int times = 1);
  // Paths starting with `prefix` are answered by `handler` (checked before static bodies).
  void Handle(const std::string& prefix, Handler handler);
  // Sends `headers` ("Name: value\r\n" lines) with every answer for `path` (a body or a redirect).
  void SetHeaders(const std::string& path, std::string headers);
  // Answers `path` with `status` (302, 307 ...) and "Location: <location>", plus SetHeaders's.
  void Redirect(const std::string& path, std::string location, int status = 302);

  // "GET /path", "GET /path range=N-" or "HEAD /path" per request received, in order. HEAD gets
  // the GET answer's status and headers without a body.
  std::vector<std::string> requests() const;
  // The Authorization header of each request ("" when absent), in the same order.
  std::vector<std::string> authorizations() const;

 private:
  void Loop();
  void ServeOne(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  int lifetime_s_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> bodies_;
  std::map<std::string, std::pair<size_t, int>> drops_;  // path -> (after_bytes, times left)
  std::vector<std::pair<std::string, Handler>> handlers_;
  std::vector<std::string> requests_;
  std::vector<std::string> authorizations_;
  std::map<std::string, std::string> headers_;                     // path -> extra header lines
  std::map<std::string, std::pair<int, std::string>> redirects_;  // path -> (status, location)
};

}  // namespace doge::testing

#endif  // DOGE_TESTS_DATASETS_HTTP_TEST_SERVER_H_
