// The optimizer updates on the GPU against the CPU: AdamW in its three conventions, Adam,
// and SGD (plain, momentum, Nesterov, L2), several steps with fresh gradients each step;
// parameters and optimizer state must agree to float rounding.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "patchnet/optim/adam.hpp"
#include "patchnet/optim/sgd.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

namespace {

using Make = std::function<std::unique_ptr<optim::Optimizer<float>>(std::vector<optim::ParamRef<float>>)>;

void compare(const std::string& name, const Make& make) {
  const std::vector<Shape> shapes = {{5, 5, 37}, {37}, {1000, 3}, {1}};
  std::vector<Tensor<float>> pc, pg;
  std::vector<optim::ParamRef<float>> rc, rg;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Tensor<float> init = test::uniform<float>(shapes[i], test::seed_of(name + std::to_string(i)));
    pc.push_back(init.clone());
    pg.push_back(init.to(Device::cuda()));
    const bool decay = i != 1;  // a bias-like parameter without weight decay
    rc.push_back({"p" + std::to_string(i), pc.back(), decay});
    rg.push_back({"p" + std::to_string(i), pg.back(), decay});
  }
  auto oc = make(rc), og = make(rg);
  for (int step = 0; step < 4; ++step) {
    for (size_t i = 0; i < shapes.size(); ++i) {
      const Tensor<float> g =
          test::uniform<float>(shapes[i], test::seed_of(name + "g" + std::to_string(i * 10 + step)));
      pc[i].set_grad(g);
      pg[i].set_grad(g.to(Device::cuda()));
    }
    const double lr = 1e-2 * (step + 1);
    oc->step(lr);
    og->step(lr);
  }
  for (size_t i = 0; i < shapes.size(); ++i)
    test::check_close(pg[i], pc[i], 1e-5, 1e-6, name + " parameter " + std::to_string(i));
  const auto sc = oc->state_tensors(), sg = og->state_tensors();
  REQUIRE(sc.size() == sg.size());
  for (size_t i = 0; i < sc.size(); ++i)
    test::check_close(sg[i].second, sc[i].second, 1e-5, 1e-7, name + " " + sc[i].first);
}

}  // namespace

TEST_CASE("cuda optim: AdamW (PyTorch, Keras, TensorFlow Addons) and Adam") {
  compare("AdamW pytorch",
          [](auto refs) { return std::make_unique<optim::AdamW<float>>(refs, optim::AdamWOptions::pytorch()); });
  compare("AdamW keras",
          [](auto refs) { return std::make_unique<optim::AdamW<float>>(refs, optim::AdamWOptions::keras()); });
  compare("AdamW tfa", [](auto refs) {
    return std::make_unique<optim::AdamW<float>>(refs, optim::AdamWOptions::tensorflow_addons());
  });
  compare("Adam keras",
          [](auto refs) { return std::make_unique<optim::Adam<float>>(refs, optim::AdamOptions::keras()); });
}

TEST_CASE("cuda optim: SGD plain, momentum, Nesterov, weight decay") {
  compare("SGD", [](auto refs) { return std::make_unique<optim::SGD<float>>(refs, optim::SGDOptions{}); });
  compare("SGD momentum", [](auto refs) {
    return std::make_unique<optim::SGD<float>>(refs, optim::SGDOptions{.momentum = 0.9, .weight_decay = 1e-3});
  });
  compare("SGD nesterov", [](auto refs) {
    return std::make_unique<optim::SGD<float>>(
        refs, optim::SGDOptions{.momentum = 0.9, .weight_decay = 1e-3, .nesterov = true});
  });
}

// An optimizer built before the model moves (Module::to moves parameters in place) keeps
// working: its state follows the parameters to the GPU and back, values kept, and the run
// equals one that never moved. Before the fix the update kernel got host pointers.
TEST_CASE("cuda optim: state follows parameters moved after the optimizer was built, both ways") {
  auto run = [](bool move, const Make& make) {
    Tensor<float> w = test::uniform<float>({6, 33}, 11).set_requires_grad();
    Tensor<float> b = test::uniform<float>({33}, 12).set_requires_grad();
    auto opt = make({{"w", w}, {"b", b, false}});
    for (int step = 0; step < 6; ++step) {
      if (move && step == 2) {
        w.move_to_(Device::cuda());
        b.move_to_(Device::cuda());
      }
      if (move && step == 4) {
        w.move_to_(Device::cpu());
        b.move_to_(Device::cpu());
      }
      w.set_grad(test::uniform<float>({6, 33}, 100 + step).to(w.device()));
      b.set_grad(test::uniform<float>({33}, 200 + step).to(b.device()));
      opt->step(1e-2);
      if (move && step == 2) CHECK(opt->state_tensors().back().second.is_cuda());
    }
    return std::vector<Tensor<float>>{w.to(Device::cpu()), b.to(Device::cpu())};
  };
  const std::vector<std::pair<std::string, Make>> makers = {
      {"AdamW",
       [](auto refs) { return std::make_unique<optim::AdamW<float>>(refs, optim::AdamWOptions::keras(1e-2)); }},
      {"SGD momentum",
       [](auto refs) { return std::make_unique<optim::SGD<float>>(refs, optim::SGDOptions{.momentum = 0.9}); }}};
  for (const auto& [name, make] : makers) {
    const auto moved = run(true, make), still = run(false, make);
    test::check_close(moved[0], still[0], 1e-5, 1e-6, name + " w");
    test::check_close(moved[1], still[1], 1e-5, 1e-6, name + " b");
  }
}

TEST_CASE("cuda optim: a gradient on another device than its parameter is an Error") {
  Tensor<float> w = test::uniform<float>({4, 4}, 1).to(Device::cuda()).detach().set_requires_grad();
  optim::AdamW<float> opt({{"w", w}});
  w.set_grad(test::uniform<float>({4, 4}, 2));  // on the CPU
  CHECK_THROWS_PN(opt.step(1e-3), "AdamW: gradient of 'w' is on cpu, the parameter on cuda");
}
