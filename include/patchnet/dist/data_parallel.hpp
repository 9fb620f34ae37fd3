// Data parallelism over a dist::Group, at the level of a model (the Trainer calls these;
// tests and users' own loops may too):
//
//   broadcast_module(g, model)     rank 0's parameters, buffers and counters to every rank
//   all_reduce_gradients(g, model) every parameter's gradient summed over the ranks, in one
//                                  all-reduce over a flat buffer (the Trainer scales each
//                                  rank's loss by its share of the global batch, so the
//                                  sum is the gradient of the global batch's mean loss)
//   broadcast_buffers(g, model)    rank 0's buffers (BatchNorm running statistics) to all,
//                                  after each step unless BatchNorm is synchronised
//   sync_batch_norm(model, g)      every BatchNorm2d normalises over all ranks' rows
//   identical_across_ranks(g, model)  whether every rank holds rank 0's bits (tests)
//
// Tensors on a GPU stay there when the group reduces on the device (the NCCL group of
// dist::on_device); with any other group they travel through one host copy each way.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/dist/group.hpp"
#include "patchnet/nn/module.hpp"
#include "patchnet/nn/norm.hpp"

namespace patchnet::dist {

namespace detail {
// Root's values of t to every rank, in place.
template <class T>
void broadcast_tensor(Group& g, Tensor<T>& t) {
  NoGrad no_grad;
  const bool on_device = t.is_cuda() && g.reduces_on_device();
  Tensor<T> h = on_device ? t.contiguous() : t.to(Device::cpu()).contiguous();  // t itself when packed there
  const int64_t bytes = static_cast<int64_t>(sizeof(T)) * h.numel();
  if (on_device) {
    g.broadcast_device(h.data(), bytes, 0, t.device().index);
  } else {
    g.broadcast(h.data(), bytes, 0);
  }
  if (!h.is_same(t)) t.copy_(h);
}

// Sums a flat buffer over the ranks where it lives, or through the host.
template <class T>
void all_reduce_flat(Group& g, Tensor<T>& flat) {
  if (flat.is_cuda() && g.reduces_on_device()) {
    g.all_reduce_sum_device(flat.data(), flat.numel(), flat.device().index);
  } else if (flat.is_cpu()) {
    g.all_reduce_sum(flat.data(), flat.numel());
  } else {
    Tensor<T> h = flat.to(Device::cpu());
    g.all_reduce_sum(h.data(), h.numel());
    flat.copy_(h);
  }
}
}  // namespace detail

template <FloatingPoint T>
void broadcast_buffers(Group& g, nn::Module<T>& model) {
  if (!g.distributed()) return;
  for (auto& b : model.named_buffers()) detail::broadcast_tensor(g, b.tensor);
}

template <FloatingPoint T>
void broadcast_module(Group& g, nn::Module<T>& model) {
  if (!g.distributed()) return;
  for (auto& p : model.named_parameters()) detail::broadcast_tensor(g, p.tensor);
  broadcast_buffers(g, model);
  for (auto& c : model.named_counters()) g.broadcast(c.value, sizeof(int64_t), 0);
}

// Sums the gradients over the ranks in one collective over a flat buffer on the
// parameters' device; each gradient becomes a view of that buffer. A parameter without a
// gradient must lack one on every rank (the ranks run the same model); its slot is zeros
// and it stays without one.
template <FloatingPoint T>
void all_reduce_gradients(Group& g, nn::Module<T>& model) {
  if (!g.distributed()) return;
  NoGrad no_grad;
  const auto params = model.named_parameters();
  if (params.empty()) return;
  const Device dev = params[0].tensor.device();
  int64_t total = 0;
  for (const auto& p : params) {
    PN_CHECK(p.tensor.device() == dev, "dist::all_reduce_gradients: parameter '", p.name, "' is on ", p.tensor.device(),
             ", '", params[0].name, "' on ", dev, " (a model trains on one device)");
    total += p.tensor.numel();
  }
  Tensor<T> flat = Tensor<T>::zeros(Shape{total}, dev);
  auto slot = [&](const Tensor<T>& p, int64_t off) {
    return make_view(flat, p.shape(), p.shape().contiguous_strides(), off);
  };
  std::vector<int64_t> have(params.size(), 0);
  int64_t off = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor<T> grad = params[i].tensor.grad();
    if (grad.defined()) {
      slot(params[i].tensor, off).copy_(grad);
      have[i] = 1;
    }
    off += params[i].tensor.numel();
  }
  std::vector<int64_t> count = have;
  g.all_reduce_sum(count.data(), static_cast<int64_t>(count.size()));
  for (size_t i = 0; i < params.size(); ++i)
    PN_CHECK(count[i] == 0 || count[i] == g.size(), "dist::all_reduce_gradients: parameter '", params[i].name,
             "' has a gradient on ", count[i], " of ", g.size(), " ranks (the ranks must run the same model)");
  detail::all_reduce_flat(g, flat);
  off = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor<T> p = params[i].tensor;
    if (have[i]) p.set_grad(slot(p, off));
    off += p.numel();
  }
}

// Every BatchNorm2d of the model normalises with statistics over all ranks (g), or over its
// own rank's rows again (nullptr).
template <FloatingPoint T>
void sync_batch_norm(nn::Module<T>& model, Group* g) {
  if (auto* bn = dynamic_cast<nn::BatchNorm2d<T>*>(&model)) bn->set_sync(g);
  for (auto& [name, child] : model.children()) sync_batch_norm(*child, g);
}

// Whether every rank's parameters, buffers and counters equal rank 0's, bit for bit (the
// same answer on every rank).
template <FloatingPoint T>
bool identical_across_ranks(Group& g, const nn::Module<T>& model) {
  if (!g.distributed()) return true;
  int64_t differ = 0;
  auto compare = [&](const Tensor<T>& t) {
    const Tensor<T> mine = t.to(Device::cpu()).contiguous();
    Tensor<T> root = mine.clone();
    g.broadcast(root.data(), static_cast<int64_t>(sizeof(T)) * root.numel(), 0);
    if (std::memcmp(root.data(), mine.data(), sizeof(T) * static_cast<size_t>(mine.numel())) != 0) ++differ;
  };
  for (const auto& p : model.named_parameters()) compare(p.tensor);
  for (const auto& b : model.named_buffers()) compare(b.tensor);
  for (const auto& c : model.named_counters()) {
    int64_t root = *c.value;
    g.broadcast(&root, sizeof root, 0);
    if (root != *c.value) ++differ;
  }
  g.all_reduce_sum(&differ, 1);
  return differ == 0;
}

}  // namespace patchnet::dist
