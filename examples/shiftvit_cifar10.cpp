// ShiftViT on CIFAR-10, as the Keras ShiftViT example: patch 4, dim 96, stages 2-4-8-2,
// num_div 12, shift 1 pixel, MLP ratio 2, dropout 0.2, stochastic depth 0.2, LayerNorm eps
// 1e-5; augmentation Resizing(52) -> RandomCrop(48) -> RandomFlip -> Rescaling(1/255)
// (evaluation: resize to 48); AdamW (TensorFlow Addons: weight decay 1e-4 not scaled by
// the learning rate) under warmup-cosine (1e-5 -> 1e-3 over the first 15% of the steps,
// cosine to 0 at the end); batch 256; up to 100 epochs with early stopping (patience 5 on
// validation accuracy); training on the first 40,000 images, validation on the last 10,000;
// top-1 and top-5 test accuracy of the final weights (the example's figure), then of the
// best-on-validation checkpoint.
//
// --predict DIR classifies the JPEG / PNG images of a folder with a saved model (the seed's
// inference section): each image is resized to 32x32 (bilinear; the seed uses nearest), then goes
// through the evaluation pipeline, and its classes are printed with their confidences.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "common/run.hpp"
#include "patchnet/data/augment.hpp"
#include "patchnet/data/image_folder.hpp"
#include "patchnet/models/shiftvit.hpp"
#include "patchnet/ops/activation.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/optim/schedule.hpp"
#include "patchnet/viz/grid.hpp"

using namespace patchnet;
using namespace patchnet::examples;

namespace {
std::vector<int64_t> parse_stages(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    PN_CHECK(!item.empty() && end && *end == '\0' && v >= 0, "--stages '", text,
             "' must be a comma-separated list of block counts, like 2,4,8,2");
    out.push_back(v);
  }
  PN_CHECK(!out.empty(), "--stages '", text, "' is empty");
  return out;
}

models::ShiftViTConfig config_of(const Cli& cli) {
  models::ShiftViTConfig c;
  c.patch = cli.get<int64_t>("--patch");
  c.dim = cli.get<int64_t>("--dim");
  c.depths = parse_stages(cli.get<std::string>("--stages"));
  c.num_div = cli.get<int64_t>("--num-div");
  c.shift = cli.get<int64_t>("--shift");
  c.mlp_ratio = cli.get<double>("--mlp-ratio");
  c.mlp_dropout = cli.get<double>("--dropout");
  c.drop_path = cli.get<double>("--drop-path");
  c.eps = cli.get<double>("--eps");
  const std::string g = cli.get<std::string>("--shift-group");
  PN_CHECK(g == "paper" || g == "keras", "--shift-group '", g, "' must be paper or keras");
  c.shift_group = g == "paper" ? models::ShiftGroup::Paper : models::ShiftGroup::KerasSeed;
  return c;
}

data::AugmentOptions augment_of(const Cli& cli, bool training) {
  const int64_t size = cli.get<int64_t>("--image-size");
  PN_CHECK(size > 0, "--image-size ", size, " must be positive");
  return {.rescale = true, .resize = size + 4, .crop = size, .hflip = training, .eval_resize = size};
}

