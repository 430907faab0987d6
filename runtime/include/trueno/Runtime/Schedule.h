//===- Schedule.h - A graph as kernels and the order they run in -*- C++
//-*-===//
//
// The target-independent half of compiling a `Graph`: it is written as one
// `func.func @graph` of trueno ops (inputs read through their strides), the
// graph pipeline (passes/: canonicalize, CSE, trueno-form-kernels) splits it
// into kernels, and the calls left in @graph become a schedule: which kernel
// runs when, on which buffers (the graph's inputs and outputs, and
// temporaries between kernels). A backend then compiles the kernels module
// for its device and runs the schedule.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_SCHEDULE_H
#define TRUENO_RUNTIME_SCHEDULE_H

#include "trueno/Runtime/Graph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace trueno::runtime {

struct KernelSchedule {
  /// Where a value lives while the program runs.
  struct Slot {
    enum Kind { Input, Temporary, Output } kind;
    int index; ///< input or output number, or temporary number
    Shape shape;
    Strides strides;    ///< in elements
    std::int64_t bytes; ///< temporaries: the allocation size
    int itemSize = 1;   ///< bytes per element
  };
  /// One kernel call: the kernel and the slots of its arguments (inputs,
  /// then outputs).
  struct Step {
    std::string kernel;
    std::vector<int> slots;
  };
  /// An output no kernel writes (a value returned twice): copied from
  /// `from` after the kernels ran.
  struct Copy {
    int from;
    int output;
    int itemSize;
  };

  /// The kernels, public `func.func`s in trueno IR, in the order they run.
  mlir::OwningOpRef<mlir::ModuleOp> kernels;
  std::vector<Slot> slots;
  std::vector<Step> steps;
  std::vector<Copy> copies;
  int temporaries = 0;
};

/// The process-wide MLIRContext with every dialect, interface model and
/// translation the compiler needs. Creating one costs ~10 ms, so every
/// compile shares it (under the caller's lock).
mlir::MLIRContext &compilerContext();

/// `graph` partitioned into kernels by `graphPipeline` (the target's,
/// `CompileTarget::graphPipeline`). With `debug`, prints the fused kernels
/// (TRUENO_DEBUG=2).
llvm::Expected<KernelSchedule>
scheduleGraph(const Graph &graph, const std::string &graphPipeline, bool debug);

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_SCHEDULE_H
