"""Inference beyond the core: ONNX export and runtime, latency benchmarks, drawn-digit checks."""
