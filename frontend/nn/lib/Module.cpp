//===- Module.cpp - Parameter registration, state dicts, containers -------===//

#include "trueno/nn/Module.h"

#include "trueno/Autograd.h"
#include "trueno/Fail.h"
#include "trueno/Format.h"

#include <algorithm>
#include <ostream>
#include <set>
#include <sstream>

namespace trueno::nn {

using detail::fail;

Module::Module(std::string typeName) : typeName_(std::move(typeName)) {}

Tensor Module::forward(const Tensor &, SourceLoc where) {
  fail<ValueError>(where, typeName_ + ".forward",
                   "call its submodules from your own forward, or use "
                   "Sequential",
                   "this module has no forward of its own");
}

void Module::checkName(const std::string &name) const {
  auto taken = [&](const auto &list) {
    return std::any_of(list.begin(), list.end(),
                       [&](const auto &e) { return e.first == name; });
  };
  if (name.empty() || name.find('.') != std::string::npos)
    fail<ValueError>(std::source_location::current(), typeName_,
                     "names are the parts of dotted state-dict keys",
                     "\"{}\" cannot name a parameter, buffer or submodule: "
                     "it is empty or has a '.'",
                     name);
  if (taken(parameters_) || taken(buffers_) || taken(children_))
    fail<ValueError>(std::source_location::current(), typeName_, "",
                     "the name \"{}\" is registered already", name);
}

Tensor Module::registerParameter(const std::string &name, Tensor value,
                                 bool requiresGrad) {
  checkName(name);
  if (value.defined() && requiresGrad)
    value.requiresGrad_(true);
  parameters_.emplace_back(name, value);
  return value;
}

Tensor Module::registerBuffer(const std::string &name, Tensor value,
                              bool persistent) {
  checkName(name);
  buffers_.push_back({name, Buffer{value, persistent}});
  return value;
}

void Module::addChild(const std::string &name, std::shared_ptr<Module> module) {
  checkName(name);
  if (!module)
    fail<ValueError>(std::source_location::current(), typeName_, "",
                     "submodule \"{}\" is null", name);
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string &prefix, bool recurse,
                     bool wantParameters,
                     std::vector<std::pair<std::string, Tensor>> &out,
                     std::vector<const TensorImpl *> &seen) const {
  auto add = [&](const std::string &name, const Tensor &t) {
    if (!t.defined() ||
        std::find(seen.begin(), seen.end(), t.impl()) != seen.end())
      return;
    seen.push_back(t.impl());
    out.emplace_back(prefix + name, t);
  };
  if (wantParameters)
    for (const auto &[name, t] : parameters_)
      add(name, t);
  else
    for (const auto &[name, b] : buffers_)
      add(name, b.value);
  if (recurse)
    for (const auto &[name, child] : children_)
      child->collect(prefix + name + ".", true, wantParameters, out, seen);
}

std::vector<std::pair<std::string, Tensor>>
Module::namedParameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::vector<const TensorImpl *> seen;
  collect("", recurse, true, out, seen);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto &[name, t] : namedParameters(recurse))
    out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>>
Module::namedBuffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::vector<const TensorImpl *> seen;
  collect("", recurse, false, out, seen);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto &[name, t] : namedBuffers(recurse))
    out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>>
Module::namedChildren() const {
  return children_;
}

std::vector<std::pair<std::string, Module *>> Module::namedModules() {
  std::vector<std::pair<std::string, Module *>> out{{"", this}};
  for (auto &[name, child] : children_)
    for (auto &[sub, m] : child->namedModules())
      out.emplace_back(sub.empty() ? name : name + "." + sub, m);
  return out;
}

void Module::apply(const std::function<void(Module &)> &fn) {
  for (auto &[name, child] : children_)
    child->apply(fn);
  fn(*this);
}

void Module::train(bool on) {
  training_ = on;
  for (auto &[name, child] : children_)
    child->train(on);
}

Module &Module::to(Device device, SourceLoc where) {
  for (Tensor &p : parameters())
    p.moveTo_(device, where);
  for (Tensor &b : buffers())
    b.moveTo_(device, where);
  return *this;
}

void Module::zeroGrad() {
  for (Tensor &p : parameters())
    p.setGrad(Tensor());
}

std::int64_t Module::parameterCount() const {
  std::int64_t n = 0;
  for (const Tensor &p : parameters())
    n += p.numel();
  return n;
}

