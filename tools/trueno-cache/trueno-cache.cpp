//===- trueno-cache.cpp - Inspect, verify and manage the kernel cache -----===//
//
//   trueno-cache [--dir DIR] [--json] list
//   trueno-cache [--dir DIR] [--json] show KEY          (a unique key prefix)
//   trueno-cache [--dir DIR] [--json] stats [--since YYYY-MM-DD]
//   trueno-cache [--dir DIR] [--json] verify [--fix]
//   trueno-cache [--dir DIR] [--json] prune [--max-size N[K|M|G]]
//   trueno-cache [--dir DIR] [--json] clear
//   trueno-cache [--dir DIR] [--json] explain FILE
//
// The directory defaults to the one programs use (TRUENO_CACHE_DIR, else
// ~/.cache/trueno). `explain` takes the output of a program run with
// TRUENO_DEBUG=2 (which prints each program's cache key and kernel IR) or a
// file of kernel IR, and says for each whether it would hit and, if not,
// which part of the key differs from the nearest entry.
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/Cpu/CpuBackend.h"
#include "trueno/Runtime/Cpu/CpuKernel.h"
#include "trueno/Runtime/KernelCache.h"
#include "trueno/Runtime/Schedule.h"
#include "trueno/Runtime/Vulkan/VulkanBackend.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace json = llvm::json;
using namespace trueno::runtime;

namespace {

struct Entry {
  fs::path path;
  std::string key;
  std::uint64_t bytes = 0;
  std::int64_t lastUsed = 0; // unix seconds
  std::int64_t hits = 0;
  std::optional<std::string> problem; // why it is invalid
  CacheEntry payload;
  json::Object metadata;
};

std::int64_t unixTime(fs::file_time_type t) {
  auto system = std::chrono::time_point_cast<std::chrono::seconds>(
      t - fs::file_time_type::clock::now() + std::chrono::system_clock::now());
  return system.time_since_epoch().count();
}

std::string isoTime(std::int64_t seconds) {
  std::time_t t = seconds;
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
  return text;
}

bool isTemporary(const fs::path &path) {
  return path.filename().string().starts_with(".tmp-");
}

std::vector<Entry> readEntries(const fs::path &dir) {
  std::vector<Entry> entries;
  std::error_code error;
  for (const fs::directory_entry &e : fs::directory_iterator(dir, error)) {
    // A writer's temporary file (.tmp-PID-N.tkc) is not an entry; verify
    // reports those left behind as unfinished writes.
    if (e.path().extension() != kCacheSuffix || isTemporary(e.path()))
      continue;
    Entry entry;
    entry.path = e.path();
    entry.key = e.path().stem().string();
    entry.bytes = e.is_regular_file(error) ? e.file_size(error) : 0;
    entry.lastUsed = unixTime(e.last_write_time(error));
    fs::path hits = e.path();
    hits.replace_extension(kHitsSuffix);
    if (fs::exists(hits, error))
      entry.hits = static_cast<std::int64_t>(fs::file_size(hits, error));
    entry.problem = checkCacheFile(e.path(), &entry.payload);
    if (!entry.problem) {
      auto parsed = json::parse(entry.payload.metadata);
      if (parsed && parsed->getAsObject())
        entry.metadata = std::move(*parsed->getAsObject());
      else
        llvm::consumeError(parsed.takeError());
    }
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return a.lastUsed > b.lastUsed;
  });
  return entries;
}

std::string field(const json::Object &o, llvm::StringRef name) {
  if (auto s = o.getString(name))
    return s->str();
  return "";
}

double number(const json::Object &o, llvm::StringRef name) {
  return o.getNumber(name).value_or(0);
}

/// "mul+add+exp": the trueno ops of the entry's kernels, in order, once each.
std::string opsSummary(const std::string &ir) {
  std::vector<std::string> ops;
  std::set<std::string> seen;
  std::regex op(R"(trueno\.([a-z_0-9]+))");
  for (auto it = std::sregex_iterator(ir.begin(), ir.end(), op);
       it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[1];
    if (name != "kernel" && name != "strides" && seen.insert(name).second)
      ops.push_back(name);
  }
  std::string text;
  for (const std::string &o : ops)
    text += (text.empty() ? "" : "+") + o;
  return text.empty() ? "-" : text;
}

