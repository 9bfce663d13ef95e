// OpenCV DNN's error text read for the node, the op and the reason
// (plugins/cnn/opencv_errors.*), on the texts OpenCV 4.6 gives: an import
// failure, an op it has no layer for, and a failure while running.
#include <gtest/gtest.h>

#include "opencv_errors.hpp"

namespace featpipe::cnn {
namespace {

const char* kIdentity =
    "> Node [Identity@ai.onnx]:(onnx_node!copy_weights) parse error: OpenCV(4.6.0) ./modules/dnn/src/layer.cpp:246: "
    "error: (-215:Assertion failed) inputs.size() in function 'getMemoryShapes'\n> \n";
const char* kNonZero =
    "> Node [NonZero@ai.onnx]:(onnx_node!find_nonzero) parse error: OpenCV(4.6.0) "
    "./modules/dnn/src/layer_internals.hpp:110: error: (-2:Unspecified error) Can't create layer "
    "\"onnx_node!find_nonzero\" of type \"NonZero\" in function 'getLayerInstance'\n> \n";
const char* kForward =
    "OpenCV(4.6.0) ./modules/dnn/src/layers/fully_connected_layer.cpp:290: error: (-215:Assertion failed) "
    "srcMat.dims == 2 && srcMat.cols == weights.cols in function 'forward'\n";

TEST(OpenCvErrors, ImportFailureNamesNodeOpAndReason) {
  const OpenCvFailure f = parse_opencv_error(kIdentity, {});
  EXPECT_EQ(f.node, "copy_weights");
  EXPECT_EQ(f.op, "Identity");
  EXPECT_EQ(f.reason, "OpenCV's check inputs.size() failed");
  EXPECT_FALSE(f.unsupported);
  const std::string m = load_error_message("m.onnx", kIdentity, {});
  EXPECT_EQ(m.rfind("cannot load ONNX model m.onnx: OpenCV DNN cannot import node 'copy_weights' (op Identity): "
                    "OpenCV's check inputs.size() failed; re-export it with another opset",
                    0),
            0u)
      << m;
}

TEST(OpenCvErrors, ACheckFailureGivesTheCheckAndTheValue) {
  // CV_CheckEQ's text (parseClip on a Clip with a computed bound).
  const char* text =
      "> Node [Clip@ai.onnx]:(onnx_node!clip_dynamic) parse error: OpenCV(4.6.0) ./modules/dnn/src/onnx/"
      "onnx_importer.cpp:1934: error: (-2:Unspecified error) in function 'void cv::dnn::dnn4_v20220524::"
      "ONNXImporter::parseClip(cv::dnn::dnn4_v20220524::LayerParams&, const opencv_onnx::NodeProto&)'\n"
      "> >  (expected: 'node_proto.input_size() == 1'), where\n> >     'node_proto.input_size()' is 2\n"
      "> > must be equal to\n> >     '1' is 1\n> \n";
  OnnxGraph g;
  g.opset = 14;
  const std::string m = load_error_message("m.onnx", text, g);
  EXPECT_EQ(m.rfind("cannot load ONNX model m.onnx: OpenCV DNN cannot import node 'clip_dynamic' (op Clip, opset 14): "
                    "OpenCV's check node_proto.input_size() == 1 failed (node_proto.input_size() is 2); re-export",
                    0),
            0u)
      << m;
  EXPECT_NE(m.find("the torch backend runs it: export the model with torch.jit.trace (or torch.jit.script) and give "
                   "the .pt file as model"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("OpenCV(4"), std::string::npos) << m;
}

TEST(OpenCvErrors, UnsupportedOp) {
  const OpenCvFailure f = parse_opencv_error(kNonZero, {});
  EXPECT_TRUE(f.unsupported);
  EXPECT_EQ(f.node, "find_nonzero");
  EXPECT_EQ(f.op, "NonZero");
  EXPECT_NE(load_error_message("m.onnx", kNonZero, {}).find("has no layer for op NonZero (node 'find_nonzero')"),
            std::string::npos);
}

TEST(OpenCvErrors, AnUnnamedNodeGetsItsOpFromTheGraph) {
  // OpenCV names a node without a name by its first output, and may leave
  // the op out of its text: the graph has it.
  OnnxGraph g;
  g.nodes.push_back({"", "Gemm", {"x", "w"}, {"logits"}});
  const OpenCvFailure f = parse_opencv_error("Can't create layer \"onnx_node!logits\" of type \"\"", g);
  EXPECT_EQ(f.node, "logits");
  EXPECT_EQ(f.op, "Gemm");
}

TEST(OpenCvErrors, RunFailureKeepsTheReasonAndSaysWhatToDo) {
  const OpenCvFailure f = parse_opencv_error(kForward, {});
  EXPECT_TRUE(f.node.empty());
  EXPECT_EQ(f.reason, "OpenCV's check srcMat.dims == 2 && srcMat.cols == weights.cols failed");
  const std::string m = run_error_message("m.onnx", "[3, 40, 40]", kForward, {});
  EXPECT_EQ(m.rfind("OpenCV DNN cannot run m.onnx on an input [3, 40, 40]: OpenCV's check srcMat.dims == 2", 0), 0u)
      << m;
  EXPECT_NE(m.find("opset_version"), std::string::npos) << m;
  EXPECT_EQ(m.find("OpenCV(4"), std::string::npos) << m;
}

}  // namespace
}  // namespace featpipe::cnn
