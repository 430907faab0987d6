//===- ConvolutionsAsMatmuls.cpp - im2col, then the tiled product ---------===//
//
// trueno-convolutions-as-matmuls: see Passes.td. For x [N, C, H, W] and
// w [F, C, KH, KW] into y [N, F, OH, OW]:
//
//   col[n][c][kh][kw][oh][ow] = x[n][c][oh sh + kh dh][ow sw + kw dw]
//   y[n] (F x OH*OW) += w (F x C*KH*KW) @ col[n] (C*KH*KW x OH*OW)
//
// a copy into a scratch buffer and a linalg.batch_matmul whose A is w
// viewed with a batch stride of 0, which trueno-tile-matmuls tiles. The
// contraction runs over (c, kh, kw) in order, as the loop nest did. Where
// trueno-tile-matmuls tiles the product it reads col's elements from x
// (and x's from the unpadded input) as the copy would have: the copy and
// the scratch go, so their size is no limit there.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_CONVOLUTIONSASMATMULS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// At most this many elements of im2col scratch (1 GiB of float32) that
/// the product will read; a larger convolution keeps its loop nest.
constexpr int64_t kMaxColumnElements = int64_t(1) << 28;
/// trueno-tile-matmuls tiles products of at least this many rows and
/// columns (filters and output pixels here), and with implicit-gemm reads
/// their windows from the input: the scratch is never allocated.
constexpr int64_t kTiledSide = 32;

struct ConvolutionsAsMatmulsPass
    : public mlir::trueno::impl::ConvolutionsAsMatmulsBase<
          ConvolutionsAsMatmulsPass> {
  using ConvolutionsAsMatmulsBase::ConvolutionsAsMatmulsBase;

  void runOnOperation() override {
    SmallVector<linalg::Conv2DNchwFchwOp> convolutions;
    getOperation().walk([&](linalg::Conv2DNchwFchwOp op) {
      if (op.hasPureBufferSemantics() && !op->getParentOfType<gpu::LaunchOp>())
        convolutions.push_back(op);
    });
    for (linalg::Conv2DNchwFchwOp op : convolutions)
      rewrite(op);
  }

  void rewrite(linalg::Conv2DNchwFchwOp op) {
    Value x = op.getDpsInputOperand(0)->get(),
          w = op.getDpsInputOperand(1)->get(),
          y = op.getDpsInitOperand(0)->get();
    auto xType = cast<MemRefType>(x.getType());
    auto wType = cast<MemRefType>(w.getType());
    auto yType = cast<MemRefType>(y.getType());
    for (MemRefType t : {xType, wType, yType})
      if (!t.hasStaticShape() || !t.getElementType().isF32())
        return;
    ArrayRef<int64_t> xs = xType.getShape(), ws = wType.getShape(),
                      ys = yType.getShape();
    const int64_t n = xs[0], c = xs[1], f = ws[0], kh = ws[2], kw = ws[3],
                  oh = ys[2], ow = ys[3];
    const int64_t reduced = c * kh * kw, pixels = oh * ow;
    bool implicit = implicitGemm && f >= kTiledSide && pixels >= kTiledSide;
    if (!implicit && n * reduced * pixels > kMaxColumnElements)
      return;
    // y as [N, F, OH*OW]: its last two dimensions must be one strided run.
    SmallVector<ReassociationIndices> yGroups = {{0}, {1}, {2, 3}};
    if (!memref::CollapseShapeOp::isGuaranteedCollapsible(yType, yGroups))
      return;
    SmallVector<int64_t> strides(op.getStrides().getValues<int64_t>()),
        dilations(op.getDilations().getValues<int64_t>());

    Location loc = op.getLoc();
    OpBuilder b(op);
    MLIRContext *context = op.getContext();
    Type f32 = b.getF32Type();
    // The columns: (n, c, kh, kw, oh, ow) reads x at (n, c, oh sh + kh dh,
    // ow sw + kw dw); neighbouring threads write neighbouring pixels.
    auto colType = MemRefType::get({n, c, kh, kw, oh, ow}, f32);
    Value col = b.create<memref::AllocOp>(loc, colType);
    AffineExpr d0, d1, d2, d3, d4, d5;
    bindDims(context, d0, d1, d2, d3, d4, d5);
    AffineMap read =
        AffineMap::get(6, 0,
                       {d0, d1, d4 * strides[0] + d2 * dilations[0],
                        d5 * strides[1] + d3 * dilations[1]},
                       context);
    b.create<linalg::GenericOp>(
        loc, ValueRange{x}, ValueRange{col},
        ArrayRef<AffineMap>{read, b.getMultiDimIdentityMap(6)},
        SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel),
        [](OpBuilder &body, Location l, ValueRange args) {
          body.create<linalg::YieldOp>(l, args[0]);
        });
    Value columns = b.create<memref::CollapseShapeOp>(
        loc, col, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}, {4, 5}});
    // w as [N, F, C*KH*KW], the same for every batch (stride 0), from a
    // contiguous copy unless it is one.
    Value weights = w;
    if (!wType.getLayout().isIdentity()) {
      weights = b.create<memref::AllocOp>(
          loc, MemRefType::get(wType.getShape(), f32));
      b.create<linalg::CopyOp>(loc, w, weights);
    }
    Value broadcast = b.create<memref::ReinterpretCastOp>(
        loc,
        MemRefType::get({n, f, reduced}, f32,
                        StridedLayoutAttr::get(context, 0, {0, reduced, 1})),
        weights, /*offset=*/0, ArrayRef<int64_t>{n, f, reduced},
        ArrayRef<int64_t>{0, reduced, 1});
    Value out = b.create<memref::CollapseShapeOp>(loc, y, yGroups);
    b.create<linalg::BatchMatmulOp>(loc, ValueRange{broadcast, columns},
                                    ValueRange{out});
    op->erase();
  }
};

} // namespace