/// The CPU name of a target key ("cpu; TRIPLE; CPU; FEATURES; ..."; see
/// CompileTarget::key), or "" when it has none.
std::string cpuOf(const std::string &target) {
  std::size_t at = 0;
  for (int field = 0; field < 2; ++field) {
    at = target.find("; ", at);
    if (at == std::string::npos)
      return "";
    at += 2;
  }
  return target.substr(at, target.find(';', at) - at);
}

/// What list prints as an entry's target: the CPU's name, or "vk:" and
/// the Vulkan device's ("vk:llvmpipe", "vk:NVIDIA H100 80GB HBM3").
std::string targetLabel(const json::Object &metadata) {
  std::string name = cpuOf(field(metadata, "target"));
  if (field(metadata, "backend") != "vulkan")
    return name;
  return "vk:" + name.substr(0, name.find(" ("));
}

std::string humanBytes(std::uint64_t n) {
  char text[32];
  if (n >= (1u << 20))
    std::snprintf(text, sizeof text, "%.1f MiB", n / 1048576.0);
  else if (n >= 1024)
    std::snprintf(text, sizeof text, "%.1f KiB", n / 1024.0);
  else
    std::snprintf(text, sizeof text, "%llu B",
                  static_cast<unsigned long long>(n));
  return text;
}

/// Bytes from "N", "NB", "NK", "NM" or "NG" (binary units), or in `why`
/// what is wrong with the text.
std::optional<std::uint64_t> parseSize(const std::string &text,
                                       std::string &why) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || std::isnan(v)) {
    why = "it does not start with a number";
    return std::nullopt;
  }
  if (v < 0) {
    why = "a size cannot be negative";
    return std::nullopt;
  }
  std::string unit(end);
  double scale = unit.empty() || unit == "B" ? 1
                 : unit == "K"               ? 1024
                 : unit == "M"               ? 1048576
                 : unit == "G"               ? 1073741824.0
                                             : -1;
  if (scale < 0) {
    why = "unknown unit '" + unit + "' (use B, K, M or G)";
    return std::nullopt;
  }
  // Past 2^64 the conversion to an integer is undefined.
  if (!(v * scale < 18446744073709551616.0)) {
    why = "it is too large";
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(v * scale);
}

void printJson(const json::Value &value) {
  llvm::outs() << llvm::formatv("{0:2}", value) << "\n";
}

/// What each command takes: options with a value, flags, and its one
/// operand's name ("" for none).
struct Syntax {
  std::set<std::string> options, flags;
  std::string operand;
};
const std::map<std::string, Syntax> kSyntax = {
    {"list", {}},
    {"show", {{}, {}, "KEY"}},
    {"stats", {{"--since"}, {}, ""}},
    {"verify", {{}, {"--fix"}, ""}},
    {"prune", {{"--max-size"}, {}, ""}},
    {"clear", {}},
    {"explain", {{}, {}, "FILE"}},
};

/// A usage error: the message, exit status 2.
int fail(const std::string &message) {
  std::cerr << "trueno-cache: " << message << "\n";
  return 2;
}

int usage(std::ostream &out = std::cerr, int status = 2) {
  out << "usage: trueno-cache [--dir DIR] [--json] "
         "list | show KEY | stats [--since YYYY-MM-DD] | verify [--fix] "
         "| prune [--max-size N[B|K|M|G]] | clear | explain FILE\n";
  return status;
}

json::Object entryJson(const Entry &e) {
  json::Object o{{"key", e.key},
                 {"bytes", static_cast<std::int64_t>(e.bytes)},
                 {"hits", e.hits},
                 {"last_used", isoTime(e.lastUsed)},
                 {"valid", !e.problem}};
  if (e.problem)
    o["problem"] = *e.problem;
  else {
    o["ops"] = opsSummary(field(e.metadata, "ir"));
    o["target"] = targetLabel(e.metadata);
    o["compile_ms"] = number(e.metadata, "compile_ms");
  }
  return o;
}

