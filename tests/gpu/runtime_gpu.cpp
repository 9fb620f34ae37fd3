// The CUDA runtime layer: the caching allocator, staged host-to-device copies, markers,
// and errors that leave the process usable.
#include <cstring>
#include <vector>

#include "patchnet/cuda/copy.hpp"
#include "patchnet/cuda/runtime.hpp"
#include "support/test_util.hpp"

using namespace patchnet;

TEST_CASE("cuda allocator: a freed block is handed out again without cudaMalloc") {
  cuda::synchronize(0);
  { auto warm = Tensor<float>::empty({1000, 37}, Device::cuda()); }
  const size_t before = cuda::memory_stats(0).malloc_calls;
  for (int i = 0; i < 10; ++i) {
    auto a = Tensor<float>::empty({1000, 37}, Device::cuda());
    a.fill_(static_cast<float>(i));
    CHECK(a.to(Device::cpu()).to_vector()[36999] == static_cast<float>(i));
  }
  CHECK(cuda::memory_stats(0).malloc_calls == before);
  const cuda::MemoryStats s = cuda::memory_stats(0);
  CHECK(s.reserved_bytes == s.allocated_bytes + s.cached_bytes);
  CHECK(s.peak_allocated_bytes >= s.allocated_bytes);
  cuda::empty_cache(0);
  CHECK(cuda::memory_stats(0).cached_bytes == 0);
}

TEST_CASE("cuda allocator: an impossible allocation is a patchnet::Error and the device stays usable") {
  CHECK_THROWS_PN(Tensor<float>::empty({int64_t(1) << 50}, Device::cuda()), "cudaMalloc");
  auto x = test::uniform<float>({64}, 3).to(Device::cuda());
  test::check_close(x.to(Device::cpu()), test::uniform<float>({64}, 3), 0, 0, "after the failed allocation");
}

TEST_CASE("cuda copies: staged host-to-device copies of many sizes round-trip exactly") {
  // Sizes around the 4 MiB staging slot and more chunks than slots.
  for (int64_t n : {int64_t(1), int64_t(1000), int64_t(1) << 20, (int64_t(1) << 20) + 3, int64_t(5) << 20}) {
    std::vector<float> host(static_cast<size_t>(n));
    for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>(i % 9973) - 17.0f;
    const Tensor<float> h = Tensor<float>::from_vector(host, {n});
    const Tensor<float> d = h.to(Device::cuda());
    // The source may be overwritten as soon as to() returns.
    std::memset(h.data(), 0, sizeof(float) * host.size());
    CHECK_MESSAGE(d.to(Device::cpu()).to_vector() == host, "size ", n);
  }
}

TEST_CASE("cuda markers: a read after a marker sees the work before it only") {
  auto a = Tensor<float>::full({4096}, 1.0f, Device::cuda());
  const cuda::Marker m = cuda::record_marker(0);
  a.fill_(2.0f);  // queued after the marker; may or may not have run
  std::vector<float> host(4096);
  cuda::copy_device_to_host_after(m, host.data(), a.data(), sizeof(float) * host.size());
  cuda::release_marker(m);
  for (float v : host) REQUIRE((v == 1.0f || v == 2.0f));
  cuda::synchronize(0);
  CHECK(a.to(Device::cpu()).to_vector() == std::vector<float>(4096, 2.0f));
}

// Only the emulator (preset emu) can check this one: on a GPU, a host pointer in a kernel is
// an illegal address that ends the process's CUDA context.
TEST_CASE("cuda emulator: a host pointer handed to a kernel is an Error") {
  if (std::strstr(cuda::device_name(0), "emulator") == nullptr) {
    MESSAGE("a real GPU: this check runs on the CUDA emulator only");
    return;
  }
  std::vector<float> host(16, 0.0f);
  CHECK_THROWS_PN(cuda::fill(host.data(), int64_t(16), 1.0f), "not device memory");
  CHECK(host[0] == 0.0f);
  auto d = Tensor<float>::zeros({16}, Device::cuda());
  CHECK_THROWS_PN(cuda::add(d.data(), host.data(), d.data(), int64_t(16)), "kernel argument 1");
}
