// 8-bit images for vision models: PNG/JPEG decoding (any hostile file is a tessera::Error,
// never a crash), channel conversion and resizing that reproduces Pillow's Image.resize,
// which is what Hugging Face image processors call.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera {

// Interleaved rows of 8-bit samples: pixels[(y * width + x) * channels + c].
struct Image {
  int64_t width = 0, height = 0, channels = 0;  // channels: 1 (L) or 3 (RGB)
  std::vector<uint8_t> pixels;

  uint8_t at(int64_t x, int64_t y, int64_t c) const { return pixels[size_t((y * width + x) * channels + c)]; }
};

// Largest image decoded, in pixels (width × height); bigger files are an Error rather than
// an allocation the machine cannot make.
inline constexpr int64_t kMaxImagePixels = int64_t(1) << 27;

// PNG or JPEG by content (not by file name). Gray images come out with 1 channel, everything
// else as RGB: palettes are expanded, 16-bit samples keep their high byte and an alpha channel
// is dropped, as Pillow's convert("RGB") does. `origin` names the source in errors.
Image decode_image(std::span<const uint8_t> bytes, const std::string& origin = "image");
Image load_image(const std::string& path);

// 1 → 3 channels by repetition; 3 → 1 with Pillow's "L" weights (299/587/114 per mille).
Image convert_channels(const Image& image, int64_t channels);

// Pillow's filter numbers (Image.Resampling), as preprocessor_config.json's "resample" holds them.
enum class Resample { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 };

// Pillow's Image.resize((width, height), resample) on 8-bit images (reducing_gap None), bit
// for bit: separable convolution, horizontal pass first, with the filter's support widened by
// the downscale factor (antialiasing), coefficients in 22-bit fixed point, rounding to 8 bits
// after each pass. Nearest picks the source pixel under each output pixel's centre.
Image resize(const Image& image, int64_t width, int64_t height, Resample resample);

// The separable filter weights that resize uses, in double precision: output index i reads
// `count[i]` inputs from `first[i]` with weights[i * taps ...] (normalised to sum 1). They are
// also torch.nn.functional.interpolate's with antialias=True, align_corners=False for
// bilinear and bicubic (both follow Pillow; bicubic with a = -0.5).
struct ResampleWeights {
  int64_t taps = 0;
  std::vector<int64_t> first, count;
  std::vector<double> weights;  // [out][taps]
};
ResampleWeights resample_weights(int64_t in_size, int64_t out_size, Resample resample);

// Float planes [planes, height, width] → [planes, out_height, out_width] with those weights,
// width first (interpolate(mode, antialias=True, align_corners=False) on float input).
void resize_planes(const float* in, int64_t planes, int64_t height, int64_t width, int64_t out_height,
                   int64_t out_width, Resample resample, float* out);

}  // namespace tessera
