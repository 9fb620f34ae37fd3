// The Keras involution example on CIFAR-10: an involution network (three involution layers:
// channel 3, group 1, kernel 3, reduction 2, each followed by ReLU, the first two by 2x2
// max pooling; then dense 64 + ReLU and dense 10) or, with --model conv, the seed's
// convolution baseline (3x3 convolutions 32-64-64). Adam (Keras defaults), batch 256,
// 20 epochs, pixels scaled to [0, 1], no augmentation, validation on the test set as the
// seed does (so the "best" checkpoint is chosen on the test set: the seed's protocol).
//
// Pictures: the curves, and for the involution network the seed's kernel heat maps: for
// ten test images, the kernel each involution layer generates, summed over its K*K*G
// values at every output pixel (involution_kernels.png).
#include <cstdio>

#include "common/run.hpp"
#include "patchnet/models/involution_net.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/viz/grid.hpp"

using namespace patchnet;
using namespace patchnet::examples;

namespace {
std::string model_kind(const Cli& cli) {
  const std::string m = cli.get<std::string>("--model");
  PN_CHECK(m == "inv" || m == "conv", "--model '", m, "' must be inv or conv");
  return m;
}

// Sum over the last dimension of [1, H, W, K] -> H*W values.
std::vector<double> kernel_sums(const Tensor<float>& k) {
  const Tensor<float> c = k.to(Device::cpu()).contiguous();
  const int64_t hw = c.size(1) * c.size(2), kk = c.size(3);
  std::vector<double> out(static_cast<size_t>(hw), 0.0);
  for (int64_t i = 0; i < hw; ++i)
    for (int64_t j = 0; j < kk; ++j) out[static_cast<size_t>(i)] += c.data()[i * kk + j];
  return out;
}

void kernel_pictures(const Common& c, Model& m, const data::ImageSet& test) {
  auto& seq = static_cast<nn::Sequential<float>&>(m);
  std::vector<nn::Involution<float>*> layers;
  for (const auto& [name, child] : seq.children())
    if (auto* inv = dynamic_cast<nn::Involution<float>*>(child.get())) layers.push_back(inv);
  m.eval();
  NoGrad no_grad;
  std::vector<std::vector<viz::Canvas>> rows;
  const int64_t n = std::min<int64_t>(10, test.n);
  for (int64_t i = 0; i < n; ++i) {
    const Tensor<float> x = data::to_tensor<float>(test, i, i + 1, true);
    m(x.to(c.device));
    std::vector<viz::Canvas> row{
        viz::image_rgb(test.image(i), static_cast<int>(test.height), static_cast<int>(test.width), 4)};
    for (auto* inv : layers) {
      const Tensor<float>& k = inv->last_kernel();
      const std::vector<double> sums = kernel_sums(k);
      const int scale = static_cast<int>(4 * test.height / k.size(1));
      row.push_back(viz::heatmap(sums.data(), static_cast<int>(k.size(1)), static_cast<int>(k.size(2)), scale));
    }
    rows.push_back(std::move(row));
  }
  viz::write_png(
      c.save + "/involution_kernels.png",
      viz::labelled_grid(rows, {"Input Image", "Involution Kernel 1", "Involution Kernel 2", "Involution Kernel 3"}));
  std::cout << "pictures: " << c.save << "/{curves,involution_kernels}.png\n";
}

constexpr const char* kName = "involution_cifar10";
const Defaults kDefaults{.epochs = 20, .batch_size = 256, .lr = 1e-3, .weight_decay = 0.0, .val = ValSplit::Test};
constexpr train::LossKind kLoss = train::LossKind::Logits;

void add_flags(Cli& cli) {
  cli.section("model");
  cli.add<std::string>("--model", "inv", "inv (the involution network) or conv (the convolution baseline)");
  cli.add<int64_t>("--kernel", 3, "involution kernel size");
  cli.add<int64_t>("--groups", 1, "involution groups");
  cli.add<int64_t>("--reduction", 2, "involution reduction ratio");
}
}  // namespace

int main(int argc, char** argv) {
  return guarded_main(kName, [&] {
    Cli cli(kName,
            "Train the involution seed's networks on CIFAR-10: --model inv (three involution layers) or\n"
            "--model conv (the convolution baseline); Adam, batch 256, 20 epochs.");
    add_common_flags(cli, kDefaults, kName);
    add_flags(cli);
    if (!cli.parse(argc, argv)) return 0;
    Common c = read_common(cli);
    check_common(c);
    PN_CHECK(c.weight_decay == 0.0, "--weight-decay: the involution seed uses Adam without weight decay");

    const bool inv = model_kind(cli) == "inv";
    const models::InvolutionNetConfig mc{.kernel = cli.get<int64_t>("--kernel"),
                                         .groups = cli.get<int64_t>("--groups"),
                                         .reduction = cli.get<int64_t>("--reduction")};
    Generator init(static_cast<uint64_t>(c.seed)), masks(static_cast<uint64_t>(c.seed) + 1);
    nn::Handle<nn::Sequential<float>> model =
        inv ? models::involution_net<float>(mc, init) : models::conv_net<float>(mc, init);
    model->to(c.device);
    const std::string tag = inv ? "involution-net" : "conv-net";
    print_summary(*model, {32, 32, 3}, tag);

    const data::AugmentOptions pixels{.rescale = true};  // [0, 1], no augmentation
    RunData d(c, kDefaults, pixels, pixels);
    if (!c.evaluate.empty()) return evaluate_checkpoint(*model, d, c, tag, kLoss, false);

    optim::Adam<float> opt(*model, optim::AdamOptions::keras());
    train::FitConfig fc = fit_config(cli, c, d, tag, kLoss, false);
    fc.metadata = {{"kernel", std::to_string(mc.kernel)},
                   {"groups", std::to_string(mc.groups)},
                   {"reduction", std::to_string(mc.reduction)}};
    fit_and_score(*model, opt, masks, fc, d, c);
    if (inv && c.writes()) kernel_pictures(c, *model, d.splits.test);
    return 0;
  });
}