int list(const fs::path &dir, bool asJson) {
  std::vector<Entry> entries = readEntries(dir);
  if (asJson) {
    json::Array array;
    for (const Entry &e : entries)
      array.push_back(entryJson(e));
    printJson(json::Value(std::move(array)));
    return 0;
  }
  std::printf("%-14s %-34s %-10s %10s %11s %6s  %s\n", "KEY", "KERNEL OPS",
              "TARGET", "SIZE", "COMPILE MS", "HITS", "LAST USED (UTC)");
  for (const Entry &e : entries) {
    std::string ops = e.problem ? "(invalid: " + *e.problem + ")"
                                : opsSummary(field(e.metadata, "ir"));
    if (ops.size() > 34)
      ops = ops.substr(0, 31) + "...";
    std::printf("%-14s %-34s %-10s %10s %11.1f %6lld  %s\n",
                e.key.substr(0, 12).c_str(), ops.c_str(),
                targetLabel(e.metadata).c_str(), humanBytes(e.bytes).c_str(),
                number(e.metadata, "compile_ms"),
                static_cast<long long>(e.hits), isoTime(e.lastUsed).c_str());
  }
  std::printf("%zu entries\n", entries.size());
  return 0;
}

std::optional<Entry> findEntry(const fs::path &dir, const std::string &prefix) {
  std::optional<Entry> found;
  for (Entry &e : readEntries(dir))
    if (e.key.rfind(prefix, 0) == 0) {
      if (found) {
        std::cerr << "trueno-cache: key prefix '" << prefix
                  << "' is ambiguous; give more characters\n";
        return std::nullopt;
      }
      found = std::move(e);
    }
  if (!found)
    std::cerr << "trueno-cache: no entry with key prefix '" << prefix << "'\n";
  return found;
}

std::string disassemble(const std::string &object) {
  fs::path file = fs::temp_directory_path() /
                  ("trueno-cache-" + std::to_string(::getpid()) + ".o");
  std::ofstream(file, std::ios::binary) << object;
  std::string command = std::string(TRUENO_LLVM_OBJDUMP) +
                        " -d --no-show-raw-insn " + file.string() + " 2>&1";
  std::string text;
  if (FILE *pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
      text.append(buffer, n);
    ::pclose(pipe);
  }
  std::error_code error;
  fs::remove(file, error);
  return text;
}

/// A Vulkan entry's kernels: each one's entry point, launch shape and
/// bindings, then its SPIR-V as spirv-dis prints it.
std::string disassembleSpirv(const std::string &object) {
  auto payload = readVulkanCachePayload(object);
  if (!payload)
    return llvm::toString(payload.takeError()) + "\n";
  const mlir::trueno::SpirvProgram &program = payload->first;
  std::string text;
  fs::path file = fs::temp_directory_path() /
                  ("trueno-cache-" + std::to_string(::getpid()) + ".spv");
  for (const mlir::trueno::SpirvKernel &k : program.kernels) {
    text += "; ---- kernel " + k.entryPoint + ": workgroup size " +
            std::to_string(k.workgroupSize[0]) + "x" +
            std::to_string(k.workgroupSize[1]) + "x" +
            std::to_string(k.workgroupSize[2]) + ", " +
            std::to_string(k.workgroupCount[0]) + "x" +
            std::to_string(k.workgroupCount[1]) + "x" +
            std::to_string(k.workgroupCount[2]) + " workgroups, " +
            std::to_string(k.bindings) + " storage buffers ----\n";
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char *>(k.words.data()),
               static_cast<std::streamsize>(k.words.size() * 4));
    std::string command =
        std::string(TRUENO_SPIRV_DIS) + " " + file.string() + " 2>&1";
    if (FILE *pipe = ::popen(command.c_str(), "r")) {
      char buffer[4096];
      while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
        text.append(buffer, n);
      if (::pclose(pipe) != 0)
        text += "(spirv-dis failed: install Debian's spirv-tools)\n";
    }
  }
  std::error_code error;
  fs::remove(file, error);
  text +=
      "; driver pipeline cache: " + humanBytes(payload->second.size()) + "\n";
  return text;
}

