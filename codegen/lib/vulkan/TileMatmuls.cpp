//===- TileMatmuls.cpp - Matrix products in workgroup tiles ---------------===//
//
// trueno-tile-matmuls: see Passes.td. The kernel, for C[b] += A[b] @ B[b]
// of M x K by K x N:
//
//   gpu.launch blocks(G) threads(256) {
//     As: Tx16 and Bs: 16xT in workgroup memory (T = 16 P: 64 or 128)
//     tx = tid % 16, ty = tid / 16
//     scf.for tile = block to batches * tilesM * tilesN step G {
//       m0, n0: the tile's first row and column (row by row, or in groups
//               of `tile-group-rows` tile rows, column by column)
//       acc[P * P] = 0 (loop-carried: registers)
//       scf.for k0 = 0 to K step 16 {
//         As[e / 16][e % 16] = A[m0 + e / 16][k0 + e % 16] or 0  (e = tid +
//         Bs[e / T][e % T] = B[k0 + e / T][n0 + e % T] or 0      256 r)
//         gpu.barrier
//         acc[i][j] = fma(As[ty + 16 i][kk], Bs[kk][tx + 16 j], acc[i][j])
//             (kk < 16, unrolled)
//         gpu.barrier
//       }
//       C[m0 + ty + 16 i][n0 + tx + 16 j] += acc[i][j] where in range
//     }
//   }
//
// With `cooperative-matrix`, a float16 product accumulated in float32 runs
// on the device's matrix units instead (tensor cores: SPV_KHR_cooperative_
// matrix through gpu.subgroup_mma_*):
//
//   gpu.launch blocks(G) threads(256) {     8 subgroups of 32
//     As: [copies][128][(S+8)/4], Bs: [copies][S][(N+8)/4] groups of 4
//     halves (vector<4xf16>), Cs: 8 x 16x16 float32 (N = 256 columns and
//     S = 32 steps by default, or N = 128, S = 64; one copy, or two)
//     s = gpu.subgroup_id: rows 64 (s / 4) .. +64, columns N/4 (s % 4) ..
//     scf.for tile ... {
//       acc[4][N/64] = 16x16 float32 matrices of zeros
//       scf.for k0 = 0 to K step S {
//         As, Bs = the tiles of A and B, zeros past the edges, a group of
//                  4 halves a store; barrier
//         acc[i][j] = A-fragment(As, i, kk) x B-fragment(Bs, kk, j)
//                     + acc[i][j]                   (kk = 0, 16, ...)
//         barrier
//       }
//       if the tile is inside C (and C's rows start 16-byte aligned):
//         each subgroup: C[its 16x16 (i, j)] = load(C) + acc[i][j], by
//         matrix loads and stores, no barrier
//       else for each (i, j): every subgroup stores acc[i][j] to its 16x16
//         of Cs; barrier; the workgroup adds Cs to C where inside; barrier
//     }
//   }
//
// With two copies, step i stores step i + 1's tiles into the other copy
// before its arithmetic and waits at one barrier after it.
//
// The rows of As and Bs are padded by 8 halves (16 bytes): a fragment's
// rows then start in different banks, and every fragment stays 16-byte
// aligned. Products of halves are exact in float32, so the result differs
// from the float32 tiles' only in the order of the additions.
//
// Every loop bound depends on the workgroup alone, so the barriers are
// reached by all its threads (and the matrix operations by whole
// subgroups, as SPIR-V requires). The contraction loop always runs (K >= 1),
// so its loop-carried accumulators are defined (MLIR 19's conversion of a
// loop of no iterations leaves them undefined: WorkgroupReductions.cpp).
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"
#include "trueno/Codegen/Vulkan/Pipeline.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <limits>

namespace mlir::trueno {
#define GEN_PASS_DEF_TILEMATMULS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

constexpr int64_t kStep = 16; ///< contraction elements per step
constexpr int64_t kThreads = 256;
constexpr int64_t kSide = 16; ///< threads per row and column of a tile
/// With `large-tiles`, products with at least this many 128x128 tiles use
/// them (8x8 outputs a thread: twice the multiply-adds per value read from
/// workgroup memory of a 4x4 block); smaller ones 64x64 tiles, so that a
/// 1024 x 1024 product still has 256 workgroups to spread over the GPU's
/// multiprocessors.
constexpr int64_t kLargeTileMinTiles = 256;
/// A product of fewer tiles than this, with a contraction of at least
/// 2 kMinChunk, is split along K into chunks of at least kMinChunk (a
/// multiple of kStep), until it has about kSplitTiles workgroups: a
/// Fashion-MNIST layer's [64, 3136] x [3136, 128] was two workgroups.
constexpr int64_t kSplitBelowTiles = 128;
constexpr int64_t kSplitTiles = 512;
constexpr int64_t kMinChunk = 128;
/// At most this many float32 partial products (the scratch buffer).
constexpr int64_t kMaxPartials = int64_t(1) << 26;

/// The cooperative-matrix kernel: 128 x (128 or 256) tiles, 16x16x16
/// fragments, 8 subgroups of 32 threads as 2 x 4, each computing 64 x 32
/// (or 64 x 64) outputs: 4 x 2 (or 4 x 4) fragments; or 128 x 128 tiles
/// of 4 subgroups as 2 x 2, each computing 64 x 64.
constexpr int64_t kCoopTileRows = 128;
constexpr int64_t kFragment = 16;
constexpr int64_t kCoopSubgroupRows = 2;
constexpr int64_t kFragmentsM = kCoopTileRows / kCoopSubgroupRows / kFragment;
constexpr int64_t kCoopSubgroupSize = 32;
/// Halves of padding after each row of As and Bs.
constexpr int64_t kCoopPad = 8;

/// The cooperative kernel's tiles: columns (128 or 256), contraction
/// elements a step (32 or 64), copies of As and Bs in workgroup memory
/// (1, or 2: the next step's tiles are stored while the current one's are
/// read, one barrier a step instead of two) and subgroups (8, or 4 with
/// 128 columns: half the threads and registers of a workgroup, so that
/// two workgroups share a multiprocessor and one's barriers and copies
/// overlap the other's arithmetic).
struct CooperativeShape {
  int64_t columns = 128, step = 64, buffers = 1, subgroups = 8;

  int64_t subgroupColumns() const { return subgroups / kCoopSubgroupRows; }
  int64_t threads() const { return subgroups * kCoopSubgroupSize; }
  int64_t fragmentsN() const { return columns / subgroupColumns() / kFragment; }
  /// The staging fragments through which the accumulators reach C: one
  /// 16x16 float32 fragment per subgroup.
  int64_t stageBytes() const { return subgroups * kFragment * kFragment * 4; }
  /// As, Bs (float16, rows padded) and the staging fragments.
  int64_t workgroupBytes() const {
    return buffers * 2 *
               (kCoopTileRows * (step + kCoopPad) +
                step * (columns + kCoopPad)) +
           stageBytes();
  }
  /// The shape the options ask for (any other value than those allowed
  /// is the default's).
  static CooperativeShape asked(int64_t columns, int64_t step, int64_t buffers,
                                int64_t subgroups) {
    return {columns == 256  ? 256
            : columns == 64 ? 64
                            : 128,
            step == 64   ? 64
            : step == 16 ? 16
                         : 32,
            buffers == 2 ? 2 : 1, subgroups == 4 ? 4 : 8};
  }
  /// The shape asked for, or the nearest that fits in `bytes` of
  /// workgroup memory: steps of 32 first, then one buffer, then 128
  /// columns. None where nothing fits. Four subgroups take 128 columns
  /// (256 would be 4 x 8 fragments a subgroup: more accumulators than a
  /// thread's registers hold).
  static std::optional<CooperativeShape> fit(CooperativeShape asked,
                                             int64_t bytes) {
    CooperativeShape s = asked;
    if (s.subgroups == 4)
      s.columns = std::min<int64_t>(s.columns, 128);
    else
      s.columns = std::max<int64_t>(s.columns, 128);
    if (s.workgroupBytes() > bytes)
      s.step = std::min<int64_t>(s.step, 32);
    if (s.workgroupBytes() > bytes)
      s.buffers = 1;
    if (s.workgroupBytes() > bytes)
      s.columns = std::min<int64_t>(s.columns, 128);
    if (s.workgroupBytes() > bytes)
      return std::nullopt;
    return s;
  }
};
/// Elements a thread copies with one load where the input allows it.
constexpr int64_t kCopyVector = 4;
/// The cooperative kernel's wide groups: 8 halves, 16 bytes, held as
/// vector<4xi32> (SPIR-V's vectors have at most 4 components).
constexpr int64_t kWideGroup = 8;

/// x + y, of floats or integers (integer products' tiles sum in wrapping
/// integer arithmetic, as the CPU's do: the order does not matter).
Value addOf(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<IntegerType>(x.getType()))
    return b.create<arith::AddIOp>(loc, x, y);
  return b.create<arith::AddFOp>(loc, x, y);
}

