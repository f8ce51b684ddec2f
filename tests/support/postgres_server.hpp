// Starts a real PostgreSQL 15 server for tests: a fresh data directory in a
// temporary directory, listening on a free loopback port (its unix socket in
// the same directory), superuser "duckmesh", trust authentication. The
// destructor stops it (immediate shutdown) and removes the directory; stop() and
// start() restart it on the same port and data.
//
// Binaries come from /usr/lib/postgresql/15/bin (Debian's postgresql-15,
// installed by scripts/setup), or DUCKMESH_PG_BINDIR.
//
// Root: initdb and postgres refuse to run as root, so when the tests run as
// root every PostgreSQL process runs as the unprivileged "postgres" user the
// Debian package creates ("nobody" when it is absent), and the temporary
// directory is handed to that user. As a normal user they run as that user.
//
// Speed: ctest runs every test in its own process, so initdb (the slow part)
// runs once per machine and user into a template directory
// (<tmp>/duckmesh-pg15-template-v2-<uid>, created under a file lock, reused by
// later runs); each server copies it. shared_postgres() is one server per
// test process; each test takes its own database from create_database().
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/free_port.hpp"

namespace duckmesh::testing {

// Tests run without fsync (their data is thrown away); benchmarks ask for a
// durable server, as PostgreSQL runs in production.
enum class PostgresDurability { test, durable };

class PostgresServer {
 public:
  explicit PostgresServer(PostgresDurability durability = PostgresDurability::test)
      : durability_(durability) {
    const char* bindir = std::getenv("DUCKMESH_PG_BINDIR");
    bindir_ = bindir != nullptr ? bindir : "/usr/lib/postgresql/15/bin";
    if (!std::filesystem::exists(bindir_ / "postgres")) {
      throw std::runtime_error("PostgreSQL 15 is not installed (no " +
                               (bindir_ / "postgres").string() + "); run scripts/setup");
    }
    choose_account();
    std::string pattern = (std::filesystem::temp_directory_path() / "dm-pg-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    hand_over(dir_);
    const auto template_dir = ensure_template();
    run({"/bin/cp", "-a", (template_dir / ".").string(), data_dir().string()}, "copy template");
    port_ = free_loopback_port();
    start();
  }

  ~PostgresServer() {
    // Immediate shutdown: the data is thrown away, so skip the checkpoint.
    if (pid_ > 0) {
      ::kill(pid_, SIGQUIT);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }

  // libpq URI of database `name` on this server.
  std::string url(const std::string& name = "postgres") const {
    return "postgresql://duckmesh@127.0.0.1:" + std::to_string(port_) + "/" + name;
  }

  // A new, empty database with a name unique in this process; returns its URL.
  std::string create_database(const std::string& prefix = "test") {
    static std::atomic<int> counter{0};
    const std::string name =
        prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    execute("CREATE DATABASE " + name);
    return url(name);
  }

  // Runs one statement on the postgres database as the superuser.
  void execute(const std::string& sql) const { query(url(), sql); }

  // The first column of the first row `sql` returns on the database at `db_url`.
  static std::string query(const std::string& db_url, const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(db_url.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      throw std::runtime_error("cannot connect to the test server: " +
                               std::string(PQerrorMessage(conn.get())));
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw std::runtime_error("'" + sql + "' failed: " + PQerrorMessage(conn.get()));
    }
    if (PQntuples(result.get()) == 0 || PQnfields(result.get()) == 0) return "";
    return PQgetvalue(result.get(), 0, 0);
  }

  // Fast shutdown: open connections are closed by the server.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGINT);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  void start() {
    if (pid_ > 0) return;
    const std::string port = std::to_string(port_);
    std::vector<std::string> argv = {(bindir_ / "postgres").string(),
                                     "-D",
                                     data_dir().string(),
                                     "-p",
                                     port,
                                     "-k",
                                     dir_.string(),
                                     "-c",
                                     "listen_addresses=127.0.0.1",
                                     "-c",
                                     "max_connections=60"};
    const bool durable = durability_ == PostgresDurability::durable;
    for (const char* setting : {durable ? "fsync=on" : "fsync=off",
                                durable ? "synchronous_commit=on" : "synchronous_commit=off",
                                durable ? "full_page_writes=on" : "full_page_writes=off",
                                durable ? "shared_buffers=256MB" : "shared_buffers=16MB"}) {
      argv.push_back("-c");
      argv.push_back(setting);
    }
    pid_ = spawn(argv, dir_ / "postgres.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(url().c_str()) == PQPING_OK) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("postgres exited at start: " + log_tail());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("postgres did not accept connections on port " + port + ": " +
                             log_tail());
  }

 private:
  std::filesystem::path data_dir() const { return dir_ / "data"; }

  void choose_account() {
    if (::geteuid() != 0) return;
    for (const char* name : {"postgres", "nobody"}) {
      if (passwd* pw = ::getpwnam(name)) {
        run_as_ = true;
        uid_ = pw->pw_uid;
        gid_ = pw->pw_gid;
        return;
      }
    }
    throw std::runtime_error("running as root, and neither user postgres nor nobody exists");
  }

  void hand_over(const std::filesystem::path& path) const {
    if (run_as_ && ::chown(path.c_str(), uid_, gid_) != 0) {
      throw std::runtime_error("cannot hand " + path.string() + " to the PostgreSQL user");
    }
  }

  // The initdb'd template, created once (under a lock) and reused.
  std::filesystem::path ensure_template() const {
    const auto base = std::filesystem::temp_directory_path();
    // v2: 1 MB WAL segments, so each copy is 15 MB smaller than initdb's default.
    const auto dir = base / ("duckmesh-pg15-template-v2-" + std::to_string(::geteuid()));
    const std::string lock_path = dir.string() + ".lock";
    const int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
      if (lock >= 0) ::close(lock);
      throw std::runtime_error("cannot lock " + lock_path);
    }
    try {
      if (!std::filesystem::exists(dir / "PG_VERSION")) {
        const auto building = base / ("duckmesh-pg15-template-build-" + std::to_string(::getpid()));
        std::error_code ignored;
        std::filesystem::remove_all(building, ignored);
        std::filesystem::remove_all(dir, ignored);
        std::filesystem::create_directories(building);
        hand_over(building);
        run({(bindir_ / "initdb").string(), "-D", building.string(), "-U", "duckmesh", "-A",
             "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
             "--wal-segsize=1"},
            "initdb");
        std::filesystem::rename(building, dir);
      }
    } catch (...) {
      ::close(lock);
      throw;
    }
    ::close(lock);
    return dir;
  }

  // Forks and execs `argv` as the PostgreSQL account, output to `log`.
  pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) const {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
        ::close(fd);
      }
      if (run_as_) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0) {
          ::_exit(126);
        }
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    return pid;
  }

  void run(const std::vector<std::string>& argv, const std::string& what) const {
    const auto log = dir_ / (what == "initdb" ? "initdb.log" : "setup.log");
    const pid_t pid = spawn(argv, log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      throw std::runtime_error(what + " failed: " + text.str());
    }
  }

  std::string log_tail() const {
    std::ifstream in(dir_ / "postgres.log");
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
  }

  std::filesystem::path bindir_;
  std::filesystem::path dir_;
  bool run_as_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int port_ = 0;
  pid_t pid_ = -1;
  PostgresDurability durability_ = PostgresDurability::test;
};

// One server for the whole test process, started on first use and stopped
// when the process exits.
inline PostgresServer& shared_postgres() {
  static PostgresServer server;
  return server;
}

}  // namespace duckmesh::testing
