// PNG (libpng) and JPEG (libjpeg) decoding into 8-bit L or RGB. Both libraries report
// errors by longjmp: every C++ object that must survive the jump lives in the caller of the
// function that calls setjmp, and nothing in that function's frame is changed after it.
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>

#include <png.h>
// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>
#include <jerror.h>

#include "tessera/core/error.hpp"
#include "tessera/image/image.hpp"
#include "tessera/io/mmap.hpp"

namespace tessera {
namespace {

struct Decoded {
  uint32_t width = 0, height = 0, channels = 0;
  char error[JMSG_LENGTH_MAX + 64] = {0};
};

bool too_large(uint64_t w, uint64_t h) { return w == 0 || h == 0 || w * h > uint64_t(kMaxImagePixels); }

// ---- PNG ----

struct PngSource {
  const uint8_t* data;
  size_t size, pos;
  Decoded* out;
};

void png_error_fn(png_structp png, png_const_charp msg) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->out->error, sizeof src->out->error, "%s", msg);
  png_longjmp(png, 1);
}

void png_warning_fn(png_structp, png_const_charp) {}

void png_read_fn(png_structp png, png_bytep dst, png_size_t n) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > src->size - src->pos) png_error(png, "the file is truncated");
  std::memcpy(dst, src->data + src->pos, n);
  src->pos += n;
}

bool decode_png(PngSource& src, std::vector<uint8_t>& pixels, std::vector<png_bytep>& rows) {
  Decoded& out = *src.out;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_error_fn, png_warning_fn);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &src, png_read_fn);
  png_set_user_limits(png, 1u << 20, 1u << 20);
  png_set_chunk_malloc_max(png, 64u << 20);  // text/ICC chunks cannot exhaust memory
  png_read_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  if (too_large(w, h)) png_error(png, "the image is empty or has more pixels than tessera decodes");
  const int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
  // Everything to 8-bit L or RGB; transparency is dropped as Pillow's convert("RGB") does.
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const png_uint_32 channels = png_get_channels(png, info);
  if ((channels != 1 && channels != 3) || png_get_rowbytes(png, info) != size_t(w) * channels)
    png_error(png, "unexpected pixel layout after conversion");
  bool allocated = true;
  try {
    pixels.resize(size_t(w) * h * channels);
    rows.resize(h);
  } catch (const std::bad_alloc&) {
    allocated = false;
  }
  if (!allocated) png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = pixels.data() + size_t(y) * w * channels;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  out.width = w;
  out.height = h;
  out.channels = channels;
  return true;
}

// ---- JPEG ----

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  Decoded* out;
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  char msg[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, msg);
  std::snprintf(err->out->error, sizeof err->out->error, "%s", msg);
  std::longjmp(err->jump, 1);
}

// Warnings are ignored except a premature end of data: Pillow refuses truncated files
// (LOAD_TRUNCATED_IMAGES is off) rather than filling the rest with gray, and so do we.
void jpeg_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) cinfo->err->error_exit(cinfo);
}

bool decode_jpeg(const uint8_t* data, size_t size, JpegError& err, jpeg_decompress_struct& cinfo,
                 std::vector<uint8_t>& pixels) {
  Decoded& out = *err.out;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  err.mgr.emit_message = jpeg_emit_message;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.mem->max_memory_to_use = 512L << 20;
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (too_large(cinfo.image_width, cinfo.image_height)) {
    std::snprintf(out.error, sizeof out.error, "the image is empty or has more pixels than tessera decodes");
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    std::snprintf(out.error, sizeof out.error, "CMYK JPEG images are not supported");
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const uint32_t w = cinfo.output_width, h = cinfo.output_height, c = uint32_t(cinfo.output_components);
  bool allocated = true;
  try {
    pixels.resize(size_t(w) * h * c);
  } catch (const std::bad_alloc&) {
    allocated = false;
  }
  if (!allocated) {
    std::snprintf(out.error, sizeof out.error, "out of memory");
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  while (cinfo.output_scanline < h) {
    JSAMPROW row = pixels.data() + size_t(cinfo.output_scanline) * w * c;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  out.width = w;
  out.height = h;
  out.channels = c;
  return true;
}

}  // namespace

Image decode_image(std::span<const uint8_t> bytes, const std::string& origin) {
  static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Decoded d;
  Image img;
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_magic, 8) == 0) {
    PngSource src{bytes.data(), bytes.size(), 0, &d};
    std::vector<png_bytep> rows;
    if (!decode_png(src, img.pixels, rows)) fail("{}: not a readable PNG: {}", origin, d.error[0] ? d.error : "libpng failed");
  } else if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) {
    JpegError err{};
    err.out = &d;
    jpeg_decompress_struct cinfo{};
    if (!decode_jpeg(bytes.data(), bytes.size(), err, cinfo, img.pixels))
      fail("{}: not a readable JPEG: {}", origin, d.error[0] ? d.error : "libjpeg failed");
  } else {
    fail("{}: not a PNG or JPEG file (unrecognised signature)", origin);
  }
  img.width = d.width;
  img.height = d.height;
  img.channels = d.channels;
  if (img.channels != 1 && img.channels != 3) fail("{}: {} channels after decoding (expected 1 or 3)", origin, img.channels);
  return img;
}

Image load_image(const std::string& path) {
  const std::string bytes = read_text_file(path);
  return decode_image(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), path);
}

Image convert_channels(const Image& image, int64_t channels) {
  if (channels == image.channels) return image;
  Image out;
  out.width = image.width;
  out.height = image.height;
  out.channels = channels;
  const int64_t n = image.width * image.height;
  out.pixels.resize(size_t(n * channels));
  if (image.channels == 1 && channels == 3) {
    for (int64_t i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c) out.pixels[size_t(i * 3 + c)] = image.pixels[size_t(i)];
  } else if (image.channels == 3 && channels == 1) {
    // Pillow's RGB → L: L = R·299/1000 + G·587/1000 + B·114/1000 in 16-bit fixed point.
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* p = &image.pixels[size_t(i * 3)];
      out.pixels[size_t(i)] = uint8_t((p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16);
    }
  } else {
    fail("cannot convert an image with {} channels to {} channels", image.channels, channels);
  }
  return out;
}

}  // namespace tessera
