// The smallest whole program: define a small ResNet-style model, train it on CIFAR-10 with a
// plain loop (no Trainer, no hooks), evaluate it and save a checkpoint that loads into
// PyTorch by name. Start here; the three model programs add checkpoint resume, schedules
// and pictures on top of the same pieces.
//
//   train_minimal [CIFAR10_DIR | --synthetic] [epochs]      (default .data/cifar10, 2 epochs)
#include <cstdio>
#include <string>

#include <patchnet/patchnet.hpp>

using namespace patchnet;

// conv 3x3 -> BatchNorm -> ReLU -> conv 3x3 -> BatchNorm, plus the input, then ReLU.
struct ResBlock : nn::Module<float> {
  ResBlock(int64_t c, Generator& gen) {
    const nn::Conv2dConfig conv{.in = c, .out = c, .kernel = 3, .padding = Padding::Same, .bias = false};
    conv1 = register_module("conv1", nn::make<nn::Conv2d<float>>(conv, gen));
    bn1 = register_module("bn1", nn::make<nn::BatchNorm2d<float>>(nn::BatchNorm2dConfig{.channels = c}));
    conv2 = register_module("conv2", nn::make<nn::Conv2d<float>>(conv, gen));
    bn2 = register_module("bn2", nn::make<nn::BatchNorm2d<float>>(nn::BatchNorm2dConfig{.channels = c}));
  }
  Tensor<float> forward(const Tensor<float>& x) override {
    const Tensor<float> y = bn2(conv2(relu(bn1(conv1(x)))));
    return relu(y + x);
  }
  std::string type_name() const override { return "ResBlock"; }

  nn::Handle<nn::Conv2d<float>> conv1, conv2;
  nn::Handle<nn::BatchNorm2d<float>> bn1, bn2;
};

// 32x32x3 -> stem 32 channels -> block -> stride-2 conv to 64 -> block -> pool -> 10 logits.
struct Net : nn::Module<float> {
  explicit Net(Generator& gen) {
    const nn::Conv2dConfig stem_conv{.in = 3, .out = 32, .kernel = 3, .padding = Padding::Same};
    stem = register_module("stem", nn::make<nn::Conv2d<float>>(stem_conv, gen));
    block1 = register_module("block1", nn::make<ResBlock>(32, gen));
    down = register_module(
        "down",
        nn::make<nn::Conv2d<float>>(
            nn::Conv2dConfig{
                .in = 32, .out = 64, .kernel = 3, .stride = 2, .padding = Padding::Explicit, .pad = Pad2d::all(1)},
            gen));
    block2 = register_module("block2", nn::make<ResBlock>(64, gen));
    pool = register_module("pool", nn::make<nn::GlobalAvgPool<float>>());
    fc = register_module("fc", nn::make<nn::Linear<float>>(nn::LinearConfig{.in = 64, .out = 10}, gen));
  }
  Tensor<float> forward(const Tensor<float>& x) override {
    Tensor<float> y = block1(relu(stem(x)));
    y = block2(relu(down(y)));
    return fc(pool(y));
  }
  std::string type_name() const override { return "Net"; }

  nn::Handle<nn::Conv2d<float>> stem, down;
  nn::Handle<ResBlock> block1, block2;
  nn::Handle<nn::GlobalAvgPool<float>> pool;
  nn::Handle<nn::Linear<float>> fc;
};

int main(int argc, char** argv) try {
  const std::string where = argc > 1 ? argv[1] : ".data/cifar10";
  const int epochs = argc > 2 ? std::stoi(argv[2]) : 2;
  const bool synthetic = where == "--synthetic";  // random images, for a smoke run without data
  const data::ImageSet train_set = synthetic ? data::synthetic_image_set(256, 32, 32, 3, 10, 1)
                                             : data::read_cifar10(where, data::Cifar10Split::Train);
  const data::ImageSet test_set = synthetic ? data::synthetic_image_set(128, 32, 32, 3, 10, 2)
                                            : data::read_cifar10(where, data::Cifar10Split::Test);

  Generator gen(42);
  Net model(gen);
  optim::AdamW<float> opt(model, optim::AdamWOptions::pytorch(5e-4));
  const data::AugmentOptions augment{.rescale = true, .crop = 32, .pad = 4, .hflip = true};
  data::BatchLoader<float> train(train_set, {.batch_size = 128, .seed = 1, .augment = augment});
  data::BatchLoader<float> test(test_set, {.batch_size = 500, .shuffle = false, .training = false, .augment = augment});
  std::printf("%lld parameters, %lld training images\n", static_cast<long long>(model.num_trainable()),
              static_cast<long long>(train_set.n));

  for (int epoch = 0; epoch < epochs; ++epoch) {
    model.train();
    train.start_epoch(epoch);
    data::Batch<float> b;
    double loss_sum = 0;
    int64_t seen = 0;
    while (train.next(b)) {
      const Tensor<float> loss = cross_entropy(model(b.images), b.labels);
      opt.zero_grad();
      loss.backward();
      opt.step(1e-3);
      loss_sum += loss.item() * b.labels.numel();
      seen += b.labels.numel();
      if (b.index % 50 == 0)
        std::printf("epoch %d step %lld  loss %.4f\n", epoch + 1, static_cast<long long>(b.index), loss.item());
    }

    model.eval();
    NoGrad no_grad;
    test.start_epoch(0);
    double correct = 0;
    while (test.next(b)) correct += topk_accuracy(model(b.images), b.labels) * b.labels.numel();
    std::printf("epoch %d  train loss %.4f  test accuracy %.2f%%\n", epoch + 1, loss_sum / seen,
                100.0 * correct / test_set.n);
  }

  io::save_model("minimal.safetensors", model, "minimal", {});
  std::printf("saved minimal.safetensors\n");
  return 0;
} catch (const std::exception& e) {  // patchnet::Error names the op or file; also std::bad_alloc
  std::fprintf(stderr, "train_minimal: %s\n", e.what());
  return 1;
}
