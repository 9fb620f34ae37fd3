// trace: a few optimizer steps of one example model in double, with everything a PyTorch
// twin needs to replay them, for tools/trace_check.py (the trajectory check of
// docs/results.md).
//
// It builds the model, the data split, the batch order and the augmentation exactly as
// the example program with the same flags (examples/{convmixer,involution}_cifar10.cpp;
// the loader is data/loader.hpp with the program's seed), only in double, and writes one
// safetensors file:
//   init.<name>      the initial state dict (PyTorch names and layouts)
//   images           [steps, B, H, W, C] F64, each step's batch as the model receives it
//   labels           [steps, B] I64
//   loss             [steps] F64, the loss of each step (before its update)
//   final.<name>     the state dict after the last step
// metadata: model, its configuration, optimizer and its settings, lr, seed.
//
//   trace --model convmixer --data .data/cifar10 --steps 50 --out /tmp/trace.safetensors
//   /usr/bin/python3 tools/trace_check.py /tmp/trace.safetensors
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "common/cli.hpp"
#include "common/run.hpp"
#include "patchnet/data/cifar10.hpp"
#include "patchnet/data/image_set.hpp"
#include "patchnet/data/loader.hpp"
#include "patchnet/models/convmixer.hpp"
#include "patchnet/models/involution_net.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/train/checkpoint.hpp"
#include "patchnet/train/trainer.hpp"

using namespace patchnet;
using namespace patchnet::examples;
using T = double;

