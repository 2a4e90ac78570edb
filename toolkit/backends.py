"""PyTorch, ONNX Runtime (CPU, or CUDA with IO binding) and OpenVINO (CPU) behind one interface,
for export's checks, `toolkit evaluate` and `toolkit bench`.

Each backend offers `logits(arrays)` (int64 numpy inputs in, fp32 numpy logits out), the session
methods the runtime's predictors call (`run`, `get_inputs`), and `timed_call(arrays)`: a
zero-argument callable doing only the work a server does per request once its inputs are where
they belong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class SessionInput:
    name: str


class TorchBackend:
    """A transformers model; looks like an ONNX Runtime session to the runtime's predictors."""

    name = "pytorch"

    def __init__(self, checkpoint_dir: Path, model_class: str, device: str = "cpu", threads: int | None = None,
                 input_names: list[str] | None = None):
        import torch

        from toolkit.modeling import load_model
        from toolkit.scoring import MODEL_INPUTS

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        self.device = device
        self.model = load_model(checkpoint_dir, model_class).to(device).eval()
        if input_names is None:  # what the tokenizer gives the model, never guessed from the config
            from transformers import AutoTokenizer

            input_names = AutoTokenizer.from_pretrained(checkpoint_dir).model_input_names
        self.input_names = [name for name in MODEL_INPUTS if name in input_names]
        self.providers = [f"torch-{device}"]

    def get_inputs(self):
        return [SessionInput(n) for n in self.input_names]

    def logits(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        with self.torch.inference_mode():
            inputs = {k: self.torch.from_numpy(v).to(self.device) for k, v in arrays.items() if k in self.input_names}
            return self.model(**inputs).logits.float().cpu().numpy()

    def run(self, output_names, feeds: dict[str, np.ndarray]):
        return [self.logits(feeds)]

    def timed_call(self, arrays: dict[str, np.ndarray]):
        torch = self.torch
        inputs = {k: torch.from_numpy(v).to(self.device) for k, v in arrays.items() if k in self.input_names}

        def call():
            with torch.inference_mode():
                return self.model(**inputs).logits

        return call

    def synchronize(self) -> None:
        if self.device == "cuda":
            self.torch.cuda.synchronize()


class OrtBackend:
    """An ONNX Runtime session; on CUDA, inputs and outputs stay on the GPU through IO binding."""

    def __init__(self, name: str, path: Path, device: str = "cpu", threads: int | None = None):
        from toolkit.runtime.predict import make_session

        self.name = name
        self.device = device
        self.session = make_session(path, device, threads)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.providers = self.session.get_providers()

    def get_inputs(self):
        return self.session.get_inputs()

    def run(self, output_names, feeds):
        return self.session.run(output_names, {n: feeds[n] for n in self.input_names})

    def logits(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return self.run(["logits"], arrays)[0]

    def timed_call(self, arrays: dict[str, np.ndarray]):
        feeds = {n: arrays[n] for n in self.input_names}
        if self.device != "cuda":
            return lambda: self.session.run(["logits"], feeds)
        from toolkit.runtime.binding import bind

        binding = bind(self.session, feeds, ["logits"], "cuda")

        def call():
            self.session.run_with_iobinding(binding)

        return call

    def synchronize(self) -> None:
        # run_with_iobinding returns when the outputs are ready on the device.
        return None


class OpenVinoBackend:
    """OpenVINO's CPU runtime on an ONNX file, as the runtime's engine="openvino" runs it."""

    def __init__(self, name: str, path: Path, device: str = "cpu", threads: int | None = None):
        from toolkit.errors import ToolkitError
        from toolkit.runtime.openvino import OpenVinoSession

        if device != "cpu":
            raise ToolkitError(f"{name} runs on OpenVINO's CPU runtime, not on {device}: leave it out with "
                               "--variants, or bench on the CPU.")
        self.name = name
        self.device = device
        self.session = OpenVinoSession(path, threads)
        self.input_names = self.session.input_names
        self.providers = self.session.get_providers()

    def get_inputs(self):
        return [SessionInput(n) for n in self.input_names]

    def logits(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return self.run(["logits"], arrays)[0]

    def run(self, output_names, feeds):
        return self.session.run(output_names, feeds)

    def timed_call(self, arrays: dict[str, np.ndarray]):
        feeds = {n: arrays[n] for n in self.input_names}
        return lambda: self.session.run(["logits"], feeds)  # as the runtime calls it: its infer request kept

    def synchronize(self) -> None:
        return None  # infer() returns when the outputs are ready


ENGINE_BACKENDS = {"onnxruntime": OrtBackend, "openvino": OpenVinoBackend}


def variant_backend(bundle, name: str, device: str = "cpu", threads: int | None = None):
    """The backend that runs a bundle variant on the engine it was made and checked for."""
    return ENGINE_BACKENDS[bundle.engine_of(name)](name, bundle.variant_path(name), device, threads)
