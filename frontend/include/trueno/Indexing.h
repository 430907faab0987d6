//===- Indexing.h - Indexing, joining, reordering, sorting ----------------===//
//
// NumPy / PyTorch indexing and data movement on tensors.
//
//   Tensor row = x.index({1});                            // x[1]
//   Tensor tail = x.index({Slice(2, {}), ellipsis});     // x[2:, ...]
//   Tensor picked = x.index({ids, Slice()});             // x[ids, :]
//   x.indexPut_({x < 0}, 0.0);                            // x[x < 0] = 0
//   Tensor y = cat({a, b}, 1);
//
// What is recorded and what runs at the call (docs/OPS.md has the list):
// - Basic indexing (integers, slices, newaxis, ellipsis), split, chunk,
//   diagonal and narrow are views: no copy, writes go through.
// - Gathers (integer-array indexing, indexSelect, gather, the
//   reflect/replicate/circular pads, repeatInterleave with counts) and masks
//   (tril, triu, maskedFill) are recorded like any other op: one
//   `trueno.gather` or `trueno.where`, fused with their elementwise
//   neighbours and cached. Index tensors are read at the call, so an index
//   out of range raises IndexError there, naming the index, the axis and
//   its size; it is never clamped or read as 0.
// - Joins and copies (cat, stack, flip, roll, tile, constant pad, diag) and
//   ops whose result size depends on the data or that sort (nonzero,
//   maskedSelect, unique, sort, topk, searchsorted, scatter, indexPut_)
//   run at the call on realized inputs, as PyTorch's CPU kernels do.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_INDEXING_H
#define TRUENO_INDEXING_H

#include "trueno/Tensor.h"

#include <optional>
#include <variant>
#include <vector>

namespace trueno {

// --- Tensor::index's index types ---------------------------------------------

/// `start:stop:step` (Python's slice): omitted bounds are the edges,
/// negative bounds count from the end, out-of-range bounds are clamped.
struct Slice {
  std::optional<std::int64_t> start, stop;
  std::int64_t step = 1;
  Slice() = default;
  Slice(std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
        std::int64_t step = 1)
      : start(start), stop(stop), step(step) {}
};
/// A new dimension of size 1 (NumPy's `np.newaxis`, PyTorch's `None`).
struct NewAxis {};
inline constexpr NewAxis newaxis{};
/// As many full slices as the other indices leave dimensions (`...`).
struct Ellipsis {};
inline constexpr Ellipsis ellipsis{};

/// One entry of `Tensor::index`: an integer (drops the dimension), a
/// Slice, newaxis, ellipsis, an integer tensor (NumPy's integer-array
/// indexing: the tensors broadcast together and their shape replaces the
/// dimensions they index) or a bool tensor (a mask over as many dimensions
/// as its rank, read as the integer tensors of its nonzero positions).
class TensorIndex {
public:
  TensorIndex(std::int64_t i) : value_(i) {}
  TensorIndex(int i) : value_(std::int64_t(i)) {}
  TensorIndex(Slice s) : value_(s) {}
  TensorIndex(NewAxis n) : value_(n) {}
  TensorIndex(Ellipsis e) : value_(e) {}
  TensorIndex(Tensor t) : value_(std::move(t)) {}