/// `width` where every `width`-aligned group of elements along `type`'s
/// innermost dimension is contiguous and starts at a multiple of `width`
/// in the buffer (unit innermost stride; the offset, the other strides and
/// the innermost size multiples of `width`), else 1.
int64_t copyVectorWidth(MemRefType type, int64_t width = kCopyVector) {
  // bfloat16 is stored as i16 and widened by bit shifts element by element
  // (trueno-expand-bf16): no vectors of it, but the cooperative kernel's
  // wide groups, whose bits it only moves.
  if (type.getElementType().isBF16() && width != kWideGroup)
    return 1;
  // 64-bit elements are copied one by one: a group of 4 would be a
  // 32-byte load, more alignment than a storage buffer's elements promise.
  if (type.getElementTypeBitWidth() == 64)
    return 1;
  SmallVector<int64_t> strides;
  int64_t offset = 0;
  if (failed(getStridesAndOffset(type, strides, offset)) || strides.empty() ||
      strides.back() != 1 || ShapedType::isDynamic(offset) ||
      offset % width != 0 || type.getShape().back() % width != 0)
    return 1;
  for (int64_t s : ArrayRef<int64_t>(strides).drop_back())
    if (ShapedType::isDynamic(s) || s % width != 0)
      return 1;
  return width;
}

/// Whether nothing from `from` (exclusive) to `to` (exclusive) in their
/// block writes the buffer `root`: the ops between are views,
/// allocations, side-effect-free ops, and linalg ops writing distinct
/// buffers other than `root` (itself distinct).
bool unwrittenBetween(Value root, Operation *from, Operation *to) {
  if (!root || !mlir::trueno::isDistinctBuffer(root))
    return false;
  for (Operation *op = from->getNextNode(); op != to; op = op->getNextNode()) {
    if (!op)
      return false;
    if (isa<memref::AllocOp, ViewLikeOpInterface>(op) || isMemoryEffectFree(op))
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (!linalgOp || !linalgOp.hasPureBufferSemantics())
      return false;
    for (OpOperand &init : linalgOp.getDpsInitsMutable()) {
      Value written = mlir::trueno::rootBuffer(init.get());
      if (!written || written == root ||
          !mlir::trueno::isDistinctBuffer(written))
        return false;
    }
  }
  return true;
}

/// Whether `op` is a pure copy: a linalg.copy, or a generic of parallel
/// loops, identity maps, one input and one output, yielding the input.
bool isPureCopy(Operation *op, bool identityInput = true) {
  if (isa<linalg::CopyOp>(op))
    return cast<linalg::CopyOp>(op).hasPureBufferSemantics();
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1 ||
      generic.getNumReductionLoops() != 0 ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isIdentity() ||
      (identityInput &&
       !generic.getMatchingIndexingMap(generic.getDpsInputOperand(0))
            .isIdentity()))
    return false;
  Block &body = generic.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  return body.without_terminator().empty() && yield.getNumOperands() == 1 &&
         yield.getOperand(0) == body.getArgument(0);
}

/// A padded buffer: an allocation filled with zeros whose interior (a
/// static subview of unit strides) a copy fills from `source`, which the
/// tiles then read directly, zeros outside the interior.
struct Padding {
  Value source;
  SmallVector<int64_t> offsets, sizes;
  /// The fill, the interior's copy and view, and the allocation, when
  /// nothing else uses it (they go with the gather's copy).
  SmallVector<Operation *> erasable;
};