// The seed's inference: every image of `dir`, resized to 32x32, through the evaluation
// pipeline and the model; prints each image's classes by confidence.
void predict(const Cli& cli, const Common& c, Model& model) {
  const std::string dir = cli.get<std::string>("--predict");
  std::string weights = cli.get<std::string>("--weights");
  if (weights.empty()) weights = c.save + "/best.safetensors";
  io::load_model(weights, model, "shiftvit");
  model.eval();
  const std::vector<std::string> files = data::list_images(dir);
  PN_CHECK(!files.empty(), "--predict ", dir, ": no .jpg, .jpeg or .png images in this folder");
  const data::AugmentOptions aug = augment_of(cli, false);
  const Shape shape = data::output_shape(aug, 32, 32, 3, false);
  const auto& names = data::cifar10_class_names();
  NoGrad no_grad;
  for (const std::string& file : files) {
    const std::vector<uint8_t> pixels = data::load_image_rgb(file, 32, 32);
    Tensor<float> x = Tensor<float>::empty({1, shape[0], shape[1], shape[2]});
    data::augment_image(pixels.data(), 32, 32, 3, x.data(), aug, false, 0, 0, 0);
    const std::vector<float> p = softmax(model(x.to(c.device)).to(Device::cpu()), -1).to_vector();
    std::vector<size_t> order(p.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
    std::printf("%s: %s", std::filesystem::path(file).filename().c_str(), names[order[0]].c_str());
    for (size_t k = 0; k < order.size(); ++k)
      std::printf("%s %s %.2f%%", k ? "," : " |", names[order[k]].c_str(), 100.0 * p[order[k]]);
    std::printf("\n");
  }
}

// The seed's picture of predictions: the first nine test images (4x), each titled with the
// model's class and confidence, and the true class below (red when wrong).
void prediction_picture(const Cli& cli, const Common& c, Model& model, const data::ImageSet& test,
                        const std::string& path) {
  model.eval();
  NoGrad no_grad;
  const data::AugmentOptions aug = augment_of(cli, false);
  const Shape shape = data::output_shape(aug, test.height, test.width, test.channels, false);
  const auto& names = data::cifar10_class_names();
  const int64_t n = std::min<int64_t>(9, test.n);
  std::vector<std::vector<viz::Canvas>> rows(1);
  for (int64_t i = 0; i < n; ++i) {
    Tensor<float> x = Tensor<float>::empty({1, shape[0], shape[1], shape[2]});
    data::augment_image(test.image(i), test.height, test.width, test.channels, x.data(), aug, false, 0, 0, 0);
    const std::vector<float> p = softmax(model(x.to(c.device)).to(Device::cpu()), -1).to_vector();
    const auto best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    const auto truth = static_cast<size_t>(test.labels[static_cast<size_t>(i)]);
    char title[64];
    std::snprintf(title, sizeof title, "%s %.1f%%", names[best].c_str(), 100.0 * p[best]);
    const std::string below = "true: " + names[truth];
    const int scale = 4, w = static_cast<int>(test.width) * scale, h = static_cast<int>(test.height) * scale;
    viz::Canvas cell(std::max({w, viz::Canvas::text_width(title), viz::Canvas::text_width(below)}) + 8, h + 34);
    cell.text((cell.width() - viz::Canvas::text_width(title)) / 2, 2, title, {0, 0, 0});
    cell.blit(viz::image_rgb(test.image(i), static_cast<int>(test.height), static_cast<int>(test.width), scale),
              (cell.width() - w) / 2, 16);
    cell.text((cell.width() - viz::Canvas::text_width(below)) / 2, h + 20, below,
              best == truth ? viz::Rgb{0, 110, 0} : viz::Rgb{200, 0, 0});
    if (rows.back().size() == 3) rows.emplace_back();
    rows.back().push_back(std::move(cell));
  }
  while (rows.back().size() < rows.front().size()) rows.back().emplace_back(1, 1);
  viz::write_png(path, viz::labelled_grid(rows, {}));
  std::cout << "picture: " << path << "\n";
}

constexpr const char* kName = "shiftvit_cifar10";
const Defaults kDefaults{.epochs = 100,
                         .batch_size = 256,
                         .patience = 5,
                         .lr = 1e-3,
                         .weight_decay = 1e-4,
                         .val_images = 10000,
                         .val = ValSplit::Tail};
constexpr train::LossKind kLoss = train::LossKind::Logits;

void add_flags(Cli& cli) {
  cli.section("model");
  cli.add<int64_t>("--patch", 4, "patch size of the projection");
  cli.add<int64_t>("--dim", 96, "channels after the projection (doubled by each patch merging)");
  cli.add<std::string>("--stages", "2,4,8,2", "shift blocks per stage");
  cli.add<int64_t>("--num-div", 12, "channel divisions of the shift");
  cli.add<int64_t>("--shift", 1, "pixels each shifted group moves");
  cli.add<std::string>("--shift-group", "paper",
                       "paper (g = C / num_div, the official code) or keras (the seed's "
                       "tf.split reading)");
  cli.add<double>("--mlp-ratio", 2.0, "MLP expansion ratio");
  cli.add<double>("--dropout", 0.2, "MLP dropout rate");
  cli.add<double>("--drop-path", 0.2, "largest stochastic-depth rate (linear from 0 within each stage)");
  cli.add<double>("--eps", 1e-5, "LayerNorm epsilon");
  cli.add<int64_t>("--image-size", 48, "training crop (images are resized to size + 4 first)");
  cli.section("optimizer");
  cli.add<double>("--lr-start", 1e-5, "learning rate at step 0 (warmup start)");
  cli.add<double>("--warmup", 0.15, "fraction of the steps spent warming up");
  cli.add<std::string>("--adamw", "tfa",
                       "AdamW convention: tfa (the seed: weight decay not scaled by lr), keras "
                       "or pytorch");
  cli.section("inference");
  cli.add<std::string>("--predict", "", "classify the images of this folder and exit");
  cli.add<std::string>("--weights", "", "model for --predict (default: <save>/best.safetensors)");
}

// The seed's warmup-cosine: total_steps = int(len(x_train) / batch_size * epochs), the first
// int(total * warmup) of them warming up.
std::function<double(int64_t)> schedule_of(const Cli& cli, const Common& c, int64_t train_images) {
  const double warmup = cli.get<double>("--warmup");
  PN_CHECK(warmup >= 0 && warmup <= 1, "--warmup ", warmup, " must be a fraction in [0, 1]");
  const double steps =
      static_cast<double>(train_images) / static_cast<double>(c.batch_size) * static_cast<double>(c.epochs);
  PN_CHECK(steps < 0x1p62, "--epochs ", c.epochs, ": ", steps, " steps are more than the schedule can count");
  const auto total = static_cast<int64_t>(steps);
  const optim::WarmupCosine s{.lr_start = cli.get<double>("--lr-start"),
                              .lr_max = c.lr,
                              .warmup_steps = static_cast<int64_t>(static_cast<double>(total) * warmup),
                              .total_steps = total};
  s.validate();
  return [s](int64_t step) { return s(step); };
}

std::map<std::string, std::string> metadata_of(const Cli& cli, const models::ShiftViTConfig& m) {
  std::string stages;
  for (int64_t d : m.depths) {
    if (!stages.empty()) stages += ',';
    stages += std::to_string(d);
  }
  return {{"dim", std::to_string(m.dim)},
          {"patch", std::to_string(m.patch)},
          {"stages", stages},
          {"num_div", std::to_string(m.num_div)},
          {"shift", std::to_string(m.shift)},
          {"mlp_ratio", train::detail::exact(m.mlp_ratio)},
          {"eps", train::detail::exact(m.eps)},
          {"image_size", std::to_string(cli.get<int64_t>("--image-size"))},
          {"shift_group", cli.get<std::string>("--shift-group")}};
}
}  // namespace

