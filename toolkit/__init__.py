"""Fine-tune BERT-family models and ship them as fast, verified ONNX bundles."""

__version__ = "0.1.0"
