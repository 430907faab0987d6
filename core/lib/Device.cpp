//===- Device.cpp - Device names ------------------------------------------===//
#include "trueno/Device.h"

namespace trueno {

std::string Device::name() const {
  switch (kind) {
  case DeviceKind::CPU:
    return "cpu";
  case DeviceKind::Vulkan:
    return "vulkan:" + std::to_string(index);
  }
  return "unknown";
}

} // namespace trueno
