"""The preamble of the child-process scripts that drive TensorRT-RTX's parser (its aborts must
not take the test process with them): the module and a logger that prints every message."""

RTX_PREAMBLE = """
import sys
import tensorrt_rtx as trt

class Log(trt.ILogger):
    def __init__(self):
        trt.ILogger.__init__(self)

    def log(self, severity, msg):
        print(f"[{severity}] {msg}", flush=True)

logger = Log()
"""
