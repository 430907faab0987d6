//===- Passes.td - Codegen passes for Vulkan (SPIR-V) ------*- tablegen -*-===//
//
// The passes of the Vulkan pipeline that MLIR does not have
// (include/trueno/Codegen/Vulkan/Pipeline.h lists the whole pipeline).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CODEGEN_VULKAN_PASSES_TD
#define TRUENO_CODEGEN_VULKAN_PASSES_TD

include "mlir/Pass/PassBase.td"

def SpirvEntryPoints : Pass<"trueno-spirv-entry-points", "::mlir::ModuleOp"> {
  let summary = "Give outlined GPU kernels what the SPIR-V conversion needs";
  let description = [{
    Sets `spirv.target_env` on the module from the device's capabilities
    (the options: Vulkan 1.3 SPIR-V with Shader, and Float64, Int64, Int16,
    Float16, Int8 and 8/16-bit storage buffer access where the device has
    them; with `cooperative-matrix` SPIR-V 1.6 with CooperativeMatrixKHR
    and GroupNonUniform, which modules using neither do not ask for, so that a kernel needing a missing one fails to convert instead of
    failing on the device), and `spirv.entry_point_abi` on each kernel with
    the workgroup size its launch uses (`known_block_size`, which
    convert-parallel-loops-to-gpu records). A launch of more workgroups in a
    dimension than the device allows (`max-workgroup-count`) is an error
    naming the kernel and the counts. With `subgroup-size` (the device's,
    where its subgroups shuffle), GroupNonUniform and
    GroupNonUniformShuffle are allowed and the environment's subgroup size
    is the device's, which convert-gpu-to-spirv needs to convert
    `gpu.shuffle`.
  }];
  let options = [
    Option<"float64", "float64", "bool", /*default=*/"false",
           "The device computes float64 (shaderFloat64)">,
    Option<"int64", "int64", "bool", /*default=*/"false",
           "The device computes int64 (shaderInt64)">,
    Option<"int16", "int16", "bool", /*default=*/"false",
           "The device computes int16 (shaderInt16)">,
    Option<"float16", "float16", "bool", /*default=*/"false",
           "The device computes float16 (shaderFloat16)">,
    Option<"int8", "int8", "bool", /*default=*/"false",
           "The device computes int8 (shaderInt8)">,
    Option<"storage16", "storage16", "bool", /*default=*/"false",
           "16-bit values in storage buffers (storageBuffer16BitAccess)">,
    Option<"storage8", "storage8", "bool", /*default=*/"false",
           "8-bit values in storage buffers (storageBuffer8BitAccess)">,
    Option<"cooperativeMatrix", "cooperative-matrix", "bool",
           /*default=*/"false",
           "Cooperative matrices (SPV_KHR_cooperative_matrix, SPIR-V 1.6) "
           "and subgroup ids">,
    Option<"maxWorkgroupCount", "max-workgroup-count", "int64_t",
           /*default=*/"65535",
           "Workgroups a launch may have in each dimension">,
    Option<"subgroupSize", "subgroup-size", "int64_t", /*default=*/"0",
           "The device's subgroup size where its subgroups shuffle (0: none)">,
  ];
  let dependentDialects = ["::mlir::spirv::SPIRVDialect"];
}

def SpirvEntryPointInterface
    : Pass<"trueno-spirv-entry-point-interface", "::mlir::spirv::ModuleOp"> {
  let summary = "List every global variable in SPIR-V 1.4+ entry points";
  let description = [{
    From SPIR-V 1.4 on, an entry point's interface lists every global
    variable its functions use (storage buffers and workgroup memory too);
    MLIR 19's spirv-lower-abi-attrs lists only Input and Output ones, as
    1.3 asks. Modules of 1.4 or later (the cooperative-matrix kernels need
    1.6) get the rest, and a module reading the SubgroupId or NumSubgroups
    built-in gets the GroupNonUniform capability that spirv-update-vce does
    not deduce from built-ins.
  }];
  let dependentDialects = ["::mlir::spirv::SPIRVDialect"];
}

