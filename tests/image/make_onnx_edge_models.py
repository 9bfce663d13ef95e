"""Tiny ONNX models for cnn.features' edge cases, written to OUT_DIR:

  fixed_8x8.onnx       a 1x1 convolution whose input declares [1, 3, 8, 8]
                       (input_size can come from the model)
  identity_init.onnx   an Identity node on a weight (an initializer): OpenCV
                       4.6 fails to import it ("inputs.size()"), as it does
                       on models exported without constant folding;
                       cnn.features folds it first
  clip_dynamic.onnx    a Clip whose lower bound is computed (ReduceMin):
                       OpenCV 4.6 takes constant bounds only, and no
                       normalization makes this one constant
  unsupported_op.onnx  a NonZero node: OpenCV 4.6 has no layer for it

usage: make_onnx_edge_models.py OUT_DIR
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(out_dir, name, nodes, outputs):
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])
    weight = numpy_helper.from_array(np.full((2, 3, 1, 1), 0.5, np.float32), "w")
    graph = helper.make_graph(nodes, name, [image], outputs, initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, f"{out_dir}/{name}.onnx")


def main(out_dir):
    conv_out = helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 2, 8, 8])
    save(out_dir, "fixed_8x8", [helper.make_node("Conv", ["image", "w"], ["c"], name="conv", kernel_shape=[1, 1])],
         [conv_out])
    save(out_dir, "identity_init",
         [helper.make_node("Identity", ["w"], ["w_copy"], name="copy_weights"),
          helper.make_node("Conv", ["image", "w_copy"], ["c"], name="conv", kernel_shape=[1, 1])], [conv_out])
    save(out_dir, "clip_dynamic",
         [helper.make_node("Conv", ["image", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
          helper.make_node("ReduceMin", ["c"], ["lo"], name="lowest", keepdims=0),
          helper.make_node("Clip", ["c", "lo"], ["clipped"], name="clip_dynamic")],
         [helper.make_tensor_value_info("clipped", TensorProto.FLOAT, [1, 2, 8, 8])])
    save(out_dir, "unsupported_op",
         [helper.make_node("Conv", ["image", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
          helper.make_node("NonZero", ["c"], ["nz"], name="find_nonzero")],
         [helper.make_tensor_value_info("nz", TensorProto.INT64, [4, None])])


if __name__ == "__main__":
    main(sys.argv[1])