int main(int argc, char** argv) {
  return guarded_main(kName, [&] {
    Cli cli(kName,
            "Train ShiftViT on CIFAR-10 as the ShiftViT seed does (dim 96, stages 2-4-8-2, AdamW with\n"
            "warmup-cosine, early stopping), or classify a folder of images with --predict DIR.");
    add_common_flags(cli, kDefaults, kName);
    add_flags(cli);
    if (!cli.parse(argc, argv)) return 0;
    Common c = read_common(cli);
    check_common(c);

    Generator init(static_cast<uint64_t>(c.seed)), masks(static_cast<uint64_t>(c.seed) + 1);
    const models::ShiftViTConfig mc = config_of(cli);
    models::ShiftViT<float> model(mc, init, &masks);
    model.to(c.device);
    if (!cli.get<std::string>("--predict").empty()) {  // the seed's inference: no data set
      predict(cli, c, model);
      return 0;
    }
    const std::string tag = "shiftvit";
    const int64_t size = cli.get<int64_t>("--image-size");
    print_summary(model, {size, size, 3}, tag);

    RunData d(c, kDefaults, augment_of(cli, true), augment_of(cli, false));
    if (!c.evaluate.empty()) {
      evaluate_checkpoint(model, d, c, tag, kLoss, true);
      if (c.writes()) prediction_picture(cli, c, model, d.splits.test, c.save + "/predictions.png");
      return 0;
    }

    optim::AdamW<float> opt(model, adamw_options(cli.get<std::string>("--adamw"), c.weight_decay));
    train::FitConfig fc = fit_config(cli, c, d, tag, kLoss, true);
    fc.metadata = metadata_of(cli, mc);
    fc.lr = schedule_of(cli, c, d.splits.train.n);
    guard_on_resume(fc, cli,
                    {"--adamw", "--lr-start", "--warmup", "--image-size", "--dropout", "--drop-path", "--shift-group",
                     "--shift", "--num-div", "--eps"});
    fit_and_score(model, opt, masks, fc, d, c, /*score_final=*/true);
    if (c.writes()) prediction_picture(cli, c, model, d.splits.test, c.save + "/predictions.png");
    return 0;
  });
}
