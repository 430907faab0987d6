//===- Program.h - A compiled graph: fused kernels and their order -*- C++
//-*-===//
//
// `Program::compile` turns a `Graph` into trueno IR, runs the graph pipeline
// (canonicalize, CSE, fusion into kernels; passes/) and compiles all kernels
// in one module for the host CPU. `run` then calls the kernels in order,
// with temporaries for values passed between kernels.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_PROGRAM_H
#define TRUENO_RUNTIME_PROGRAM_H

#include "trueno/Runtime/Graph.h"

#include "llvm/Support/Error.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace trueno::runtime {

class JitModule;

/// Process-wide counters, for TRUENO_DEBUG, tests and benchmarks.
struct RuntimeCounters {
  std::atomic<std::int64_t> kernelsLaunched{0};
  std::atomic<std::int64_t> kernelsCompiled{0};
  std::atomic<std::int64_t> programsCompiled{0};
  std::atomic<std::int64_t> compileMicros{0};
  /// Programs whose code came from the disk cache, and that it lacked.
  std::atomic<std::int64_t> diskHits{0};
  std::atomic<std::int64_t> diskMisses{0};
  std::atomic<std::int64_t> diskLoadMicros{0};
};
RuntimeCounters &counters();

class Program {
public:
  /// Compiles `graph`. With `debugGroups`, prints the fused kernels
  /// (TRUENO_DEBUG=2).
  static llvm::Expected<std::unique_ptr<Program>>
  compile(const Graph &graph, bool debugGroups = false);
  ~Program();

  /// Runs the program. `inputs` holds the first element of each Input node,
  /// in node order (read through the graph's strides); `outputs` one
  /// contiguous buffer per graph output.
  void run(std::span<void *const> inputs, std::span<void *const> outputs) const;

  int kernelCount() const { return static_cast<int>(steps_.size()); }
  double compileMs() const { return compileMs_; }
  /// Whether the kernels were loaded from the disk cache, not compiled.
  bool fromDisk() const { return fromDisk_; }

private:
  Program() = default;

  /// Where a value lives while the program runs.
  struct Slot {
    enum Kind { Input, Temporary, Output } kind;
    int index; ///< input or output number, or temporary number
    Shape shape;
    Strides strides;    ///< in elements
    std::int64_t bytes; ///< temporaries: the allocation size
  };
  /// One kernel call: its packed entry point and the slots of its
  /// arguments (inputs, then outputs).
  struct Step {
    void (*entry)(void **);
    std::vector<int> slots;
  };
  /// An output that no kernel writes (an input or a value returned twice):
  /// copied from `from` after the kernels ran.
  struct Copy {
    int from;
    int output;
    int itemSize;
  };

  std::unique_ptr<JitModule> code_;
  std::vector<Slot> slots_;
  std::vector<Step> steps_;
  std::vector<Copy> copies_;
  int temporaries_ = 0;
  double compileMs_ = 0;
  bool fromDisk_ = false;
};

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_PROGRAM_H
