// batch_norm: Keras BatchNormalization(axis=-1) over NHWC [N, H, W, C] or [N, C] (any
// rank >= 2: every dimension but the last is a batch dimension; rows = numel / C).
// gelu_batch_norm and gelu_batch_norm_add (at the end): batch_norm(gelu(x)) as one op, and
// with a residual added.
//
//   y = (x - mean[c]) * inv_std[c] * gamma[c] + beta[c],   inv_std = 1 / sqrt(var + eps)
//
// Training: mean and biased var are the batch statistics over the rows (accumulated in
// double, cpu/batch_norm.hpp), computed and applied in one fused pass pair (stats, then
// normalise), and the running buffers are updated in place, outside autograd:
//   running = momentum * running + (1 - momentum) * batch
// with var scaled by rows / (rows - 1) first if opt.unbiased_running_var (PyTorch).
// Eval: mean / var are the running buffers (read, not updated).
// gamma / beta may be undefined (scale 1, shift 0); running buffers may be undefined in
// training only (then nothing is tracked, like PyTorch's track_running_stats=False).
//
// Saves x, gamma, and the mean / inv_std used (per channel, in T). Backward writes fresh
// gradients: dbeta = sum_r g, dgamma = sum_r g * xhat; dx is the full batch-statistics
// gradient in training, gamma * inv_std * (g - mean_r(g) - xhat * mean_r(g xhat)), and the
// plain affine one, g * gamma * inv_std, in eval.
//
// CUDA (cuda/batch_norm.cu): the same formulas (math/norm.hpp). Training forward: per-block
// partial sums of x - x[0, c] and its square (double) over row groups, a second kernel that
// adds them per channel in a fixed order and updates the running buffers on the device,
// then the normalise kernel (threads along C, vectorised). Backward: per-block partials of
// sum g and sum g (x - mean), fixed-order final sums, then dx. Deterministic, no atomics;
// no host synchronisation (the running buffers never leave the device), except when
// synchronised: then each batch norm waits for the device twice per step to merge its
// per-channel figures over the ranks on the host (2 x C doubles, host collectives).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "patchnet/autograd/node.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/cpu/batch_norm.hpp"
#include "patchnet/cuda/norm.hpp"
#include "patchnet/dist/group.hpp"
#include "patchnet/math/norm.hpp"
#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/dispatch.hpp"
#include "patchnet/ops/elementwise.hpp"