namespace {

struct Setup {
  typename nn::Module<T>::Ptr model;
  std::unique_ptr<optim::Optimizer<T>> opt;
  data::ImageSet train;
  data::AugmentOptions augment;
  std::map<std::string, std::string> meta;
};

// The model, optimizer, training images and augmentation of the example program.
Setup setup(const Cli& cli, Generator& init) {
  Setup s;
  const std::string model = cli.get<std::string>("--model");
  data::ImageSet all = data::read_cifar10(cli.get<std::string>("--data"), data::Cifar10Split::Train);
  const double lr = cli.get<double>("--lr");
  s.meta = {{"model", model}, {"lr", std::to_string(lr)}, {"seed", std::to_string(cli.get<int64_t>("--seed"))}};
  if (model == "convmixer") {
    models::ConvMixerConfig c;
    c.width = cli.get<int64_t>("--width");
    c.depth = cli.get<int64_t>("--depth");
    c.kernel = cli.get<int64_t>("--kernel");
    c.patch = cli.get<int64_t>("--patch");
    c.softmax_head = false;  // as the program: the logits, trained with cross_entropy
    s.model = std::make_shared<models::ConvMixer<T>>(c, init);
    const double wd = cli.get<double>("--weight-decay");
    s.opt = std::make_unique<optim::AdamW<T>>(*s.model, optim::AdamWOptions::keras(wd));
    s.train = data::split_convmixer(all).train;  // validation = the first 10%
    s.augment.hflip = true;                      // raw pixels; the model rescales
    s.meta.insert({{"width", std::to_string(c.width)},
                   {"depth", std::to_string(c.depth)},
                   {"kernel", std::to_string(c.kernel)},
                   {"patch", std::to_string(c.patch)},
                   {"optimizer", "AdamW-keras"},
                   {"weight_decay", std::to_string(wd)}});
  } else if (model == "inv" || model == "conv") {
    models::InvolutionNetConfig c;
    s.model = model == "inv" ? std::shared_ptr<nn::Module<T>>(models::involution_net<T>(c, init))
                             : std::shared_ptr<nn::Module<T>>(models::conv_net<T>(c, init));
    s.opt = std::make_unique<optim::Adam<T>>(*s.model, optim::AdamOptions::keras());
    s.train = std::move(all);  // the seed validates on the test set
    s.augment.rescale = true;
    s.meta.insert({{"optimizer", "Adam-keras"}, {"weight_decay", "0"}});
  } else {
    fail("--model '", model, "' must be convmixer, inv or conv");
  }
  return s;
}

void add_state(io::SafeTensors& f, const nn::Module<T>& m, const std::string& prefix) {
  io::SafeTensors one;
  io::add_state_dict(one, m);
  for (io::TensorRecord r : one.records()) {
    r.name = prefix + r.name;
    f.add(std::move(r));
  }
}

int run(int argc, char** argv) {
  Cli cli("trace",
          "Train a few steps of an example model in double and write what a PyTorch twin needs to\n"
          "replay them (tools/trace_check.py compares).");
  cli.add<std::string>("--model", "convmixer", "convmixer | inv | conv");
  cli.add<std::string>("--data", "", "CIFAR-10 folder (cifar-10-batches-bin/)");
  cli.add<std::string>("--out", "trace.safetensors", "output file");
  cli.add<int64_t>("--steps", 50, "optimizer steps");
  cli.add<int64_t>("--batch-size", 0, "images per step (0: the program's, 128 or 256)");
  cli.add<int64_t>("--seed", 42, "seed of the weights, the order and the flips (as the programs' --seed)");
  cli.add<int64_t>("--epoch", 0, "epoch whose batch order and flips are used");
  cli.add<double>("--lr", 1e-3, "learning rate");
  cli.add<double>("--weight-decay", 1e-4, "ConvMixer's AdamW weight decay");
  cli.add<int64_t>("--width", 256, "ConvMixer channels");
  cli.add<int64_t>("--depth", 8, "ConvMixer blocks");
  cli.add<int64_t>("--kernel", 5, "ConvMixer depthwise kernel");
  cli.add<int64_t>("--patch", 2, "ConvMixer patch size");
  if (!cli.parse(argc, argv)) return 0;
  const int64_t steps = cli.get<int64_t>("--steps"), seed = cli.get<int64_t>("--seed");
  const int64_t epoch = cli.get<int64_t>("--epoch");
  PN_CHECK(steps > 0 && seed >= 0 && epoch >= 0, "trace: --steps must be positive, --seed and --epoch >= 0");
  PN_CHECK(!cli.get<std::string>("--data").empty(), "trace: pass --data DIR");

  Generator init(static_cast<uint64_t>(seed));
  Setup s = setup(cli, init);
  int64_t batch = cli.get<int64_t>("--batch-size");
  if (batch == 0) batch = cli.get<std::string>("--model") == "convmixer" ? 128 : 256;
  const data::LoaderOptions lo{.batch_size = batch,
                               .shuffle = true,
                               .training = true,
                               .seed = static_cast<uint64_t>(seed),
                               .augment = s.augment};
  const std::vector<int64_t> order = data::epoch_order(s.train.n, true, lo.seed, static_cast<uint64_t>(epoch));
  PN_CHECK(steps * batch <= s.train.n, "trace: ", steps, " full batches of ", batch, " need more than the ", s.train.n,
           " training images of one epoch");

  io::SafeTensors f;
  f.metadata = s.meta;
  f.metadata["batch_size"] = std::to_string(batch);
  f.metadata["epoch"] = std::to_string(epoch);
  add_state(f, *s.model, "init.");
  const Shape img = data::output_shape(s.augment, s.train.height, s.train.width, s.train.channels, true);
  Tensor<T> images = Tensor<T>::empty({steps, batch, img[0], img[1], img[2]});
  std::vector<int64_t> labels;
  Tensor<T> losses = Tensor<T>::empty({steps});
  s.model->train();
  for (int64_t k = 0; k < steps; ++k) {
    const data::Batch<T> b = data::make_batch<T>(s.train, lo, order, static_cast<uint64_t>(epoch), k);
    std::copy(b.images.data(), b.images.data() + b.images.numel(), images.data() + k * b.images.numel());
    for (int64_t i = 0; i < b.labels.numel(); ++i) labels.push_back(b.labels.data()[i]);
    const Tensor<T> loss = cross_entropy(s.model(b.images), b.labels);
    s.opt->zero_grad();
    loss.backward();
    s.opt->step(cli.get<double>("--lr"));
    losses.data()[k] = loss.item();
    std::printf("step %3lld  loss %.17g\n", static_cast<long long>(k + 1), loss.item());
  }
  f.add("images", images);
  f.add_i64("labels", {steps, batch}, labels);
  f.add("loss", losses);
  add_state(f, *s.model, "final.");
  io::save_safetensors(cli.get<std::string>("--out"), f);
  std::cout << "wrote " << cli.get<std::string>("--out") << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Error& e) {
    std::cerr << "trace: error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "trace: error: " << e.what() << "\n";
  }
  return 2;
}
