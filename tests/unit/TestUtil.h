//===- TestUtil.h - Helpers shared by the unit tests ----------------------===//
//
// `errorOf<E>(fn)` runs fn, requires that it throws exactly E (or a subclass)
// and returns the message, so tests assert the text and not just the type.
// `outputOf({1, 2}, fn)` returns what fn wrote to those file descriptors
// (LAPACK's and the runtime's messages go to the process's stdout/stderr).
// `FileSizeLimit` makes writes fail as on a full disk, for a scope.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_TESTS_TESTUTIL_H
#define TRUENO_TESTS_TESTUTIL_H

#include <trueno/trueno.h>

#include <doctest/doctest.h>

#include <csignal>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace trueno::testing {

/// What the runtime did between its construction and a call: realizes,
/// kernels launched, program cache hits and misses.
struct Delta {
  trueno::RuntimeStats before = trueno::runtimeStats();
  std::int64_t kernels() const {
    return trueno::runtimeStats().kernelsLaunched - before.kernelsLaunched;
  }
  std::int64_t realizes() const {
    return trueno::runtimeStats().realizes - before.realizes;
  }
  std::int64_t hits() const {
    return trueno::runtimeStats().cacheHits - before.cacheHits;
  }
  std::int64_t misses() const {
    return trueno::runtimeStats().cacheMisses - before.cacheMisses;
  }
};

template <typename E, typename F> std::string errorOf(F &&fn) {
  try {
    fn();
  } catch (const E &e) {
    return e.what();
  } catch (const std::exception &e) {
    FAIL("threw the wrong exception type: " << std::string(e.what()));
  }
  FAIL("did not throw");
  return "";
}

/// Lowers the process's file size limit (RLIMIT_FSIZE) for a scope: writes
/// past it fail with EFBIG, the way a full disk fails them. SIGXFSZ is
/// ignored meanwhile, so the write returns the error instead of killing.
struct FileSizeLimit {
  rlimit old{};
  void (*oldHandler)(int);
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old);
    oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lower = old;
    lower.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lower) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, oldHandler);
  }
  FileSizeLimit(const FileSizeLimit &) = delete;
  FileSizeLimit &operator=(const FileSizeLimit &) = delete;
};

template <typename F>
std::string outputOf(std::initializer_list<int> descriptors, F &&fn) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::FILE *capture = std::tmpfile();
  std::vector<int> saved;
  for (int fd : descriptors) {
    saved.push_back(::dup(fd));
    ::dup2(::fileno(capture), fd);
  }
  fn();
  std::fflush(stdout);
  std::fflush(stderr);
  auto restore = saved.begin();
  for (int fd : descriptors) {
    ::dup2(*restore, fd);
    ::close(*restore++);
  }
  std::string text;
  std::rewind(capture);
  for (int c; (c = std::fgetc(capture)) != EOF;)
    text.push_back(static_cast<char>(c));
  std::fclose(capture);
  return text;
}

inline bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

} // namespace trueno::testing

/// Evaluates `text` once: doctest builds the message lazily, and `text` is
/// often a call that must not run twice.
#define CHECK_CONTAINS(text, part)                                             \
  do {                                                                         \
    const std::string checkedText_ = (text);                                   \
    CHECK_MESSAGE(::trueno::testing::contains(checkedText_, part),             \
                  "\"" << checkedText_ << "\" lacks \"" << (part) << "\"");    \
  } while (0)

#endif // TRUENO_TESTS_TESTUTIL_H
