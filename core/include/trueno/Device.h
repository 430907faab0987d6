//===- Device.h - Where a tensor's storage lives --------------------------===//
//
// Only the host CPU exists so far; the Vulkan backend adds its kind with its
// own issue. Kept as a small value type so that every tensor and every
// compiled kernel can carry and hash it.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_DEVICE_H
#define TRUENO_DEVICE_H

#include <cstdint>
#include <string>

namespace trueno {

enum class DeviceKind : std::uint8_t { CPU };

struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;

  static Device cpu() { return Device{}; }
  bool operator==(const Device &) const = default;
  /// "cpu", later "vulkan:0".
  std::string name() const;
};

} // namespace trueno

#endif // TRUENO_DEVICE_H
