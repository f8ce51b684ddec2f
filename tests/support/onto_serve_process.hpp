// Starts the real `duckmesh onto-serve` reference ontology server as a child
// process on free loopback ports, learns its data and control ports from
// stdout, and flips its faults through the control endpoint.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {

class OntoServeProcess {
 public:
  OntoServeProcess(const std::filesystem::path& dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"onto-serve", "--dir",          dir.string(), "--port",
                                     "0",          "--control-port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto child = spawn_binary(args, {}, {});
    pid_ = child.pid;
    out_fd_ = child.out_fd;
    std::string seen;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline && (port_ == 0 || control_port_ == 0)) {
      char buf[256];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<size_t>(n));
      port_ = port_after(seen, "onto-serve listening on http://");
      control_port_ = port_after(seen, "onto-serve control on http://");
    }
    if (port_ == 0 || control_port_ == 0)
      throw std::runtime_error("onto-serve did not start; stdout: " + seen);
  }
  ~OntoServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  OntoServeProcess(const OntoServeProcess&) = delete;
  OntoServeProcess& operator=(const OntoServeProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // POST /faults on the control port, e.g. R"({"error_rate": 1})".
  void set_faults(const std::string& json) {
    HttpClient control("127.0.0.1", control_port_);
    auto r = control.post("/faults", json);
    if (r.status != 200) throw std::runtime_error("setting faults failed: " + r.body);
  }

 private:
  static std::uint16_t port_after(const std::string& seen, const std::string& marker) {
    auto at = seen.find(marker);
    if (at == std::string::npos) return 0;
    auto eol = seen.find('\n', at);
    if (eol == std::string::npos) return 0;
    auto addr = seen.substr(at + marker.size(), eol - at - marker.size());
    return static_cast<std::uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::uint16_t port_ = 0;
  std::uint16_t control_port_ = 0;
};

}  // namespace duckmesh::testing
