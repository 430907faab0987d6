//===- Module.h - Layers with registered parameters, buffers, submodules --===//
//
// trueno::nn::Module is torch.nn.Module for C++: a layer owns its parameters
// (leaf tensors that require grad), its buffers (state that is saved but not
// trained, like batch norm's running statistics) and its submodules, each
// under a name, so that `parameters()` finds every trainable tensor of a
// model and `stateDict()` names every tensor a checkpoint holds, with the
// dotted names PyTorch gives (`features.0.weight`).
//
// A module is called as `model(x)`; the caller's line travels into every op
// the layers record, so a shape error inside a model names the line that
// called it.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_NN_MODULE_H
#define TRUENO_NN_MODULE_H

#include "trueno/Tensor.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace trueno::nn {

/// Named tensors: a model's (or an optimizer's) state, keyed by the dotted
/// names PyTorch uses. Ordered by name.
using StateDict = std::map<std::string, Tensor>;

class Module {
public:
  /// `typeName` is the layer's name in messages and printouts ("Linear").
  explicit Module(std::string typeName = "Module");
  virtual ~Module() = default;
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  /// The layer's computation. `where` is the line of the `model(x)` call;
  /// pass it on to the ops (and submodules) you call, so that their errors
  /// name it. The default throws: a module without forward is a container.
  virtual Tensor forward(const Tensor &input, SourceLoc where);
  Tensor operator()(const Tensor &input, TRUENO_HERE) {
    return forward(input, where);
  }

  /// Every parameter of this module and (with `recurse`) its submodules,
  /// in registration order, each once (a parameter shared by two layers
  /// appears the first time).
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>>
  namedParameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>>
  namedBuffers(bool recurse = true) const;
  /// The direct submodules, in registration order.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>>
  namedChildren() const;
  /// This module (named "") and every module below it, depth first.
  std::vector<std::pair<std::string, Module *>> namedModules();
  /// Calls `fn` on every submodule, then on this module (torch's apply).
  void apply(const std::function<void(Module &)> &fn);

  /// Training mode (dropout drops, batch norm uses the batch's statistics
  /// and updates its running ones) for this module and every submodule.
  void train(bool on = true);
  void eval() { train(false); }
  bool isTraining() const { return training_; }

  /// Moves every parameter and buffer to `device` in place (torch's
  /// `module.to(device)`): parameters stay leaves that require grad, with
  /// no gradient. Create optimizers after moving the model.
  Module &to(Device device, TRUENO_HERE);

  /// Clears (sets to none) the gradient of every parameter.
  void zeroGrad();
  /// Every parameter and persistent buffer, under its dotted name. The
  /// tensors are the module's own (not copies): save them, or clone them
  /// to keep a snapshot.
  StateDict stateDict() const;
  /// Copies `state` into the parameters and buffers, in place (optimizers
  /// holding them see the new values). Strict: a missing or unexpected key
  /// is a ValueError listing them; a shape that differs is a ShapeError
  /// naming the key and both shapes. Values convert to each tensor's dtype.
  void loadStateDict(const StateDict &state, bool strict = true, TRUENO_HERE);

  const std::string &typeName() const { return typeName_; }
  /// One line per module, indented, as PyTorch prints a model.
  virtual std::string toString() const;
  /// The arguments shown between the parentheses of toString().
  virtual std::string extraRepr() const { return ""; }

  /// Counts the elements of every parameter.
  std::int64_t parameterCount() const;

protected:
  /// Adds a parameter: `value` becomes a leaf that requires grad (unless
  /// `requiresGrad` is false). Returns it. An undefined value reserves the
  /// name (an optional bias that is off) and is skipped everywhere.
  Tensor registerParameter(const std::string &name, Tensor value,
                           bool requiresGrad = true);
  /// Adds a buffer; persistent buffers are part of stateDict().
  Tensor registerBuffer(const std::string &name, Tensor value,
                        bool persistent = true);
  template <typename M>
  std::shared_ptr<M> registerModule(const std::string &name,
                                    std::shared_ptr<M> module) {
    addChild(name, module);
    return module;
  }
  void addChild(const std::string &name, std::shared_ptr<Module> module);

private:
  struct Buffer {
    Tensor value;
    bool persistent;
  };
  void collect(const std::string &prefix, bool recurse, bool wantParameters,
               std::vector<std::pair<std::string, Tensor>> &out,
               std::vector<const TensorImpl *> &seen) const;
  void checkName(const std::string &name) const;

  std::string typeName_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Buffer>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

std::ostream &operator<<(std::ostream &os, const Module &m);

/// Modules applied one after the other; children named "0", "1", ...
class Sequential : public Module {
public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  /// Appends a module; returns this, so calls chain.
  Sequential &push(std::shared_ptr<Module> module);
  Tensor forward(const Tensor &input, SourceLoc where) override;
  std::size_t size() const { return modules_.size(); }
  std::shared_ptr<Module> operator[](std::size_t i) const;

private:
  std::vector<std::shared_ptr<Module>> modules_;
};

/// A list of modules that registers them (named "0", "1", ...) without
/// calling them: the caller's forward decides how.
class ModuleList : public Module {
public:
  ModuleList() : Module("ModuleList") {}
  ModuleList(std::initializer_list<std::shared_ptr<Module>> modules);
  ModuleList &push(std::shared_ptr<Module> module);
  std::size_t size() const { return modules_.size(); }
  std::shared_ptr<Module> operator[](std::size_t i) const;
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

private:
  std::vector<std::shared_ptr<Module>> modules_;
};

/// Modules registered under names of the caller's choice.
class ModuleDict : public Module {
public:
  ModuleDict() : Module("ModuleDict") {}
  ModuleDict &insert(const std::string &name, std::shared_ptr<Module> module);
  /// The module named `name`; IndexError listing the names if none.
  std::shared_ptr<Module> operator[](const std::string &name) const;
  bool contains(const std::string &name) const;
  std::vector<std::string> keys() const;

private:
  std::map<std::string, std::shared_ptr<Module>> modules_;
};

/// `std::make_shared<M>(args...)`, shorter at the call site:
/// `nn::make<nn::Linear>(784, 10)`.
template <typename M, typename... Args>
std::shared_ptr<M> make(Args &&...args) {
  return std::make_shared<M>(std::forward<Args>(args)...);
}

} // namespace trueno::nn

#endif // TRUENO_NN_MODULE_H
