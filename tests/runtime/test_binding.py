"""The runtime on CUDA and through IO binding: the binding code runs on the CPU provider too, so
these tests exercise it everywhere; those marked `cuda` need a GPU and skip without one."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from toolkit.errors import OptionError
from toolkit.runtime import load
from toolkit.runtime.binding import BoundSession
from toolkit.runtime.predict import make_session

TEXTS = ["Angela Merkel met John Smith in Paris .", "Café Müller in Nairobi 🎉 said Greenpeace .", "",
         "Shares of Barclays fell after Maria Garcia resigned . " * 30]


@pytest.mark.parametrize("variant", ["fp32", "optimized", "int8-dynamic"])
def test_io_binding_answers_equal_the_plain_path(ner_bundle, sentiment_bundle, variant):
    for bundle in (ner_bundle, sentiment_bundle):
        plain = load(bundle, variant=variant, stride=8)
        bound = load(bundle, variant=variant, stride=8, io_binding=True)
        assert isinstance(bound.session, BoundSession) and not isinstance(plain.session, BoundSession)
        assert bound(TEXTS, batch_size=3) == plain(TEXTS, batch_size=3)


def test_a_bound_predictor_shared_by_threads_answers_as_alone(ner_bundle):
    ner = load(ner_bundle, variant="fp32", io_binding=True)
    expected = [ner(text) for text in TEXTS * 4]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(ner, TEXTS * 4)) == expected


def test_io_binding_takes_a_boolean(ner_bundle):
    with pytest.raises(OptionError, match="io_binding='yes' is not allowed"):
        load(ner_bundle, io_binding="yes")


def test_cuda_without_onnxruntime_gpu_fails_in_one_line(ner_bundle):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA; the error path needs one without")
    with pytest.raises(OptionError, match="needs onnxruntime-gpu") as error:
        load(ner_bundle, device="cuda")
    assert "\n" not in str(error.value)


def test_a_cuda_provider_that_cannot_start_is_an_error_not_a_silent_cpu_run(ner_bundle, monkeypatch):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA; the failure is simulated on a CPU-only build")
    preloaded = []
    # onnxruntime-gpu on a machine without a GPU: the provider is listed, but the session runs on the CPU
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider",
                                                                         "CPUExecutionProvider"])
    monkeypatch.setattr(onnxruntime, "preload_dlls", lambda: preloaded.append(True), raising=False)
    with pytest.raises(OptionError, match="could not start its CUDA provider .*runs on CPUExecutionProvider"):
        make_session(ner_bundle / "model.onnx", "cuda")
    assert preloaded == [True]  # the CUDA libraries are loaded before the session is made


@pytest.mark.cuda
def test_cuda_answers_equal_the_cpu_ones(ner_bundle):
    gpu = load(ner_bundle, device="cuda", decoding="argmax")
    cpu = load(ner_bundle, variant=gpu.variant, decoding="argmax")
    assert gpu.variant == "optimized" and isinstance(gpu.session, BoundSession)
    assert gpu.session.get_providers()[0] == "CUDAExecutionProvider"
    for ours, theirs in zip(gpu(TEXTS), cpu(TEXTS)):
        assert [(e["entity"], e["start"], e["end"]) for e in ours] == [(e["entity"], e["start"], e["end"])
                                                                        for e in theirs]
        assert [e["score"] for e in ours] == pytest.approx([e["score"] for e in theirs], abs=1e-3)


@pytest.mark.cuda
def test_cuda_loads_the_fp16_variant_by_default(tmp_path, ner_checkpoint):
    from tests.conftest import export_bundle

    bundle = export_bundle(ner_checkpoint, tmp_path / "b", quantize=True, fp16=True)
    gpu = load(bundle, device="cuda")
    assert gpu.variant == "fp16" and load(bundle).variant != "fp16"
    assert len(gpu(TEXTS)) == len(TEXTS)
