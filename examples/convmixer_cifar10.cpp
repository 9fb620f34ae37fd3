// ConvMixer on CIFAR-10, as the Keras ConvMixer example (both versions): ConvMixer-256/8 (kernel 5,
// patch 2), Rescaling(1/255), Dense(softmax) head with sparse categorical cross entropy, AdamW
// (lr 1e-3, weight decay 1e-4), batch 128, 10 epochs, validation on the first 5,000
// training images, best-on-validation checkpoint scored on the test set. Augmentation:
// the seed's RandomCrop(32, 32) of a 32x32 image is the identity, so only the random
// horizontal flip acts (--crop-pad 4 adds the usual pad-and-crop).
//
// The loss: for a softmax output, Keras' sparse_categorical_crossentropy takes the softmax's
// input and computes the loss from the logits (the TensorFlow backend's _get_logits, "to
// prevent collapsing zero when training"), so it never clips the probabilities. The program
// does the same: the model ends at the logits and trains with cross_entropy; the softmax is
// a monotone map and changes no accuracy.
//
// On the CPU the default is the "quick" profile (a smaller ConvMixer for a few epochs
// that finishes in minutes and visibly learns); --profile seed, or --device cuda, runs
// the seed's settings.
#include <cstdio>

#include "common/run.hpp"
#include "patchnet/models/convmixer.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/viz/grid.hpp"

using namespace patchnet;
using namespace patchnet::examples;

namespace {
// The profile in effect: quick on the CPU, seed on CUDA, unless --profile says.
std::string profile_of(const Cli& cli) {
  std::string profile = cli.get<std::string>("--profile");
  if (profile.empty()) profile = cli.get<std::string>("--device") == "cpu" ? "quick" : "seed";
  PN_CHECK(profile == "seed" || profile == "quick", "--profile '", profile, "' must be seed or quick");
  return profile;
}

// The model: the flags, with the quick profile's width 128 and depth 4 where not given.
models::ConvMixerConfig config_of(const Cli& cli) {
  const bool quick = profile_of(cli) == "quick";
  auto pick = [&](const char* flag, int64_t quick_value) {
    return quick && !cli.given(flag) ? quick_value : cli.get<int64_t>(flag);
  };
  models::ConvMixerConfig c;
  c.width = pick("--width", 128);
  c.depth = pick("--depth", 4);
  c.kernel = cli.get<int64_t>("--kernel");
  c.patch = cli.get<int64_t>("--patch");
  c.softmax_head = false;  // trained on the logits, as Keras trains the seed's softmax head
  return c;
}

constexpr const char* kName = "convmixer_cifar10";
const Defaults kDefaults{
    .epochs = 10, .batch_size = 128, .lr = 1e-3, .weight_decay = 1e-4, .val_images = 5000, .val = ValSplit::Head};
constexpr train::LossKind kLoss = train::LossKind::Logits;  // Keras' loss on a softmax output (see the top)

void add_flags(Cli& cli) {
  cli.section("model");
  cli.add<std::string>("--profile", "", "seed | quick (default: quick on the CPU, seed on CUDA)");
  cli.add<int64_t>("--width", 256, "channels (the seed: 256)");
  cli.add<int64_t>("--depth", 8, "ConvMixer blocks (the seed: 8)");
  cli.add<int64_t>("--kernel", 5, "depthwise kernel size");
  cli.add<int64_t>("--patch", 2, "patch size of the stem");
  cli.add<std::string>("--adamw", "keras",
                       "AdamW convention: keras (the ConvMixer example, Keras 3), tfa "
                       "(its TF2 + TensorFlow Addons version: weight decay not scaled by "
                       "lr) or pytorch");
  cli.add<int64_t>("--crop-pad", 0, "random crop after zero padding by N pixels (0: the seed's flip only)");
}

std::string tag_of(const models::ConvMixerConfig& m) {
  return "convmixer-" + std::to_string(m.width) + "/" + std::to_string(m.depth) + "-k" + std::to_string(m.kernel) +
         "-p" + std::to_string(m.patch);
}

data::AugmentOptions augment_of(const Cli& cli, bool training) {
  data::AugmentOptions a;
  const int64_t pad = cli.get<int64_t>("--crop-pad");
  PN_CHECK(pad >= 0, "--crop-pad ", pad, " must be >= 0");
  a.hflip = training;
  if (pad > 0) {
    a.pad = pad;
    a.crop = 32;
  }
  return a;  // raw 0..255 pixels: the model's Rescaling divides by 255
}

// The example's pictures: the patch embeddings and the depthwise kernels of a middle block.
void write_pictures(models::ConvMixer<float>& model, const std::string& dir) {
  const auto& cfg = model.config();
  const Tensor<float> stem = model.patch_embedding_weight().to(Device::cpu()).contiguous();
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(cfg.width))));
  viz::write_png(dir + "/patch_embeddings.png",
                 viz::filter_grid(stem.data(), static_cast<int>(cfg.patch), static_cast<int>(cfg.patch), 3,
                                  static_cast<int>(cfg.width), cols, 8));
  if (cfg.depth > 0) {  // a kernel from the middle of the network, as the seed shows
    const Tensor<float> dw =
        model.depthwise_weight(cfg.depth / 2 - (cfg.depth > 1 ? 1 : 0)).to(Device::cpu()).contiguous();
    viz::write_png(dir + "/depthwise_kernels.png",
                   viz::depthwise_grid(dw.data(), static_cast<int>(cfg.kernel), static_cast<int>(cfg.kernel),
                                       static_cast<int>(cfg.width), cols, 6, 1, viz::Colormap::Viridis,
                                       viz::Normalize::PerFilter));  // plt.imshow scales each kernel
  }
  std::cout << "pictures: " << dir << "/{curves,patch_embeddings,depthwise_kernels}.png\n";
}
}  // namespace

