#include "tessera/image/preprocess.hpp"

#include "tessera/io/json.hpp"

namespace tessera {
namespace {

// size / crop_size: an integer (square), {"height", "width"} or {"shortest_edge"}.
void read_size(const JsonObject& cfg, const std::string& key, int64_t& h, int64_t& w, int64_t* shortest) {
  if (!cfg.has(key)) return;
  const auto& v = cfg.raw().at(key);
  if (v.is_number_integer()) {
    h = w = cfg.get_size(key, 1 << 16);
    return;
  }
  std::optional<JsonObject> o = cfg.get_object(key);
  if (!o) fail("{}: field '{}': expected an integer or an object with height/width", cfg.where(), key);
  if (o->has("height") || o->has("width")) {
    h = o->get_size("height", 1 << 16);
    w = o->get_size("width", 1 << 16);
  } else if (shortest && o->has("shortest_edge")) {
    *shortest = o->get_size("shortest_edge", 1 << 16);
    if (o->has("longest_edge")) fail("{}: field 'longest_edge' is not supported", o->where());
  } else {
    fail("{}: expected height and width{}", o->where(), shortest ? " or shortest_edge" : "");
  }
}

std::vector<float> read_floats(const JsonObject& cfg, const std::string& key, std::vector<float> fallback) {
  if (!cfg.has(key)) return fallback;
  const auto& v = cfg.raw().at(key);
  std::vector<float> out;
  if (v.is_number()) return {v.get<float>()};
  if (!v.is_array()) fail("{}: field '{}': expected a number or a list of numbers", cfg.where(), key);
  for (const auto& e : v) {
    if (!e.is_number()) fail("{}: field '{}': expected a list of numbers", cfg.where(), key);
    out.push_back(e.get<float>());
  }
  return out;
}

}  // namespace

ImageProcessorConfig ImageProcessorConfig::from_file(const std::string& path) {
  JsonObject cfg(load_json_file(path), path);
  ImageProcessorConfig c;
  c.do_resize = cfg.get_bool("do_resize", c.do_resize);
  read_size(cfg, "size", c.height, c.width, &c.shortest_edge);
  const int64_t r = cfg.get_int("resample", int64_t(c.resample));
  if (r < 0 || r > 5) fail("{}: field 'resample': {} is not a Pillow filter (0-5)", path, r);
  c.resample = Resample(r);
  c.do_center_crop = cfg.get_bool("do_center_crop", false);
  if (c.do_center_crop) {
    c.crop_height = c.height;
    c.crop_width = c.width;
    read_size(cfg, "crop_size", c.crop_height, c.crop_width, nullptr);
  }
  if (cfg.has("crop_pct")) fail("{}: field 'crop_pct' is not supported (ConvNeXt-style resize-then-crop)", path);
  c.do_rescale = cfg.get_bool("do_rescale", c.do_rescale);
  c.rescale_factor = cfg.get_float("rescale_factor", c.rescale_factor);
  c.do_normalize = cfg.get_bool("do_normalize", c.do_normalize);
  c.image_mean = read_floats(cfg, "image_mean", c.image_mean);
  c.image_std = read_floats(cfg, "image_std", c.image_std);
  for (float s : c.image_std)
    if (s == 0.0f) fail("{}: field 'image_std' contains 0", path);
  return c;
}

Tensor preprocess_image(const Image& image, const ImageProcessorConfig& cfg, int64_t channels) {
  Image im = convert_channels(image, channels);
  if (cfg.do_resize) {
    int64_t h = cfg.height, w = cfg.width;
    if (cfg.shortest_edge > 0) {
      // get_resize_output_image_size(default_to_square=False): the short side becomes
      // shortest_edge, the long side int(shortest_edge × long / short).
      const bool portrait = im.height >= im.width;
      const int64_t s = portrait ? im.width : im.height, l = portrait ? im.height : im.width;
      const int64_t nl = int64_t(double(cfg.shortest_edge) * double(l) / double(s));
      h = portrait ? nl : cfg.shortest_edge;
      w = portrait ? cfg.shortest_edge : nl;
    }
    im = resize(im, w, h, cfg.resample);
  }
  if (cfg.do_center_crop) {
    if (cfg.crop_height > im.height || cfg.crop_width > im.width)
      fail("center crop {}x{} is larger than the resized image {}x{} (padding is not supported)", cfg.crop_width,
           cfg.crop_height, im.width, im.height);
    const int64_t top = (im.height - cfg.crop_height) / 2, left = (im.width - cfg.crop_width) / 2;
    Image crop;
    crop.width = cfg.crop_width;
    crop.height = cfg.crop_height;
    crop.channels = im.channels;
    for (int64_t y = 0; y < crop.height; ++y)
      for (int64_t x = 0; x < crop.width; ++x)
        for (int64_t c = 0; c < im.channels; ++c) crop.pixels.push_back(im.at(left + x, top + y, c));
    im = std::move(crop);
  }
  auto per_channel = [&](const std::vector<float>& v, const char* name) {
    if (v.size() == 1) return std::vector<float>(size_t(channels), v[0]);
    if (int64_t(v.size()) != channels) fail("{} has {} values for a model with {} channels", name, v.size(), channels);
    return v;
  };
  const std::vector<float> mean = per_channel(cfg.image_mean, "image_mean"), std = per_channel(cfg.image_std, "image_std");
  Tensor out = Tensor::zeros(DType::F32, {1, channels, im.height, im.width});
  float* y = out.data<float>();
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < im.height * im.width; ++i) {
      // rescale() multiplies in float64 and casts to float32; normalize() runs in float32.
      float v = cfg.do_rescale ? float(double(im.pixels[size_t(i * channels + c)]) * cfg.rescale_factor)
                               : float(im.pixels[size_t(i * channels + c)]);
      if (cfg.do_normalize) v = (v - mean[size_t(c)]) / std[size_t(c)];
      y[c * im.height * im.width + i] = v;
    }
  return out;
}

}  // namespace tessera
