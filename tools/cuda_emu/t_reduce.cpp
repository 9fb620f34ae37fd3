#include "tu.hpp"
#include "reduce.cu"  // generated: $EMU_BUILD/gen (gen.sh)
#include "patchnet/cpu/reduce.hpp"
using namespace patchnet;

template <class T>
void one(const std::vector<int64_t>& dims, const std::vector<bool>& red, double tol) {
  math::SumParams p;
  p.rank = int(dims.size());
  int64_t n = 1, n_out = 1;
  for (int i = 0; i < p.rank; ++i) {
    p.shape[i] = dims[i];
    p.reduce[i] = red[i];
    n *= dims[i];
    if (!red[i]) n_out *= dims[i];
  }
  g_case = std::string(sizeof(T) == 4 ? "float" : "double") + " shape";
  for (int i = 0; i < p.rank; ++i) g_case += " " + std::to_string(dims[i]) + (red[i] ? "r" : "");
  auto x = rnd<T>(n);
  std::vector<T> ref = poison<T>(n_out);
  cpu::sum_axes(x.data(), p, ref.data());
  // |x| sums for the tolerance
  std::vector<T> ax(n);
  for (int64_t i = 0; i < n; ++i) ax[i] = std::abs(x[i]);
  std::vector<T> aref(n_out);
  cpu::sum_axes(ax.data(), p, aref.data());
  std::vector<double> scale(n_out);
  for (int64_t i = 0; i < n_out; ++i) scale[i] = 1 + double(aref[i]);
  if (getenv("V")) std::printf("%s\n", g_case.c_str()), fflush(stdout);
  const int64_t ws = cuda::sum_axes_workspace(p);
  std::vector<T> outs[2];
  for (int order : {0, 2}) {
    emu::g_order = order;
    std::vector<T> w = poison<T>(ws);  // exactly the advertised size: ASan catches overruns
    std::vector<T> out = poison<T>(n_out);
    cuda::sum_axes(x.data(), out.data(), ws > 0 ? w.data() : nullptr, p);
    outs[order ? 1 : 0] = out;
  }
  emu::g_order = 0;
  cmp(outs[0], ref, "sum_axes", tol, &scale);
  same_bits(outs[0], outs[1], "sum_axes");
}

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 200;
  for (int it = 0; it < iters; ++it) {
    const int rank = ri(1, 5);
    std::vector<int64_t> d(rank);
    std::vector<bool> r(rank);
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) {
      const int k = ri(0, 9);
      d[i] = k == 0 ? 1 : k < 7 ? ri(2, 13) : ri(30, 700);
      if (n * d[i] > 150000) d[i] = 1 + ri(0, 3);
      n *= d[i];
      r[i] = ri(0, 1);
    }
    if (ri(0, 9) == 0)
      for (int i = 0; i < rank; ++i) r[i] = true;
    if (it % 2) one<double>(d, r, 1e-13);
    else one<float>(d, r, 1e-6);
  }
  // targeted shapes: chunk boundaries, capped chunk count, fallback, empty
  std::vector<std::pair<std::vector<int64_t>, std::vector<bool>>> fixed = {{{256}, {1}},
                                                                           {{257}, {1}},
                                                                           {{512, 3}, {1, 0}},
                                                                           {{513, 33}, {1, 0}},
                                                                           {{2, 1000, 1}, {0, 1, 0}},
                                                                           {{3, 1025, 5}, {0, 1, 0}},
                                                                           {{1, 70000}, {0, 1}},
                                                                           {{70000, 2}, {0, 1}},
                                                                           {{65536, 2, 2}, {0, 1, 0}},
                                                                           {{65535, 2}, {0, 1}},
                                                                           {{5, 0, 3}, {0, 1, 0}},
                                                                           {{0, 4}, {0, 1}},
                                                                           {{4, 0}, {1, 0}},
                                                                           {{3, 4, 5}, {1, 0, 1}},
                                                                           {{2, 3, 4, 5}, {0, 1, 0, 1}},
                                                                           {{1}, {1}},
                                                                           {{1, 1}, {0, 1}},
                                                                           {{7}, {0}},
                                                                           {{1048577}, {1}},
                                                                           {{1, 1048577 + 300, 3}, {0, 1, 0}},
                                                                           {{33, 300, 1, 65}, {0, 1, 1, 0}}};
  if (argc > 2)
    for (auto& [d, r] : fixed) {
      one<float>(d, r, 1e-6);
      one<double>(d, r, 1e-13);
    }
  return finish("reduce");
}