def SpirvFloatControls
    : Pass<"trueno-spirv-float-controls", "::mlir::ModuleOp"> {
  let summary = "Ask the driver to keep NaNs, infinities, signed zeros and "
                "denormals (SPV_KHR_float_controls)";
  let description = [{
    Without float controls a driver may assume no NaN or infinity reaches a
    kernel and flush denormals to zero: NVIDIA's returns a number for
    exp(NaN) (a comparison and a select folded into a min that drops the
    NaN) and reads a float16 or bfloat16 subnormal as zero. For each float
    width in `signed-zero-inf-nan-preserve` and `denorm-preserve` (those the
    device supports: VkPhysicalDeviceFloatControlsProperties), every entry
    point of every `spirv.module` gets the execution mode, and the module's
    target environment the capability and SPV_KHR_float_controls, so that
    spirv-update-vce, which runs after, declares them.
  }];
  let options = [
    ListOption<"nanInfWidths", "signed-zero-inf-nan-preserve", "unsigned",
               "Float widths whose NaNs, infinities and signed zeros are kept">,
    ListOption<"denormWidths", "denorm-preserve", "unsigned",
               "Float widths whose denormals are kept">,
  ];
  let dependentDialects = ["::mlir::spirv::SPIRVDialect"];
}

def FoldWideningIntoMatmuls
    : Pass<"trueno-fold-widening-into-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Matrix products read float16 inputs directly";
  let description = [{
    The frontend multiplies halves in float32 (`widened(a) @ widened(b)`,
    rounded once). On tensors, a float32 `linalg.matmul` or
    `linalg.batch_matmul` input that is an exact widening of a float16
    tensor (a generic of identity maps whose body is one `arith.extf`) is
    replaced by the half tensor: the named op's body widens its inputs to
    the output's type itself, so the result is the same, the widening
    kernels disappear, and the product reads half the bytes (and can run
    on cooperative matrices: trueno-tile-matmuls). bfloat16 stays widened:
    stored as i16, its tiles would be copied element by element, which
    made a 4096 product 1.6x slower on an H100; but with `bfloat16`, where
    both of a product's inputs are widened bfloat16 whose rows are a
    multiple of 8 elements (the cooperative kernel's bfloat16 matrices,
    which copy 8 at a time: trueno-tile-matmuls' cooperative-bf16).
  }];
  let options = [
    Option<"bfloat16", "bfloat16", "bool", /*default=*/"false",
           "Fold widened bfloat16 inputs too, where both are and their "
           "rows are multiples of 8 elements">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def FuseSharedElementwise
    : Pass<"trueno-fuse-shared-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Recompute an elementwise generic in each generic that reads "
                "it instead of writing it to memory";
  let description = [{
    linalg-fuse-elementwise-ops fuses a producer into its consumer only when
    the consumer is its one user. A softmax's `e = exp(x - max)` has two, the
    row sum and the division, so it was written to a scratch buffer of the
    input's size and read back twice: six passes over [4096, 4096] where
    three suffice. On a GPU recomputing a few arithmetic operations per
    element is much cheaper than a round trip through memory, so an
    elementwise generic (parallel loops only, one result, at most
    `max-ops` operations in its body) whose every user reads it as an input
    of a `linalg.generic` is fused into each of them, and disappears. The
    CPU keeps the scratch buffer: there row tiling keeps it in cache. A
    generic that reads it through several operands (at several offsets, as
    a max pool's window does) while other generics read it too keeps it:
    the rewrite did not converge there.
  }];
  let options = [
    Option<"maxOps", "max-ops", "int64_t", /*default=*/"32",
           "The largest body (operations) recomputed in each reader">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SplitNarrowReductions
    : Pass<"trueno-split-narrow-reductions", "::mlir::func::FuncOp"> {
  let summary = "Give a reduction with few outputs more threads";
  let description = [{
    A GPU runs one thread per output of a reduction that is not along rows
    (trueno-workgroup-reductions) nor whole (trueno-split-reductions): a
    convolution's weight gradient (288 outputs, each over 64 x 28 x 28
    elements) or a bias gradient (32 sums over [64, 28, 28]) ran on two
    workgroups of a GPU with 132 multiprocessors, 2 ms each in a
    Fashion-MNIST training step. Such a linalg op (a generic or a named
    convolution, generalized; not a matrix product, which is tiled) with
    fewer than `target-threads` outputs and an associative, commutative
    combiner with a neutral element has its outermost reduction loops made
    parallel, one after another, while there are fewer than
    `target-threads` threads and each still combines at least
    `min-per-thread` elements: a partial result per thread, starting from
    the neutral element, then a second reduction over the partial results
    (contiguous, so a workgroup per output) into the original output.
    Sums are combined in another order, as a split whole-tensor sum's are.
  }];
  let options = [
    Option<"targetThreads", "target-threads", "int64_t", /*default=*/"65536",
           "Threads a split reduction should have at least">,
    Option<"minPerThread", "min-per-thread", "int64_t", /*default=*/"16",
           "Elements each thread of a split reduction combines at least">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CorrectlyRoundedDivSqrt
    : Pass<"trueno-correctly-rounded-div-sqrt", "::mlir::func::FuncOp"> {
  let summary = "float32 division and square root rounded as IEEE 754 "
                "requires, through float64";
  let description = [{
    Vulkan allows a float32 division within 2.5 ulp and a square root
    within 3; NVIDIA's were an ulp off the CPU's and PyTorch's, which round
    correctly (sqrt(92) and 87 / 33 in the op suite). On a device with
    float64 (the pipeline runs the pass only there), each float32
    `arith.divf` and `math.sqrt` is computed in float64 and rounded once to
    float32, which rounds the exact result (see the .cpp for why).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def HalfConversionsThroughFloat32
    : Pass<"trueno-half-conversions-through-float32", "::mlir::func::FuncOp"> {
  let summary = "Integer to float16 conversions as integer to float32, then "
                "float32 to float16";
  let description = [{
    NVIDIA's driver converted integers to float16 without float16's
    rounding (int16 -13572 stayed -13572 in a float16 product; PyTorch and
    the CPU round it to -13568 first) and without its overflow (an int64
    past 65504 was not infinity, so -inf plus it was -inf, not NaN).
    Each `arith.sitofp`/`arith.uitofp` to f16 becomes one to f32 and an
    `arith.truncf` to f16, which rounds once (see the .cpp); a float32
    value of magnitude 65520 or more is replaced by the infinity of its
    sign first (the driver fused the two conversions back into one that
    saturates at 65504), also where the conversion is two steps already
    (an `arith.truncf` to f16 of an integer's f32: the scalar recipes'
    int64 to float16).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def ParallelLoopsOutermost
    : Pass<"trueno-parallel-loops-outermost", "::mlir::func::FuncOp"> {
  let summary = "Put a linalg.generic's parallel loops outside its reductions";
  let description = [{
    convert-linalg-to-parallel-loops makes an `scf.parallel` of the
    outermost parallel loops only: a generic that iterates a reduction
    first (a column sum, the partial sums trueno-split-reductions makes with
    `inner-parallel`) would run on one thread. Interchanging its loops so
    that the parallel ones come first, in their order, gives each thread one
    output element and its whole reduction.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def RegisterAccumulators
    : Pass<"trueno-register-accumulators", "::mlir::func::FuncOp"> {
  let summary = "Carry a loop's accumulator in a register, not in memory";
  let description = [{
    A bufferized reduction lowered to loops reads its output element,
    combines, and stores it back on every iteration:
    `scf.for %k { %acc = memref.load %out[%p]; ...; memref.store %s, %out[%p] }`.
    LLVM promotes that to a register on the CPU; a Vulkan driver's compiler
    cannot, since it must assume that two storage buffers may alias, so each
    iteration of a GPU thread's reduction went to global memory and back.
    This pass makes the element a loop-carried value: one load before the
    loop, an `iter_args` value through it, one store after it. It applies
    where the load and the store are at the top of the loop's body, the
    load first, with the same memref and indices defined outside the loop;
    nothing else in the loop writes memory or reads that memref; and every
    memref the loop reads is rooted (through views) at a different function
    argument or allocation than the stored one. The kernel ABI marks the
    arguments `llvm.noalias` (the runtime binds distinct buffers), which is
    what makes distinct arguments distinct memory. Only a loop with
    constant bounds that runs at least once carries a value: MLIR 19's
    conversion of `scf.for` to SPIR-V leaves the results of a loop that
    runs no iteration undefined. bfloat16 values stay in memory: SPIR-V
    has no such type, and the passes that emulate it rewrite memory
    accesses and arithmetic, not loop-carried values. Loops are visited
    innermost first, so a nest of reduction loops carries the value through
    all of them.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect"];
}

def UnrollReductionLoops
    : Pass<"trueno-unroll-reduction-loops", "::mlir::func::FuncOp"> {
  let summary = "Unroll a thread's reduction loop so that its loads overlap";
  let description = [{
    A GPU thread's reduction loop, `%r = scf.for ... iter_args(%acc = ...)
    { %v = memref.load ...; %s = C(f(%v), %acc); scf.yield %s }`, waits for
    each load before the next iteration issues the following one: with one
    load in flight per thread, a sum over 256M float32 reached half of an
    H100's bandwidth. Unrolled by `factor`, the body's loads do not depend
    on the accumulator, so the driver issues them together and the
    combining chain follows; the results are the same, combined in the same
    order. It applies to innermost `scf.for` loops that carry a value, have
    constant bounds and at least two iterations, and neither write memory
    nor hold a region (a barrier, a branch). The factor is at most the trip
    count, so that the unrolled loop runs at least once (MLIR 19's
    conversion of `scf.for` to SPIR-V leaves the results of a loop that
    runs no iteration undefined); a remainder runs as a loop after it.
  }];
  let options = [
    Option<"factor", "factor", "int64_t", /*default=*/"8",
           "Iterations per unrolled iteration (1 turns the pass off)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def MapToWorkgroups : Pass<"trueno-map-to-workgroups", "::mlir::func::FuncOp"> {
  let summary = "Run a kernel's loop nests as grid-stride loops of workgroups";
  let description = [{
    Every top-level `scf.parallel` of a kernel (convert-linalg-to-parallel-
    loops' output) becomes a `gpu.launch` of `workgroup-size` threads per
    workgroup and at most `max-workgroup-count` workgroups, whose threads
    walk the loop's iteration space in row-major order with a grid-stride
    loop: consecutive threads take consecutive iterations, so they touch
    consecutive elements of the contiguous dimension (coalesced), and any
    size runs, however many workgroups the device allows. Parallel loops
    nested inside become sequential `scf.for`s. Work between the loop nests
    that is not buffer bookkeeping (a 0-d result's store, a sequential
    loop) runs in a launch of one thread. Buffer allocation, views and
    constants stay in the host function: the runtime binds the buffers.
  }];
  let options = [
    Option<"workgroupSize", "workgroup-size", "int64_t", /*default=*/"64",
           "Threads per workgroup">,
    Option<"maxWorkgroupCount", "max-workgroup-count", "int64_t",
           /*default=*/"65535", "Workgroups a launch may have">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def WorkgroupReductions
    : Pass<"trueno-workgroup-reductions", "::mlir::func::FuncOp"> {
  let summary = "Reduce each row with a workgroup's threads and shared memory";
  let description = [{
    A bufferized `linalg.generic` whose loops are parallel ones, then one
    reduction over the contiguous dimension of every input that it reads
    (a row sum, a softmax's row maximum and sum, a norm's), whose body
    combines one value with the output through one associative and
    commutative operation (add, mul, max, min, and, or, xor), and whose
    rows are at least `min-elements` long becomes a `gpu.launch`: one
    workgroup per row (a grid-stride loop over rows, at most
    `max-workgroup-count` workgroups), its threads (the largest power of
    two up to `workgroup-size` and the row's length) each combining every
    T-th element of the row, neighbours reading neighbours, then a tree
    over the threads' partial results in workgroup memory, a barrier
    between levels; thread 0 combines the total with the output's initial
    value. Without it each row is one thread's loop (what
    trueno-map-to-workgroups makes of every loop nest), which leaves most
    of a GPU idle and reads rows with strides across threads. Column
    reductions and the interleaved partial sums of trueno-split-reductions
    (whose reduction is not the contiguous dimension) keep one thread per
    output element, which already reads neighbouring elements, unless the
    reduction is longer than 65535 elements: then a workgroup takes it
    whatever its layout (lavapipe stops any shader loop after 65535
    iterations, and one thread's loop that long is slow everywhere). A
    broadcast row (stride 0) counts as contiguous.

    With `subgroup-size` (the device's, where its subgroups shuffle) the
    threads' partial results are combined within each subgroup by a
    butterfly of `gpu.shuffle xor`s instead, an elected lane of each
    subgroup (`spirv.GroupNonUniformElect`: MLIR 19 converts no
    `gpu.lane_id`) stores its total, and after one barrier every thread
    combines the subgroups' totals: one barrier a row instead of one a
    level of the tree, none where a workgroup is one subgroup. The
    subgroups' slots alternate between two halves from row to row, so
    that no barrier is needed after they are read.

    Chains: such reductions over the same rows that follow one another,
    each of which may read the earlier ones' results for its row, and
    then, optionally, an elementwise generic over the rows' elements that
    writes each in place (identity maps; a softmax's max, sum and
    division, a norm's mean, variance and scaling) become one launch. The
    totals reach every thread through workgroup memory and stay in
    registers; the consumer's threads take every T-th element of the row.
    The row is read from memory once, its later passes served by the
    cache, and a total that only the chain reads (scratch filled just
    before) is neither filled nor stored. Members join only while they
    read the chain's totals through their own output map, read or write
    buffers known to be distinct (allocations, `llvm.noalias` arguments),
    and write nothing an earlier member read, except the consumer writing
    the very elements it and the earlier members read at the same index;
    fills of untouched buffers and scalar math between members run before
    the launch.
  }];
  let options = [
    Option<"workgroupSize", "workgroup-size", "int64_t", /*default=*/"256",
           "Threads per workgroup at most (rounded down to a power of two)">,
    Option<"maxWorkgroupCount", "max-workgroup-count", "int64_t",
           /*default=*/"65535", "Workgroups a launch may have">,
    Option<"minElements", "min-elements", "int64_t", /*default=*/"64",
           "The shortest row reduced by a workgroup">,
    Option<"subgroupSize", "subgroup-size", "int64_t", /*default=*/"0",
           "The device's subgroup size where its subgroups shuffle (a power "
           "of two; 0: the tree in workgroup memory)">,
    Option<"subgroupExtendedTypes", "subgroup-extended-types", "bool",
           /*default=*/"false",
           "Subgroups shuffle 64-bit integers (shaderSubgroupExtendedTypes); "
           "else int64 rows take the tree">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::spirv::SPIRVDialect"];
}

def ConvolutionsAsMatmuls
    : Pass<"trueno-convolutions-as-matmuls", "::mlir::func::FuncOp"> {
  let summary = "float32 convolutions as im2col and a tiled batched product";
  let description = [{
    A bufferized float32 `linalg.conv_2d_nchw_fchw` (x [N, C, H, W], padded
    already, w [F, C, KH, KW], y [N, F, OH, OW]; any strides and
    dilations) was a loop nest in which each output element is one
    thread's dot product of C x KH x KW, reading the input once per
    filter. It becomes a copy of the input's windows into a scratch
    buffer col [N, C, KH, KW, OH, OW] and a `linalg.batch_matmul` of w
    viewed as [N, F, C*KH*KW] with a batch stride of 0 by col viewed as
    [N, C*KH*KW, OH*OW], accumulating into y viewed as [N, F, OH*OW]:
    trueno-tile-matmuls then reuses each loaded element across a tile, as
    for any product. A weight that is not contiguous is copied first.
    With `implicit-gemm`, a product trueno-tile-matmuls will tile (at least
    32 filters and 32 output pixels) reads the windows directly and the
    scratch goes; other convolutions whose scratch would pass 2^28
    elements, and those whose output's pixels are not one strided run,
    keep their loop nest.
  }];
  let options = [
    Option<"implicitGemm", "implicit-gemm", "bool", /*default=*/"true",
           "trueno-tile-matmuls reads the windows directly (no limit on the "
           "scratch of a product it tiles)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TileMatmuls : Pass<"trueno-tile-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Matrix products as workgroup tiles through workgroup memory";
  let description = [{
    A bufferized `linalg.matmul` or `linalg.batch_matmul` into float32, of
    float32, float16 or bfloat16 inputs widened as they are read, or
    float64 or 32- or 64-bit integers throughout (tiles of that type,
    64-bit elements copied one at a time, integers multiplied and added
    with wrapping; any views: transposed, sliced, broadcast batches) of at
    least 32 rows and
    columns becomes a `gpu.launch` of 256 threads per workgroup, each
    workgroup computing TxT tiles of the output (a grid-stride loop over
    the batches' tiles, at most `max-workgroup-count` workgroups): T = 64,
    or with `large-tiles` 128 where the product has at least 256 such
    tiles (slower than 64 on an H100 at 4096: 8.7 against 7.7 ms; a
    tuning knob, TRUENO_VULKAN_MATMUL_TILE=128). A product of fewer than
    128 tiles with a long contraction is split along it (split-K): each
    workgroup takes a tile and a chunk of at least 128 contraction
    elements, about 512 workgroups in all, writing a scratch slice of its
    own; a reduction over the chunks adds them to C. For each
    step of 16 along the contraction the workgroup's threads copy a Tx16
    tile of A and a 16xT tile of B into workgroup memory (neighbouring
    threads reading neighbouring elements of each input's contiguous
    dimension, zeros past the edges), wait at a barrier, and each thread
    accumulates a (T/16)x(T/16) block of outputs (rows ty + 16i, columns
    tx + 16j, so that neighbouring threads write neighbouring columns) from
    them in registers with fused multiply-adds, the 16 steps unrolled; the
    sum runs over the contraction in order, as one thread's dot product
    does. Each element read from memory is reused T times instead of once.
    With `cooperative-matrix`, a product of two float16 inputs runs on the
    device's matrix units instead: 128x128 tiles (or 128x256 or 128x64:
    `cooperative-columns`), steps of 32 (or 16 or 64: `cooperative-step`),
    the tiles in workgroup memory as groups of 4 halves (`vector<4xf16>`,
    copied 4 elements a load where the input's layout allows:
    `vector.load`, and stored a group at a time), each of the 8 subgroups
    (2 x 4; or 4, 2 x 2: `cooperative-subgroups`, which takes at most 128
    columns) of 32 threads accumulating 4 x (columns / 16 / 4 or 2) 16x16
    float32 fragments with `gpu.subgroup_mma_compute`
    (SPV_KHR_cooperative_matrix), added to C through a 16x16 staging
    fragment per subgroup in workgroup memory. With `cooperative-buffers=2`
    the tiles have two copies: each step stores the next step's into the
    other copy while it reads its own, one barrier a step instead of two,
    a loop iteration taking two steps (one from each copy). A shape that
    does not fit in `workgroup-memory` takes steps of 32, then one copy,
    then 128 columns; where none fits, the float32 tiles.
    With `prefetch` (always, for the cooperative kernel), each step's
    elements for the tiles are loaded into registers during the step before
    (the first step's before the loop), the loop carrying them, so that
    their latency overlaps the arithmetic.
    An operand that a pure copy filled just before from another buffer
    through an affine map, collapsed into the operand's dimensions (the
    im2col of trueno-convolutions-as-matmuls), is read from that buffer
    directly, each element's indices delinearized and mapped as the copy
    did (an implicit GEMM); the copy and its scratch buffer go. A zero
    fill of the buffer C views, whole, folds in as for C itself, with
    views, allocations and those copies between.
    Where the device runs fewer than 256 threads per workgroup
    (`workgroup-size`), nothing changes.
  }];
  let options = [
    Option<"workgroupSize", "workgroup-size", "int64_t", /*default=*/"256",
           "Threads a workgroup may have (the tiles need 256)">,
    Option<"largeTiles", "large-tiles", "bool", /*default=*/"false",
           "128x128 tiles (8x8 outputs a thread) for products of at least "
           "256 of them">,
    Option<"cooperativeMatrix", "cooperative-matrix", "bool",
           /*default=*/"false",
           "float16 products on the device's 16x16x16 cooperative matrices "
           "(float32 accumulators, subgroups of 32)">,
    Option<"cooperativeStep", "cooperative-step", "int64_t",
           /*default=*/"32",
           "Contraction elements a step of the cooperative kernel: 32 or 64 "
           "(any other value is 32)">,
    Option<"cooperativeColumns", "cooperative-columns", "int64_t",
           /*default=*/"128",
           "Columns of the cooperative kernel's tiles: 128 or 256 (any other "
           "value is 128)">,
    Option<"cooperativeBuffers", "cooperative-buffers", "int64_t",
           /*default=*/"1",
           "Copies of the cooperative kernel's tiles in workgroup memory: 1, "
           "or 2 (one barrier a step; any other value is 1)">,
    Option<"cooperativeSubgroups", "cooperative-subgroups", "int64_t",
           /*default=*/"8",
           "Subgroups of the cooperative kernel's workgroups: 8 (2 x 4), or 4 "
           "(2 x 2, 128 threads, 128 columns, each subgroup 64 x 64; any "
           "other value is 8)">,
    Option<"cooperativeWorkgroupScope", "cooperative-workgroup-scope", "bool",
           /*default=*/"false",
           "Products whose tiles all lie inside C (M a multiple of 128, N of "
           "the tiles' columns, C's rows 16-byte aligned, no split-K) run as "
           "one matrix multiply-add of the workgroup's tiles a step: "
           "workgroup-scope matrices (VK_NV_cooperative_matrix2), their "
           "16x16 stand-ins marked `trueno.workgroup_matrices` for "
           "serialization to retype">,
    Option<"cooperativeWorkgroupGlobal", "cooperative-workgroup-global",
           "bool", /*default=*/"false",
           "The workgroup-matrix kernel loads its matrices from the inputs "
           "themselves where their rows are groups of 8 in memory and K a "
           "whole number of steps (no tiles in workgroup memory)">,
    Option<"cooperativeTensorLoads", "cooperative-tensor-loads", "bool",
           /*default=*/"false",
           "With cooperative-workgroup-global, the loads from the inputs are "
           "marked `trueno.tensor_loads` for serialization to make tensor "
           "loads (SPV_NV_tensor_addressing)">,
    Option<"cooperativeTensorWideTiles", "cooperative-tensor-wide-tiles",
           "bool", /*default=*/"false",
           "With cooperative-tensor-loads, products that load their matrices "
           "by tensor loads take 128x256 tiles of 8 subgroups (the other "
           "cooperative products keep cooperative-columns and -subgroups)">,
    Option<"cooperativeTensorWideBf16", "cooperative-tensor-wide-bf16",
           "bool", /*default=*/"false",
           "With cooperative-tensor-wide-tiles, bfloat16 products take them "
           "too (where the device lists bfloat16's shape)">,
    Option<"cooperativeDirect", "cooperative-direct", "bool",
           /*default=*/"true",
           "Tiles of the cooperative kernel inside C add their fragments to C "
           "by matrix loads and stores (where C's rows start 16-byte "
           "aligned), not through workgroup memory">,
    Option<"cooperativeWideLoads", "cooperative-wide-loads", "bool",
           /*default=*/"true",
           "The cooperative kernel copies 8 halves (16 bytes) a load and a "
           "store where an input's rows are groups of 8 in memory, else 4">,
    Option<"cooperativeBf16", "cooperative-bf16", "bool",
           /*default=*/"false",
           "bfloat16 products on the cooperative kernel too, its matrices "
           "typed float16 carrying the bits and marked `trueno.bfloat16` "
           "(serialization retypes them: MLIR 19's SPIR-V has no bfloat16)">,
    Option<"workgroupMemory", "workgroup-memory", "int64_t",
           /*default=*/"49152",
           "Bytes of workgroup memory a workgroup may have: the cooperative "
           "kernel takes smaller steps, one copy, then 128 columns to fit">,
    Option<"prefetch", "prefetch", "bool", /*default=*/"false",
           "Load the next step's tile elements into registers before the "
           "current step's arithmetic (the cooperative kernel always does)">,
    Option<"implicitGemm", "implicit-gemm", "bool", /*default=*/"true",
           "Read an operand that a copy gathered just before (an im2col, "
           "from a zero-padded buffer or not) from the copy's source">,
    Option<"maxWorkgroupCount", "max-workgroup-count", "int64_t",
           /*default=*/"65535", "Workgroups a launch may have">,
    Option<"tileGroupRows", "tile-group-rows", "int64_t", /*default=*/"1",
           "Workgroups take C's tiles in groups of this many tile rows, "
           "column by column within a group (1: row by row), so that the "
           "workgroups running at once share rows of A and columns of B">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::affine::AffineDialect"];
}

def FlattenKernelBuffers
    : Pass<"trueno-flatten-kernel-buffers", "::mlir::ModuleOp"> {
  let summary = "Give outlined kernels one-dimensional buffers";
  let description = [{
    MLIR 19's SPIR-V conversion takes only memrefs of the identity layout,
    but a kernel reads views: an input through its strides (a transpose, a
    slice, a broadcast's zero strides), a scratch buffer through a subview.
    Every memref argument of a `gpu.func` kernel with a static shape,
    strides and offset becomes a one-dimensional memref of the elements it
    reaches (offset + the sum of (size - 1) * stride, plus one), its loads
    and stores index it with the linearized position, and each launch
    passes its operand through a `memref.reinterpret_cast` to that type (a
    view of the same buffer, which the runtime binds as it is). An argument
    read only by `vector.load`s of 4 elements at positions that are
    multiples of 4 (what trueno-tile-matmuls emits; its offset, size and
    strides other than 1 multiples of 4) becomes an array of 4-element
    vectors, each load one wide load; elsewhere such a load is 4 scalar
    ones.

    First, what SPIR-V lacks or gets wrong is rewritten: math without a
    GLSL.std.450 instruction expanded, powf guarded with pow's special
    cases, tanh saturated, remf made C's fmod (float32 exact through
    float64 where the device has it: `float64`, else in integers; float64
    exact in integers where the device has int64: `int64`), remsi from the
    quotient, ipowi unrolled;
    float64 transcendental functions are an error.
  }];
  let options = [
    Option<"float64", "float64", "bool", /*default=*/"false",
           "The device computes float64 (exact float32 remainders)">,
    Option<"int64", "int64", "bool", /*default=*/"false",
           "The device computes int64 (exact float64 remainders)">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // TRUENO_CODEGEN_VULKAN_PASSES_TD