  const std::variant<std::int64_t, Slice, NewAxis, Ellipsis, Tensor> &
  value() const {
    return value_;
  }

private:
  std::variant<std::int64_t, Slice, NewAxis, Ellipsis, Tensor> value_;
};

// --- Gathering and scattering -----------------------------------------------

/// `x[..., index, ...]` along `dim` with a vector (or scalar) of indices in
/// [0, size) of any integer dtype: that dimension's size becomes the
/// index's length (torch.index_select).
Tensor indexSelect(const Tensor &x, std::int64_t dim, const Tensor &index,
                   TRUENO_HERE);
/// `out[i][j][k] = x[index[i][j][k]][j][k]` for dim 0, and so on
/// (torch.gather): index has x's rank and is no larger in the other
/// dimensions; indices lie in [0, x.size(dim)).
Tensor gather(const Tensor &x, std::int64_t dim, const Tensor &index,
              TRUENO_HERE);
/// A copy of x with `x[index[i][j]][j] = src[i][j]` (dim 0), as
/// torch.scatter: src has x's dtype and is at least index's size in every
/// dimension; where indices repeat, the last write wins.
Tensor scatter(const Tensor &x, std::int64_t dim, const Tensor &index,
               const Tensor &src, TRUENO_HERE);
Tensor scatter(const Tensor &x, std::int64_t dim, const Tensor &index,
               Scalar value, TRUENO_HERE);
/// As scatter, adding: `x[index[i][j]][j] += src[i][j]` (torch.scatter_add).
Tensor scatterAdd(const Tensor &x, std::int64_t dim, const Tensor &index,
                  const Tensor &src, TRUENO_HERE);
/// How scatterReduce combines the values that land on one element.
enum class ScatterReduce { Sum, Prod, Mean, Amax, Amin };
/// A copy of x with the src values scattered along `dim` combined into
/// their targets, as torch.scatter_reduce: with `includeSelf` the target's
/// own value takes part, without it a target that receives values starts
/// from them alone (targets that receive nothing keep their value). Mean of
/// integers rounds down; NaN wins amax and amin.
Tensor scatterReduce(const Tensor &x, std::int64_t dim, const Tensor &index,
                     const Tensor &src, ScatterReduce reduce,
                     bool includeSelf = true, TRUENO_HERE);
/// `where(mask, value, x)` in x's dtype; mask (bool) broadcasts to x's
/// shape (torch.masked_fill).
Tensor maskedFill(const Tensor &x, const Tensor &mask, Scalar value,
                  TRUENO_HERE);
/// The elements of x where the bool mask is true, as a vector (x and the
/// mask broadcast together).
Tensor maskedSelect(const Tensor &x, const Tensor &mask, TRUENO_HERE);
/// The indices of the nonzero elements as an int64 (count, rank) matrix,
/// in row-major order (torch.nonzero, numpy.argwhere).
Tensor nonzero(const Tensor &x, TRUENO_HERE);
Tensor argwhere(const Tensor &x, TRUENO_HERE);

// --- Joining and splitting --------------------------------------------------

/// The tensors joined along `dim`; the other sizes must match. The dtype
/// is the promotion of theirs (torch.cat, numpy.concatenate).
Tensor cat(const std::vector<Tensor> &tensors, std::int64_t dim = 0,
           TRUENO_HERE);
Tensor concatenate(const std::vector<Tensor> &tensors, std::int64_t dim = 0,
                   TRUENO_HERE);
/// The tensors (all of one shape) joined along a new dimension `dim`.
Tensor stack(const std::vector<Tensor> &tensors, std::int64_t dim = 0,
             TRUENO_HERE);
/// Views of consecutive pieces of `splitSize` along `dim` (the last may be
/// shorter), as torch.split.
std::vector<Tensor> split(const Tensor &x, std::int64_t splitSize,
                          std::int64_t dim = 0, TRUENO_HERE);
/// Views of pieces of the given sizes, which must add up to the size.
std::vector<Tensor> split(const Tensor &x,
                          const std::vector<std::int64_t> &sizes,
                          std::int64_t dim = 0, TRUENO_HERE);
/// At most `chunks` views of equal size (the last may be shorter), as
/// torch.chunk.
std::vector<Tensor> chunk(const Tensor &x, std::int64_t chunks,
                          std::int64_t dim = 0, TRUENO_HERE);

// --- Reordering and repeating
// -------------------------------------------------

/// A copy with the order of elements reversed along each of `dims`.
Tensor flip(const Tensor &x, const std::vector<std::int64_t> &dims,
            TRUENO_HERE);
/// Elements shifted by `shifts[i]` along `dims[i]`, wrapping around; with
/// no dims, over the flattened tensor (torch.roll).
Tensor roll(const Tensor &x, const std::vector<std::int64_t> &shifts,
            const std::vector<std::int64_t> &dims = {}, TRUENO_HERE);
/// x repeated `reps[i]` times along each dimension (numpy.tile, torch.tile).
Tensor tile(const Tensor &x, const std::vector<std::int64_t> &reps,
            TRUENO_HERE);
/// Each element repeated `repeats` times along `dim` (over the flattened
/// tensor without one), as torch.repeat_interleave.
Tensor repeatInterleave(const Tensor &x, std::int64_t repeats,
                        std::optional<std::int64_t> dim = std::nullopt,
                        TRUENO_HERE);
/// Element i repeated repeats[i] times (a vector of counts >= 0).
Tensor repeatInterleave(const Tensor &x, const Tensor &repeats,
                        std::optional<std::int64_t> dim = std::nullopt,
                        TRUENO_HERE);

/// How `pad` fills the new elements (torch.nn.functional.pad's modes).
enum class PadMode { Constant, Reflect, Replicate, Circular };
/// Pads the last dimensions: `padding` holds (before, after) pairs starting
/// with the last dimension, as torch.nn.functional.pad. Constant mode fills
/// with `value` and allows negative padding (cropping); reflect mirrors
/// without repeating the edge (padding < size), replicate repeats the edge,
/// circular wraps around (padding <= size).
Tensor pad(const Tensor &x, const std::vector<std::int64_t> &padding,
           PadMode mode = PadMode::Constant, Scalar value = 0, TRUENO_HERE);

/// The lower (upper) triangle of the last two dimensions: elements with
/// `col - row <= diagonal` (`>=`) kept, the others zero.
Tensor tril(const Tensor &x, std::int64_t diagonal = 0, TRUENO_HERE);
Tensor triu(const Tensor &x, std::int64_t diagonal = 0, TRUENO_HERE);
/// A vector gives a square matrix with it on diagonal `diagonal`; a matrix
/// gives a copy of that diagonal (torch.diag).
Tensor diag(const Tensor &x, std::int64_t diagonal = 0, TRUENO_HERE);
/// A view of the diagonal `offset` of the (dim1, dim2) planes, as a last
/// dimension (torch.diagonal); writes go through.
Tensor diagonal(const Tensor &x, std::int64_t offset = 0, std::int64_t dim1 = 0,
                std::int64_t dim2 = 1, TRUENO_HERE);

// --- Sorting and searching --------------------------------------------------

/// Values and their int64 positions along the sorted dimension.
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};
/// Sorted along `dim`, stable (equal elements keep their order), NaN
/// after every number (before, descending), as torch.sort(stable=True).
ValuesIndices sort(const Tensor &x, std::int64_t dim = -1,
                   bool descending = false, TRUENO_HERE);