StateDict Module::stateDict() const {
  StateDict state;
  for (auto &[name, t] : namedParameters())
    state.emplace(name, t);
  // Persistent buffers only: walk the modules (namedBuffers has no flag).
  std::function<void(const Module &, const std::string &)> walk =
      [&](const Module &m, const std::string &prefix) {
        for (const auto &[name, b] : m.buffers_)
          if (b.persistent && b.value.defined())
            state.emplace(prefix + name, b.value);
        for (const auto &[name, child] : m.children_)
          walk(*child, prefix + name + ".");
      };
  walk(*this, "");
  return state;
}

void Module::loadStateDict(const StateDict &state, bool strict,
                           SourceLoc where) {
  StateDict own = stateDict();
  std::vector<std::string> missing, unexpected;
  for (const auto &[name, t] : own)
    if (!state.count(name))
      missing.push_back(name);
  for (const auto &[name, t] : state)
    if (!own.count(name))
      unexpected.push_back(name);
  if (strict && (!missing.empty() || !unexpected.empty()))
    fail<ValueError>(where, typeName_ + ".loadStateDict",
                     "pass strict = false to load the keys that match",
                     "the state does not match the module: missing keys [{}], "
                     "unexpected keys [{}]",
                     fmt::join(missing, ", "), fmt::join(unexpected, ", "));
  // Check every shape before writing any, so a failed load changes nothing.
  for (const auto &[name, target] : own) {
    auto it = state.find(name);
    if (it == state.end())
      continue;
    if (!it->second.defined())
      fail<ValueError>(where, typeName_ + ".loadStateDict", "",
                       "the value for \"{}\" is undefined", name);
    if (it->second.shape() != target.shape())
      fail<ShapeError>(where, typeName_ + ".loadStateDict", "",
                       "\"{}\" has shape {} in the state but {} in the module",
                       name, formatShape(it->second.shape()),
                       formatShape(target.shape()));
  }
  NoGradGuard noGrad;
  for (auto &[name, target] : own)
    if (auto it = state.find(name); it != state.end())
      target.copy_(it->second, where);
}

std::string Module::toString() const {
  std::string out = typeName_ + "(" + extraRepr();
  if (children_.empty())
    return out + ")";
  out += "\n";
  for (const auto &[name, child] : children_) {
    std::string text = child->toString();
    // Indent the child's lines under its name.
    std::string indented;
    for (char c : text) {
      indented += c;
      if (c == '\n')
        indented += "  ";
    }
    out += "  (" + name + "): " + indented + "\n";
  }
  return out + ")";
}

std::ostream &operator<<(std::ostream &os, const Module &m) {
  return os << m.toString();
}

// --- Containers ------------------------------------------------------------

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules)
    : Module("Sequential") {
  for (const auto &m : modules)
    push(m);
}

Sequential &Sequential::push(std::shared_ptr<Module> module) {
  addChild(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
  return *this;
}

Tensor Sequential::forward(const Tensor &input, SourceLoc where) {
  Tensor x = input;
  for (auto &m : modules_)
    x = m->forward(x, where);
  return x;
}

static std::shared_ptr<Module>
at(const std::vector<std::shared_ptr<Module>> &modules, std::size_t i,
   const char *type) {
  if (i >= modules.size())
    fail<IndexError>(std::source_location::current(), type, "",
                     "index {} is out of range for {} modules", i,
                     modules.size());
  return modules[i];
}

std::shared_ptr<Module> Sequential::operator[](std::size_t i) const {
  return at(modules_, i, "Sequential");
}

ModuleList::ModuleList(std::initializer_list<std::shared_ptr<Module>> modules)
    : Module("ModuleList") {
  for (const auto &m : modules)
    push(m);
}

ModuleList &ModuleList::push(std::shared_ptr<Module> module) {
  addChild(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
  return *this;
}

std::shared_ptr<Module> ModuleList::operator[](std::size_t i) const {
  return at(modules_, i, "ModuleList");
}

ModuleDict &ModuleDict::insert(const std::string &name,
                               std::shared_ptr<Module> module) {
  addChild(name, module);
  modules_.emplace(name, std::move(module));
  return *this;
}

std::shared_ptr<Module> ModuleDict::operator[](const std::string &name) const {
  auto it = modules_.find(name);
  if (it == modules_.end())
    fail<IndexError>(std::source_location::current(), "ModuleDict", "",
                     "no module named \"{}\" (it has [{}])", name,
                     fmt::join(keys(), ", "));
  return it->second;
}

bool ModuleDict::contains(const std::string &name) const {
  return modules_.count(name) != 0;
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (const auto &[name, m] : modules_)
    out.push_back(name);
  return out;
}

} // namespace trueno::nn
