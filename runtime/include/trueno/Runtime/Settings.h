//===- Settings.h - Environment settings, checked -------------------------===//
//
// The runtime's TRUENO_* settings read from the environment: a value that
// is not one the setting takes is ignored with a warning, never half-used.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_SETTINGS_H
#define TRUENO_RUNTIME_SETTINGS_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace trueno::runtime {

/// The value of the environment variable `name` when it is one of
/// `allowed` (the first is the default); otherwise nothing, with a warning
/// when it is set to something else.
inline std::optional<std::string_view>
choiceSetting(const char *name,
              std::initializer_list<std::string_view> allowed) {
  const char *setting = std::getenv(name);
  if (!setting)
    return std::nullopt;
  for (std::string_view choice : allowed)
    if (choice == setting)
      return choice;
  std::string choices;
  for (std::string_view choice : allowed)
    choices += (choices.empty() ? "" : " or ") + std::string(choice);
  llvm::errs() << "trueno: ignoring " << name << "=" << setting << " ("
               << choices << ")\n";
  return std::nullopt;
}

/// The integer in the environment variable `name` (all of it) when
/// `valid` accepts it; otherwise nothing, with a warning (saying `expected`)
/// when it is set to something else.
inline std::optional<std::int64_t>
numberSetting(const char *name, const char *expected,
              llvm::function_ref<bool(std::int64_t)> valid) {
  const char *setting = std::getenv(name);
  if (!setting)
    return std::nullopt;
  char *end = nullptr;
  std::int64_t asked = std::strtoll(setting, &end, 10);
  if (end != setting && *end == '\0' && valid(asked))
    return asked;
  llvm::errs() << "trueno: ignoring " << name << "=" << setting << " ("
               << expected << ")\n";
  return std::nullopt;
}

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_SETTINGS_H
