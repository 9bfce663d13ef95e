"""A float64 reference for ONNX CNNs: runs the graph node by node with
torch.nn.functional in double precision and returns every tensor by its
ONNX name, so a test can compare the model output and any intermediate
layer. Covers the operators of the digits CNN, mobilenet_v2 and squeezenet
as torch.onnx exports them (opset 11).

Independent of OpenCV: only the ONNX file (weights, attributes) is shared.
"""
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pads(a, n=2):
    p = list(a.get("pads", [0] * (2 * n)))
    return p[:n], p[n:]


def _conv(x, w, b, a):
    begin, end = _pads(a)
    if begin != end:
        x = F.pad(x, (begin[1], end[1], begin[0], end[0]))
        begin = [0, 0]
    return F.conv2d(x, w, b, stride=a.get("strides", [1, 1]), padding=begin,
                    dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))


def _pool(x, a, kind):
    begin, end = _pads(a)
    k, s = a["kernel_shape"], a.get("strides", [1, 1])
    ceil = bool(a.get("ceil_mode", 0))
    if kind == "max":
        if begin != end:
            x = F.pad(x, (begin[1], end[1], begin[0], end[0]), value=-np.inf)
            begin = [0, 0]
        return F.max_pool2d(x, k, s, begin, ceil_mode=ceil)
    return F.avg_pool2d(x, k, s, begin, ceil_mode=ceil, count_include_pad=bool(a.get("count_include_pad", 0)))


def run(model_path, x):
    """x: numpy [1, C, H, W]. Returns {name: float64 numpy array}."""
    m = onnx.load(model_path)
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).astype(np.float64)
                                    if numpy_helper.to_array(i).dtype.kind == "f"
                                    else numpy_helper.to_array(i)) for i in m.graph.initializer}
    inputs = [i.name for i in m.graph.input if i.name not in env]
    env[inputs[0]] = torch.from_numpy(np.asarray(x, dtype=np.float64))
    for n in m.graph.node:
        a = _attrs(n)
        i = [env[k] if k else None for k in n.input]
        op = n.op_type
        if op == "Constant":
            v = numpy_helper.to_array(a["value"])
            y = torch.from_numpy(v.astype(np.float64) if v.dtype.kind == "f" else v)
        elif op == "Conv":
            y = _conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif op == "Relu":
            y = F.relu(i[0])
        elif op == "Clip":
            lo = i[1].item() if len(i) > 1 and i[1] is not None else a.get("min", -np.inf)
            hi = i[2].item() if len(i) > 2 and i[2] is not None else a.get("max", np.inf)
            y = torch.clamp(i[0], lo, hi)
        elif op == "MaxPool":
            y = _pool(i[0], a, "max")
        elif op == "AveragePool":
            y = _pool(i[0], a, "avg")
        elif op == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * A @ B
            if len(i) > 2:
                y = y + a.get("beta", 1.0) * i[2]
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Mul":
            y = i[0] * i[1]
        elif op == "Concat":
            y = torch.cat(i, dim=a["axis"])
        elif op == "BatchNormalization":
            s = (1, -1, 1, 1)
            y = (i[0] - i[3].view(s)) / torch.sqrt(i[4].view(s) + a.get("epsilon", 1e-5)) * i[1].view(s) + i[2].view(s)
        elif op == "Reshape":
            y = i[0].reshape(tuple(int(v) for v in i[1]))
        elif op == "Dropout" or op == "Identity":
            y = i[0]
        else:
            raise NotImplementedError(f"onnx_ref: operator {op}")
        env[n.output[0]] = y
    return {k: v.numpy() for k, v in env.items() if isinstance(v, torch.Tensor)}
