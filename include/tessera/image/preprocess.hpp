// Hugging Face image processors (ViTImageProcessor and its relatives, the Pillow-based
// "slow" ones) read from preprocessor_config.json: resize, center crop, rescale, normalise,
// producing the pixel_values tensor a vision model takes.
#pragma once

#include <string>
#include <vector>

#include "tessera/core/tensor.hpp"
#include "tessera/image/image.hpp"

namespace tessera {

struct ImageProcessorConfig {
  bool do_resize = true;
  int64_t height = 224, width = 224;  // size {"height", "width"}
  int64_t shortest_edge = 0;          // size {"shortest_edge"}: scale so the short side is this
  Resample resample = Resample::Bilinear;
  bool do_center_crop = false;
  int64_t crop_height = 0, crop_width = 0;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::vector<float> image_mean = {0.5f, 0.5f, 0.5f}, image_std = {0.5f, 0.5f, 0.5f};

  // Reads preprocessor_config.json (fields absent there keep ViTImageProcessor's defaults).
  // Errors name the file and field.
  static ImageProcessorConfig from_file(const std::string& path);
};

// [1, channels, H, W] f32 pixel values from an image, as the processor computes them: the
// image converted to `channels`, resized (Pillow), center-cropped, then in float32
// (x · rescale_factor - mean) / std per channel.
Tensor preprocess_image(const Image& image, const ImageProcessorConfig& config, int64_t channels);

}  // namespace tessera
