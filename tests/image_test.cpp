// Image decoding and Pillow-exact resizing against tests/data/images/expected.safetensors
// (written by Pillow, see make_images.py), ViT preprocessing, and hostile files: every
// truncation and many corruptions of real files give an Error or an image, never a crash.
#include <fstream>
#include <map>
#include <random>

#include "fixture_util.hpp"
#include "tessera/image/image.hpp"
#include "tessera/image/preprocess.hpp"
#include "tessera/io/mmap.hpp"

using namespace tessera;
using namespace tessera::testing;

namespace {

std::string images_dir() { return data_dir() + "/images"; }

std::vector<uint8_t> file_bytes(const std::string& name) {
  std::string s = read_text_file(images_dir() + "/" + name);
  return std::vector<uint8_t>(s.begin(), s.end());
}

// Max |a - b| of an image against a U8 [H, W, C] reference, or -1 when the shapes differ.
int max_diff(const Image& im, const Tensor& ref) {
  if (ref.rank() != 3 || ref.dim(0) != im.height || ref.dim(1) != im.width || ref.dim(2) != im.channels) return -1;
  int worst = 0;
  const auto* r = ref.data<uint8_t>();
  for (size_t i = 0; i < im.pixels.size(); ++i) worst = std::max(worst, std::abs(int(im.pixels[i]) - int(r[i])));
  return worst;
}

const std::vector<std::string> kFiles = {"rgb.png", "gray.png", "palette.png", "rgba.png",
                                         "rgb.jpg", "progressive.jpg", "gray.jpg"};

// Decoding must end in an Error or a consistent image.
void decode_or_error(const std::vector<uint8_t>& bytes, const std::string& what) {
  try {
    Image im = decode_image(bytes, what);
    ASSERT_GT(im.width, 0) << what;
    ASSERT_EQ(im.pixels.size(), size_t(im.width * im.height * im.channels)) << what;
  } catch (const Error&) {
  }
}

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return c ^ 0xffffffffu;
}

}  // namespace

TEST(Image, DecodesLikePillow) {
  auto ref = SafetensorsFile::open(images_dir() + "/expected.safetensors");
  for (const auto& name : kFiles) {
    Tensor want = ref.get("decoded/" + name);
    Image im = convert_channels(load_image(images_dir() + "/" + name), want.dim(2));
    EXPECT_EQ(max_diff(im, want), 0) << name;
  }
}

TEST(Image, ResizeMatchesPillowExactly) {
  auto ref = SafetensorsFile::open(images_dir() + "/expected.safetensors");
  const std::map<std::string, Resample> filters = {{"nearest", Resample::Nearest}, {"bilinear", Resample::Bilinear},
                                                   {"bicubic", Resample::Bicubic}, {"lanczos", Resample::Lanczos},
                                                   {"box", Resample::Box},         {"hamming", Resample::Hamming}};
  int checked = 0;
  for (const auto& key : ref.names()) {
    if (key.rfind("resize/", 0) != 0) continue;
    // resize/<filter>/<w>x<h>/<file>
    const size_t a = key.find('/', 7), b = key.find('/', a + 1);
    const std::string filter = key.substr(7, a - 7), size = key.substr(a + 1, b - a - 1), file = key.substr(b + 1);
    const int64_t w = std::stoll(size.substr(0, size.find('x'))), h = std::stoll(size.substr(size.find('x') + 1));
    Tensor want = ref.get(key);
    Image src = convert_channels(load_image(images_dir() + "/" + file), want.dim(2));
    Image got = resize(src, w, h, filters.at(filter));
    EXPECT_EQ(max_diff(got, want), 0) << key;
    ++checked;
  }
  EXPECT_GE(checked, 100);
}

TEST(Image, VitPreprocessingMatchesReference) {
  auto ref = SafetensorsFile::open(images_dir() + "/expected.safetensors");
  ImageProcessorConfig cfg;  // ViTImageProcessor defaults
  cfg.height = cfg.width = 30;
  for (const char* name : {"rgb.png", "rgb.jpg", "gray.jpg"}) {
    Tensor got = preprocess_image(load_image(images_dir() + "/" + name), cfg, 3);
    Diff d = compare(got, ref.get(std::string("pixel_values/") + name));
    EXPECT_EQ(d.max_abs_diff, 0.0) << name;
  }
}

