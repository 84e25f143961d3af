// PNG/JPEG decoder: any bytes give an image (pixels sized width × height × channels) or an
// Error; a decoded image must also resize.
#include <span>

#include "tessera/core/error.hpp"
#include "tessera/image/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto img = tessera::decode_image(std::span<const uint8_t>(data, size), "fuzz");
    if (img.pixels.size() != size_t(img.width * img.height * img.channels)) __builtin_trap();
    if (img.width * img.height <= 4096) {
      (void)tessera::resize(img, 5, 3, tessera::Resample::Bicubic);
      (void)tessera::convert_channels(img, img.channels == 1 ? 3 : 1);
    }
  } catch (const tessera::Error&) {
  }
  return 0;
}