namespace patchnet {

struct BatchNormOptions {
  double momentum = 0.99;             // Keras convention: running = momentum * running + (1 - momentum) * batch
                                      // (PyTorch's momentum = 1 - this)
  double eps = 1e-3;                  // Keras default
  bool unbiased_running_var = false;  // Keras updates moving_variance with the biased batch
                                      // variance; PyTorch uses the unbiased one (true)
  // Synchronised batch norm (PyTorch's SyncBatchNorm): training statistics, and the sums of
  // the input gradient, over the rows of every rank of this group (CPU and CUDA). Null:
  // this process's rows only.
  dist::Group* sync = nullptr;
};

namespace detail {

template <class T>
void check_channel_vector(const char* op, const char* what, const Tensor<T>& v, const Tensor<T>& x) {
  if (!v.defined()) return;
  PN_CHECK(v.dim() == 1 && v.size(0) == x.size(-1), op, ": ", what, " ", v.shape(), " does not match input ", x.shape(),
           ": expected [", x.size(-1), "]");
}

template <class T>
void check_batch_norm(const char* op, const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                      const Tensor<T>& running_mean, const Tensor<T>& running_var, bool training,
                      const BatchNormOptions& opt) {
  PN_CHECK(x.defined(), op, ": input is undefined");
  PN_CHECK(x.dim() >= 2, op, ": input ", x.shape(), " must have rank >= 2 ([N, C] or NHWC [N, H, W, C])");
  PN_CHECK(x.size(-1) > 0, op, ": input ", x.shape(), " has no channels");
  check_channel_vector(op, "gamma", gamma, x);
  check_channel_vector(op, "beta", beta, x);
  check_channel_vector(op, "running_mean", running_mean, x);
  check_channel_vector(op, "running_var", running_var, x);
  PN_CHECK(running_mean.defined() == running_var.defined(), op,
           ": running_mean and running_var must both be given or both be undefined");
  PN_CHECK(training || running_mean.defined(), op, ": eval mode (training=false) needs running_mean and ",
           "running_var; input ", x.shape());
  PN_CHECK(opt.momentum >= 0.0 && opt.momentum <= 1.0, op, ": momentum ", opt.momentum,
           " is outside [0, 1] (Keras convention: running = momentum * running + (1 - momentum) * batch)");
  PN_CHECK(opt.eps > 0.0 && std::isfinite(opt.eps), op, ": eps ", opt.eps, " must be positive");
  const int64_t rows = x.numel() / x.size(-1);
  PN_CHECK(!training || rows >= 1, op, ": training needs at least one row per channel; input ", x.shape());
  PN_CHECK(!training || !opt.unbiased_running_var || !running_mean.defined() || rows >= 2, op,
           ": the unbiased running variance needs more than one value per channel; input ", x.shape());
}

// Values of a [C] tensor as double (it may be a strided view), or `fill` when undefined.
template <class T>
std::vector<double> channel_values(const Tensor<T>& v, int64_t C, double fill) {
  std::vector<double> out(static_cast<size_t>(C), fill);
  if (v.defined())
    for (int64_t c = 0; c < C; ++c) out[static_cast<size_t>(c)] = static_cast<double>(v.data()[c * v.stride(0)]);
  return out;
}

// Sync batch norm: this rank's per-channel mean and biased variance over `rows` rows become
// those over every rank's rows (Chan's merge in two all-reduces: counts and sums give the
// mean; each rank's M2 plus its rows' offset from that mean gives the variance). Returns
// the rows over all ranks.
inline int64_t sync_batch_stats(dist::Group& g, int64_t rows, std::vector<double>& mean, std::vector<double>& var) {
  const size_t C = mean.size();
  int64_t total = rows;
  g.all_reduce_sum(&total, 1);
  std::vector<double> sum(C), m2(C);
  for (size_t c = 0; c < C; ++c) sum[c] = mean[c] * static_cast<double>(rows);
  g.all_reduce_sum(sum.data(), static_cast<int64_t>(C));
  for (size_t c = 0; c < C; ++c) {
    const double global_mean = sum[c] / static_cast<double>(total), d = mean[c] - global_mean;
    m2[c] = (var[c] + d * d) * static_cast<double>(rows);
    mean[c] = global_mean;
  }
  g.all_reduce_sum(m2.data(), static_cast<int64_t>(C));
  for (size_t c = 0; c < C; ++c) var[c] = m2[c] / static_cast<double>(total);
  return total;
}

// The merge functions of cuda::BatchNormSync, over the dist::Group in ctx.
inline int64_t cuda_merge_stats(void* ctx, double* mean, double* var, int64_t C, int64_t rows) {
  std::vector<double> m(mean, mean + C), v(var, var + C);
  const int64_t total = sync_batch_stats(*static_cast<dist::Group*>(ctx), rows, m, v);
  std::copy(m.begin(), m.end(), mean);
  std::copy(v.begin(), v.end(), var);
  return total;
}
inline int64_t cuda_merge_sums(void* ctx, double* sum_g, double* sum_gx, int64_t C, int64_t rows) {
  dist::Group& g = *static_cast<dist::Group*>(ctx);
  g.all_reduce_sum(sum_g, C);
  g.all_reduce_sum(sum_gx, C);
  g.all_reduce_sum(&rows, 1);
  return rows;
}

// The CUDA path of batch_norm (inputs already checked, all on one CUDA device).
template <class T>
Tensor<T> batch_norm_cuda(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                          const Tensor<T>& running_mean, const Tensor<T>& running_var, bool training,
                          const BatchNormOptions& opt) {
  const Device dev = x.device();
  const int64_t C = x.size(-1);
  cuda::BatchNormParams p;
  p.rows = x.numel() / C;
  p.channels = C;
  p.eps = opt.eps;
  p.momentum = opt.momentum;
  p.training = training;
  p.unbiased_running_var = opt.unbiased_running_var;
  if (training && opt.sync && opt.sync->distributed()) p.sync = {&cuda_merge_stats, &cuda_merge_sums, opt.sync};
  const Tensor<T> xc = x.detach().contiguous();
  const Tensor<T> gd = gamma.defined() ? gamma.detach().contiguous() : Tensor<T>();
  const Tensor<T> bd = beta.defined() ? beta.detach().contiguous() : Tensor<T>();
  const Tensor<T> stats = Tensor<T>::empty({3, C}, dev);  // mean, inv_std, inv_std * gamma
  const Tensor<double> work =
      training ? Tensor<double>::empty({cuda::norm_workspace(p.rows, C)}, dev) : Tensor<double>();
  Tensor<T> y = Tensor<T>::empty(x.shape(), dev);
  [[maybe_unused]] const bool track = running_mean.defined();
  PN_CUDA("batch_norm",
          cuda::batch_norm_forward(xc.data(), gd.defined() ? gd.data() : nullptr, bd.defined() ? bd.data() : nullptr,
                                   track ? running_mean.data() : nullptr, track ? running_mean.stride(0) : 0,
                                   track ? running_var.data() : nullptr, track ? running_var.stride(0) : 0,
                                   work.defined() ? work.data() : nullptr, stats.data(), y.data(), p));

  autograd::record<T>("batch_norm", {x, gamma, beta}, {y}, [xc, gd, stats, p](const auto& grads, const auto& needs) {
    const Tensor<T> g = grads[0].contiguous();
    const Device dev = xc.device();
    const int64_t C = p.channels;
    Tensor<T> gx, ggamma, gbeta, coef;
    if (needs[0]) {
      gx = Tensor<T>::empty(xc.shape(), dev);
      coef = Tensor<T>::empty({3, C}, dev);
    }
    if (needs[1]) ggamma = Tensor<T>::empty({C}, dev);
    if (needs[2]) gbeta = Tensor<T>::empty({C}, dev);
    const bool sums = needs[1] || needs[2] || (p.training && needs[0]);
    const Tensor<double> work = sums ? Tensor<double>::empty({cuda::norm_workspace(p.rows, C)}, dev) : Tensor<double>();
    [[maybe_unused]] auto ptr = [](const auto& t) { return t.defined() ? t.data() : nullptr; };
    PN_CUDA("batch_norm", cuda::batch_norm_backward(g.data(), xc.data(), ptr(gd), stats.data(), ptr(work), ptr(coef),
                                                    ptr(gx), ptr(ggamma), ptr(gbeta), p));
    return std::vector<Tensor<T>>{gx, ggamma, gbeta};
  });
  return y;
}

// The CPU path of batch_norm, gelu_batch_norm and gelu_batch_norm_add (inputs checked):
// batch norm of pre(x), plus `residual` when it is defined.
template <class T, class Pre>
Tensor<T> batch_norm_cpu(const char* op, const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                         const Tensor<T>& running_mean, const Tensor<T>& running_var, bool training,
                         const BatchNormOptions& opt, Pre pre, const Tensor<T>& residual = {}) {
  const int64_t C = x.size(-1);
  const cpu::ChannelRows s{x.numel() / C, C};
  const Tensor<T> xc = x.detach().contiguous();

  // The statistics this call normalises with, in double.
  std::vector<double> mean(static_cast<size_t>(C)), var(static_cast<size_t>(C));
  dist::Group* sync = training && opt.sync && opt.sync->distributed() ? opt.sync : nullptr;
  int64_t rows = s.rows;  // the rows the statistics are over (every rank's with sync)
  if (training) {
    cpu::batch_norm_stats(xc.data(), s, mean.data(), var.data(), pre);
    if (sync) rows = sync_batch_stats(*sync, s.rows, mean, var);
    if (running_mean.defined()) {
      const double unbias = opt.unbiased_running_var ? static_cast<double>(rows) / static_cast<double>(rows - 1) : 1.0;
      const double m = opt.momentum;
      for (int64_t c = 0; c < C; ++c) {
        T& rm = running_mean.data()[c * running_mean.stride(0)];
        T& rv = running_var.data()[c * running_var.stride(0)];
        rm = static_cast<T>(math::running_blend(m, static_cast<double>(rm), mean[static_cast<size_t>(c)], 1.0));
        rv = static_cast<T>(math::running_blend(m, static_cast<double>(rv), var[static_cast<size_t>(c)], unbias));
      }
    }
  } else {
    mean = channel_values(running_mean, C, 0.0);
    var = channel_values(running_var, C, 1.0);
  }
  const std::vector<double> gam = channel_values(gamma, C, 1.0), bet = channel_values(beta, C, 0.0);
  Tensor<T> mean_t = Tensor<T>::empty({C}), inv_std_t = Tensor<T>::empty({C});
  std::vector<T> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const size_t k = static_cast<size_t>(c);
    const double inv_std = math::norm_inv_std(var[k], opt.eps);
    mean_t.data()[c] = static_cast<T>(mean[k]);
    inv_std_t.data()[c] = static_cast<T>(inv_std);
    scale[k] = static_cast<T>(inv_std * gam[k]);
    shift[k] = static_cast<T>(bet[k]);
  }
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const Tensor<T> rc = residual.defined() ? residual.detach().contiguous() : Tensor<T>();
  cpu::channel_affine<T>(xc.data(), s, {mean_t.data(), scale.data(), shift.data()}, y.data(), pre,
                         rc.defined() ? rc.data() : nullptr);

