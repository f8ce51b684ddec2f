// Starts the real duckmesh binary as a child process for integration tests,
// on a free loopback port (--listen 127.0.0.1:0), and learns the port from
// the line it prints on stdout. stderr (JSON logs) goes to a file the test
// can read.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace duckmesh::testing {

// A fresh temporary directory, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "duckmesh-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program to completion; exit_code is -N when killed by signal N.
inline RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env = {}) {
  TempDir dir;
  auto out_path = dir.path() / "out", err_path = dir.path() / "err";
  pid_t pid = ::fork();
  if (pid == 0) {
    for (auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> argv;
    std::string bin = program;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  RunResult r;
  r.exit_code = WIFEXITED(status)     ? WEXITSTATUS(status)
                : WIFSIGNALED(status) ? -WTERMSIG(status)
                                      : -1000;
  std::ifstream o(out_path), e(err_path);
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  r.out = so.str();
  r.err = se.str();
  return r;
}

// Runs the duckmesh binary to completion (for short commands such as `version`).
inline RunResult run_binary(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env = {}) {
  return run_program(DUCKMESH_BINARY, args, env);
}

// Runs a duckmesh command on a data directory to completion (the maintenance
// and key commands): `args` then --data-dir.
inline RunResult run_on_data_dir(const std::filesystem::path& data_dir,
                                 std::vector<std::string> args,
                                 const std::map<std::string, std::string>& env = {}) {
  args.push_back("--data-dir");
  args.push_back(data_dir.string());
  return run_binary(args, env);
}

// A duckmesh child whose stdout the parent reads from out_fd.
struct SpawnedBinary {
  pid_t pid = -1;
  int out_fd = -1;
};

// Starts the duckmesh binary with `args`; its stdout goes to a pipe, its
// stderr is appended to `stderr_path` (or dropped when empty).
inline SpawnedBinary spawn_binary(const std::vector<std::string>& args,
                                  const std::map<std::string, std::string>& env,
                                  const std::filesystem::path& stderr_path) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid == 0) {
    for (auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::dup2(pipefd[1], 1);
    int err = stderr_path.empty()
                  ? ::open("/dev/null", O_WRONLY)
                  : ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(err, 2);
    ::close(pipefd[0]);
    std::vector<std::string> copy = args;
    std::string bin = DUCKMESH_BINARY;
    std::vector<char*> argv{bin.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  return {pid, pipefd[0]};
}

// Whether the service checks credentials. Most tests exercise other things
// and call routes without credentials, so they run with --insecure-no-auth;
// the auth tests ask for `required` and create keys.
enum class Auth { insecure, required };

class ServiceProcess {
 public:
  // Starts `duckmesh serve --listen 127.0.0.1:0 --data-dir <data_dir>
  // [--insecure-no-auth] extra...`.
  ServiceProcess(const std::filesystem::path& data_dir, std::vector<std::string> extra = {},
                 std::map<std::string, std::string> env = {}, Auth auth = Auth::insecure)
      : data_dir_(data_dir) {
    std::filesystem::create_directories(data_dir);
    log_path_ = data_dir.parent_path() / (data_dir.filename().string() + ".stderr.log");
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--data-dir",
                                     data_dir.string()};
    if (auth == Auth::insecure) args.push_back("--insecure-no-auth");
    args.insert(args.end(), extra.begin(), extra.end());
    start(args, env);
  }

  ~ServiceProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  void signal(int sig) { ::kill(pid_, sig); }

  // Waits for exit; returns the exit code, or -signal if killed by a signal.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return -WTERMSIG(status);
        return -1000;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("process did not exit in time");
  }

  // Everything the process wrote to stderr so far (JSON log lines).
  std::string logs() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  void start(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    auto child = spawn_binary(args, env, log_path_);
    pid_ = child.pid;
    out_fd_ = child.out_fd;
    // Read stdout until the "listening on http://host:port" line.
    std::string seen;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    const std::string marker = "listening on http";  // http:// or https://
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[256];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<size_t>(n));
      auto at = seen.find(marker);
      if (at != std::string::npos) {
        auto eol = seen.find('\n', at);
        if (eol == std::string::npos) continue;
        auto addr = seen.substr(at + marker.size(), eol - at - marker.size());
        port_ = static_cast<std::uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
        return;
      }
    }
    throw std::runtime_error("service did not start; stdout: " + seen + "\nstderr: " + logs());
  }

  std::filesystem::path data_dir_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace duckmesh::testing
