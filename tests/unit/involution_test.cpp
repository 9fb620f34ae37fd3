// involution (the multiply-reduce): forward against the seed's extract_patches / reshape /
// multiply / reduce_sum, the interleaved grouping, both gradients against scatter-form
// loops, and errors.
#include "patchnet/ops/involution.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
using patchnet::test::check_close;

namespace {

struct Geo {
  int64_t OH, OW, pt, pl;
};
// TF "same", written out here rather than taken from ops/geometry.hpp.
Geo same_geo(int64_t H, int64_t W, int64_t K, int64_t S) {
  const int64_t OH = (H + S - 1) / S, OW = (W + S - 1) / S;
  const int64_t ph = std::max<int64_t>((OH - 1) * S + K - H, 0), pw = std::max<int64_t>((OW - 1) * S + K - W, 0);
  return {OH, OW, ph / 2, pw / 2};
}

// tf.image.extract_patches(x, [1,K,K,1], [1,S,S,1], rates 1, "SAME"): [N, OH, OW, K*K*C],
// each patch flattened in (kh, kw, c) order, zeros outside the image.
Tensor<double> extract_patches(const Tensor<double>& x, int64_t K, int64_t S) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const Geo g = same_geo(H, W, K, S);
  auto p = Tensor<double>::zeros({N, g.OH, g.OW, K * K * C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow)
        for (int64_t kh = 0; kh < K; ++kh)
          for (int64_t kw = 0; kw < K; ++kw)
            for (int64_t c = 0; c < C; ++c) {
              const int64_t ih = oh * S + kh - g.pt, iw = ow * S + kw - g.pl;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                p.at({n, oh, ow, (kh * K + kw) * C + c}) = x.at({n, ih, iw, c});
            }
  return p;
}

// The seed's call(), op for op: kernel -> [N,OH,OW,K*K,1,G], patches -> [N,OH,OW,K*K,C/G,G],
// multiply (broadcast over C/G), reduce_sum over axis 3, reshape to [N,OH,OW,C].
Tensor<double> seed_involution(const Tensor<double>& x, const Tensor<double>& kernel, int64_t K, int64_t S, int64_t G) {
  const int64_t N = x.size(0), C = x.size(3), OH = kernel.size(1), OW = kernel.size(2);
  auto k6 = reshape(kernel, {N, OH, OW, K * K, 1, G});
  auto p6 = reshape(extract_patches(x, K, S), {N, OH, OW, K * K, C / G, G});
  return reshape(sum(k6 * p6, {3}), {N, OH, OW, C});
}

struct Cfg {
  int64_t N, H, W, C, K, S, G;
};

std::string label(const Cfg& c) {
  std::ostringstream s;
  s << "N" << c.N << " " << c.H << "x" << c.W << " C" << c.C << " K" << c.K << " S" << c.S << " G" << c.G;
  return s.str();
}

Tensor<double> kernel_for(const Cfg& c, uint64_t seed) {
  const Geo g = same_geo(c.H, c.W, c.K, c.S);
  return test::uniform<double>({c.N, g.OH, g.OW, c.K * c.K * c.G}, seed);
}

}  // namespace

TEST_CASE("involution: matches the seed's extract_patches/reshape/multiply/reduce, in float too") {
  const Cfg cfgs[] = {
      {2, 9, 11, 12, 3, 1, 4},  // interleaved groups of 3 channels
      {1, 10, 7, 6, 5, 2, 3},   // stride 2, odd width, K = 5
      {2, 8, 8, 32, 7, 1, 16},  // the paper's K = 7, 16-channel vectors
      {1, 7, 9, 5, 3, 3, 1},    // stride 3 (padding 1 / 1 on 7, 0 / 1 on 9)
      {3, 6, 6, 3, 3, 1, 1},    // the seed's network layer
      {1, 5, 6, 70, 3, 1, 2},   // whole channel blocks and a tail
      {1, 6, 5, 75, 3, 2, 5},   // G = 5 does not divide a block: per-block kernel patterns
      {1, 4, 4, 24, 3, 1, 24},  // G = C
  };
  for (const Cfg& c : cfgs) {
    const std::string what = label(c);
    auto x = test::uniform<double>({c.N, c.H, c.W, c.C}, 21);
    auto k = kernel_for(c, 22);
    auto y = involution(x, k, c.K, c.S, c.G);
    check_close(y, seed_involution(x, k, c.K, c.S, c.G), 1e-12, 1e-12, what);
    check_close(involution(to_dtype<float>(x), to_dtype<float>(k), c.K, c.S, c.G), y, 1e-5, 1e-5,
                what + " float vs double");
  }
}

