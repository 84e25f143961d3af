// Pillow's resampling (libImaging/Resample.c and the nearest-neighbour affine path of
// Geometry.c), transcribed so tessera's pixel_values equal Hugging Face's bit for bit.
#include <algorithm>
#include <cmath>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/image/image.hpp"

namespace tessera {
namespace {

// Pillow's precompute_coeffs in double precision: downscaling widens the filter by the scale
// factor (antialiasing); each output's weights are normalised to sum to 1.
ResampleWeights resample_weights(int64_t in_size, int64_t out_size, double filter_support, double (*filter)(double)) {
  const double scale = double(in_size) / double(out_size), filterscale = std::max(scale, 1.0);
  const double support = filter_support * filterscale, ss = 1.0 / filterscale;
  ResampleWeights rw;
  rw.taps = int64_t(std::ceil(support)) * 2 + 1;
  rw.first.resize(size_t(out_size));
  rw.count.resize(size_t(out_size));
  rw.weights.assign(size_t(out_size * rw.taps), 0.0);
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = (double(xx) + 0.5) * scale;
    const int64_t xmin = std::max<int64_t>(int64_t(center - support + 0.5), 0);  // C truncation, as Pillow
    const int64_t xmax = std::min<int64_t>(int64_t(center + support + 0.5), in_size) - xmin;
    double* w = rw.weights.data() + xx * rw.taps;
    double total = 0.0;
    for (int64_t x = 0; x < xmax; ++x) total += (w[x] = filter((double(x + xmin) - center + 0.5) * ss));
    if (total != 0.0)
      for (int64_t x = 0; x < xmax; ++x) w[x] /= total;
    rw.first[size_t(xx)] = xmin;
    rw.count[size_t(xx)] = xmax;
  }
  return rw;
}

constexpr int kPrecisionBits = 32 - 8 - 2;

struct Filter {
  double support;
  double (*fn)(double);
};

double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }
double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}
double hamming_filter(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * M_PI;
  return std::sin(x) / x * (0.54 + 0.46 * std::cos(x));
}
double bicubic_filter(double x) {
  constexpr double a = -0.5;  // Pillow's choice (Keys' kernel)
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
double sinc_filter(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}
double lanczos_filter(double x) {
  if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3);
  return 0.0;
}

Filter filter_of(Resample r) {
  switch (r) {
    case Resample::Box: return {0.5, box_filter};
    case Resample::Bilinear: return {1.0, bilinear_filter};
    case Resample::Hamming: return {1.0, hamming_filter};
    case Resample::Bicubic: return {2.0, bicubic_filter};
    case Resample::Lanczos: return {3.0, lanczos_filter};
    default: fail("resample filter {} is not supported", int(r));
  }
}

// For each output index: the first source index, how many follow, and their fixed-point
// weights (precompute_coeffs + normalize_coeffs_8bpc).
struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // [out][xmin, count]
  std::vector<int32_t> k;   // [out][ksize]
};

Coeffs precompute(int in_size, int out_size, const Filter& f) {
  const ResampleWeights rw = resample_weights(in_size, out_size, f.support, f.fn);
  Coeffs c;
  c.ksize = int(rw.taps);
  c.bounds.resize(size_t(out_size) * 2);
  c.k.assign(size_t(out_size) * size_t(c.ksize), 0);
  for (int xx = 0; xx < out_size; ++xx) {
    const int n = int(rw.count[size_t(xx)]);
    for (int x = 0; x < n; ++x) {
      const double v = rw.weights[size_t(xx) * size_t(rw.taps) + size_t(x)];
      c.k[size_t(xx) * size_t(c.ksize) + size_t(x)] =
          int32_t(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[size_t(xx) * 2] = int(rw.first[size_t(xx)]);
    c.bounds[size_t(xx) * 2 + 1] = n;
  }
  return c;
}

uint8_t clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return uint8_t(v >> kPrecisionBits);
}

// Rows [row0, row0 + out.height) of `in`, each resampled along x.
void horizontal(const Image& in, int row0, const Coeffs& c, Image& out) {
  const int64_t ch = in.channels;
  for (int64_t y = 0; y < out.height; ++y)
    for (int64_t xx = 0; xx < out.width; ++xx) {
      const int xmin = c.bounds[size_t(xx) * 2], n = c.bounds[size_t(xx) * 2 + 1];
      const int32_t* k = &c.k[size_t(xx) * size_t(c.ksize)];
      for (int64_t b = 0; b < ch; ++b) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < n; ++x) ss += int32_t(in.at(xmin + x, row0 + y, b)) * k[x];
        out.pixels[size_t((y * out.width + xx) * ch + b)] = clip8(ss);
      }
    }
}

