//===- ProgramCache.cpp - Compiled graphs, in memory ----------------------===//
#include "trueno/Runtime/ProgramCache.h"
#include "trueno/Runtime/Counters.h"

#include <chrono>

namespace trueno::runtime {

RuntimeCounters &counters() {
  static RuntimeCounters instance;
  return instance;
}

int debugLevel() {
  const char *level = std::getenv("TRUENO_DEBUG");
  return level ? std::atoi(level) : 0;
}

std::size_t Graph::hash() const {
  // FNV-1a over the fields; shapes dominate, so mix them word by word.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  mix(static_cast<std::uint64_t>(device.kind) << 32 |
      static_cast<std::uint32_t>(device.index));
  for (const GraphNode &n : nodes) {
    mix(static_cast<std::uint64_t>(n.op) << 8 |
        static_cast<std::uint64_t>(n.dtype));
    mix(n.operands.size());
    for (std::int32_t o : n.operands)
      mix(static_cast<std::uint64_t>(o));
    mix(n.shape.size());
    for (std::int64_t s : n.shape)
      mix(static_cast<std::uint64_t>(s));
    mix(n.strides.size());
    for (std::int64_t s : n.strides)
      mix(static_cast<std::uint64_t>(s));
    mix(n.attributes.size());
    for (const std::vector<std::int64_t> &attribute : n.attributes) {
      mix(attribute.size());
      for (std::int64_t v : attribute)
        mix(static_cast<std::uint64_t>(v));
    }
  }
  for (std::int32_t o : outputs)
    mix(static_cast<std::uint64_t>(o));
  return static_cast<std::size_t>(h);
}

ProgramCache &ProgramCache::instance() {
  static ProgramCache *cache = new ProgramCache(); // outlives static tensors
  return *cache;
}

llvm::Expected<ProgramCache::Found>
ProgramCache::get(const Graph &graph, Backend &backend, bool debug) {
  std::lock_guard lock(mutex_);
  if (auto found = programs_.find(graph); found != programs_.end())
    return Found{found->second, true};
  auto compiled = backend.compile(graph, debug);
  if (!compiled)
    return compiled.takeError();
  std::shared_ptr<Executable> executable = std::move(*compiled);
  counters().programsCompiled++;
  counters().compileMicros +=
      static_cast<std::int64_t>(executable->compileMs() * 1e3);
  programs_.emplace(graph, executable);
  return Found{std::move(executable), false};
}

std::int64_t ProgramCache::size() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(programs_.size());
}

void ProgramCache::clear() {
  std::lock_guard lock(mutex_);
  programs_.clear();
}

} // namespace trueno::runtime