TEST_CASE("involution: channel c belongs to group c % G (interleaved, as the seed reshapes)") {
  // G = 2, C = 4: a kernel that is 1 at the centre tap of group 1 and 0 elsewhere passes
  // channels 1 and 3 through and zeroes 0 and 2 (block grouping would pass 2 and 3).
  const int64_t K = 3, G = 2;
  auto x = test::uniform<double>({1, 4, 5, 4}, 23);
  auto k = Tensor<double>::zeros({1, 4, 5, K * K * G});
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t w = 0; w < 5; ++w) k.at({0, h, w, (1 * K + 1) * G + 1}) = 1.0;
  auto y = involution(x, k, K, 1, G);
  for (int64_t c = 0; c < 4; ++c) {
    auto yc = slice(y, 3, c, c + 1).contiguous();
    auto expect = c % 2 == 1 ? slice(x, 3, c, c + 1).contiguous() : Tensor<double>::zeros(yc.shape());
    check_close(yc, expect, "channel " + std::to_string(c));
  }
}

TEST_CASE("involution: both gradients match scatter-form loops") {
  const Cfg cfgs[] = {{2, 9, 7, 32, 7, 2, 16}, {1, 8, 10, 6, 3, 1, 2}, {2, 5, 6, 3, 3, 2, 1},
                      {1, 5, 6, 70, 3, 1, 2},  {1, 6, 5, 75, 3, 2, 5}, {1, 7, 7, 8, 2, 3, 4}};
  for (const Cfg& c : cfgs) {
    const Geo g = same_geo(c.H, c.W, c.K, c.S);
    auto x = test::uniform<double>({c.N, c.H, c.W, c.C}, 24).set_requires_grad();
    auto k = kernel_for(c, 25).set_requires_grad();
    auto up = test::uniform<double>({c.N, g.OH, g.OW, c.C}, 26);
    sum(involution(x, k, c.K, c.S, c.G) * up).backward();
    // Walk every (output pixel, tap, channel) term of the forward sum once and add its
    // partial derivatives where they belong.
    auto dx = Tensor<double>::zeros(x.shape()), dk = Tensor<double>::zeros(k.shape());
    for (int64_t n = 0; n < c.N; ++n)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow)
          for (int64_t kh = 0; kh < c.K; ++kh)
            for (int64_t kw = 0; kw < c.K; ++kw) {
              const int64_t ih = oh * c.S + kh - g.pt, iw = ow * c.S + kw - g.pl;
              if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
              for (int64_t ch = 0; ch < c.C; ++ch) {
                const int64_t kk = (kh * c.K + kw) * c.G + ch % c.G;
                const double u = up.at({n, oh, ow, ch});
                dx.at({n, ih, iw, ch}) += k.at({n, oh, ow, kk}) * u;
                dk.at({n, oh, ow, kk}) += x.at({n, ih, iw, ch}) * u;
              }
            }
    const std::string what = label(c);
    check_close(x.grad(), dx, 1e-12, 1e-12, what + " dx");
    check_close(k.grad(), dk, 1e-12, 1e-12, what + " dkernel");
  }
}

TEST_CASE("involution: bad input throws naming the op") {
  auto x = Tensor<float>::zeros({2, 5, 7, 4});
  auto k = Tensor<float>::zeros({2, 3, 4, 18});  // K = 3, S = 2, G = 2
  CHECK_NOTHROW(involution(x, k, 3, 2, 2));
  CHECK_THROWS_PN(involution(x, Tensor<float>::zeros({2, 5, 7, 18}), 3, 2, 2),
                  "involution: input [2,5,7,4] with kernel_size 3, stride 2, groups 2 needs kernel [N, OH, OW, "
                  "K*K*G] = [2,3,4,18], got [2,5,7,18]");
  CHECK_THROWS_PN(involution(x, Tensor<float>::zeros({2, 3, 4, 9}), 3, 2, 2), "got [2,3,4,9]");
  CHECK_THROWS_PN(involution(x, Tensor<float>::zeros({1, 3, 4, 18}), 3, 2, 2), "got [1,3,4,18]");
  CHECK_THROWS_PN(involution(x, Tensor<float>::zeros({2, 3, 4, 27}), 3, 2, 3),
                  "involution: input [2,5,7,4] has 4 channels, not divisible by groups 3");
  CHECK_THROWS_PN(involution(x, k, 3, 0, 2), "involution: stride 0x0 must be positive");
  CHECK_THROWS_PN(involution(x, k, 3, -1, 2), "involution: stride -1x-1 must be positive");
  CHECK_THROWS_PN(involution(x, k, 0, 2, 2), "involution: kernel size 0x0 must be positive");
  CHECK_THROWS_PN(involution(x, k, 3, 2, 0), "involution: groups 0 must be positive");
  CHECK_THROWS_PN(involution(Tensor<float>::zeros({5, 7, 4}), k, 3, 2, 2),
                  "involution: input [5,7,4] must have rank 4");
  CHECK_THROWS_PN(involution(x, Tensor<float>::zeros({2, 3, 72}), 3, 2, 2),
                  "involution: kernel [2,3,72] must have rank 4");
}

