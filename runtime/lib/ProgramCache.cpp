//===- ProgramCache.cpp - Compiled graphs, in memory ----------------------===//
#include "trueno/Runtime/ProgramCache.h"
#include "trueno/Runtime/Counters.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

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
    mix(static_cast<std::uint64_t>(n.recomputeRegion));
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

ProgramCache::Limits ProgramCache::limitsFromEnvironment() {
  Limits limits{1024, std::uint64_t(256) << 20};
  if (const char *entries = std::getenv("TRUENO_PROGRAM_CACHE_ENTRIES"))
    limits.programs = std::max<std::int64_t>(1, std::atoll(entries));
  if (const char *mb = std::getenv("TRUENO_PROGRAM_CACHE_MB"))
    limits.codeBytes =
        std::max<std::uint64_t>(1, std::strtoull(mb, nullptr, 10)) << 20;
  return limits;
}

ProgramCache &ProgramCache::instance() {
  // Never destroyed: outlives static tensors.
  static ProgramCache *cache = new ProgramCache(limitsFromEnvironment());
  return *cache;
}

llvm::Expected<ProgramCache::Found>
ProgramCache::get(const Graph &graph, Backend &backend, bool debug) {
  std::lock_guard lock(mutex_);
  if (auto found = programs_.find(graph); found != programs_.end()) {
    order_.splice(order_.begin(), order_, found->second.position);
    return Found{found->second.executable, true};
  }
  auto compiled = backend.compile(graph, debug);
  if (!compiled)
    return compiled.takeError();
  std::shared_ptr<Executable> executable = std::move(*compiled);
  counters().programsCompiled++;
  counters().compileMicros +=
      static_cast<std::int64_t>(executable->compileMs() * 1e3);
  auto [at, inserted] = programs_.emplace(graph, Entry{executable, {}});
  order_.push_front(&at->first);
  at->second.position = order_.begin();
  codeBytes_ += executable->codeBytes();
  evictPastLimits();
  return Found{std::move(executable), false};
}

void ProgramCache::evictPastLimits() {
  // The newest program always stays, whatever its size.
  while (order_.size() > 1 &&
         (static_cast<std::int64_t>(order_.size()) > limits_.programs ||
          codeBytes_ > limits_.codeBytes)) {
    auto found = programs_.find(*order_.back());
    codeBytes_ -= found->second.executable->codeBytes();
    order_.pop_back();
    programs_.erase(found);
    ++evicted_;
  }
}

std::int64_t ProgramCache::size() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(programs_.size());
}

std::uint64_t ProgramCache::codeBytes() const {
  std::lock_guard lock(mutex_);
  return codeBytes_;
}

std::int64_t ProgramCache::evicted() const {
  std::lock_guard lock(mutex_);
  return evicted_;
}

ProgramCache::Limits ProgramCache::limits() const {
  std::lock_guard lock(mutex_);
  return limits_;
}

void ProgramCache::setLimits(Limits limits) {
  std::lock_guard lock(mutex_);
  limits_ = {std::max<std::int64_t>(1, limits.programs),
             std::max<std::uint64_t>(1, limits.codeBytes)};
  evictPastLimits();
}

void ProgramCache::clear() {
  std::lock_guard lock(mutex_);
  programs_.clear();
  order_.clear();
  codeBytes_ = 0;
}

} // namespace trueno::runtime