/// The buffer `padded`, read by `reader`, as a Padding, if it is one: an
/// allocation that a zero fill (linalg.fill, or a linalg op of no input
/// yielding zero) and then a copy into one static subview write, in that
/// order before `reader`, and that every other op only reads; nothing
/// writes the copy's source between the copy and `product`.
std::optional<Padding> matchPadding(Value padded, Operation *reader,
                                    Operation *product) {
  auto alloc = padded.getDefiningOp<memref::AllocOp>();
  if (!alloc || !alloc.getType().hasStaticShape())
    return std::nullopt;
  Operation *fill = nullptr, *copy = nullptr;
  memref::SubViewOp interior;
  bool shared = false;
  auto isZero = [](Value v) {
    return matchPattern(v, m_PosZeroFloat()) || matchPattern(v, m_Zero());
  };
  for (Operation *user : alloc->getUsers()) {
    if (user == reader || isa<memref::DeallocOp>(user))
      continue;
    if (auto sub = dyn_cast<memref::SubViewOp>(user)) {
      if (interior || !sub->hasOneUse())
        return std::nullopt;
      interior = sub;
      copy = *sub->getUsers().begin();
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    if (!linalgOp || !linalgOp.hasPureBufferSemantics())
      return std::nullopt;
    bool writes =
        llvm::any_of(linalgOp.getDpsInitsMutable(), [&](OpOperand &o) {
          return mlir::trueno::rootBuffer(o.get()) == alloc.getResult();
        });
    if (!writes) {
      shared = true; // another reader (a gradient's)
      continue;
    }
    if (fill)
      return std::nullopt;
    if (auto f = dyn_cast<linalg::FillOp>(user)) {
      if (!isZero(f.getDpsInputOperand(0)->get()))
        return std::nullopt;
    } else {
      if (linalgOp.getNumDpsInputs() != 0 || linalgOp.getNumDpsInits() != 1)
        return std::nullopt;
      auto yield =
          dyn_cast<linalg::YieldOp>(user->getRegion(0).front().getTerminator());
      if (!yield || yield.getNumOperands() != 1 || !isZero(yield.getOperand(0)))
        return std::nullopt;
    }
    if (linalgOp.getDpsInitOperand(0)->get() != alloc.getResult())
      return std::nullopt;
    fill = user;
  }
  if (!fill || !interior || !copy || !isPureCopy(copy) ||
      cast<DestinationStyleOpInterface>(copy).getDpsInitOperand(0)->get() !=
          interior.getResult() ||
      fill->getBlock() != reader->getBlock() ||
      copy->getBlock() != reader->getBlock() || !fill->isBeforeInBlock(copy) ||
      !copy->isBeforeInBlock(reader))
    return std::nullopt;
  if (!llvm::all_of(interior.getStaticStrides(),
                    [](int64_t s) { return s == 1; }) ||
      ShapedType::isDynamicShape(interior.getStaticOffsets()) ||
      ShapedType::isDynamicShape(interior.getStaticSizes()) ||
      interior.getSourceType().getRank() != interior.getType().getRank())
    return std::nullopt;
  Value source =
      cast<DestinationStyleOpInterface>(copy).getDpsInputOperand(0)->get();
  auto sourceType = dyn_cast<MemRefType>(source.getType());
  if (!sourceType || sourceType.getShape() != interior.getType().getShape() ||
      sourceType.getElementType() != alloc.getType().getElementType() ||
      !unwrittenBetween(mlir::trueno::rootBuffer(source), copy, product))
    return std::nullopt;
  Padding padding{source,
                  SmallVector<int64_t>(interior.getStaticOffsets()),
                  SmallVector<int64_t>(interior.getStaticSizes()),
                  {}};
  if (!shared)
    padding.erasable = {copy, interior, fill};
  return padding;
}

/// An operand of a product that is a copy, made just before it, of
/// another buffer read through an affine map (trueno-convolutions-as-
/// matmuls' im2col: col[n][c][kh][kw][oh][ow] = x[n][c][oh sh + kh dh]
/// [ow sw + kw dw], viewed as [N, C KH KW, OH OW]): the tiles read the
/// source directly, and the copy and its scratch buffer go (an implicit
/// GEMM: no scratch write and read, no limit on the scratch's size). Where
/// the source is a zero-padded copy of another buffer (a convolution's
/// padding), the tiles read that buffer, zeros outside its interior.
struct Gather {
  linalg::GenericOp copy;
  memref::CollapseShapeOp view; ///< the copy's buffer as the operand
  Value source;                 ///< what the copy reads
  AffineMap read;               ///< the copy's element -> source indices
  SmallVector<int64_t> shape;   ///< the copy's buffer's shape
  SmallVector<ReassociationIndices> groups; ///< the operand's dimensions
  std::optional<Padding> padding;           ///< of the source
};

/// `operand` of `product` as a Gather, if it is one: a collapse_shape of an
/// allocation that a pure copy (a generic of parallel loops yielding its
/// one input, written through the identity) fills earlier in the block,
/// that the product alone reads, and whose source nothing between them
/// writes.
std::optional<Gather> matchGather(Value operand, Operation *product) {
  auto view = operand.getDefiningOp<memref::CollapseShapeOp>();
  if (!view || !view->hasOneUse())
    return std::nullopt;
  auto alloc = view.getSrc().getDefiningOp<memref::AllocOp>();
  if (!alloc || !alloc.getType().hasStaticShape())
    return std::nullopt;
  linalg::GenericOp copy;
  for (Operation *user : alloc->getUsers()) {
    if (user == view || isa<memref::DeallocOp>(user))
      continue;
    auto generic = dyn_cast<linalg::GenericOp>(user);
    if (!generic || copy)
      return std::nullopt;
    copy = generic;
  }
  if (!copy || !isPureCopy(copy, /*identityInput=*/false) ||
      copy.getDpsInitOperand(0)->get() != alloc.getResult() ||
      copy->getBlock() != product->getBlock() ||
      !copy->isBeforeInBlock(product))
    return std::nullopt;
  OpOperand *input = copy.getDpsInputOperand(0);
  Value source = input->get();
  auto sourceType = dyn_cast<MemRefType>(source.getType());
  if (!sourceType ||
      sourceType.getElementType() != alloc.getType().getElementType() ||
      !unwrittenBetween(mlir::trueno::rootBuffer(source), copy, product))
    return std::nullopt;
  return Gather{copy,
                view,
                source,
                copy.getMatchingIndexingMap(input),
                SmallVector<int64_t>(alloc.getType().getShape()),
                view.getReassociationIndices(),
                matchPadding(source, copy, product)};
}

struct TileMatmulsPass
    : public mlir::trueno::impl::TileMatmulsBase<TileMatmulsPass> {
  using TileMatmulsBase::TileMatmulsBase;

  void runOnOperation() override {
    if (workgroupSize < kThreads)
      return;
    SmallVector<linalg::LinalgOp> products;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          op.hasPureBufferSemantics() && !op->getParentOfType<gpu::LaunchOp>())
        products.push_back(op);
    });
    for (linalg::LinalgOp op : products)
      rewrite(op);
  }

  void rewrite(linalg::LinalgOp op) {
    bool batched = isa<linalg::BatchMatmulOp>(op);
    Value a = op.getDpsInputOperand(0)->get(),
          bIn = op.getDpsInputOperand(1)->get(),
          c = op.getDpsInitOperand(0)->get();
    auto aType = dyn_cast<MemRefType>(a.getType());
    auto bType = dyn_cast<MemRefType>(bIn.getType());
    auto cType = dyn_cast<MemRefType>(c.getType());
    if (!aType || !bType || !cType || !aType.hasStaticShape() ||
        !bType.hasStaticShape() || !cType.hasStaticShape())
      return;
    // C is float32; A and B float32, or float16 or bfloat16 widened
    // exactly (trueno-fold-widening-into-matmuls). Or all three float64
    // (NumPy's default type, where the device has it), or all three 32- or
    // 64-bit integers: the float32 kernel in that type, its tiles, partial
    // sums and multiply-adds (integers wrapping, as the CPU's).
    Type accType = cType.getElementType();
    const bool sameType =
        accType.isF64() || accType.isInteger(32) || accType.isInteger(64);
    auto isInputType = [&](Type t) {
      return sameType ? t == accType : t.isF32() || t.isF16() || t.isBF16();
    };
    if (!(accType.isF32() || sameType) ||
        !isInputType(aType.getElementType()) ||
        !isInputType(bType.getElementType()))
      return;
    // Operands copied just before from another buffer (an im2col): read
    // from that buffer instead, element by element.
    const size_t operandDims = batched ? 3 : 2;
    std::optional<Gather> gatherA, gatherB;
    if (implicitGemm) {
      gatherA = matchGather(a, op);
      gatherB = matchGather(bIn, op);
    }
    // (Not where the source is C's buffer, which the product writes while
    // the tiles read: the copy read it before.)
    Value writtenRoot = mlir::trueno::rootBuffer(c);
    for (std::optional<Gather> *g : {&gatherA, &gatherB}) {
      if (!*g)
        continue;
      Value read = mlir::trueno::rootBuffer(
          (*g)->padding ? (*g)->padding->source : (*g)->source);
      if ((*g)->groups.size() != operandDims || !writtenRoot ||
          read == writtenRoot)
        g->reset();
    }
    // The cooperative kernel where both inputs are float16 (or bfloat16,
    // with `cooperative-bf16`) and its tiles fit in the device's workgroup
    // memory. bfloat16 rides on float16 matrices: the tiles and fragments
    // carry its bits, and the matrix multiply-adds are marked
    // `trueno.bfloat16`, for serialization to retype the matrices
    // (MLIR 19's SPIR-V has no bfloat16: retypeBFloat16Matrices).
    std::optional<CooperativeShape> shape;
    // (bfloat16 only where both inputs are copied in wide groups, read
    // directly: its bits then never pass through a 16-bit integer, which
    // the device may not have.)
    // Whether the cooperative kernel would copy an input in groups of 8
    // (read directly, its rows groups of 8 in memory).
    auto wideGroups = [&](MemRefType type, const std::optional<Gather> &g) {
      return cooperativeWideLoads && !g &&
             copyVectorWidth(type, kWideGroup) == kWideGroup;
    };
    const bool bfloat16Inputs =
        aType.getElementType().isBF16() && bType.getElementType().isBF16();
    const bool bfloat16Wide = cooperativeBf16 && bfloat16Inputs &&
                              wideGroups(aType, gatherA) &&
                              wideGroups(bType, gatherB);
    int64_t batches = batched ? cType.getDimSize(0) : 1;
    int64_t m = cType.getDimSize(batched ? 1 : 0),
            n = cType.getDimSize(batched ? 2 : 1),
            k = aType.getDimSize(batched ? 2 : 1);
    if (m < 32 || n < 32 || k < 1)
      return;
    // Split-K for `tiles` output tiles, the chunks a whole number of `unit`
    // contraction elements: {chunks, chunk}, {1, k} where it does not pay.
    // Every chunk's product goes into its own slice of `partial`, summed
    // into C after.
    auto splitFor = [&](int64_t tiles,
                        int64_t unit) -> std::pair<int64_t, int64_t> {
      if (tiles < 1 || tiles >= kSplitBelowTiles || k < 2 * kMinChunk)
        return {1, k};
      int64_t wanted =
          std::min((kSplitTiles + tiles - 1) / tiles, k / kMinChunk);
      int64_t chunk = (k + wanted - 1) / wanted;
      chunk = (chunk + unit - 1) / unit * unit;
      int64_t chunks = (k + chunk - 1) / chunk; // the last chunk is not empty
      if (chunks < 2 || chunks * batches * m * n > kMaxPartials)
        return {1, k};
      return {chunks, chunk};
    };
    // Whether C's rows start 16-byte aligned: the cooperative kernel then
    // adds the fragments of tiles inside C to C directly.
    SmallVector<int64_t> cStrides;
    int64_t cOffset = 0;
    const bool cAligned =
        succeeded(getStridesAndOffset(cType, cStrides, cOffset)) &&
        !ShapedType::isDynamic(cOffset) && cOffset % 4 == 0 &&
        cStrides.back() == 1 && llvm::all_of(cStrides, [](int64_t s) {
          return !ShapedType::isDynamic(s) && (s == 1 || s % 4 == 0);
        });
    // Whether a cooperative product of `columns`-column tiles runs on
    // workgroup-scope matrices of its whole tiles (every tile inside C,
    // C's rows aligned, `chunks` 1: no split-K), and whether that kernel
    // loads its matrices from the inputs (16-bit rows in groups of 8 in
    // memory, K a whole number of steps of `step`).
    auto wholeTiles = [&](int64_t columns, int64_t chunks) {
      return cooperativeWorkgroupScope && cooperativeDirect && cAligned &&
             chunks == 1 && m % kCoopTileRows == 0 && n % columns == 0;
    };
    // (bfloat16 inputs through a float16 view of their buffers: see
    // workgroupBody.)
    auto loadsFromInputs = [&](int64_t step) {
      return cooperativeWorkgroupGlobal && wideGroups(aType, gatherA) &&
             wideGroups(bType, gatherB) && k % step == 0;
    };
    if (cooperativeMatrix &&
        ((aType.getElementType().isF16() && bType.getElementType().isF16()) ||
         bfloat16Wide)) {
      CooperativeShape asked =
          CooperativeShape::asked(cooperativeColumns, cooperativeStep,
                                  cooperativeBuffers, cooperativeSubgroups);
      // With cooperative-tensor-wide-tiles, a product that will load its
      // matrices by tensor loads at 128x256 tiles (the workgroup-matrix
      // kernel's choice below, made for that shape) takes 128x256 tiles of
      // 8 subgroups, whatever the other products' shape.
      CooperativeShape wide = CooperativeShape::asked(
          256, cooperativeStep, cooperativeBuffers, /*subgroups=*/8);
      // (Whole tiles first: a product of fewer rows or columns than a tile
      // has no tiles to count, and splitFor divides by their number.)
      if (cooperativeTensorWideTiles && cooperativeTensorLoads &&
          (!bfloat16Inputs || cooperativeTensorWideBf16) &&
          m % kCoopTileRows == 0 && n % wide.columns == 0 &&
          wholeTiles(wide.columns, splitFor(batches * (m / kCoopTileRows) *
                                                (n / wide.columns),
                                            wide.step)
                                       .first) &&
          loadsFromInputs(wide.step))
        shape = CooperativeShape::fit(wide, workgroupMemory);
      if (!shape || shape->columns != wide.columns)
        shape = CooperativeShape::fit(asked, workgroupMemory);
    }
    const bool cooperative = shape.has_value();
    // Threads a workgroup: the cooperative kernel's subgroups, else 256.
    const int64_t threads = cooperative ? shape->threads() : kThreads;
    // Outputs per thread and side, and so per workgroup and side.
    auto tilesFor = [&](int64_t tile) {
      return batches * ((m + tile - 1) / tile) * ((n + tile - 1) / tile);
    };
    const int64_t kPer =
        largeTiles && tilesFor(128) >= kLargeTileMinTiles ? 8 : 4;
    const int64_t tileM = cooperative ? kCoopTileRows : kSide * kPer;
    const int64_t tileN = cooperative ? shape->columns : kSide * kPer;
    const int64_t kStepHere = cooperative ? shape->step : kStep;
    int64_t tilesM = (m + tileM - 1) / tileM, tilesN = (n + tileN - 1) / tileN;
    if (batches > std::numeric_limits<int32_t>::max() / (tilesM * tilesN))
      return;
    int64_t tiles = batches * tilesM * tilesN;
    // Split-K: `chunks` chunks of `chunk` contraction elements each (a
    // multiple of the step, so that no step straddles two; two copies of
    // the cooperative tiles take two steps a loop iteration, so a chunk is
    // a whole number of iterations).
    int64_t chunks = 1, chunk = k;
    std::tie(chunks, chunk) = splitFor(
        tiles, kStepHere * (cooperative && shape->buffers == 2 ? 2 : 1));
    int64_t groups = std::min<int64_t>(chunks * tiles, maxWorkgroupCount);
    // C filled with zeros just before (a product's usual start): every
    // element of C is one thread's or one fragment's to write, so the
    // kernel stores its sums, and the fill goes. Without split-K only (its
    // chunks add into C). A launch and a read of C saved: 2 x 64 MiB of a
    // 4096 x 4096 product.
    // (The fill may be of the buffer C views, whole, and views,
    // allocations and the gathers' copies, which touch no C, may come
    // between: a convolution's.)
    linalg::FillOp zeroFill;
    Value cRoot = mlir::trueno::rootBuffer(c);
    auto wholeOfRoot = [&](Value v) {
      auto type = cast<MemRefType>(v.getType());
      auto rootType = dyn_cast<MemRefType>(cRoot.getType());
      return rootType && rootType.hasStaticShape() &&
             type.getNumElements() == rootType.getNumElements();
    };
    auto touchesNoC = [&](Operation *between) {
      if (isa<memref::AllocOp, ViewLikeOpInterface>(between) ||
          isMemoryEffectFree(between))
        return true;
      for (std::optional<Gather> *g : {&gatherA, &gatherB})
        if (*g && (*g)->copy == between &&
            mlir::trueno::rootBuffer((*g)->source) != cRoot)
          return true;
      return false;
    };
    Operation *before = op->getPrevNode();
    while (before && cRoot && touchesNoC(before))
      before = before->getPrevNode();
    if (chunks == 1 && cRoot && wholeOfRoot(c))
      if (auto fill = dyn_cast_or_null<linalg::FillOp>(before))
        if (fill.hasPureBufferSemantics() &&
            mlir::trueno::rootBuffer(fill.getDpsInitOperand(0)->get()) ==
                cRoot &&
            wholeOfRoot(fill.getDpsInitOperand(0)->get()) &&
            (matchPattern(fill.getDpsInputOperand(0)->get(),
                          m_PosZeroFloat()) ||
             matchPattern(fill.getDpsInputOperand(0)->get(), m_Zero())))
          zeroFill = fill;

    Location loc = op.getLoc();
    OpBuilder b(op);
    auto index = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    gpu::LaunchOp launch = mlir::trueno::createLaunch(b, loc, groups, threads);
    b.setInsertionPoint(launch.getBody().front().getTerminator());
    Attribute workgroup =
        b.getI64IntegerAttr(mlir::trueno::kWorkgroupMemorySpace);
    auto workgroupBuffer = [&](ArrayRef<int64_t> dims, Type element) {
      return b.create<memref::AllocOp>(
          loc, MemRefType::get(dims, element, MemRefLayoutAttrInterface(),
                               workgroup));
    };
    Value tid = launch.getThreadIds().x;

    Value partial;
    if (chunks > 1) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(launch);
      SmallVector<int64_t> dims = {chunks};
      if (batched)
        dims.push_back(batches);
      dims.append({m, n});
      partial = b.create<memref::AllocOp>(loc, MemRefType::get(dims, accType));
    }
    // Workgroup memory and per-workgroup values before the tile loop. The
    // cooperative kernel's tiles are [buffer][row][group of halves]: a
    // thread stores each group it copies with one store (element by
    // element, the stores were 4 times as many), and the fragments are
    // loaded in units of groups (SPV_KHR_cooperative_matrix allows a
    // pointer to vectors, of another type than the matrix's, the stride in
    // vectors). A group is 8 halves (16 bytes, as vector<4xi32>: one load
    // and one store a group) where the input's rows are groups of 8 in
    // memory and `cooperative-wide-loads`, else 4 (vector<4xf16>).
    const int64_t groupA =
        cooperative && wideGroups(aType, gatherA) ? kWideGroup : kCopyVector;
    const int64_t groupB =
        cooperative && wideGroups(bType, gatherB) ? kWideGroup : kCopyVector;
    Value aTile, bTile, cStage, subgroup, tx, ty;
    if (cooperative) {
      auto groupType = [&](int64_t halves) -> Type {
        return halves == kWideGroup
                   ? VectorType::get({4}, b.getI32Type())
                   : VectorType::get({kCopyVector}, b.getF16Type());
      };
      aTile = workgroupBuffer(
          {shape->buffers, tileM, (kStepHere + kCoopPad) / groupA},
          groupType(groupA));
      bTile = workgroupBuffer(
          {shape->buffers, kStepHere, (tileN + kCoopPad) / groupB},
          groupType(groupB));
      cStage = workgroupBuffer({shape->subgroups * kFragment, kFragment},
                               b.getF32Type());
      // The subgroup's own index: SPIR-V does not promise which threads
      // form a subgroup.
      subgroup = b.create<gpu::SubgroupIdOp>(loc, /*upper_bound=*/nullptr);
    } else {
      aTile = workgroupBuffer({tileM, kStep}, accType);
      bTile = workgroupBuffer({kStep, tileN}, accType);
      tx = b.create<arith::RemUIOp>(loc, tid, index(kSide));
      ty = b.create<arith::DivUIOp>(loc, tid, index(kSide));
    }

    auto tileLoop = b.create<scf::ForOp>(loc, launch.getBlockIds().x,
                                         index(chunks * tiles), index(groups));
    b.setInsertionPoint(tileLoop.getBody()->getTerminator());
    Value t = tileLoop.getInductionVar();
    // The contraction's chunk [kBegin, kEnd): all of K without split-K.
    Value kBegin = index(0), kEnd = index(k), part;
    if (chunks > 1) {
      part = b.create<arith::DivUIOp>(loc, t, index(tiles));
      t = b.create<arith::RemUIOp>(loc, t, index(tiles));
      kBegin = b.create<arith::MulIOp>(loc, part, index(chunk));
      kEnd = b.create<arith::MinUIOp>(
          loc, b.create<arith::AddIOp>(loc, kBegin, index(chunk)), index(k));
    }
    // The tile's row and column: row by row, or in groups of `groupRows`
    // tile rows taken column by column (the last group may be shorter),
    // so that the workgroups running at once read a few columns of B as
    // well as a few rows of A, and find them in the L2 cache.
    const int64_t groupRows = std::min<int64_t>(tileGroupRows, tilesM);
    Value tm, tn, batch;
    if (groupRows <= 1 || tilesN == 1) {
      tn = b.create<arith::RemUIOp>(loc, t, index(tilesN));
      t = b.create<arith::DivUIOp>(loc, t, index(tilesN));
      tm = b.create<arith::RemUIOp>(loc, t, index(tilesM));
      batch = b.create<arith::DivUIOp>(loc, t, index(tilesM));
    } else {
      Value inBatch = b.create<arith::RemUIOp>(loc, t, index(tilesM * tilesN));
      batch = b.create<arith::DivUIOp>(loc, t, index(tilesM * tilesN));
      Value group =
          b.create<arith::DivUIOp>(loc, inBatch, index(groupRows * tilesN));
      Value within =
          b.create<arith::RemUIOp>(loc, inBatch, index(groupRows * tilesN));
      Value first = b.create<arith::MulIOp>(loc, group, index(groupRows));
      Value rows = b.create<arith::MinUIOp>(
          loc, b.create<arith::SubIOp>(loc, index(tilesM), first),
          index(groupRows));
      tm = b.create<arith::AddIOp>(loc, first,
                                   b.create<arith::RemUIOp>(loc, within, rows));
      tn = b.create<arith::DivUIOp>(loc, within, rows);
    }
    Value m0 = b.create<arith::MulIOp>(loc, tm, index(tileM));
    Value n0 = b.create<arith::MulIOp>(loc, tn, index(tileN));
    // Indices into A, B or C: the batch first where there is one.
    auto at = [&](Value row, Value column) {
      SmallVector<Value> indices;
      if (batched)
        indices.push_back(batch);
      indices.push_back(row);
      indices.push_back(column);
      return indices;
    };
    // What `load` gives (of `type`) where `inRange`, else 0 (an edge tile).
    auto orZero = [&](OpBuilder &at2, Value inRange, Type type,
                      function_ref<Value(OpBuilder &, Location)> load) {
      auto branch = at2.create<scf::IfOp>(
          loc, inRange,
          [&](OpBuilder &then, Location l) {
            then.create<scf::YieldOp>(l, ValueRange{load(then, l)});
          },
          [&](OpBuilder &otherwise, Location l) {
            otherwise.create<scf::YieldOp>(
                l, ValueRange{otherwise.create<arith::ConstantOp>(
                       l, otherwise.getZeroAttr(type))});
          });
      return branch.getResult(0);
    };
    auto less = [&](OpBuilder &at2, Value x, int64_t bound) -> Value {
      return at2.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::ult, x,
          at2.create<arith::ConstantIndexOp>(loc, bound));
    };
    // The step's tiles of A (tile x step) and B (step x tile) into
    // workgroup memory, `threads` groups a round, zeros past the edges. A
    // thread copies `width` consecutive elements a round: 4 where the
    // input allows them as one load (one vector.load: trueno-flatten-
    // kernel-buffers makes it one wide load), a group being all inside or
    // all outside; for the cooperative kernel always 4 (its tiles' unit),
    // loaded one by one where the input does not allow one load.
    // One tile's elements this thread copies: round r's group of `width`
    // is at (tr, tc) of the tile, from (row0 + tr, column0 + tc).
    struct TileCopy {
      Value from, tile;
      int64_t rows, columns, width;
      int64_t rowBound, columnBound;
      bool wideLoads;       ///< the group as one vector.load
      const Gather *gather; ///< read through the copy's map, or null
    };
    // The source's indices of a gathered operand's element (row, column)
    // (and the batch): the copy's buffer's indices, each of the operand's
    // dimensions delinearized over its group, through the copy's map; with
    // padding, the padded buffer's indices less the interior's offsets, and
    // whether they are inside the interior (else null: always).
    auto gathered = [&](OpBuilder &kb, Location l, const Gather &g, Value row,
                        Value column) -> std::pair<SmallVector<Value>, Value> {
      SmallVector<Value> operandIndices;
      if (batched)
        operandIndices.push_back(batch);
      operandIndices.append({row, column});
      SmallVector<Value> full(g.shape.size());
      for (auto [group, at2] : llvm::zip(g.groups, operandIndices)) {
        Value rest = at2;
        for (int64_t i = static_cast<int64_t>(group.size()) - 1; i > 0; --i) {
          Value size = kb.create<arith::ConstantIndexOp>(l, g.shape[group[i]]);
          full[group[i]] = kb.create<arith::RemUIOp>(l, rest, size);
          rest = kb.create<arith::DivUIOp>(l, rest, size);
        }
        full[group[0]] = rest;
      }
      SmallVector<Value> indices;
      for (AffineExpr e : g.read.getResults())
        indices.push_back(kb.create<affine::AffineApplyOp>(
            l, AffineMap::get(g.read.getNumDims(), 0, e), full));
      if (!g.padding)
        return {indices, Value()};
      auto padded = cast<MemRefType>(g.source.getType());
      auto c = [&](int64_t v) -> Value {
        return kb.create<arith::ConstantIndexOp>(l, v);
      };
      Value valid;
      for (size_t d = 0; d < indices.size(); ++d) {
        Value &index = indices[d];
        int64_t offset = g.padding->offsets[d], size = g.padding->sizes[d];
        if (offset == 0 && size == padded.getDimSize(d))
          continue;
        Value from = kb.create<arith::CmpIOp>(l, arith::CmpIPredicate::uge,
                                              index, c(offset));
        Value to = kb.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, index,
                                            c(offset + size));
        Value within = kb.create<arith::AndIOp>(l, from, to);
        valid = valid ? kb.create<arith::AndIOp>(l, valid, within) : within;
        if (offset != 0)
          index = kb.create<arith::SubIOp>(l, index, c(offset));
      }
      return {indices, valid};
    };
    auto position = [&](OpBuilder &kb, Location l, const TileCopy &t,
                        int64_t r) -> std::pair<Value, Value> {
      auto c = [&](int64_t v) -> Value {
        return kb.create<arith::ConstantIndexOp>(l, v);
      };
      const int64_t groupsPerRow = t.columns / t.width;
      Value e = kb.create<arith::AddIOp>(l, tid, c(r * threads));
      Value tr = kb.create<arith::DivUIOp>(l, e, c(groupsPerRow));
      Value tc = kb.create<arith::RemUIOp>(l, e, c(groupsPerRow));
      if (t.width > 1)
        tc = kb.create<arith::MulIOp>(l, tc, c(t.width));
      return {tr, tc};
    };
    auto rounds = [&](const TileCopy &t) {
      return t.rows * t.columns / t.width / threads;
    };
    // The thread's elements of a tile: a scalar (widened to the tile's
    // type) or a vector per round, zeros past the edges.
    auto loadTile = [&](OpBuilder &kb, Location l, const TileCopy &t,
                        Value row0, Value column0, SmallVector<Value> &out) {
      Type element = cast<MemRefType>(t.tile.getType()).getElementType();
      Type input = cast<MemRefType>(t.from.getType()).getElementType();
      for (int64_t r = 0; r < rounds(t); ++r) {
        auto [tr, tc] = position(kb, l, t, r);
        Value row = kb.create<arith::AddIOp>(l, row0, tr);
        Value col = kb.create<arith::AddIOp>(l, column0, tc);
        auto inside = [&](Value column) -> Value {
          return kb.create<arith::AndIOp>(l, less(kb, row, t.rowBound),
                                          less(kb, column, t.columnBound));
        };
        if (t.wideLoads) {
          // A wide group of halves reaches the tile as the tile's
          // vector<4xi32> (trueno-flatten-kernel-buffers loads it as one).
          auto vectorType = VectorType::get({t.width}, input);
          Type groupType = isa<VectorType>(element) ? element : vectorType;
          out.push_back(orZero(
              kb, inside(col), groupType, [&](OpBuilder &then, Location l2) {
                Value v = then.create<vector::LoadOp>(l2, vectorType, t.from,
                                                      at(row, col));
                return groupType == vectorType
                           ? v
                           : then.create<vector::BitCastOp>(l2, groupType, v);
              }));
          continue;
        }
        // One by one, each widened to the tile's element type.
        Type scalar = getElementTypeOrSelf(element);
        SmallVector<Value> elements;
        for (int64_t i = 0; i < t.width; ++i) {
          Value column =
              i == 0 ? col
                     : kb.create<arith::AddIOp>(
                           l, col, kb.create<arith::ConstantIndexOp>(l, i));
          // A gathered element's indices before the branch: with padding,
          // its condition needs them.
          Value condition = inside(column);
          SmallVector<Value> source;
          if (t.gather) {
            auto [indices, valid] = gathered(kb, l, *t.gather, row, column);
            source = indices;
            if (valid)
              condition = kb.create<arith::AndIOp>(l, condition, valid);
          }
          elements.push_back(
              orZero(kb, condition, scalar, [&](OpBuilder &then, Location l2) {
                Value v =
                    t.gather ? then.create<memref::LoadOp>(
                                   l2,
                                   t.gather->padding ? t.gather->padding->source
                                                     : t.gather->source,
                                   source)
                             : then.create<memref::LoadOp>(l2, t.from,
                                                           at(row, column));
                return v.getType() == scalar
                           ? v
                           : then.create<arith::ExtFOp>(l2, scalar, v);
              }));
        }
        if (t.width == 1) {
          out.push_back(elements[0]);
          continue;
        }
        // A group by vector.insert (MLIR 19 converts no
        // vector.from_elements to SPIR-V).
        auto groupType = VectorType::get({t.width}, scalar);
        Value group =
            kb.create<arith::ConstantOp>(l, kb.getZeroAttr(groupType));
        for (int64_t i = 0; i < t.width; ++i)
          group = kb.create<vector::InsertOp>(l, elements[i], group, i);
        out.push_back(group);
      }
    };
    // Round r's values into the tile (`buffer`: the cooperative kernel's
    // copy of it): one store where the tile holds groups, else element by
    // element.
    auto storeTile = [&](OpBuilder &kb, Location l, const TileCopy &t,
                         Value buffer, ValueRange loaded) {
      Type element = cast<MemRefType>(t.tile.getType()).getElementType();
      for (int64_t r = 0; r < rounds(t); ++r) {
        auto [tr, tc] = position(kb, l, t, r);
        if (buffer) {
          Value group = kb.create<arith::DivUIOp>(
              l, tc, kb.create<arith::ConstantIndexOp>(l, t.width));
          kb.create<memref::StoreOp>(l, loaded[r], t.tile,
                                     ValueRange{buffer, tr, group});
          continue;
        }
        if (t.width == 1) {
          kb.create<memref::StoreOp>(l, loaded[r], t.tile, ValueRange{tr, tc});
          continue;
        }
        for (int64_t i = 0; i < t.width; ++i) {
          Value v = kb.create<vector::ExtractOp>(l, loaded[r], i);
          if (v.getType() != element)
            v = kb.create<arith::ExtFOp>(l, element, v);
          kb.create<memref::StoreOp>(
              l, v, t.tile,
              ValueRange{tr,
                         kb.create<arith::AddIOp>(
                             l, tc, kb.create<arith::ConstantIndexOp>(l, i))});
        }
      }
    };
    const int64_t widthA = gatherA ? 1 : copyVectorWidth(aType);
    const int64_t widthB = gatherB ? 1 : copyVectorWidth(bType);
    const TileCopy copyA{a,
                         aTile,
                         tileM,
                         kStepHere,
                         cooperative ? groupA : widthA,
                         m,
                         k,
                         groupA == kWideGroup || widthA == kCopyVector,
                         gatherA ? &*gatherA : nullptr};
    const TileCopy copyB{bIn,
                         bTile,
                         kStepHere,
                         tileN,
                         cooperative ? groupB : widthB,
                         k,
                         n,
                         groupB == kWideGroup || widthB == kCopyVector,
                         gatherB ? &*gatherB : nullptr};
    auto loadTiles = [&](OpBuilder &kb, Location l, Value k0) {
      SmallVector<Value> loaded;
      loadTile(kb, l, copyA, m0, k0, loaded);
      loadTile(kb, l, copyB, k0, n0, loaded);
      return loaded;
    };
    auto storeTiles = [&](OpBuilder &kb, Location l, Value buffer,
                          ValueRange loaded) {
      storeTile(kb, l, copyA, buffer, loaded.take_front(rounds(copyA)));
      storeTile(kb, l, copyB, buffer, loaded.drop_front(rounds(copyA)));
    };
    // The contraction loop over [kBegin, kEnd) by `step`, carrying `init`.
    // With one copy of the tiles, each step stores them into workgroup
    // memory, waits at a barrier, runs `compute`, and waits at a barrier
    // again. With `prefetch`, the next step's elements are loaded into
    // registers before `compute` (carried by the loop), so that their
    // latency overlaps the arithmetic; the first step's before the loop.
    // Every chunk has at least one step, so the carried values are defined.
    // The cooperative kernel always prefetches: on an H100 it took float16
    // 4096 products from 1.68 to 1.27 ms and 8192 from 10.5 to 7.6 (the
    // float32 tiles moved within the noise, so there it is the option).
    //
    // With two copies (`buffers`), each loop iteration takes two steps,
    // the copies' indices constants: step 2j stores step 2j + 1's elements
    // into copy 1 while it computes from copy 0, step 2j + 1 stores step
    // 2j + 2's into copy 0 while it computes from copy 1, each loading the
    // next step's elements before its arithmetic and waiting at one barrier
    // after it: the copy a step stores into was last read by the step
    // before, which every thread finished before that step's barrier. The
    // first step's tiles are stored before the loop. An odd number of steps
    // gets one more, of zeros (the loads stop at K; a chunk of split-K is a
    // whole number of iterations). On an H100, a float16 4096 product of 4
    // subgroups took 0.833 ms so, 0.853-0.891 with the copy's index carried
    // by the loop, and 0.61 with one copy (the default).
    const bool prefetchHere = prefetch || cooperative;
    const int64_t buffers = cooperative ? shape->buffers : 0;
    auto contraction = [&](OpBuilder &at2, int64_t step, ValueRange init,
                           Compute compute) -> SmallVector<Value> {
      auto c = [&](OpBuilder &kb, int64_t v) -> Value {
        return kb.create<arith::ConstantIndexOp>(loc, v);
      };
      SmallVector<Value> carried(init.begin(), init.end());
      const size_t accumulators = carried.size();
      if (buffers == 2) {
        storeTiles(at2, loc, c(at2, 0), loadTiles(at2, loc, kBegin));
        at2.create<gpu::BarrierOp>(loc);
        llvm::append_range(carried, loadTiles(at2, loc,
                                              at2.create<arith::AddIOp>(
                                                  loc, kBegin, c(at2, step))));
        // [kBegin, kEnd) rounded up to whole iterations of 2 steps.
        Value length = at2.create<arith::SubIOp>(loc, kEnd, kBegin);
        Value iterations = at2.create<arith::DivUIOp>(
            loc, at2.create<arith::AddIOp>(loc, length, c(at2, 2 * step - 1)),
            c(at2, 2 * step));
        Value end = at2.create<arith::AddIOp>(
            loc, kBegin,
            at2.create<arith::MulIOp>(loc, iterations, c(at2, 2 * step)));
        auto loop = at2.create<scf::ForOp>(
            loc, kBegin, end, c(at2, 2 * step), carried,
            [&](OpBuilder &kb, Location l, Value k0, ValueRange values) {
              SmallVector<Value> acc(values.take_front(accumulators));
              SmallVector<Value> pending(values.drop_front(accumulators));
              for (int64_t half = 0; half < 2; ++half) {
                storeTiles(kb, l, c(kb, 1 - half), pending);
                pending = loadTiles(
                    kb, l,
                    kb.create<arith::AddIOp>(l, k0, c(kb, (2 + half) * step)));
                acc = compute(kb, l, c(kb, half), acc);
                kb.create<gpu::BarrierOp>(l);
              }
              llvm::append_range(acc, pending);
              kb.create<scf::YieldOp>(l, acc);
            });
        return SmallVector<Value>(loop.getResults().take_front(accumulators));
      }
      Value buffer = buffers == 1 ? c(at2, 0) : Value();
      if (prefetchHere)
        llvm::append_range(carried, loadTiles(at2, loc, kBegin));
      auto loop = at2.create<scf::ForOp>(
          loc, kBegin, kEnd, c(at2, step), carried,
          [&](OpBuilder &kb, Location l, Value k0, ValueRange values) {
            if (prefetchHere)
              storeTiles(kb, l, buffer, values.drop_front(accumulators));
            else
              storeTiles(kb, l, buffer, loadTiles(kb, l, k0));
            kb.create<gpu::BarrierOp>(l);
            SmallVector<Value> next;
            if (prefetchHere)
              next = loadTiles(kb, l,
                               kb.create<arith::AddIOp>(l, k0, c(kb, step)));
            SmallVector<Value> yielded =
                compute(kb, l, buffer, values.take_front(accumulators));
            kb.create<gpu::BarrierOp>(l);
            llvm::append_range(yielded, next);
            kb.create<scf::YieldOp>(l, yielded);
          });
      return SmallVector<Value>(loop.getResults().take_front(accumulators));
    };
    // C[row][col] += sum where inside C (= sum where C was zero-filled; the
    // chunk's partial = sum).
    auto accumulate = [&](OpBuilder &at2, Value row, Value col, Value sum) {
      Value inside =
          at2.create<arith::AndIOp>(loc, less(at2, row, m), less(at2, col, n));
      auto branch = at2.create<scf::IfOp>(loc, inside, /*withElse=*/false);
      OpBuilder then = OpBuilder::atBlockBegin(branch.thenBlock());
      if (chunks > 1) {
        SmallVector<Value> indices = at(row, col);
        indices.insert(indices.begin(), part);
        then.create<memref::StoreOp>(loc, sum, partial, indices);
        return;
      }
      if (zeroFill) {
        then.create<memref::StoreOp>(loc, sum, c, at(row, col));
        return;
      }
      Value old = then.create<memref::LoadOp>(loc, c, at(row, col));
      then.create<memref::StoreOp>(loc, addOf(then, loc, old, sum), c,
                                   at(row, col));
    };

    // Where C's rows start 16-byte aligned, a tile inside C adds each
    // fragment to C by a matrix load and store of its own (no workgroup
    // memory, no barrier); edge tiles and split-K go through cStage.
    std::optional<DirectC> direct;
    if (cooperative && cooperativeDirect && chunks == 1 && cAligned) {
      Value rowsInside = b.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::ule,
          b.create<arith::AddIOp>(loc, m0, index(tileM)), index(m));
      Value columnsInside = b.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::ule,
          b.create<arith::AddIOp>(loc, n0, index(tileN)), index(n));
      direct = DirectC{c, batched ? batch : Value(),
                       cStrides[cStrides.size() - 2], bool(zeroFill),
                       b.create<arith::AndIOp>(loc, rowsInside, columnsInside)};
    }
    // The workgroup-matrix kernel where every tile lies inside C.
    // With `cooperative-workgroup-global`, where both inputs' rows are
    // groups of 8 in memory and K a whole number of steps, its matrices are
    // loaded from the inputs themselves (the driver stages them), no tiles.
    if (cooperative && direct && wholeTiles(tileN, chunks)) {
      std::optional<GlobalInputs> global;
      if (loadsFromInputs(kStepHere)) {
        SmallVector<int64_t> aStrides, bStrides;
        int64_t aOffset = 0, bOffset = 0;
        if (succeeded(getStridesAndOffset(aType, aStrides, aOffset)) &&
            succeeded(getStridesAndOffset(bType, bStrides, bOffset)))
          global = GlobalInputs{a,
                                bIn,
                                batched ? batch : Value(),
                                aStrides[aStrides.size() - 2],
                                bStrides[bStrides.size() - 2],
                                k,
                                cooperativeTensorLoads};
      }
      workgroupBody(b, loc, *shape, groupA, groupB, bfloat16Inputs, aTile,
                    bTile, m0, n0, contraction, *direct, global);
      for (Value unused : {cStage, aTile, bTile})
        if (unused.use_empty())
          unused.getDefiningOp()->erase();
    } else if (cooperative)
      cooperativeBody(b, loc, tid, *shape, groupA, groupB, bfloat16Inputs,
                      aTile, bTile, cStage, subgroup, m0, n0, contraction,
                      accumulate, direct);
    else
      fmaBody(b, loc, kPer, tx, ty, aTile, bTile, m0, n0, contraction,
              accumulate);

    if (chunks > 1) {
      // C += the chunks' products, summed in chunk order: a reduction the
      // rest of the pipeline maps to threads like any other.
      b.setInsertionPointAfter(launch);
      // Loops (C's dimensions..., chunk): parallel ones outermost, so that
      // each thread sums one element's chunks (trueno-parallel-loops-
      // outermost ran before this pass).
      unsigned rank = cType.getRank();
      MLIRContext *context = op.getContext();
      SmallVector<AffineExpr> partialIndex = {getAffineDimExpr(rank, context)};
      SmallVector<AffineExpr> outIndex;
      for (unsigned d = 0; d < rank; ++d) {
        partialIndex.push_back(getAffineDimExpr(d, context));
        outIndex.push_back(getAffineDimExpr(d, context));
      }
      AffineMap partialMap = AffineMap::get(rank + 1, 0, partialIndex, context);
      AffineMap out = AffineMap::get(rank + 1, 0, outIndex, context);
      SmallVector<utils::IteratorType> iterators(rank + 1,
                                                 utils::IteratorType::parallel);
      iterators[rank] = utils::IteratorType::reduction;
      b.create<linalg::GenericOp>(
          loc, ValueRange{partial}, ValueRange{c},
          ArrayRef<AffineMap>{partialMap, out}, iterators,
          [](OpBuilder &body, Location l, ValueRange args) {
            body.create<linalg::YieldOp>(
                l, ValueRange{addOf(body, l, args[1], args[0])});
          });
    }
    op->erase();
    if (zeroFill)
      zeroFill->erase();
    // The gathers' copies and scratch buffers go.
    auto eraseWithDeallocs = [](Value buffer) {
      for (Operation *user : llvm::make_early_inc_range(buffer.getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      if (buffer.use_empty())
        buffer.getDefiningOp()->erase();
    };
    for (std::optional<Gather> *g : {&gatherA, &gatherB}) {
      if (!*g)
        continue;
      Value scratch = (*g)->view.getSrc();
      (*g)->copy->erase();
      (*g)->view->erase();
      eraseWithDeallocs(scratch);
      if ((*g)->padding && !(*g)->padding->erasable.empty()) {
        for (Operation *padOp : (*g)->padding->erasable)
          padOp->erase();
        eraseWithDeallocs((*g)->source);
      }
    }
  }

  /// One step's arithmetic on the accumulators, from the tiles' copy
  /// `buffer` (null where the tiles have one and no buffer index).
  using Compute = llvm::function_ref<SmallVector<Value>(OpBuilder &, Location,
                                                        Value, ValueRange)>;
  using Contraction = llvm::function_ref<SmallVector<Value>(
      OpBuilder &, int64_t, ValueRange, Compute)>;
  using Accumulate = llvm::function_ref<void(OpBuilder &, Value, Value, Value)>;
  /// C for fragments added to it directly: the batch index (or null), the
  /// row stride in elements, and whether the tile lies inside C.
  struct DirectC {
    Value c, batch;
    int64_t rowStride;
    bool overwrite; ///< C is zero-filled: store the sums, no load
    Value inside;
  };

  /// Each thread's (kPer x kPer) block of outputs in registers, by fused
  /// multiply-adds from the float32 tiles.
  static void fmaBody(OpBuilder &b, Location loc, int64_t kPer, Value tx,
                      Value ty, Value aTile, Value bTile, Value m0, Value n0,
                      Contraction contraction, Accumulate accumulate) {
    auto index = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    Type element = cast<MemRefType>(aTile.getType()).getElementType();
    Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(element));
    SmallVector<Value> zeros(kPer * kPer, zero);
    SmallVector<Value> sums = contraction(
        b, kStep, zeros,
        [&](OpBuilder &kb, Location l, Value /*buffer*/, ValueRange acc) {
          auto c = [&](int64_t v) -> Value {
            return kb.create<arith::ConstantIndexOp>(l, v);
          };
          SmallVector<Value> sums(acc.begin(), acc.end());
          for (int64_t kk = 0; kk < kStep; ++kk) {
            SmallVector<Value> as, bs;
            for (int64_t i = 0; i < kPer; ++i)
              as.push_back(kb.create<memref::LoadOp>(
                  l, aTile,
                  ValueRange{kb.create<arith::AddIOp>(l, ty, c(kSide * i)),
                             c(kk)}));
            for (int64_t j = 0; j < kPer; ++j)
              bs.push_back(kb.create<memref::LoadOp>(
                  l, bTile,
                  ValueRange{c(kk),
                             kb.create<arith::AddIOp>(l, tx, c(kSide * j))}));
            for (int64_t i = 0; i < kPer; ++i)
              for (int64_t j = 0; j < kPer; ++j) {
                Value &sum = sums[i * kPer + j];
                sum =
                    isa<IntegerType>(element)
                        ? addOf(kb, l,
                                kb.create<arith::MulIOp>(l, as[i], bs[j]), sum)
                        : kb.create<math::FmaOp>(l, as[i], bs[j], sum);
              }
          }
          return sums;
        });
    // C += the thread's block, where it is inside C.
    for (int64_t i = 0; i < kPer; ++i)
      for (int64_t j = 0; j < kPer; ++j) {
        Value row = b.create<arith::AddIOp>(
            loc, m0, b.create<arith::AddIOp>(loc, ty, index(kSide * i)));
        Value col = b.create<arith::AddIOp>(
            loc, n0, b.create<arith::AddIOp>(loc, tx, index(kSide * j)));
        accumulate(b, row, col, sums[i * kPer + j]);
      }
  }

  /// A and B for the workgroup-matrix kernel to load its matrices from:
  /// the batch index (or null), their row strides in elements, and K.
  struct GlobalInputs {
    Value a, b, batch;
    int64_t aRowStride, bRowStride, k;
    bool tensorLoads; ///< marked for serialization to make tensor loads
  };
  /// The workgroup's whole tile of float32 accumulators as one matrix, by
  /// one matrix multiply-add a step of the step's tiles (or, with `global`,
  /// of matrices loaded from A and B), added to C (every tile inside it) by
  /// one matrix load and store. The matrices are 16x16 stand-ins of
  /// subgroup scope here (MLIR 19 has no other), marked for serialization
  /// to retype to workgroup scope and the tiles' sizes.
  static void workgroupBody(OpBuilder &b, Location loc,
                            const CooperativeShape &shape, int64_t groupA,
                            int64_t groupB, bool bfloat16, Value aTile,
                            Value bTile, Value m0, Value n0,
                            Contraction contraction, const DirectC &direct,
                            const std::optional<GlobalInputs> &global) {
    MLIRContext *context = b.getContext();
    Type f16 = b.getF16Type(), f32 = b.getF32Type();
    auto fragment = [&](Type element, StringRef operand) {
      return gpu::MMAMatrixType::get({kFragment, kFragment}, element, operand);
    };
    auto lead = [&](int64_t v) {
      return IntegerAttr::get(IndexType::get(context), v);
    };
    auto accType = fragment(f32, "COp");
    Value zero = b.create<gpu::SubgroupMmaConstantMatrixOp>(
        loc, accType,
        b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0)).getResult());
    const int64_t step = shape.step;
    Attribute sizes =
        b.getI64ArrayAttr({kCoopTileRows, shape.columns, shape.step});
    auto multiplyAdd = [&](OpBuilder &kb, Location l, Value a, Value bm,
                           Value acc) -> Value {
      auto product = kb.create<gpu::SubgroupMmaComputeOp>(
          l, accType, a, bm, acc, /*a_transpose=*/UnitAttr(),
          /*b_transpose=*/UnitAttr());
      product->setAttr(mlir::trueno::kWorkgroupMatricesAttr, sizes);
      if (global && global->tensorLoads)
        product->setAttr(mlir::trueno::kTensorLoadsAttr, kb.getUnitAttr());
      if (bfloat16)
        product->setAttr(mlir::trueno::kBFloat16MatricesAttr, kb.getUnitAttr());
      return product;
    };
    SmallVector<Value> sum;
    if (global) {
      // K / step multiply-adds of matrices loaded from A and B. A bfloat16
      // input is loaded through a float16 view of its buffer (MLIR 19's
      // matrix load takes no bfloat16 memref): the stand-in matrices carry
      // its bits, retyped to bfloat16 at serialization, and
      // trueno-flatten-kernel-buffers makes the view the kernel argument's
      // type.
      auto halfView = [&](Value input) -> Value {
        auto type = cast<MemRefType>(input.getType());
        if (!type.getElementType().isBF16())
          return input;
        auto view = MemRefType::get(type.getShape(), f16, type.getLayout(),
                                    type.getMemorySpace());
        return b.create<UnrealizedConversionCastOp>(loc, view, input)
            .getResult(0);
      };
      Value aInput = halfView(global->a), bInput = halfView(global->b);
      auto at = [&](Value row, Value column) {
        SmallVector<Value> indices;
        if (global->batch)
          indices.push_back(global->batch);
        indices.append({row, column});
        return indices;
      };
      auto loop = b.create<scf::ForOp>(
          loc, b.create<arith::ConstantIndexOp>(loc, 0),
          b.create<arith::ConstantIndexOp>(loc, global->k),
          b.create<arith::ConstantIndexOp>(loc, step), ValueRange{zero},
          [&](OpBuilder &kb, Location l, Value k0, ValueRange acc) {
            Value a = kb.create<gpu::SubgroupMmaLoadMatrixOp>(
                l, fragment(f16, "AOp"), aInput, at(m0, k0),
                lead(global->aRowStride), /*transpose=*/UnitAttr());
            Value bm = kb.create<gpu::SubgroupMmaLoadMatrixOp>(
                l, fragment(f16, "BOp"), bInput, at(k0, n0),
                lead(global->bRowStride), /*transpose=*/UnitAttr());
            kb.create<scf::YieldOp>(
                l, ValueRange{multiplyAdd(kb, l, a, bm, acc[0])});
          });
      sum.push_back(loop.getResult(0));
    } else
      sum = contraction(
          b, step, ValueRange{zero},
          [&](OpBuilder &kb, Location l, Value buffer, ValueRange acc) {
            Value c0 = kb.create<arith::ConstantIndexOp>(l, 0);
            Value a = kb.create<gpu::SubgroupMmaLoadMatrixOp>(
                l, fragment(f16, "AOp"), aTile, ValueRange{buffer, c0, c0},
                lead((step + kCoopPad) / groupA), /*transpose=*/UnitAttr());
            Value bm = kb.create<gpu::SubgroupMmaLoadMatrixOp>(
                l, fragment(f16, "BOp"), bTile, ValueRange{buffer, c0, c0},
                lead((shape.columns + kCoopPad) / groupB),
                /*transpose=*/UnitAttr());
            return SmallVector<Value>{multiplyAdd(kb, l, a, bm, acc[0])};
          });
    SmallVector<Value> indices;
    if (direct.batch)
      indices.push_back(direct.batch);
    indices.append({m0, n0});
    Value result = sum[0];
    if (!direct.overwrite) {
      Value old = b.create<gpu::SubgroupMmaLoadMatrixOp>(
          loc, accType, direct.c, indices, lead(direct.rowStride),
          /*transpose=*/UnitAttr());
      result = b.create<gpu::SubgroupMmaElementwiseOp>(
          loc, accType, ValueRange{old, result}, gpu::MMAElementwiseOp::ADDF);
    }
    b.create<gpu::SubgroupMmaStoreMatrixOp>(loc, result, direct.c, indices,
                                            lead(direct.rowStride),
                                            /*transpose=*/UnitAttr());
  }

  /// Each subgroup's 4 x (2 or 4) fragments of float32 accumulators, by
  /// the device's matrix multiply-adds from the float16 tiles; then added
  /// to C: with `direct` and the tile inside C, each fragment by a matrix
  /// load, add and store of C; else staged through workgroup memory, one
  /// fragment a round.
  static void cooperativeBody(OpBuilder &b, Location loc, Value tid,
                              const CooperativeShape &shape, int64_t groupA,
                              int64_t groupB, bool bfloat16, Value aTile,
                              Value bTile, Value cStage, Value subgroup,
                              Value m0, Value n0, Contraction contraction,
                              Accumulate accumulate,
                              const std::optional<DirectC> &direct) {
    auto index = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    const int64_t fragmentsN = shape.fragmentsN();
    // Subgroup s's first row and column in the tile.
    auto origin = [&](OpBuilder &ob, Value s) -> std::pair<Value, Value> {
      auto at = [&](int64_t v) -> Value {
        return ob.create<arith::ConstantIndexOp>(loc, v);
      };
      Value row = ob.create<arith::MulIOp>(
          loc, ob.create<arith::DivUIOp>(loc, s, at(shape.subgroupColumns())),
          at(kFragmentsM * kFragment));
      Value column = ob.create<arith::MulIOp>(
          loc, ob.create<arith::RemUIOp>(loc, s, at(shape.subgroupColumns())),
          at(fragmentsN * kFragment));
      return {row, column};
    };
    auto [subgroupRow, subgroupColumn] = origin(b, subgroup);
    // The tiles hold groups of halves (groupA, groupB): columns and strides
    // in groups.
    Value subgroupGroup =
        b.create<arith::DivUIOp>(loc, subgroupColumn, index(groupB));
    MLIRContext *context = b.getContext();
    Type f16 = b.getF16Type(), f32 = b.getF32Type();
    auto fragment = [&](Type element, StringRef operand) {
      return gpu::MMAMatrixType::get({kFragment, kFragment}, element, operand);
    };
    auto accType = fragment(f32, "COp");
    Value zero = b.create<gpu::SubgroupMmaConstantMatrixOp>(
        loc, accType,
        b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0)).getResult());
    SmallVector<Value> zeros(kFragmentsM * fragmentsN, zero);
    auto lead = [&](int64_t v) {
      return IntegerAttr::get(IndexType::get(context), v);
    };
    const int64_t step = shape.step;
    SmallVector<Value> fragments = contraction(
        b, step, zeros,
        [&](OpBuilder &kb, Location l, Value buffer, ValueRange acc) {
          auto c = [&](int64_t v) -> Value {
            return kb.create<arith::ConstantIndexOp>(l, v);
          };
          SmallVector<Value> sums(acc.begin(), acc.end());
          for (int64_t kk = 0; kk < step; kk += kFragment) {
            SmallVector<Value> as, bs;
            for (int64_t i = 0; i < kFragmentsM; ++i)
              as.push_back(kb.create<gpu::SubgroupMmaLoadMatrixOp>(
                  l, fragment(f16, "AOp"), aTile,
                  ValueRange{buffer,
                             kb.create<arith::AddIOp>(l, subgroupRow,
                                                      c(kFragment * i)),
                             c(kk / groupA)},
                  lead((step + kCoopPad) / groupA),
                  /*transpose=*/UnitAttr()));
            for (int64_t j = 0; j < fragmentsN; ++j)
              bs.push_back(kb.create<gpu::SubgroupMmaLoadMatrixOp>(
                  l, fragment(f16, "BOp"), bTile,
                  ValueRange{buffer, c(kk),
                             kb.create<arith::AddIOp>(
                                 l, subgroupGroup, c(kFragment * j / groupB))},
                  lead((shape.columns + kCoopPad) / groupB),
                  /*transpose=*/UnitAttr()));
            for (int64_t i = 0; i < kFragmentsM; ++i)
              for (int64_t j = 0; j < fragmentsN; ++j) {
                Value &sum = sums[i * fragmentsN + j];
                auto product = kb.create<gpu::SubgroupMmaComputeOp>(
                    l, accType, as[i], bs[j], sum, /*a_transpose=*/UnitAttr(),
                    /*b_transpose=*/UnitAttr());
                if (bfloat16)
                  product->setAttr(mlir::trueno::kBFloat16MatricesAttr,
                                   kb.getUnitAttr());
                sum = product;
              }
          }
          return sums;
        });
    // Fragment (i, j) of every subgroup s into rows 16 s of cStage, then
    // the workgroup's threads add the subgroups' fragments to C,
    // neighbouring threads neighbouring columns.
    const int64_t subgroups = shape.subgroups, threads = shape.threads();
    auto staged = [&](OpBuilder &sb) {
      auto at = [&](int64_t v) -> Value {
        return sb.create<arith::ConstantIndexOp>(loc, v);
      };
      for (int64_t i = 0; i < kFragmentsM; ++i)
        for (int64_t j = 0; j < fragmentsN; ++j) {
          sb.create<gpu::SubgroupMmaStoreMatrixOp>(
              loc, fragments[i * fragmentsN + j], cStage,
              ValueRange{sb.create<arith::MulIOp>(loc, subgroup, at(kFragment)),
                         at(0)},
              lead(kFragment), /*transpose=*/UnitAttr());
          sb.create<gpu::BarrierOp>(loc);
          for (int64_t r = 0; r < subgroups * kFragment * kFragment / threads;
               ++r) {
            Value e = sb.create<arith::AddIOp>(loc, tid, at(r * threads));
            Value g =
                sb.create<arith::DivUIOp>(loc, e, at(kFragment * kFragment));
            Value w =
                sb.create<arith::RemUIOp>(loc, e, at(kFragment * kFragment));
            Value rr = sb.create<arith::DivUIOp>(loc, w, at(kFragment));
            Value cc = sb.create<arith::RemUIOp>(loc, w, at(kFragment));
            auto [gRow, gColumn] = origin(sb, g);
            Value row = sb.create<arith::AddIOp>(
                loc, sb.create<arith::AddIOp>(loc, m0, gRow),
                sb.create<arith::AddIOp>(loc, rr, at(kFragment * i)));
            Value col = sb.create<arith::AddIOp>(
                loc, sb.create<arith::AddIOp>(loc, n0, gColumn),
                sb.create<arith::AddIOp>(loc, cc, at(kFragment * j)));
            Value v = sb.create<memref::LoadOp>(
                loc, cStage,
                ValueRange{sb.create<arith::AddIOp>(
                               loc,
                               sb.create<arith::MulIOp>(loc, g, at(kFragment)),
                               rr),
                           cc});
            accumulate(sb, row, col, v);
          }
          sb.create<gpu::BarrierOp>(loc);
        }
    };
    if (!direct) {
      staged(b);
      return;
    }
    // The condition is the workgroup's alone: the barriers of the staged
    // branch are reached by all its threads or none.
    auto branch = b.create<scf::IfOp>(loc, direct->inside, /*withElse=*/true);
    OpBuilder then = branch.getThenBodyBuilder();
    for (int64_t i = 0; i < kFragmentsM; ++i)
      for (int64_t j = 0; j < fragmentsN; ++j) {
        auto at = [&](int64_t v) -> Value {
          return then.create<arith::ConstantIndexOp>(loc, v);
        };
        SmallVector<Value> indices;
        if (direct->batch)
          indices.push_back(direct->batch);
        indices.push_back(then.create<arith::AddIOp>(
            loc, m0,
            then.create<arith::AddIOp>(loc, subgroupRow, at(kFragment * i))));
        indices.push_back(then.create<arith::AddIOp>(
            loc, n0,
            then.create<arith::AddIOp>(loc, subgroupColumn,
                                       at(kFragment * j))));
        Value sum = fragments[i * fragmentsN + j];
        if (!direct->overwrite) {
          Value old = then.create<gpu::SubgroupMmaLoadMatrixOp>(
              loc, accType, direct->c, indices, lead(direct->rowStride),
              /*transpose=*/UnitAttr());
          sum = then.create<gpu::SubgroupMmaElementwiseOp>(
              loc, accType, ValueRange{old, sum}, gpu::MMAElementwiseOp::ADDF);
        }
        then.create<gpu::SubgroupMmaStoreMatrixOp>(loc, sum, direct->c, indices,
                                                   lead(direct->rowStride),
                                                   /*transpose=*/UnitAttr());
      }
    OpBuilder otherwise = branch.getElseBodyBuilder();
    staged(otherwise);
  }
};

} // namespace

std::optional<mlir::trueno::CooperativeTiles>
mlir::trueno::cooperativeTiles(const VulkanPipelineOptions &options,
                               bool tensorWide) {
  std::optional<CooperativeShape> shape = CooperativeShape::fit(
      CooperativeShape::asked(tensorWide ? 256 : options.cooperativeColumns,
                              options.cooperativeStep,
                              options.cooperativeBuffers,
                              tensorWide ? 8 : options.cooperativeSubgroups),
      options.maxWorkgroupMemory);
  if (tensorWide && shape && shape->columns != 256)
    return std::nullopt;
  if (!shape)
    return std::nullopt;
  return CooperativeTiles{kCoopTileRows, shape->columns, shape->step,
                          shape->threads()};
}