  const Tensor<T> gd = gamma.defined() ? gamma.detach().contiguous() : Tensor<T>();
  autograd::record<T>(
      op, {x, gamma, beta, residual}, {y},
      [xc, gd, mean_t, inv_std_t, s, training, pre, sync, rows](const auto& grads, const auto& needs) {
        const Tensor<T> g = grads[0].contiguous();
        const int64_t C = s.channels;
        const T* gamma_p = gd.defined() ? gd.data() : nullptr;
        std::vector<double> sum_g(static_cast<size_t>(C)), sum_gx(static_cast<size_t>(C));
        if (needs[1] || needs[2] || (training && needs[0]))
          cpu::batch_norm_backward_sums(g.data(), xc.data(), s, mean_t.data(), sum_g.data(), sum_gx.data(), pre);
        Tensor<T> gx, ggamma, gbeta;
        if (needs[0]) {
          gx = Tensor<T>::empty(xc.shape());
          if (training) {
            // With sync, dx takes the sums over every rank's rows; dgamma and dbeta stay this
            // rank's (the data-parallel gradient all-reduce adds them, as for any parameter).
            std::vector<double> all_g, all_gx;
            if (sync) {
              all_g = sum_g;
              all_gx = sum_gx;
              sync->all_reduce_sum(all_g.data(), C);
              sync->all_reduce_sum(all_gx.data(), C);
            }
            cpu::batch_norm_backward_input(g.data(), xc.data(), s, mean_t.data(), inv_std_t.data(), gamma_p,
                                           (sync ? all_g : sum_g).data(), (sync ? all_gx : sum_gx).data(), gx.data(),
                                           pre, rows);
          } else {  // the statistics are constants: dx = g * gamma * inv_std (* pre'(x))
            std::vector<T> zero(static_cast<size_t>(C), T(0)), a(static_cast<size_t>(C));
            for (int64_t c = 0; c < C; ++c)
              a[static_cast<size_t>(c)] = (gamma_p ? gamma_p[c] : T(1)) * inv_std_t.data()[c];
            if constexpr (Pre::kIdentity)
              cpu::channel_affine<T>(g.data(), s, {zero.data(), a.data(), zero.data()}, gx.data());
            else cpu::batch_norm_backward_eval(g.data(), xc.data(), s, a.data(), gx.data(), pre);
          }
        }
        if (needs[1]) {
          ggamma = Tensor<T>::empty({C});
          for (int64_t c = 0; c < C; ++c)
            ggamma.data()[c] =
                static_cast<T>(sum_gx[static_cast<size_t>(c)] * static_cast<double>(inv_std_t.data()[c]));
        }
        if (needs[2]) {
          gbeta = Tensor<T>::empty({C});
          for (int64_t c = 0; c < C; ++c) gbeta.data()[c] = static_cast<T>(sum_g[static_cast<size_t>(c)]);
        }
        // The residual's gradient is the output's, as an add's.
        return std::vector<Tensor<T>>{gx, ggamma, gbeta, needs[3] ? grads[0] : Tensor<T>()};
      });
  return y;
}

}  // namespace detail

