"""Run an ONNX Runtime session through IO binding: inputs copied once onto the session's device and
outputs allocated there, so ONNX Runtime makes no copies of its own around the run."""

from __future__ import annotations

import numpy as np


def bind(session, feeds: dict[str, np.ndarray], output_names, device: str, device_id: int = 0):
    """An IO binding of `feeds` placed on `device`, with `output_names` left where the session computes them."""
    import onnxruntime as ort

    binding = session.io_binding()
    for name, value in feeds.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(value), device,
                                                                           device_id))
    for name in output_names:
        binding.bind_output(name, device, device_id)
    return binding


class BoundSession:
    """An InferenceSession whose `run` goes through IO binding; the rest is the session's.

    Each call makes its own binding, so one BoundSession may be shared by threads as the session is.
    """

    def __init__(self, session, device: str, device_id: int = 0):
        self.session = session
        self.device = device
        self.device_id = device_id

    def get_inputs(self):
        return self.session.get_inputs()

    def get_providers(self):
        return self.session.get_providers()

    def run(self, output_names, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        names = output_names or [o.name for o in self.session.get_outputs()]
        binding = bind(self.session, feeds, names, self.device, self.device_id)
        self.session.run_with_iobinding(binding)  # returns once the outputs are ready on the device
        return binding.copy_outputs_to_cpu()
