#include "tests/datasets/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace doge::testing {

namespace {

void SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return;  // the client went away; nothing to do in a test server
    data += w;
    n -= static_cast<size_t>(w);
  }
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 404: return "Not Found";
    case 416: return "Range Not Satisfiable";
    case 500: return "Internal Server Error";
    default: return "Status";
  }
}

void Reply(int fd, int status, const std::string& body, const std::string& extra_headers = "",
           size_t send_bytes = std::string::npos, bool head_only = false) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n" +
                     "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers +
                     "Connection: close\r\n\r\n";
  SendAll(fd, head.data(), head.size());
  if (!head_only) SendAll(fd, body.data(), std::min(send_bytes, body.size()));
}

}  // namespace

TestHttpServer::TestHttpServer(int lifetime_s) : lifetime_s_(lifetime_s) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only
  addr.sin_port = 0;                              // any free port
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("bind/listen on 127.0.0.1 failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Loop(); });
}

TestHttpServer::~TestHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

void TestHttpServer::Serve(const std::string& path, std::string body) {
  std::lock_guard<std::mutex> l(mu_);
  bodies_[path] = std::move(body);
}

void TestHttpServer::DropAfter(const std::string& path, size_t after_bytes, int times) {
  std::lock_guard<std::mutex> l(mu_);
  drops_[path] = {after_bytes, times};
}

void TestHttpServer::Handle(const std::string& prefix, Handler handler) {
  std::lock_guard<std::mutex> l(mu_);
  handlers_.emplace_back(prefix, std::move(handler));
}

void TestHttpServer::SetHeaders(const std::string& path, std::string headers) {
  std::lock_guard<std::mutex> l(mu_);
  headers_[path] = std::move(headers);
}

void TestHttpServer::Redirect(const std::string& path, std::string location, int status) {
  std::lock_guard<std::mutex> l(mu_);
  redirects_[path] = {status, std::move(location)};
}

std::vector<std::string> TestHttpServer::authorizations() const {
  std::lock_guard<std::mutex> l(mu_);
  return authorizations_;
}

std::vector<std::string> TestHttpServer::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

void TestHttpServer::Loop() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(lifetime_s_);
  while (!stop_ && std::chrono::steady_clock::now() < deadline) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    timeval tv{5, 0};  // a client that sends nothing cannot hang the server
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ServeOne(fd);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
}

void TestHttpServer::ServeOne(int fd) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
  }
  // Request line: GET <target> HTTP/1.1
  size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return;
  std::string target = req.substr(sp1 + 1, sp2 - sp1 - 1);
  const bool head = req.compare(0, 5, "HEAD ") == 0;
  std::string authorization;
  for (const char* h : {"\r\nAuthorization: ", "\r\nauthorization: "}) {
    size_t at = req.find(h);
    if (at != std::string::npos) {
      at += std::strlen(h);
      authorization = req.substr(at, req.find("\r\n", at) - at);
    }
  }
  std::string path = target.substr(0, target.find('?'));
  long range_start = -1;
  for (const char* h : {"\r\nRange: bytes=", "\r\nrange: bytes="}) {
    size_t at = req.find(h);
    if (at != std::string::npos) range_start = std::strtol(req.c_str() + at + std::strlen(h), nullptr, 10);
  }
  std::unique_lock<std::mutex> l(mu_);
  requests_.push_back((head ? "HEAD " : "GET ") + target +
                      (range_start >= 0 ? " range=" + std::to_string(range_start) + "-" : ""));
  authorizations_.push_back(authorization);
  const std::string extra = headers_.count(path) ? headers_[path] : "";
  auto redirect = redirects_.find(path);
  if (redirect != redirects_.end()) {
    const auto [status, location] = redirect->second;
    l.unlock();
    Reply(fd, status, "", "Location: " + location + "\r\n" + extra);
    return;
  }
  for (const auto& [prefix, handler] : handlers_) {
    if (target.rfind(prefix, 0) == 0) {
      Handler h = handler;
      l.unlock();
      Response r = h(target);
      Reply(fd, r.status, r.body, "Content-Type: application/json\r\n");
      return;
    }
  }
  auto it = bodies_.find(path);
  if (it == bodies_.end()) {
    l.unlock();
    Reply(fd, 404, "not found\n");
    return;
  }
  std::string body = it->second;
  auto drop = drops_.find(path);
  if (!head && range_start < 0 && drop != drops_.end() && drop->second.second > 0) {
    size_t after = drop->second.first;
    --drop->second.second;
    l.unlock();
    Reply(fd, 200, body, extra, after, head);  // promises the whole body, sends `after` bytes, hangs up
    return;
  }
  l.unlock();
  if (range_start >= 0) {
    if (static_cast<size_t>(range_start) >= body.size()) {
      Reply(fd, 416, "", "Content-Range: bytes */" + std::to_string(body.size()) + "\r\n" + extra, std::string::npos, head);
      return;
    }
    std::string part = body.substr(static_cast<size_t>(range_start));
    Reply(fd, 206, part,
          "Content-Range: bytes " + std::to_string(range_start) + "-" + std::to_string(body.size() - 1) + "/" +
              std::to_string(body.size()) + "\r\n" + extra, std::string::npos, head);
    return;
  }
  Reply(fd, 200, body, extra, std::string::npos, head);
}

}  // namespace doge::testing
