//===- ProgramCache.h - Compiled graphs, in memory and on disk --*- C++ -*-===//
//
// The one program cache. In memory, a `Graph` (which carries its device,
// and so its backend's CompileTarget) maps to its `Executable`: a hit
// costs one hash and one comparison of the graph, before any MLIR exists.
// On a miss the device's backend compiles the graph, first looking for the
// kernels' machine code in the disk kernel cache (KernelCache.h), keyed by
// the kernels' IR and the target. The memory side is bounded (programs and
// code bytes) and evicts the least recently used programs.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_PROGRAMCACHE_H
#define TRUENO_RUNTIME_PROGRAMCACHE_H

#include "trueno/Runtime/Backend.h"

#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace trueno::runtime {

class ProgramCache {
public:
  /// How much the in-memory cache holds before it evicts the least
  /// recently used programs: an application that makes a new shape every
  /// step would otherwise grow without end (~50 KiB of RSS per program).
  struct Limits {
    std::int64_t programs;   ///< programs held
    std::uint64_t codeBytes; ///< their machine code, summed
  };
  /// TRUENO_PROGRAM_CACHE_ENTRIES (default 1024) and
  /// TRUENO_PROGRAM_CACHE_MB (default 256).
  static Limits limitsFromEnvironment();

  /// The process's cache.
  static ProgramCache &instance();
  explicit ProgramCache(Limits limits) : limits_(limits) {}

  struct Found {
    std::shared_ptr<Executable> executable;
    bool hit; ///< found in memory (no compile, no disk load)
  };
  /// `graph`'s executable on `backend` (graph.device's backend). `debug`
  /// is passed to a compile (TRUENO_DEBUG=2). A program compiled now may
  /// evict the least recently used ones; their code is released when the
  /// last realize using it returns.
  llvm::Expected<Found> get(const Graph &graph, Backend &backend, bool debug);

  /// Programs held in memory, and the bytes of their code.
  std::int64_t size() const;
  std::uint64_t codeBytes() const;
  /// Programs evicted for the limits since the process started.
  std::int64_t evicted() const;
  Limits limits() const;
  /// New limits, applied at once.
  void setLimits(Limits limits);
  /// Forgets every program (their code stays on disk).
  void clear();

private:
  void evictPastLimits();

  /// Most recently used first; points at the keys of `programs_`, which
  /// stay put while the map rehashes.
  using Order = std::list<const Graph *>;
  struct Entry {
    std::shared_ptr<Executable> executable;
    Order::iterator position;
  };
  mutable std::mutex mutex_;
  std::unordered_map<Graph, Entry, GraphHash> programs_;
  Order order_;
  Limits limits_;
  std::uint64_t codeBytes_ = 0;
  std::int64_t evicted_ = 0;
};

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_PROGRAMCACHE_H