Tensor argsort(const Tensor &x, std::int64_t dim = -1, bool descending = false,
               TRUENO_HERE);
/// The k largest (smallest) elements along `dim`, in order, ties by
/// position (torch.topk). `sorted = false` allows any order, as in PyTorch;
/// Trueno returns the sorted order either way (its selection sorts).
ValuesIndices topk(const Tensor &x, std::int64_t k, std::int64_t dim = -1,
                   bool largest = true, bool sorted = true, TRUENO_HERE);

struct UniqueResult {
  Tensor values;  ///< the distinct elements, sorted (a vector)
  Tensor inverse; ///< for each input element, its position in `values`
  Tensor counts;  ///< how often each value occurs
};
/// The distinct elements of the flattened tensor, sorted, with the inverse
/// map (x's shape) and the counts (torch.unique; every NaN is distinct).
UniqueResult unique(const Tensor &x, TRUENO_HERE);
/// The distinct slices of `x` along `dim` (numpy.unique(x, axis=dim) and
/// PyTorch 2's torch.unique(x, dim=dim)): `values` holds them along `dim`,
/// sorted lexicographically (elements in the order of x with `dim` moved
/// first; NaN after every number; a slice holding NaN is distinct from every
/// other), `inverse` (length x.size(dim)) the slice each input slice became,
/// and `counts` how many input slices each one stands for. IndexError for a
/// bad `dim`; ValueError for a zero-dimensional tensor, or for one with a
/// zero-sized dimension other than `dim` (as PyTorch).
UniqueResult unique(const Tensor &x, std::int64_t dim, TRUENO_HERE);
/// For each element of `values`, the index where it would be inserted in
/// the sorted last dimension of `sortedSequence` to keep it sorted: the
/// first such place, or the last with `right` (torch.searchsorted). A
/// sequence of rank > 1 has one row per leading index of `values`.
Tensor searchsorted(const Tensor &sortedSequence, const Tensor &values,
                    bool right = false, TRUENO_HERE);
/// The same for a sequence that `sorter` sorts: int64 indices of the
/// sequence's shape that order each row, as argsort gives
/// (torch.searchsorted's and numpy.searchsorted's `sorter`). The result
/// indexes the sorted order.
Tensor searchsorted(const Tensor &sequence, const Tensor &values, bool right,
                    const Tensor &sorter, TRUENO_HERE);

} // namespace trueno

#endif // TRUENO_INDEXING_H