bool isVulkan(const Entry &e) {
  return field(e.metadata, "backend") == "vulkan";
}

int show(const fs::path &dir, const std::string &prefix, bool asJson) {
  std::optional<Entry> e = findEntry(dir, prefix);
  if (!e)
    return 1;
  if (e->problem) {
    std::cerr << "trueno-cache: " << e->path.string()
              << " is invalid: " << *e->problem << "\n";
    return 1;
  }
  std::string disassembly = isVulkan(*e) ? disassembleSpirv(e->payload.object)
                                         : disassemble(e->payload.object);
  if (asJson) {
    json::Object o = entryJson(*e);
    o["format_version"] = static_cast<std::int64_t>(kCacheFormatVersion);
    o["object_bytes"] = static_cast<std::int64_t>(e->payload.object.size());
    o["metadata"] = json::Value(json::Object(e->metadata));
    o["disassembly"] = disassembly;
    printJson(json::Value(std::move(o)));
    return 0;
  }
  std::printf("key:            %s\n", e->key.c_str());
  std::printf("file:           %s (%s)\n", e->path.string().c_str(),
              humanBytes(e->bytes).c_str());
  std::printf(
      "header:         magic TRUENOKC, format version %u, checksum ok\n",
      kCacheFormatVersion);
  std::printf("%-16s%s\n", isVulkan(*e) ? "SPIR-V:" : "object code:",
              humanBytes(e->payload.object.size()).c_str());
  std::printf("target:         %s\n", field(e->metadata, "target").c_str());
  std::printf("versions:       trueno %s, llvm %s\n",
              field(e->metadata, "trueno").c_str(),
              field(e->metadata, "llvm").c_str());
  std::printf("compile time:   %.1f ms\n", number(e->metadata, "compile_ms"));
  std::printf("created:        %s UTC\n",
              isoTime(static_cast<std::int64_t>(number(e->metadata, "created")))
                  .c_str());
  std::printf("hits:           %lld, last used %s UTC\n",
              static_cast<long long>(e->hits), isoTime(e->lastUsed).c_str());
  std::printf("\n// ---- kernel IR ----\n%s", field(e->metadata, "ir").c_str());
  std::printf("\n// ---- disassembly ----\n%s", disassembly.c_str());
  return 0;
}

int stats(const fs::path &dir, const std::string &since, bool asJson) {
  std::vector<Entry> entries = readEntries(dir);
  std::uint64_t bytes = 0;
  int invalid = 0;
  for (const Entry &e : entries) {
    bytes += e.bytes;
    invalid += e.problem.has_value();
  }
  std::int64_t from = 0;
  if (!since.empty()) {
    std::tm t{};
    const char *end = strptime(since.c_str(), "%Y-%m-%d", &t);
    if (!end || *end) {
      std::cerr << "trueno-cache: --since " << since
                << ": not a date; give YYYY-MM-DD\n";
      return 2;
    }
    from = timegm(&t);
  }
  std::int64_t hits = 0, misses = 0;
  std::ifstream log(dir / kEventLog);
  for (std::string line; std::getline(log, line);) {
    std::istringstream words(line);
    std::int64_t when;
    std::string what;
    if (words >> when >> what && when >= from)
      (what == "hit" ? hits : misses)++;
  }
  std::vector<const Entry *> costly;
  for (const Entry &e : entries)
    if (!e.problem)
      costly.push_back(&e);
  std::sort(costly.begin(), costly.end(), [](const Entry *a, const Entry *b) {
    return number(a->metadata, "compile_ms") >
           number(b->metadata, "compile_ms");
  });
  costly.resize(std::min<std::size_t>(costly.size(), 5));
  double rate = hits + misses ? double(hits) / double(hits + misses) : 0;
  if (asJson) {
    json::Array top;
    for (const Entry *e : costly)
      top.push_back(
          json::Object{{"key", e->key},
                       {"ops", opsSummary(field(e->metadata, "ir"))},
                       {"compile_ms", number(e->metadata, "compile_ms")}});
    printJson(
        json::Object{{"directory", dir.string()},
                     {"entries", static_cast<std::int64_t>(entries.size())},
                     {"invalid", invalid},
                     {"bytes", static_cast<std::int64_t>(bytes)},
                     {"since", since.empty() ? "the beginning" : since},
                     {"hits", hits},
                     {"misses", misses},
                     {"hit_rate", rate},
                     {"most_compile_time", std::move(top)}});
    return 0;
  }
  std::printf("directory:  %s\n", dir.string().c_str());
  std::printf("entries:    %zu (%d invalid), %s\n", entries.size(), invalid,
              humanBytes(bytes).c_str());
  std::printf("lookups since %s: %lld hits, %lld misses, hit rate %.1f%%\n",
              since.empty() ? "the beginning" : since.c_str(),
              static_cast<long long>(hits), static_cast<long long>(misses),
              100 * rate);
  std::printf("most compile time:\n");
  for (const Entry *e : costly)
    std::printf("  %-14s %8.1f ms  %s\n", e->key.substr(0, 12).c_str(),
                number(e->metadata, "compile_ms"),
                opsSummary(field(e->metadata, "ir")).c_str());
  return 0;
}