template <FloatingPoint T>
Tensor<T> batch_norm(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& running_mean,
                     const Tensor<T>& running_var, bool training, const BatchNormOptions& opt = {}) {
  const Device dev = detail::common_device<T>("batch_norm", {&x, &gamma, &beta, &running_mean, &running_var});
  detail::check_batch_norm("batch_norm", x, gamma, beta, running_mean, running_var, training, opt);
  if (dev.is_cuda()) return detail::batch_norm_cuda(x, gamma, beta, running_mean, running_var, training, opt);
  return detail::batch_norm_cpu("batch_norm", x, gamma, beta, running_mean, running_var, training, opt,
                                cpu::Identity{});
}

// batch_norm(gelu(x, approx), ...) as one op (ConvMixer's activation block, GELU then
// BatchNorm). The CPU path reads x and applies GELU as it goes (two passes forward, two
// backward, against five and eight for the two ops) and saves x alone, not the
// activation; same formulas, same order, so it agrees with the two ops to rounding. On
// CUDA it is the two ops (no fused kernel yet). nn::Sequential calls it for a GELU
// followed by a BatchNorm2d (nn/container.hpp).
template <FloatingPoint T>
Tensor<T> gelu_batch_norm(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                          const Tensor<T>& running_mean, const Tensor<T>& running_var, bool training,
                          const BatchNormOptions& opt = {}, GeluApprox approx = GeluApprox::None) {
  const Device dev = detail::common_device<T>("gelu_batch_norm", {&x, &gamma, &beta, &running_mean, &running_var});
  PN_CHECK(approx == GeluApprox::None || approx == GeluApprox::Tanh, "gelu_batch_norm: unknown approximation ",
           static_cast<int>(approx));
  detail::check_batch_norm("gelu_batch_norm", x, gamma, beta, running_mean, running_var, training, opt);
  if (dev.is_cuda()) return batch_norm(gelu(x, approx), gamma, beta, running_mean, running_var, training, opt);
  if (approx == GeluApprox::Tanh)
    return detail::batch_norm_cpu("gelu_batch_norm", x, gamma, beta, running_mean, running_var, training, opt,
                                  cpu::GeluPre<true>{});
  return detail::batch_norm_cpu("gelu_batch_norm", x, gamma, beta, running_mean, running_var, training, opt,
                                cpu::GeluPre<false>{});
}

