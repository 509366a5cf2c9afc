"""Graph passes (onnx-graphsurgeon): node -> plugin node, subgraph patterns -> plugin, and
validation of the result. One rule per small file; installed as trtplug.graph_rewrites.
"""
