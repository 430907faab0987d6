//===- Device.cpp - Device names ------------------------------------------===//
#include "trueno/Device.h"

namespace trueno {

std::string Device::name() const {
  switch (kind) {
  case DeviceKind::CPU:
    return "cpu";
  }
  return "unknown";
}

} // namespace trueno
