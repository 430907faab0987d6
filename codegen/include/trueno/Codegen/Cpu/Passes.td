//===- Passes.td - Codegen passes for the host CPU ----------*- tablegen -*-===//
//
// The passes only the CPU pipeline runs: the kernel calling convention of
// the JIT, cache blocking, OpenMP shaping, polynomial math, library calls.
// The target-independent lowering is in ../Passes.td.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CODEGEN_CPU_PASSES_TD
#define TRUENO_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def KernelABI : Pass<"trueno-kernel-abi", "::mlir::ModuleOp"> {
  let summary = "Give tensor functions the kernel calling convention";
  let description = [{
    Rewrites every `func.func` from `(tensors) -> (tensors)` to destination
    passing: each input becomes a memref read through
    `bufferization.to_tensor restrict`, each result a trailing memref argument
    written with `bufferization.materialize_in_destination`, and the function
    returns nothing and gets `llvm.emit_c_interface`. Every argument is
    `llvm.noalias`: callers must pass output buffers that overlap no input
    (inputs may overlap each other; they are only read), which lets LLVM keep
    accumulators in registers and vectorize reductions. One-shot bufferization
    then computes results straight into the caller's buffers.

    Contract: run after convert-trueno-to-linalg, before bufferization.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
}

def WriteOutputsInPlace : Pass<"trueno-write-outputs-in-place"> {
  let summary = "Compute a result in its output buffer instead of copying it there";
  let description = [{
    eliminate-empty-tensors does not see through reshapes, so a result that
    reaches its output through one (a grouped convolution's NGFHW result
    collapsed to NCHW, a product's batch reshaped) is computed into a fresh
    buffer and copied into the output at the end: for a [64, 32, 28, 28]
    result, 13 MB of traffic, as long as a depthwise convolution itself.

    After bufferization, a `memref.copy %alloc, %out` in the function's body,
    where %alloc is a `memref.alloc` of %out's type in that body, %out is a
    function argument that nothing else uses, and every use of %alloc (or of
    a view of it) other than its dealloc comes before the copy, becomes
    writes to %out: %alloc is replaced by %out and the copy and the dealloc
    are erased. No read of %out can see the difference, since only the copy
    touched it; the kernel ABI's outputs overlap no input. When what is
    copied is a reshape (`memref.collapse_shape` / `expand_shape`) of
    %alloc, as for a result returned through a trueno.reshape, %alloc
    becomes the inverse reshape of %out (outputs have identity layouts, so
    that is a view).
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def MathPolynomial : Pass<"trueno-math-polynomial"> {
  let summary = "Replace float32 math functions with polynomials";
  let description = [{
    Applies MLIR's polynomial approximations (exp, log, tanh, erf, sin, cos,
    atan, ...) so that float32 math vectorizes instead of calling libm one
    element at a time. float64 math is left to libm. exp2 of float32 x >=
    128 (float16 x >= 16) is selected to +inf: LLVM's exp2 already gives
    it, lavapipe's (the Vulkan path keeps exp2 for the driver) gave the
    largest finite float.

    Without `rounding-instructions` (a target without SSE4.1's roundps,
    such as plain x86-64), LLVM turns every vector floor into calls to
    floorf, element by element, and the polynomials use floor: exp(a * b +
    c) over 1M float32 took 5.5 ms with SSE2 code against 0.11 ms with
    AVX-512. The pass then writes floor, ceil and roundeven (its own and
    the program's) as arithmetic that vectorizes: round to an integer by
    adding and subtracting 2^23 (2^52 for float64) in the default rounding
    mode, then step down (floor) or up (ceil) where that passed x; values
    already integral, infinities and NaN pass through, and zeros keep their
    sign.

    Without `fma-instructions` (x86-64 before AVX2's FMA3), LLVM turns each
    vector `math.fma` of the polynomials into calls to `fmaf`, element by
    element (the same exp(a * b + c) took 6.3 ms with SSE2 code). The pass
    then writes them as a multiply and an add: the polynomials keep their
    accuracy within the tests' tolerances (the ranges are reduced without
    fma), and the loops vectorize. float32 tanh then saturates to +-1
    explicitly past the approximation's clamp, where only the fma version
    rounds to exactly 1 (gelu's 1 + tanh(x) needs the exact 0).
  }];
  let options = [
    Option<"roundingInstructions", "rounding-instructions", "bool",
           /*default=*/"true",
           "The target rounds vectors to integers in one instruction">,
    Option<"fmaInstructions", "fma-instructions", "bool",
           /*default=*/"true",
           "The target has fused multiply-add instructions">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::x86vector::X86VectorDialect"];
}

def ExpandBFloat16 : Pass<"trueno-expand-bf16"> {
  let summary = "bfloat16 conversions as integer arithmetic";
  let description = [{
    On a CPU without AVX512-BF16 instructions, LLVM turns a float32 to
    bfloat16 rounding into a call to `__truncsfbf2`, which Debian 12's
    libgcc (GCC 12) does not have, so the JIT could not load the kernel
    (every bfloat16 op failed with TRUENO_CPU=x86-64 or x86-64-v3). This
    pass applies MLIR's bfloat16 expansion only (`arith.truncf` to bf16 as
    round-to-nearest-even on the bits, NaN kept quiet; `arith.extf` from
    bf16 as a shift), and the pipeline runs it when the target lacks the
    instructions.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def MathToLibm : Pass<"trueno-math-to-libm", "::mlir::ModuleOp"> {
  let summary = "Call libm for math that LLVM would lower imprecisely or not";
  let description = [{
    Turns expm1, log1p, erf, tan, tanh, atan and atan2 left after the
    polynomial pass (float64 ones) into libm calls. MLIR's
    convert-math-to-llvm would lower expm1 and log1p as exp(x) - 1 and
    log(1 + x), losing all precision near 0, and has no lowering for the
    others; upstream convert-math-to-libm would also turn floor and fma into
    calls, which stops vectorization. Everything else is left to
    convert-math-to-llvm (LLVM intrinsics).
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def CopyToLinalg : Pass<"trueno-copy-to-linalg"> {
  let summary = "Turn memref.copy into linalg.copy";
  let description = [{
    Bufferization writes a kernel output that equals an input (abs of an
    unsigned tensor, a folded identity) with `memref.copy`, which
    finalize-memref-to-llvm lowers to memcpy for identity layouts but to a
    call to `memrefCopy` from MLIR's C runner library for strided ones, a
    symbol the JIT does not have. As a `linalg.copy` it becomes a loop nest
    like every other kernel body (parallel, vectorized, strided reads).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SplitReductions : Pass<"trueno-split-reductions"> {
  let summary = "Split whole-tensor reductions into parallel partial ones";
  let description = [{
    A `linalg.generic` with one reduction loop of at least `min-elements`
    iterations and no parallel loop of more than one iteration is split (MLIR's linalg::splitReduction) into P
    partial reductions over N/P elements each, a parallel loop the CPU
    pipeline spreads across the cores, and a final reduction of the P partial
    results. P is the largest of 64, 48, 32, 16, 8 that divides N; other
    sizes are left whole.

    For a GPU (`part-elements` K > 0): each partial reduction takes the
    largest power of two of at most K elements that divides N, so that there
    are P = N / that many partial results, one per thread; with
    `inner-parallel` the partial results are the inner dimension (partial p
    reads elements p, p + P, ...: neighbouring threads read neighbouring
    elements). The final reduction is split again while it has at least
    `min-elements` elements. With `min-parts` M > 0, a part has at most
    max(16, N / M) elements, so that a reduction of some hundred thousand
    partial results still has M threads rather than a few hundred, each
    with a long loop of loads one after another.
  }];
  let options = [
    Option<"minElements", "min-elements", "int64_t", /*default=*/"65536",
           "Smallest reduction worth splitting">,
    Option<"partElements", "part-elements", "int64_t", /*default=*/"0",
           "Elements per partial reduction (0: the CPU's 8 to 64 parts)">,
    Option<"minParts", "min-parts", "int64_t", /*default=*/"0",
           "Partial results to keep at least, parts of 16 elements allowing "
           "(GPU; 0: no minimum)">,
    Option<"innerParallel", "inner-parallel", "bool", /*default=*/"false",
           "Make the partial results the inner dimension">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TileRows : Pass<"trueno-tile-rows"> {
  let summary = "Run a kernel's reductions and their consumers block by block";
  let description = [{
    A kernel whose reductions feed other generics of the same kernel
    (softmax: a max, then a sum of exp(x - max), then exp(x - max) / sum)
    would sweep its whole input once per generic. This pass tiles the
    kernel's last generic over the dimensions that every generic of the
    kernel iterates in parallel, in blocks of about `tile-bytes` bytes, and
    computes each producer's slice inside the same `scf.forall`
    (scf::tileConsumerAndFuseProducersUsingSCF): every sweep after the first
    reads a block that is still in the cache. Unit dimensions are dropped
    first (linalg's fold-unit-extent-dims), so that keepdim results are
    plain projections the tiling can follow. Kernels without such a chain,
    with generics of different iteration spaces, or that would make a
    single tile are left alone.
  }];
  let options = [
    Option<"tileBytes", "tile-bytes", "int64_t", /*default=*/"65536",
           "Bytes of the widest operand one tile should cover">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FreeTileBuffers : Pass<"trueno-free-tile-buffers"> {
  let summary = "Put an scf.forall iteration's buffers on its stack, or free them";
  let description = [{
    MLIR 19's buffer-deallocation-pipeline leaves `scf.forall` bodies alone,
    so the per-tile intermediate buffers that trueno-tile-rows creates
    (a block's maxima and sums) would leak on every call. The
    `memref.alloc`s at the top of a forall body whose uses all stay in that
    body become `memref.alloca`s inside a `memref.alloca_scope` around the
    body when they are static and at most 512 KiB in all (no malloc per
    block); otherwise each gets a `memref.dealloc` at the end of the body.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def TileTransposes : Pass<"trueno-tile-transposes"> {
  let summary = "Tile loop nests that read an operand across cache lines";
  let description = [{
    A bufferized, reduction-free `linalg.generic` whose innermost loop walks
    an input (of at least `min-bytes`) with a stride of a cache line or
    more, while some other loop walks that input contiguously (a transpose:
    `(a * b).mT()` fused, or a realized transposed view), is tiled over
    those two loops by `tile` x `tile` into an `scf.parallel` over tiles
    (other parallel loops by 1). Each tile then reads whole cache lines of
    the transposed operand and uses them before moving on. Over [2000,
    2048] float32, in one session: `(a * b).mT().exp()` fused took 21 ms
    untiled, 7.1 ms in 16 x 16 tiles (8.5 in 32 x 32, 8.1 in 64 x 64);
    `x.mT().exp()` of a realized x 10.4 ms untiled, 2.0 ms tiled. The
    untransposed chain takes 0.4 ms: the strided side still keeps LLVM
    from vectorizing the math.
  }];
  let options = [
    Option<"tileSize", "tile", "int64_t", /*default=*/"16",
           "Tile edge, in elements">,
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"262144",
           "Operands smaller than this stay in cache anyway">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::affine::AffineDialect"];
}

def SerializeSmallLoops : Pass<"trueno-serialize-small-loops"> {
  let summary = "Keep parallel loops with few iterations on one thread";
  let description = [{
    Rewrites each outermost `scf.parallel` whose static iteration count is
    below `min-iterations` into nested `scf.for` loops, so that
    convert-scf-to-openmp only forks threads where the work repays the few
    microseconds a parallel region costs. Loops with dynamic bounds stay
    parallel. A `memref.alloca_scope` that no parallel loop then encloses
    becomes an `llvm.intr.stacksave` / `llvm.intr.stackrestore` pair around
    its ops: canonicalization inlines a scope once convert-scf-to-cf puts
    it directly in the function, and a serial loop's per-iteration stack
    buffers would pile up until the stack overflowed.
  }];
  let options = [
    Option<"minIterations", "min-iterations", "int64_t", /*default=*/"32768",
           "Iterations below which a loop nest runs on one thread">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def MatmulEpilogueInPlace : Pass<"trueno-matmul-epilogue-in-place"> {
  let summary = "Let the elementwise epilogue of a matmul overwrite its result";
  let description = [{
    After fusion, a matmul's single consumer is an elementwise
    `linalg.generic` (bias add, activation) that reads the product and writes
    a fresh `tensor.empty`. This pass makes the generic write into the
    product instead (the product becomes its `outs` operand, read through the
    output block argument), so bufferization computes the epilogue in place:
    no temporary the size of the result, and with eliminate-empty-tensors the
    GEMM writes straight into the kernel's output buffer.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LinalgToBlas : Pass<"trueno-linalg-to-blas", "::mlir::ModuleOp"> {
  let summary = "Call the runtime's BLAS GEMM for float matrix products";
  let description = [{
    Replaces `linalg.matmul`, `linalg.batch_matmul` and
    `linalg.conv_2d_nchw_fchw` on float32 or float64 memrefs with calls to
    `trueno_gemm_<f32|f64>`, `trueno_batch_gemm_<f32|f64>` and
    `trueno_conv2d_<f32|f64>` (runtime/cpu/Blas.cpp, OpenBLAS), passing
    the buffers as strided memref descriptors (`llvm.emit_c_interface`) so
    transposed views reach BLAS as a transpose flag, not a copy. A zero
    `linalg.fill` of the output right before the product becomes `beta = 0`.
    Integer products stay linalg and become loops.

    Threads: each call computes one part of the product (a share of the
    rows, columns, batch or images) with single-threaded OpenBLAS, and the
    kernel runs `trueno_parallel_parts(flops)` parts from an `scf.parallel`
    (one plain call when that is 1), so products share the OpenMP threads
    of every other kernel instead of a second, spinning thread pool.

    Contract: run after bufferization, before linalg is lowered to loops.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // TRUENO_CODEGEN_CPU_PASSES_TD