TEST(Image, ProcessorConfig) {
  const std::string path = ::testing::TempDir() + "/preprocessor_config.json";
  {
    std::ofstream(path) << R"({"do_resize": true, "size": {"shortest_edge": 20}, "resample": 3,
      "do_center_crop": true, "crop_size": {"height": 16, "width": 12}, "do_rescale": true,
      "rescale_factor": 0.00392156862745098, "do_normalize": true, "image_mean": [0.1, 0.2, 0.3],
      "image_std": [0.9, 0.8, 0.7]})";
  }
  auto cfg = ImageProcessorConfig::from_file(path);
  EXPECT_EQ(cfg.shortest_edge, 20);
  EXPECT_EQ(cfg.resample, Resample::Bicubic);
  Image im = load_image(images_dir() + "/rgb.png");  // 37x23 → 32x20 → crop 12x16
  Tensor px = preprocess_image(im, cfg, 3);
  EXPECT_EQ(shape_str(px.shape()), "[1, 3, 16, 12]");
  Image resized = resize(im, 32, 20, Resample::Bicubic);
  // Channel 1 at crop (0, 0) = resized (10, 2).
  float want = (float(double(resized.at(10, 2, 1)) * 0.00392156862745098) - 0.2f) / 0.8f;
  EXPECT_FLOAT_EQ(px.data<float>()[16 * 12], want);
  {
    std::ofstream(path) << R"({"resample": 9})";
  }
  EXPECT_THROW(ImageProcessorConfig::from_file(path), Error);
}

TEST(Image, HostileFilesGiveErrors) {
  EXPECT_THROW(decode_image(std::vector<uint8_t>{}, "empty"), Error);
  EXPECT_THROW(decode_image(std::vector<uint8_t>{'G', 'I', 'F', '8', '9', 'a'}, "gif"), Error);
  EXPECT_THROW(load_image(images_dir() + "/no-such-file.png"), Error);
  std::mt19937 rng(7);
  for (const auto& name : kFiles) {
    const std::vector<uint8_t> good = file_bytes(name);
    // Every truncation.
    for (size_t n = 0; n < good.size(); ++n) {
      std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
      decode_or_error(cut, name + " cut at " + std::to_string(n));
      if (HasFatalFailure()) return;
    }
    // Random byte corruptions (a few bytes each), mostly in the headers where they hurt most.
    for (int trial = 0; trial < 300; ++trial) {
      std::vector<uint8_t> bad = good;
      const int flips = 1 + int(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        size_t at = trial % 2 ? rng() % std::min<size_t>(bad.size(), 200) : rng() % bad.size();
        bad[at] = uint8_t(rng());
      }
      decode_or_error(bad, name + " corrupted, trial " + std::to_string(trial));
      if (HasFatalFailure()) return;
    }
  }
}

TEST(Image, HugeDimensionsAreRefused) {
  // A valid PNG header (with a correct CRC) that claims 60000 × 60000 pixels.
  std::vector<uint8_t> png = file_bytes("rgb.png");
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) png[at + size_t(i)] = uint8_t(v >> (24 - 8 * i));
  };
  put32(16, 60000);
  put32(20, 60000);
  put32(29, crc32(png.data() + 12, 17));  // IHDR: type + 13 bytes of data
  try {
    decode_image(png, "huge.png");
    FAIL() << "a 3.6-gigapixel PNG was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("huge.png"), std::string::npos) << e.what();
  }
  // JPEG: SOF0 dimensions patched to 65000 × 65000.
  std::vector<uint8_t> jpg = file_bytes("rgb.jpg");
  bool patched = false;
  for (size_t i = 2; i + 8 < jpg.size(); ++i)
    if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {
      jpg[i + 5] = jpg[i + 7] = 0xfd;
      jpg[i + 6] = jpg[i + 8] = 0xe8;
      patched = true;
      break;
    }
  ASSERT_TRUE(patched);
  EXPECT_THROW(decode_image(jpg, "huge.jpg"), Error);
}

TEST(Image, ResizeRejectsBadSizes) {
  Image im = load_image(images_dir() + "/gray.png");
  EXPECT_THROW(resize(im, 0, 5, Resample::Bilinear), Error);
  EXPECT_THROW(resize(im, 5, -1, Resample::Bilinear), Error);
  EXPECT_THROW(resize(im, 5, 5, Resample(17)), Error);
  Image empty;
  EXPECT_THROW(resize(empty, 5, 5, Resample::Bilinear), Error);
}
