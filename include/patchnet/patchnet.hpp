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

#include "patchnet/nn/init.hpp"
#include "patchnet/ops/copy.hpp"
#include "patchnet/ops/dispatch.hpp"
