"""Embed an exported bundle: onnxruntime, tokenizers and numpy only (no torch, no transformers).

    from toolkit.runtime import load
    ner = load("exports/ner")
    ner("Angela Merkel met Emmanuel Macron in Paris.")
"""

from __future__ import annotations

from pathlib import Path

from toolkit.runtime.bundle import Bundle, load_bundle
from toolkit.runtime.errors import BundleError, OptionError, ToolkitError
from toolkit.runtime.predict import (
    PREDICTORS,
    NerPredictor,
    Predictor,
    SentimentPredictor,
    choose_variant,
)

__all__ = ["load", "load_bundle", "Bundle", "Predictor", "NerPredictor", "SentimentPredictor", "BundleError",
           "OptionError", "ToolkitError"]


def load(bundle_dir: str | Path, variant: str | None = None, verify: bool = True,
         expected_sha256: str | None = None, **options) -> Predictor:
    """Load a bundle's predictor; `variant` defaults to the manifest's default variant (on CUDA, to
    fp16 where the bundle has it, else optimized or fp32).

    Options: device ("cpu" | "cuda"), threads, providers, batch_size, stride (window overlap in
    tokens), io_binding (default: on for CUDA, off for the CPU), engine ("onnxruntime", or "openvino":
    OpenVINO's CPU runtime, with the `[openvino]` extra; without a variant named it loads the bundle's
    int8-openvino where export kept it as accurate; default: the engine the variant was made for)
    and, for NER, aggregation ("first" | "simple" | "average" | "max"). `verify=False` skips the sha256 check of the files the variant
    runs, which reads them once. The manifest is not signed: an app that pins a bundle passes the
    variant's `expected_sha256` (checked always): the model file's sha256, or for a graph with
    external data the digest over its files (VariantEntry.digest, what `toolkit serve`'s metadata shows).
    """
    bundle = load_bundle(bundle_dir)
    chosen = choose_variant(bundle, variant, options.get("device", "cpu"), options.get("engine"))
    bundle.variant_path(chosen)
    if verify or expected_sha256:
        bundle.verify(chosen, expected_sha256)
    return PREDICTORS[bundle.kind](bundle, variant=chosen, **options)
