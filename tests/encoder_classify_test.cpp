// tessera-classify end to end on the hf/vit fixture with a preprocessor_config.json: the
// printed classes and probabilities equal the library's logits on Pillow's pixel values,
// and a broken image file is a clean error. DINOv2 with registers: the printed probabilities
// equal the softmax of the PyTorch reference's logits for the same image.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>

#include <fmt/format.h>

#include "fixture_util.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/models/model.hpp"

using namespace tessera;

namespace {

// A copy of fixture `name` with the ViTImageProcessor settings images/expected.safetensors was made with.
std::string classify_model_dir(const std::string& name = "hf/vit") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / ("classify_" + tessera::testing::test_name(name));
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(fs::path(tessera::testing::data_dir()) / name / f, dir / f, fs::copy_options::overwrite_existing);
  std::ofstream(dir / "preprocessor_config.json") << R"({
    "do_normalize": true, "do_rescale": true, "do_resize": true, "image_mean": [0.5, 0.5, 0.5],
    "image_processor_type": "ViTImageProcessor", "image_std": [0.5, 0.5, 0.5], "resample": 2,
    "rescale_factor": 0.00392156862745098, "size": {"height": 30, "width": 30}})";
  return dir.string();
}

// tessera-classify's output `out` (lines "prob<TAB>id<TAB>label") must list the k most probable
// classes of softmax(logits row 0), most probable first, each probability within tol.
void expect_top_k(const std::string& out, const Tensor& logits, int64_t k,
                  const std::function<std::string(int64_t)>& label_of, double tol) {
  const int64_t n = logits.dim(1);
  std::vector<double> p(static_cast<size_t>(n));
  double sum = 0, zmax = -1e300;
  for (int64_t i = 0; i < n; ++i) zmax = std::max(zmax, double(logits.get_f32(i)));
  for (int64_t i = 0; i < n; ++i) sum += p[size_t(i)] = std::exp(double(logits.get_f32(i)) - zmax);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[size_t(a)] > p[size_t(b)]; });
  std::istringstream lines(read_text_file(out));
  std::string line;
  int64_t r = 0;
  while (std::getline(lines, line)) {
    double prob;
    int64_t id;
    std::string label;
    std::istringstream fields(line);
    fields >> prob >> id >> label;
    ASSERT_LT(r, k) << line;
    EXPECT_EQ(id, order[size_t(r)]) << line;
    EXPECT_EQ(label, label_of(id)) << line;
    EXPECT_NEAR(prob, p[size_t(id)] / sum, tol) << line;
    ++r;
  }
  EXPECT_EQ(r, k);
}

}  // namespace

TEST(ClassifyTool, TopKFromPillowPixels) {
  const std::string dir = classify_model_dir();
  const std::string image = tessera::testing::data_dir() + "/images/rgb.jpg";
  const std::string out = ::testing::TempDir() + "/classify_out.txt";
  // (built with fmt: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&)
  tessera::testing::run_ok(fmt::format("({} {} {} -k 3 > {})", tessera::testing::bin("classify"), dir, image, out));
  if (HasFatalFailure()) return;

  // The same through the library, from the pixel values Pillow + numpy computed.
  auto ref = SafetensorsFile::open(tessera::testing::data_dir() + "/images/expected.safetensors");
  auto model = load(dir);
  auto logits = model->forward_named({{"pixel_values", ref.get("pixel_values/rgb.jpg")}}).at("logits");
  expect_top_k(out, logits, 3, [](int64_t id) { return "class_" + std::to_string(id); }, 2e-6);
}

TEST(ClassifyTool, BrokenImageIsAnError) {
  const std::string dir = classify_model_dir();
  const std::string bad = ::testing::TempDir() + "/truncated.png";
  std::string bytes = read_text_file(tessera::testing::data_dir() + "/images/rgb.png");
  std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const std::string log = ::testing::TempDir() + "/classify_err.txt";
  int rc = std::system((tessera::testing::bin("classify") + " " + dir + " " + bad + " > " + log + " 2>&1").c_str());
  EXPECT_NE(rc, 0);
  std::string text = read_text_file(log);
  EXPECT_NE(text.find("tessera-classify: error:"), std::string::npos) << text;
  EXPECT_NE(text.find("truncated.png"), std::string::npos) << text;
}

TEST(ClassifyTool, Dinov2WithRegistersMatchesReference) {
  // The fixture's reference input is rgb.jpg's pixel values (30x30: the position grid resized).
  const std::string name = "torch/dinov2_with_registers-rgbjpg30-v4cfg";
  const std::string dir = classify_model_dir(name);
  const std::string image = tessera::testing::data_dir() + "/images/rgb.jpg";
  const std::string out = ::testing::TempDir() + "/classify_dinov2_out.txt";
  tessera::testing::run_ok(fmt::format("({} {} {} -k 3 > {})", tessera::testing::bin("classify"), dir, image, out));
  if (HasFatalFailure()) return;
  Tensor logits = SafetensorsFile::open(tessera::testing::data_dir() + "/" + name + "/reference.safetensors").get("logits");
  ASSERT_EQ(logits.dim(1), 3);
  const char* labels[] = {"tabby", "tiger", "lynx"};
  expect_top_k(out, logits, 3, [&](int64_t id) { return std::string(labels[id]); }, 1e-4);
}
