// patchnet: tensors, reverse-mode autograd and the ops of patch-based vision networks.
// The one header users include; it only includes.
#pragma once

#include "patchnet/core/error.hpp"
#include "patchnet/core/shape.hpp"
#include "patchnet/core/device.hpp"
#include "patchnet/core/dtype.hpp"
#include "patchnet/core/tensor.hpp"
#include "patchnet/core/random.hpp"
#include "patchnet/core/print.hpp"

#include "patchnet/autograd/grad_mode.hpp"
#include "patchnet/autograd/engine.hpp"
#include "patchnet/autograd/gradcheck.hpp"

// The ops. A family with a layer also comes in through its nn/ header below (group_norm
// through nn/norm.hpp), so a new one needs no line here.
#include "patchnet/ops/elementwise.hpp"
#include "patchnet/ops/reduce.hpp"
#include "patchnet/ops/shape_ops.hpp"
#include "patchnet/ops/matmul.hpp"
#include "patchnet/ops/geometry.hpp"
#include "patchnet/ops/conv.hpp"
#include "patchnet/ops/batch_norm.hpp"
#include "patchnet/ops/layer_norm.hpp"
#include "patchnet/ops/pool.hpp"
#include "patchnet/ops/activation.hpp"
#include "patchnet/ops/loss.hpp"
#include "patchnet/ops/dropout.hpp"
#include "patchnet/ops/channel_shift.hpp"
#include "patchnet/ops/involution.hpp"

#include "patchnet/ops/copy.hpp"
#include "patchnet/ops/dispatch.hpp"

#include "patchnet/nn/init.hpp"
#include "patchnet/nn/module.hpp"
#include "patchnet/nn/container.hpp"
#include "patchnet/nn/conv.hpp"
#include "patchnet/nn/linear.hpp"
#include "patchnet/nn/norm.hpp"
#include "patchnet/nn/activation.hpp"
#include "patchnet/nn/pool.hpp"
#include "patchnet/nn/dropout.hpp"
#include "patchnet/nn/shift.hpp"
#include "patchnet/nn/involution.hpp"
#include "patchnet/nn/summary.hpp"
#include "patchnet/nn/profile.hpp"

#include "patchnet/models/convmixer.hpp"
#include "patchnet/models/shiftvit.hpp"
#include "patchnet/models/involution_net.hpp"

#include "patchnet/optim/optimizer.hpp"
#include "patchnet/optim/adam.hpp"
#include "patchnet/optim/sgd.hpp"
#include "patchnet/optim/schedule.hpp"

#include "patchnet/io/atomic_file.hpp"
#include "patchnet/io/safetensors.hpp"
#include "patchnet/io/model.hpp"

#include "patchnet/data/image_set.hpp"
#include "patchnet/data/cifar10.hpp"
#include "patchnet/data/augment.hpp"
#include "patchnet/data/loader.hpp"

#include "patchnet/train/checkpoint.hpp"
#include "patchnet/train/history.hpp"
#include "patchnet/train/progress.hpp"
#include "patchnet/train/trainer.hpp"

// Data parallelism (the process group, gradient all-reduce, sync BatchNorm); the MPI backend
// itself is patchnet/dist/mpi.hpp, which a program running under mpirun includes.
#include "patchnet/dist/group.hpp"
#include "patchnet/dist/data_parallel.hpp"

// Image files: decoding JPEG / PNG needs libjpeg-turbo and libpng (Debian: libturbojpeg0-dev,
// libpng-dev), writing PNG pictures stb_image_write (libstb-dev); without them the rest of
// patchnet works and these are left out.
#if __has_include(<turbojpeg.h>) && __has_include(<png.h>)
#include "patchnet/data/image_folder.hpp"
#endif
#if __has_include(<stb_image_write.h>)
#include "patchnet/viz/canvas.hpp"
#include "patchnet/viz/colormap.hpp"
#include "patchnet/viz/grid.hpp"
#include "patchnet/viz/layout.hpp"
#include "patchnet/viz/line_chart.hpp"
#include "patchnet/viz/png.hpp"
#endif