int main(int argc, char** argv) {
  return guarded_main(kName, [&] {
    Cli cli(kName,
            "Train ConvMixer on CIFAR-10 as the ConvMixer seed does (ConvMixer-256/8, AdamW, 10 epochs).\n"
            "On the CPU the default --profile quick trains ConvMixer-128/4 for 2 epochs (a few minutes);\n"
            "--profile seed (the default with --device cuda) runs the seed's settings.");
    add_common_flags(cli, kDefaults, kName);
    add_flags(cli);
    if (!cli.parse(argc, argv)) return 0;
    Common c = read_common(cli);
    const models::ConvMixerConfig mc = config_of(cli);
    if (profile_of(cli) == "quick") {
      if (!cli.given("--epochs")) c.epochs = 2;
      std::printf(
          "profile quick (CPU): ConvMixer-%lld/%lld for %lld epochs; --profile seed runs the seed's "
          "ConvMixer-256/8 for 10 epochs\n",
          static_cast<long long>(mc.width), static_cast<long long>(mc.depth), static_cast<long long>(c.epochs));
    }
    check_common(c);

    Generator init(static_cast<uint64_t>(c.seed)), masks(static_cast<uint64_t>(c.seed) + 1);
    models::ConvMixer<float> model(mc, init);
    model.to(c.device);
    const std::string tag = tag_of(mc);
    print_summary(model, {32, 32, 3}, tag);

    RunData d(c, kDefaults, augment_of(cli, true), augment_of(cli, false));
    if (!c.evaluate.empty()) return evaluate_checkpoint(model, d, c, tag, kLoss, false);

    optim::AdamW<float> opt(model, adamw_options(cli.get<std::string>("--adamw"), c.weight_decay));
    train::FitConfig fc = fit_config(cli, c, d, tag, kLoss, false);
    fc.metadata = {{"width", std::to_string(mc.width)},
                   {"depth", std::to_string(mc.depth)},
                   {"kernel", std::to_string(mc.kernel)},
                   {"patch", std::to_string(mc.patch)}};
    guard_on_resume(fc, cli, {"--adamw", "--crop-pad"});
    fit_and_score(model, opt, masks, fc, d, c);
    if (c.writes()) write_pictures(model, c.save);
    return 0;
  });
}