// batch_norm(gelu(x, approx), ...) + residual as one op: ConvMixer's spatial block ends in
// GELU, BatchNorm and the residual add (nn::Residual folds the add in here, through
// Module::call_plus). The CPU path adds the residual in the normalising pass, so the
// block's output is written once instead of written, read and written again; residual's
// gradient is the output's. On CUDA: the two ops and the add.
template <FloatingPoint T>
Tensor<T> gelu_batch_norm_add(const Tensor<T>& x, const Tensor<T>& residual, const Tensor<T>& gamma,
                              const Tensor<T>& beta, const Tensor<T>& running_mean, const Tensor<T>& running_var,
                              bool training, const BatchNormOptions& opt = {}, GeluApprox approx = GeluApprox::None) {
  const char* op = "gelu_batch_norm_add";
  const Device dev = detail::common_device<T>(op, {&x, &residual, &gamma, &beta, &running_mean, &running_var});
  PN_CHECK(approx == GeluApprox::None || approx == GeluApprox::Tanh, op, ": unknown approximation ",
           static_cast<int>(approx));
  detail::check_batch_norm(op, x, gamma, beta, running_mean, running_var, training, opt);
  PN_CHECK(residual.defined(), op, ": residual is undefined");
  PN_CHECK(residual.shape() == x.shape(), op, ": residual ", residual.shape(), " does not match input ", x.shape());
  if (dev.is_cuda())
    return add(batch_norm(gelu(x, approx), gamma, beta, running_mean, running_var, training, opt), residual);
  if (approx == GeluApprox::Tanh)
    return detail::batch_norm_cpu(op, x, gamma, beta, running_mean, running_var, training, opt, cpu::GeluPre<true>{},
                                  residual);
  return detail::batch_norm_cpu(op, x, gamma, beta, running_mean, running_var, training, opt, cpu::GeluPre<false>{},
                                residual);
}

}  // namespace patchnet
