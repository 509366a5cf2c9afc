"""`trtplug check`: which nodes TensorRT's ONNX parser rejects, why, and which plugin covers each.

Parser mode asks the real parser (tensorrt or tensorrt_rtx, in child processes) about one-node
models cut from the input, one parse per distinct node signature, then confirms with a
whole-model parse. Static mode judges nodes from shipped capability data (data/).
"""