// Columns resampled along y; bounds are relative to in's first row.
void vertical(const Image& in, const Coeffs& c, int shift, Image& out) {
  const int64_t ch = in.channels;
  for (int64_t yy = 0; yy < out.height; ++yy) {
    const int ymin = c.bounds[size_t(yy) * 2] - shift, n = c.bounds[size_t(yy) * 2 + 1];
    const int32_t* k = &c.k[size_t(yy) * size_t(c.ksize)];
    for (int64_t x = 0; x < out.width; ++x)
      for (int64_t b = 0; b < ch; ++b) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int y = 0; y < n; ++y) ss += int32_t(in.at(x, ymin + y, b)) * k[y];
        out.pixels[size_t((yy * out.width + x) * ch + b)] = clip8(ss);
      }
  }
}

Image blank(int64_t w, int64_t h, int64_t ch) {
  Image im;
  im.width = w;
  im.height = h;
  im.channels = ch;
  im.pixels.assign(size_t(w * h * ch), 0);
  return im;
}

// ImagingScaleAffine: the source coordinate advances by a running sum, so rounding
// follows Pillow's exactly.
Image nearest(const Image& in, int64_t w, int64_t h) {
  Image out = blank(w, h, in.channels);
  std::vector<int64_t> xs(static_cast<size_t>(w)), ys(static_cast<size_t>(h));
  const double ax = double(in.width) / double(w), ay = double(in.height) / double(h);
  double xo = ax * 0.5;
  for (int64_t x = 0; x < w; ++x, xo += ax) xs[size_t(x)] = std::min<int64_t>(xo < 0 ? 0 : int64_t(xo), in.width - 1);
  double yo = ay * 0.5;
  for (int64_t y = 0; y < h; ++y, yo += ay) ys[size_t(y)] = std::min<int64_t>(yo < 0 ? 0 : int64_t(yo), in.height - 1);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t b = 0; b < in.channels; ++b)
        out.pixels[size_t((y * w + x) * in.channels + b)] = in.at(xs[size_t(x)], ys[size_t(y)], b);
  return out;
}

}  // namespace

Image resize(const Image& image, int64_t width, int64_t height, Resample resample) {
  if (width <= 0 || height <= 0 || width > (1 << 20) || height > (1 << 20) || width * height > kMaxImagePixels)
    fail("resize: output size {}x{} is out of range", width, height);
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != size_t(image.width * image.height * image.channels))
    fail("resize: the input image is empty or inconsistent");
  if (width == image.width && height == image.height) return image;
  if (resample == Resample::Nearest) return nearest(image, width, height);
  const Filter f = filter_of(resample);
  const bool need_h = width != image.width, need_v = height != image.height;
  const Coeffs ch = precompute(int(image.width), int(width), f);
  const Coeffs cv = precompute(int(image.height), int(height), f);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const int ybox_first = cv.bounds[0];
  const int ybox_last = cv.bounds[size_t(height) * 2 - 2] + cv.bounds[size_t(height) * 2 - 1];
  if (need_h) {
    Image tmp = blank(width, need_v ? ybox_last - ybox_first : image.height, image.channels);
    horizontal(image, need_v ? ybox_first : 0, ch, tmp);
    if (!need_v) return tmp;
    Image out = blank(width, height, image.channels);
    vertical(tmp, cv, ybox_first, out);
    return out;
  }
  Image out = blank(width, height, image.channels);
  vertical(image, cv, 0, out);
  return out;
}

ResampleWeights resample_weights(int64_t in_size, int64_t out_size, Resample resample) {
  if (in_size <= 0 || out_size <= 0 || in_size > (1 << 20) || out_size > (1 << 20))
    fail("resample_weights: sizes {} -> {} out of range [1, {}]", in_size, out_size, 1 << 20);
  if (resample == Resample::Nearest) fail("resample_weights: nearest has no filter weights");
  const Filter f = filter_of(resample);
  return resample_weights(in_size, out_size, f.support, f.fn);
}

void resize_planes(const float* in, int64_t planes, int64_t height, int64_t width, int64_t out_height,
                   int64_t out_width, Resample resample, float* out) {
  const ResampleWeights rx = resample_weights(width, out_width, resample);
  const ResampleWeights ry = resample_weights(height, out_height, resample);
  std::vector<double> tmp(size_t(height * out_width));
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = in + p * height * width;
    for (int64_t y = 0; y < height; ++y)
      for (int64_t xx = 0; xx < out_width; ++xx) {
        const double* w = rx.weights.data() + xx * rx.taps;
        double acc = 0.0;
        for (int64_t k = 0; k < rx.count[size_t(xx)]; ++k) acc += w[k] * src[y * width + rx.first[size_t(xx)] + k];
        tmp[size_t(y * out_width + xx)] = acc;
      }
    float* dst = out + p * out_height * out_width;
    for (int64_t yy = 0; yy < out_height; ++yy) {
      const double* w = ry.weights.data() + yy * ry.taps;
      for (int64_t x = 0; x < out_width; ++x) {
        double acc = 0.0;
        for (int64_t k = 0; k < ry.count[size_t(yy)]; ++k) acc += w[k] * tmp[size_t((ry.first[size_t(yy)] + k) * out_width + x)];
        dst[yy * out_width + x] = float(acc);
      }
    }
  }
}

}  // namespace tessera
