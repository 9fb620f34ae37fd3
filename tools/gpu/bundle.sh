#!/usr/bin/env bash
# Assembles .device/ (ignored by git), what the GPU machine of the `device` tool lacks:
# it reaches no package registry, and ../shared does not travel with the working tree.
#   include/ + cmake configs  Eigen, doctest, Google Benchmark (headers, shared library),
#                             stb (the three headers patchnet uses), libjpeg-turbo's TurboJPEG
#                             and libpng with zlib (headers, shared libraries, a reduced CMake
#                             config for TurboJPEG); found there through
#                             CMAKE_PREFIX_PATH=$PWD/.device (and LD_LIBRARY_PATH, check.sh)
#   data/                     the CIFAR-10 archive and converter, the mini set
#   prebuilt.tar.xz           (--prebuilt) the GPU test suite, the examples and the benchmarks
#                             built here for sm_90 and a generic x86-64 CPU, so the lease is
#                             not spent compiling (2 cores here: about 20 minutes)
# Then, from the repo root:  device run, carry [".device"], command "bash tools/gpu/check.sh"
set -euo pipefail
cd "$(dirname "$0")/../.."
D=.device
prebuilt=0
[ "${1:-}" = "--prebuilt" ] && prebuilt=1

rm -rf "$D/include" "$D/lib" "$D/share" "$D/data"
mkdir -p "$D/include/stb" "$D/lib/x86_64-linux-gnu/cmake" "$D/lib/cmake" "$D/share/eigen3" "$D/data"
mkdir -p "$D/include/eigen3" && cp -r /usr/include/eigen3/Eigen /usr/include/eigen3/signature_of_eigen3_matrix_library "$D/include/eigen3/"
cp -r /usr/share/eigen3/cmake "$D/share/eigen3/"
cp -r /usr/include/doctest "$D/include/"
cp -r /usr/lib/cmake/doctest "$D/lib/cmake/"
cp -r /usr/include/benchmark "$D/include/"
cp -a /usr/lib/x86_64-linux-gnu/libbenchmark.so* /usr/lib/x86_64-linux-gnu/libbenchmark_main.a "$D/lib/x86_64-linux-gnu/"
cp -r /usr/lib/x86_64-linux-gnu/cmake/benchmark "$D/lib/x86_64-linux-gnu/cmake/"
cp /usr/include/stb/stb_image.h /usr/include/stb/stb_image_write.h /usr/include/stb/stb_easy_font.h "$D/include/stb/"
# Image decoding: headers and libraries; the system's libjpeg-turbo config names /usr paths,
# so a reduced one points at this bundle.
cp /usr/include/turbojpeg.h /usr/include/zlib.h /usr/include/zconf.h "$D/include/"
cp -r /usr/include/libpng16 "$D/include/" && ln -sf libpng16/png.h "$D/include/png.h"
ln -sf libpng16/pngconf.h "$D/include/pngconf.h" && ln -sf libpng16/pnglibconf.h "$D/include/pnglibconf.h"
cp -a /usr/lib/x86_64-linux-gnu/libturbojpeg.so* /usr/lib/x86_64-linux-gnu/libpng16.so* \
  /usr/lib/x86_64-linux-gnu/libpng.so "$D/lib/x86_64-linux-gnu/"
cp -a /usr/lib/x86_64-linux-gnu/libz.so* "$D/lib/x86_64-linux-gnu/" 2>/dev/null || cp -a /lib/x86_64-linux-gnu/libz.so* "$D/lib/x86_64-linux-gnu/"
mkdir -p "$D/lib/x86_64-linux-gnu/cmake/libjpeg-turbo"
cat > "$D/lib/x86_64-linux-gnu/cmake/libjpeg-turbo/libjpeg-turboConfig.cmake" <<'EOF'
# Reduced for the device bundle: TurboJPEG from this folder.
get_filename_component(_pn_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
if(NOT TARGET libjpeg-turbo::turbojpeg)
  add_library(libjpeg-turbo::turbojpeg SHARED IMPORTED)
  set_target_properties(libjpeg-turbo::turbojpeg PROPERTIES
    IMPORTED_LOCATION "${_pn_prefix}/lib/x86_64-linux-gnu/libturbojpeg.so.0"
    INTERFACE_INCLUDE_DIRECTORIES "${_pn_prefix}/include")
endif()
set(libjpeg-turbo_FOUND TRUE)
EOF
cp ../shared/data/cifar10-jpeg.tar.xz ../shared/data/cifar10_from_jpeg.py "$D/data/"
cp -r ../shared/data/cifar10-mini "$D/data/"
chmod -R u+w "$D"

rm -f "$D/prebuilt.tar.xz"
if [ $prebuilt = 1 ]; then
  cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DPATCHNET_NATIVE=OFF -DPATCHNET_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DPATCHNET_INSTALL=OFF
  cmake --build build-device -j"$(nproc)" --target patchnet_gpu_tests patchnet_bench convmixer_cifar10 \
    shiftvit_cifar10 involution_cifar10
  # The CUDA fat binaries dominate (~12 MB a program) and compress ~5x.
  tar -C build-device -cJf "$D/prebuilt.tar.xz" tests/patchnet_gpu_tests bench/patchnet_bench \
    examples/convmixer_cifar10 examples/shiftvit_cifar10 examples/involution_cifar10
fi
du -sh "$D"