int verify(const fs::path &dir, bool fix, bool asJson) {
  std::vector<Entry> entries = readEntries(dir);
  json::Array bad;
  std::error_code error;
  for (const Entry &e : entries)
    if (e.problem) {
      bad.push_back(json::Object{{"key", e.key}, {"problem", *e.problem}});
      if (!asJson)
        std::printf("%s: %s%s\n", e.path.filename().string().c_str(),
                    e.problem->c_str(), fix ? " (removed)" : "");
      if (fix) {
        fs::remove_all(e.path, error);
        fs::path hits = e.path;
        fs::remove(hits.replace_extension(kHitsSuffix), error);
      }
    }
  // Temporary files of writers that died mid-write.
  for (const fs::directory_entry &d : fs::directory_iterator(dir, error))
    if (isTemporary(d.path())) {
      bad.push_back(json::Object{{"key", d.path().filename().string()},
                                 {"problem", "an unfinished write"}});
      if (!asJson)
        std::printf("%s: an unfinished write%s\n",
                    d.path().filename().string().c_str(),
                    fix ? " (removed)" : "");
      if (fix)
        fs::remove(d.path(), error);
    }
  std::size_t problems = bad.size();
  if (asJson)
    printJson(
        json::Object{{"entries", static_cast<std::int64_t>(entries.size())},
                     {"bad", std::move(bad)},
                     {"fixed", fix}});
  else
    std::printf("%zu entries checked, %zu bad%s\n", entries.size(), problems,
                problems && fix ? ", removed" : "");
  return problems && !fix ? 1 : 0;
}

int prune(const fs::path &dir, std::uint64_t limit, bool asJson) {
  KernelCache cache(dir, limit);
  int removed = cache.evictTo(limit);
  if (asJson)
    printJson(json::Object{{"removed", removed},
                           {"max_bytes", static_cast<std::int64_t>(limit)}});
  else
    std::printf("removed %d least recently used entries; at most %s remain\n",
                removed, humanBytes(limit).c_str());
  return 0;
}

int clear(const fs::path &dir, bool asJson) {
  int removed = 0;
  std::error_code error;
  for (const fs::directory_entry &e : fs::directory_iterator(dir, error)) {
    std::string name = e.path().filename().string();
    if (e.path().extension() == kCacheSuffix ||
        e.path().extension() == kHitsSuffix || name == kEventLog ||
        isTemporary(e.path())) {
      removed += e.path().extension() == kCacheSuffix && !isTemporary(e.path());
      fs::remove_all(e.path(), error);
    }
  }
  if (asJson)
    printJson(json::Object{{"removed", removed}});
  else
    std::printf("removed %d entries\n", removed);
  return 0;
}

/// One program's kernels in a TRUENO_DEBUG=2 log: the device it was
/// compiled for ("cpu" in logs that name none) and its kernel IR.
struct KernelBlock {
  std::string device = "cpu";
  std::string ir;
};