// ---- involution_layer -------------------------------------------------------------------

namespace {
InvolutionParams<double> layer_params(int64_t C, int64_t Cr, int64_t KKG, uint64_t seed) {
  InvolutionParams<double> p;
  p.reduce_weight = test::uniform<double>({C, Cr}, seed + 1);
  p.reduce_bias = test::uniform<double>({Cr}, seed + 2);
  p.bn_gamma = test::uniform<double>({Cr}, seed + 3, 0.5, 1.5);
  p.bn_beta = test::uniform<double>({Cr}, seed + 4);
  p.bn_running_mean = test::uniform<double>({Cr}, seed + 5);
  p.bn_running_var = test::uniform<double>({Cr}, seed + 6, 0.5, 1.5);
  p.span_weight = test::uniform<double>({Cr, KKG}, seed + 7);
  p.span_bias = test::uniform<double>({KKG}, seed + 8);
  return p;
}

// The seed's kernel_gen written out: AveragePooling2D(S, S, "same") (mean over the valid
// taps) when S > 1, Conv2D 1x1, BatchNormalization (batch or running statistics), ReLU,
// Conv2D 1x1. Updates the running statistics in training, as Keras does.
Tensor<double> ref_kernel_gen(const Tensor<double>& x, InvolutionParams<double>& p, int64_t S, bool training) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const int64_t Cr = p.reduce_weight.size(1), KKG = p.span_weight.size(1);
  const Geo g = same_geo(H, W, S, S);
  auto pooled = Tensor<double>::zeros({N, g.OH, g.OW, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow)
        for (int64_t c = 0; c < C; ++c) {
          double s = 0;
          int count = 0;
          for (int64_t i = oh * S - g.pt; i < oh * S - g.pt + S; ++i)
            for (int64_t j = ow * S - g.pl; j < ow * S - g.pl + S; ++j)
              if (i >= 0 && i < H && j >= 0 && j < W) {
                s += x.at({n, i, j, c});
                ++count;
              }
          pooled.at({n, oh, ow, c}) = s / count;
        }
  const int64_t rows = N * g.OH * g.OW;
  const std::vector<double> px = pooled.to_vector();
  std::vector<double> h(static_cast<size_t>(rows * Cr));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < Cr; ++j) {
      double s = p.reduce_bias.at({j});
      for (int64_t c = 0; c < C; ++c) s += px[static_cast<size_t>(r * C + c)] * p.reduce_weight.at({c, j});
      h[static_cast<size_t>(r * Cr + j)] = s;
    }
  for (int64_t j = 0; j < Cr; ++j) {
    double mean = p.bn_running_mean.at({j}), var = p.bn_running_var.at({j});
    if (training) {
      double m = 0, v = 0;
      for (int64_t r = 0; r < rows; ++r) m += h[static_cast<size_t>(r * Cr + j)];
      m /= static_cast<double>(rows);
      for (int64_t r = 0; r < rows; ++r) v += std::pow(h[static_cast<size_t>(r * Cr + j)] - m, 2);
      v /= static_cast<double>(rows);
      p.bn_running_mean.at({j}) = 0.99 * mean + 0.01 * m;
      p.bn_running_var.at({j}) = 0.99 * var + 0.01 * v;
      mean = m;
      var = v;
    }
    for (int64_t r = 0; r < rows; ++r) {
      double& e = h[static_cast<size_t>(r * Cr + j)];
      e = std::max(0.0, (e - mean) / std::sqrt(var + 1e-3) * p.bn_gamma.at({j}) + p.bn_beta.at({j}));
    }
  }
  auto kernel = Tensor<double>::zeros({N, g.OH, g.OW, KKG});
  double* k = kernel.data();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < KKG; ++o) {
      double s = p.span_bias.at({o});
      for (int64_t j = 0; j < Cr; ++j) s += h[static_cast<size_t>(r * Cr + j)] * p.span_weight.at({j, o});
      k[r * KKG + o] = s;
    }
  return kernel;
}
}  // namespace

TEST_CASE("involution_layer: output and kernel shapes as the seed prints") {
  // The seed's layer test (channel 3, group 1, kernel 5, reduction 1), at CIFAR size.
  auto x = test::uniform<double>({2, 32, 32, 3}, 31);
  auto p = layer_params(3, 3, 25, 32);
  auto r1 = involution_layer(x, p, {.kernel_size = 5, .stride = 1, .groups = 1}, false);
  CHECK(r1.output.shape() == Shape{2, 32, 32, 3});
  CHECK(r1.kernel.shape() == Shape{2, 32, 32, 25});
  auto r2 = involution_layer(x, p, {.kernel_size = 5, .stride = 2, .groups = 1}, false);
  CHECK(r2.output.shape() == Shape{2, 16, 16, 3});
  CHECK(r2.kernel.shape() == Shape{2, 16, 16, 25});
  // An odd size, which the seed's H // S reshape cannot take: ceil(33 / 2) = 17.
  auto r3 = involution_layer(test::uniform<double>({1, 33, 31, 3}, 33), p, {.kernel_size = 5, .stride = 2}, true);
  CHECK(r3.output.shape() == Shape{1, 17, 16, 3});
  CHECK(r3.kernel.shape() == Shape{1, 17, 16, 25});
}

