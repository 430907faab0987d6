//===- ProgramCache.h - Compiled graphs, in memory and on disk --*- C++ -*-===//
//
// The one program cache. In memory, a `Graph` (which carries its device,
// and so its backend's CompileTarget) maps to its `Executable`: a hit
// costs one hash and one comparison of the graph, before any MLIR exists.
// On a miss the device's backend compiles the graph, first looking for the
// kernels' machine code in the disk kernel cache (KernelCache.h), keyed by
// the kernels' IR and the target.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_PROGRAMCACHE_H
#define TRUENO_RUNTIME_PROGRAMCACHE_H

#include "trueno/Runtime/Backend.h"

#include <memory>
#include <mutex>
#include <unordered_map>

namespace trueno::runtime {

class ProgramCache {
public:
  /// The process's cache.
  static ProgramCache &instance();

  struct Found {
    std::shared_ptr<Executable> executable;
    bool hit; ///< found in memory (no compile, no disk load)
  };
  /// `graph`'s executable on `backend` (graph.device's backend). `debug`
  /// is passed to a compile (TRUENO_DEBUG=2).
  llvm::Expected<Found> get(const Graph &graph, Backend &backend, bool debug);

  /// Programs held in memory.
  std::int64_t size() const;
  /// Forgets every program (their code stays on disk).
  void clear();

private:
  mutable std::mutex mutex_;
  std::unordered_map<Graph, std::shared_ptr<Executable>, GraphHash> programs_;
};

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_PROGRAMCACHE_H
