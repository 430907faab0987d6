//===- Passes.td - Graph-level passes on the trueno dialect -*- tablegen -*-===//
#ifndef TRUENO_PASSES_TD
#define TRUENO_PASSES_TD

include "mlir/Pass/PassBase.td"

def FormKernels : Pass<"trueno-form-kernels", "::mlir::ModuleOp"> {
  let summary = "Partition a graph's trueno ops into kernels and outline them";
  let description = [{
    Partitions the trueno ops of every function into fusion groups and
    outlines each group into a private `func.func` marked `trueno.kernel`;
    the function itself is left as a sequence of `func.call`s, one per
    kernel, in dependency order. The runtime compiles every kernel and runs
    the calls.

    Grouping rules:
    - An elementwise op joins the groups of the operands it consumes when
      they iterate over the same shape (producer-consumer chains and
      diamonds become one loop nest).
    - `trueno.expand` reads its operand through a zero stride. A producer
      group of a smaller shape is pulled through an expand (recomputed per
      output element) only when it is cheap (no transcendental, division or
      power) and nothing else uses its values; otherwise it is a kernel of
      its own and its result is read broadcast (the non-fusible boundary).
    - Groups never merge when that would create a cycle between kernels,
      nor, with `max-buffers`, past that many distinct buffers (inputs and
      results) in one kernel: a Vulkan device binds each as a storage
      buffer, and may allow as few as 32 a shader.
    - Constants are cloned into every kernel that uses them.
    - A product's operands are materialized first, except, with
      `widen-into-products`, an exact widening of float16 or bfloat16 to
      float32 that only the product reads: it joins the product's kernel,
      where the Vulkan code generator may have the product read the halves
      (and run it on cooperative matrices).

    A value computed in a group and used outside it (by another kernel, or
    returned) becomes one more result of that group's kernel: kernels have
    several outputs rather than recomputing shared values. Function arguments
    keep their `trueno.strides` attribute on the kernels that read them.
  }];
  let options = [
    Option<"rowFusionBytes", "row-fusion-bytes", "int64_t",
           /*default=*/"262144",
           "A reduction joins the kernel that reads it back broadcast when "
           "one reduced row is at most this many bytes (a quarter of the "
           "target's L2)">,
    Option<"maxBuffers", "max-buffers", "int64_t", /*default=*/"0",
           "Groups do not merge past this many distinct buffers (inputs and "
           "results) in one kernel: a GPU binds each as a storage buffer, "
           "and Vulkan devices may bind as few as 32 (0: no limit)">,
    Option<"widenIntoProducts", "widen-into-products", "bool",
           /*default=*/"false",
           "A widening of float16 to float32 that only a matrix "
           "product reads joins the product's kernel (Vulkan: the product "
           "then reads the halves)">
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

#endif // TRUENO_PASSES_TD
