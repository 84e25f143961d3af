// tessera-classify: image classification with a ViT or DINOv2 checkpoint (…ForImageClassification):
// PNG/JPEG in, preprocessed as the model's preprocessor_config.json says, top-k labels out.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "command_line.hpp"
#include "tessera/image/preprocess.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/models/encoder.hpp"
#include "model_options.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  CLI::App app{
      "Classify PNG or JPEG images with a ViT or DINOv2 (with registers) image-classification model.\n\n"
      "Each image is converted to the model's channels (RGB or gray; alpha dropped), resized with Pillow's\n"
      "filters (the same pixels as Hugging Face's Pillow-based ViTImageProcessor), rescaled and normalised as\n"
      "MODEL/preprocessor_config.json says, and run through the model. Prints the top-k classes with\n"
      "softmax probabilities and config.json's id2label names: 'probability<TAB>id<TAB>label' per line.",
      "tessera-classify"};
  tools::ModelOptions mo;
  std::string& model_dir = mo.path;
  std::vector<std::string> images;
  int64_t top_k = 5;
  int threads = 0;
  tools::add_model_options(app, mo, "the image classifier (config.json, *.safetensors, preprocessor_config.json)");
  app.add_option("IMAGE", images, "PNG or JPEG files")->required();
  app.add_option("-k,--top-k", top_k, "number of classes to print per image (default 5)")->check(CLI::PositiveNumber);
  app.add_option("-t,--threads", threads, "threads (default: all cores)");
  tessera::tools::add_version_flag(app, "tessera-classify");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    auto model = tools::load_model(mo);
    const auto* vit = dynamic_cast<const EncoderModel*>(model.get());
    if (!vit || !vit->patches)
      fail("{} is a {} model ({}); tessera-classify needs an image model such as ViT", model_dir, model->info().family,
           model->info().architecture);
    if (!vit->classifier)
      fail("{} ({}) has no classification head (classifier.weight); use tessera-forward for its hidden states",
           model_dir, model->info().architecture);
    const std::string pp_path = model_dir + "/preprocessor_config.json";
    ImageProcessorConfig pp;
    if (file_exists(pp_path)) {
      pp = ImageProcessorConfig::from_file(pp_path);
    } else {
      pp.height = vit->patches->image_height;
      pp.width = vit->patches->image_width;
      fmt::print(stderr, "tessera-classify: note: no preprocessor_config.json; using ViTImageProcessor defaults ({}x{}, "
                         "bilinear, mean/std 0.5)\n", pp.width, pp.height);
    }
    const int64_t channels = vit->patches->channels;
    for (const std::string& path : images) {
      Tensor px = preprocess_image(load_image(path), pp, channels);
      auto out = model->forward_named({{"pixel_values", px}});
      const Tensor& logits = out.at("logits");
      const int64_t n = logits.dim(1);
      std::vector<double> prob(static_cast<size_t>(n));
      const float* z = logits.data<float>();
      const double zmax = *std::max_element(z, z + n);
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += prob[size_t(i)] = std::exp(double(z[i]) - zmax);
      for (double& p : prob) p /= sum;
      std::vector<int64_t> order(static_cast<size_t>(n));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return prob[size_t(a)] > prob[size_t(b)]; });
      if (images.size() > 1) fmt::print("{}\n", path);
      for (int64_t r = 0; r < std::min(top_k, n); ++r) {
        const int64_t c = order[size_t(r)];
        fmt::print("{:.6f}\t{}\t{}\n", prob[size_t(c)], c, vit->labels[size_t(c)]);
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-classify: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
