// Starts a real S3-compatible server (s3rver, installed by scripts/setup
// under .deps/s3rver) on a free loopback port, with one bucket, for tests.
// Credentials are s3rver's: access key and secret "S3RVER"; it checks SigV4
// signatures.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/free_port.hpp"

namespace duckmesh::testing {

class S3Server {
 public:
  S3Server(const std::filesystem::path& dir, std::string bucket)
      : dir_(dir), bucket_(std::move(bucket)) {
    script_ = std::filesystem::path(DUCKMESH_SOURCE_DIR) /
              ".deps/s3rver/node_modules/s3rver/bin/s3rver.js";
    if (!std::filesystem::exists(script_)) {
      throw std::runtime_error("s3rver is not installed at " + script_.string() +
                               "; run scripts/setup");
    }
    port_ = free_loopback_port();
    start();
  }
  ~S3Server() { stop(); }
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& bucket() const { return bucket_; }
  unsigned short port() const { return static_cast<unsigned short>(port_); }

  // Stops the server (SIGKILL); start() brings it back on the same port and data.
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  void start() {
    std::filesystem::create_directories(dir_);
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string log = (dir_.parent_path() / "s3rver.log").string();
      FILE* f = std::freopen(log.c_str(), "a", stdout);
      (void)f;
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      std::string port = std::to_string(port_);
      // s3rver makes listing continuation tokens with a cipher that Node's
      // OpenSSL 3 keeps in its legacy provider: without it, any listing of
      // more than one page fails with a 500.
      ::execlp("node", "node", "--openssl-legacy-provider", script_.c_str(), "-d", dir_.c_str(),
               "-a", "127.0.0.1", "-p", port.c_str(), "-s", "--configure-bucket", bucket_.c_str(),
               nullptr);
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (accepts()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("s3rver did not start on port " + std::to_string(port_));
  }

 private:
  bool accepts() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  std::filesystem::path dir_;
  std::string bucket_;
  std::filesystem::path script_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace duckmesh::testing