/// The kernel IR blocks of a TRUENO_DEBUG=2 log, or the whole file as one.
std::vector<KernelBlock> kernelBlocks(const std::string &text) {
  std::vector<KernelBlock> blocks;
  const std::string begin = "// ---- trueno: kernel cache key ",
                    end = "// ---- trueno: end of kernels ----";
  std::size_t at = 0;
  while ((at = text.find(begin, at)) != std::string::npos) {
    std::size_t start = text.find('\n', at);
    std::size_t stop = text.find(end, start);
    if (start == std::string::npos || stop == std::string::npos)
      break;
    KernelBlock block;
    std::string line = text.substr(at, start - at);
    if (std::size_t f = line.find(" for "); f != std::string::npos)
      block.device = line.substr(f + 5, line.find(' ', f + 5) - f - 5);
    block.ir = text.substr(start + 1, stop - start - 1);
    blocks.push_back(std::move(block));
    at = stop;
  }
  if (blocks.empty())
    blocks.push_back({"cpu", text});
  return blocks;
}

int explain(const fs::path &dir, const std::string &file, bool asJson) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "trueno-cache: cannot read " << file << "\n";
    return 2;
  }
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  std::vector<Entry> entries = readEntries(dir);
  json::Array results;
  for (const KernelBlock &block : kernelBlocks(text)) {
    // Parsing and printing again gives the canonical text programs key on.
    auto module =
        mlir::parseSourceString<mlir::ModuleOp>(block.ir, &compilerContext());
    // Empty text, comments only or a log cut inside its first block parse
    // as an empty module, which no program compiles.
    if (!module || module->getBody()->empty()) {
      std::cerr << "trueno-cache: " << file
                << " holds neither kernel IR nor a TRUENO_DEBUG=2 log\n";
      return 2;
    }
    std::string ir;
    {
      llvm::raw_string_ostream os(ir);
      module->print(os);
    }
    // The key parts come from the device the log names, as the program
    // computed them: a Vulkan program's need that device (its driver and
    // pipeline-cache UUID are part of the key).
    std::optional<trueno::Device> device;
    if (block.device == "cpu")
      device = trueno::Device::cpu();
    else if (block.device.starts_with("vulkan:") && block.device.size() > 7 &&
             block.device.size() < 12 &&
             block.device.find_first_not_of("0123456789", 7) ==
                 std::string::npos)
      device = trueno::Device::vulkan(std::stoi(block.device.substr(7)));
    if (!device) {
      std::cerr << "trueno-cache: " << file << " names an unknown device '"
                << block.device << "'\n";
      return 2;
    }
    auto backend = backendFor(*device);
    if (!backend) {
      std::cerr << "trueno-cache: the log's programs were compiled for "
                << block.device << ", which this process cannot use: "
                << llvm::toString(backend.takeError()) << "\n";
      return 2;
    }
    CacheKeyParts now = backend->keyParts(ir);
    std::string key = cacheKey(now).hex();
    json::Object result{{"key", key}};
    auto exact = std::find_if(entries.begin(), entries.end(),
                              [&](const Entry &e) { return e.key == key; });
    std::string verdict;
    if (exact != entries.end() && !exact->problem) {
      verdict = "hit: " + key.substr(0, 12) + " is in the cache";
      result["hit"] = true;
    } else {
      result["hit"] = false;
      // The nearest entry: the one whose key parts differ least.
      const Entry *nearest = nullptr;
      std::vector<std::string> nearestDiffs;
      for (const Entry &e : entries) {
        if (e.problem)
          continue;
        std::vector<std::string> diffs;
        if (field(e.metadata, "ir") != now.ir)
          diffs.push_back("ir");
        if (field(e.metadata, "target") != now.target)
          diffs.push_back("target");
        if (field(e.metadata, "trueno") != now.trueno)
          diffs.push_back("trueno version");
        if (field(e.metadata, "llvm") != now.llvm)
          diffs.push_back("llvm version");
        if (field(e.metadata, "options") != now.options)
          diffs.push_back("options");
        if (!nearest || diffs.size() < nearestDiffs.size()) {
          nearest = &e;
          nearestDiffs = diffs;
        }
      }
      if (!nearest) {
        verdict =
            "miss: " + key.substr(0, 12) + "; the cache has no valid entries";
      } else {
        std::string list;
        json::Array parts;
        for (const std::string &d : nearestDiffs) {
          list += (list.empty() ? "" : ", ") + d;
          parts.push_back(d);
        }
        verdict = "miss: " + key.substr(0, 12) + "; the nearest entry " +
                  nearest->key.substr(0, 12) + " differs in " + list;
        if (std::find(nearestDiffs.begin(), nearestDiffs.end(), "target") !=
            nearestDiffs.end())
          verdict += " (entry: " + field(nearest->metadata, "target") +
                     "; now: " + now.target + ")";
        result["nearest"] = nearest->key;
        result["differs_in"] = std::move(parts);
      }
    }
    result["verdict"] = verdict;
    if (!asJson)
      std::printf("%s\n", verdict.c_str());
    results.push_back(std::move(result));
  }
  if (asJson)
    printJson(json::Value(std::move(results)));
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  fs::path dir = KernelCache::instance().directory();
  bool asJson = false;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--json") {
      asJson = true;
    } else if (args[i] == "--dir") {
      // Without its value, `clear --dir` would clear the default cache.
      if (i + 1 == args.size())
        return fail("--dir takes a directory");
      dir = args[++i];
    } else {
      rest.push_back(args[i]);
    }
  }
  if (rest.empty())
    return usage();
  const std::string &command = rest[0];
  if (command == "--help" || command == "-h")
    return usage(std::cout, 0);
  auto syntax = kSyntax.find(command);
  if (syntax == kSyntax.end()) {
    std::cerr << "trueno-cache: unknown command '" << command << "'\n";
    return usage();
  }
  // Every argument must be one the command takes: a misspelt option must
  // not run the command with its default (prune to 1 GiB, say).
  std::map<std::string, std::string> options;
  std::set<std::string> flags;
  std::vector<std::string> operands;
  for (std::size_t i = 1; i < rest.size(); ++i) {
    const std::string &arg = rest[i];
    if (syntax->second.options.count(arg)) {
      if (i + 1 == rest.size())
        return fail(arg + " takes a value");
      options[arg] = rest[++i];
    } else if (syntax->second.flags.count(arg)) {
      flags.insert(arg);
    } else if (arg.starts_with("--")) {
      std::cerr << "trueno-cache: " << command << " has no option " << arg
                << "\n";
      return usage();
    } else {
      operands.push_back(arg);
    }
  }
  const std::string &operand = syntax->second.operand;
  if (operands.size() != (operand.empty() ? 0u : 1u)) {
    std::cerr << "trueno-cache: " << command << " takes "
              << (operand.empty() ? "no arguments" : "one " + operand) << "\n";
    return usage();
  }
  // A cache not created yet is empty; one that cannot be listed (not a
  // directory, no permission) is an error, not an empty cache.
  std::error_code error;
  fs::directory_iterator listing(dir, error);
  if (error && error != std::errc::no_such_file_or_directory)
    return fail("cannot read " + dir.string() + ": " + error.message());

  if (command == "list")
    return list(dir, asJson);
  if (command == "show")
    return show(dir, operands[0], asJson);
  if (command == "stats")
    return stats(dir, options["--since"], asJson);
  if (command == "verify")
    return verify(dir, flags.count("--fix"), asJson);
  if (command == "prune") {
    std::uint64_t limit = KernelCache::instance().maxBytes();
    if (options.count("--max-size")) {
      std::string why;
      std::optional<std::uint64_t> parsed =
          parseSize(options["--max-size"], why);
      if (!parsed)
        return fail("--max-size " + options["--max-size"] + ": " + why +
                    "; give a size like 512M");
      limit = *parsed;
    }
    return prune(dir, limit, asJson);
  }
  if (command == "clear")
    return clear(dir, asJson);
  return explain(dir, operands[0], asJson);
}