TEST_CASE("involution_layer: matches the seed's kernel_gen and call() written out, training and eval") {
  struct L {
    int64_t N, H, W, C, Cr, K, S, G;
    bool training;
  };
  const L cfgs[] = {{2, 9, 8, 6, 3, 3, 1, 2, true},
                    {2, 9, 8, 6, 3, 3, 1, 2, false},
                    {3, 7, 10, 4, 2, 5, 2, 1, true},  // stride 2: "same" pooling with a partial window
                    {3, 7, 10, 4, 2, 5, 2, 1, false}};
  for (const L& c : cfgs) {
    auto x = test::uniform<double>({c.N, c.H, c.W, c.C}, 34);
    auto p = layer_params(c.C, c.Cr, c.K * c.K * c.G, 35);
    auto q = layer_params(c.C, c.Cr, c.K * c.K * c.G, 35);  // the reference's own running statistics
    const auto r = involution_layer(x, p, {.kernel_size = c.K, .stride = c.S, .groups = c.G}, c.training);
    const auto kref = ref_kernel_gen(x, q, c.S, c.training);
    const std::string what = std::string(c.training ? "training" : "eval") + (c.S > 1 ? " stride 2" : " stride 1");
    check_close(r.kernel, kref, 1e-10, 1e-10, what + " kernel");
    check_close(r.output, seed_involution(x, kref, c.K, c.S, c.G), 1e-10, 1e-10, what + " output");
    check_close(p.bn_running_mean, q.bn_running_mean, 1e-12, 1e-12, what + " running mean");
    check_close(p.bn_running_var, q.bn_running_var, 1e-12, 1e-12, what + " running var");
    if (!c.training)  // eval reads the running statistics and leaves them alone
      check_close(p.bn_running_mean, layer_params(c.C, c.Cr, c.K * c.K * c.G, 35).bn_running_mean, 0, 0, what);
  }
}

TEST_CASE("involution_layer: gradients reach every parameter") {
  auto x = test::uniform<double>({2, 6, 6, 4}, 36).set_requires_grad();
  auto p = layer_params(4, 2, 18, 37);
  for (Tensor<double>* t : {&p.reduce_weight, &p.reduce_bias, &p.bn_gamma, &p.bn_beta, &p.span_weight, &p.span_bias})
    t->set_requires_grad();
  auto r = involution_layer(x, p, {.kernel_size = 3, .stride = 2, .groups = 2}, true);
  sum(r.output * r.output).backward();
  for (const Tensor<double>* t :
       {&x, &p.reduce_weight, &p.reduce_bias, &p.bn_gamma, &p.bn_beta, &p.span_weight, &p.span_bias}) {
    REQUIRE(t->grad().defined());
    CHECK(sum(square(t->grad())).item() > 0);
  }
}

TEST_CASE("involution_layer: bad parameters throw naming the layer") {
  auto x = Tensor<double>::zeros({2, 8, 8, 4});
  auto p = layer_params(4, 2, 18, 38);
  const InvolutionOptions o{.kernel_size = 3, .stride = 1, .groups = 2};
  CHECK_NOTHROW(involution_layer(x, p, o, false));
  CHECK_THROWS_PN(involution_layer(Tensor<double>::zeros({2, 8, 8, 5}), p, o, false),
                  "involution_layer: input [2,8,8,5] has 5 channels but reduce_weight [4,2] expects 4");
  CHECK_THROWS_PN(involution_layer(x, p, {.kernel_size = 3, .stride = 1, .groups = 1}, false),
                  "involution_layer: span_weight [2,18] must be [C/r, K*K*G] = [2,9]");
  CHECK_THROWS_PN(involution_layer(x, p, {.kernel_size = 3, .stride = 0, .groups = 2}, false),
                  "involution_layer: kernel_size 3, stride 0 and groups 2 must be positive");
  CHECK_THROWS_PN(involution_layer(Tensor<double>::zeros({8, 8, 4}), p, o, false),
                  "involution_layer: input [8,8,4] must have rank 4");
  auto bad = p;
  bad.span_weight = Tensor<double>::zeros({18});
  CHECK_THROWS_PN(involution_layer(x, bad, o, false), "involution_layer: span_weight [18] must have rank 2");
}
