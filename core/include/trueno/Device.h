//===- Device.h - Where a tensor's storage lives --------------------------===//
//
// The host CPU, and Vulkan devices (by their index in the Vulkan
// instance's enumeration). Kept as a small value type so that every tensor
// and every compiled kernel can carry and hash it.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_DEVICE_H
#define TRUENO_DEVICE_H

#include <cstdint>
#include <string>

namespace trueno {

enum class DeviceKind : std::uint8_t { CPU, Vulkan };

struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;

  static Device cpu() { return Device{}; }
  static Device vulkan(int index = 0) {
    return Device{DeviceKind::Vulkan, index};
  }
  bool operator==(const Device &) const = default;
  /// "cpu", "vulkan:0".
  std::string name() const;
};

} // namespace trueno

#endif // TRUENO_DEVICE_H
