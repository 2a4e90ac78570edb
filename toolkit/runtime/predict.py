"""Predictors over an export bundle: text in, answers out, with onnxruntime, tokenizers and numpy only.

A predictor holds one ONNX Runtime session and one tokenizer, both safe to share between threads
(InferenceSession.run and Tokenizer.encode_batch are thread-safe and the predictor keeps no
per-call state), so one predictor can serve several threads at once.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.runtime.answers import ENTITIES, LABEL, AnswerKind
from toolkit.runtime.binding import BoundSession
from toolkit.runtime.bio import DECODINGS, decode_tag_sequences
from toolkit.runtime.bundle import Bundle
from toolkit.runtime.cpu import warn_if_not_built_for_this_cpu
from toolkit.runtime.environment import CUDA_PROVIDER, available_providers
from toolkit.runtime.entities import STRATEGIES, Piece, decode_entities, softmax
from toolkit.runtime.errors import BundleError, OptionError
from toolkit.runtime.openvino import ENGINES, OpenVinoSession
from toolkit.runtime.windows import (
    DEFAULT_STRIDE,
    average_probabilities,
    load_tokenizer,
    make_head_tail_windows,
    make_windows,
    merge_token_scores,
    pad_batch,
    special_tokens,
    tokenize,
    unknown_id,
)

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": CUDA_PROVIDER}


LONG_TEXTS = ("windows", "head+tail")
# One rule for a text with nothing to read (empty or blank): no answer. NER answers no entities;
# sentiment answers no label, as a corpus job answers a null text.
NO_LABEL = {"label": None, "score": None}


def check_texts(texts) -> list[str]:
    """Return `texts` as a list, or raise TypeError naming the first item that is not a string, ValueError
    naming the first that is not valid Unicode."""
    if not isinstance(texts, (list, tuple)):  # a dict or a set would be read by its keys, silently
        raise TypeError(f"expected a string or a list of strings, found {type(texts).__name__}")
    texts = list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"item {index} is {type(text).__name__}, expected str")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:  # tokenizers would raise a TypeError that names neither
            raise ValueError(f"item {index} holds {text[error.start]!r} at character {error.start}, which is not a "
                             "character (a lone surrogate, e.g. from a JSON \\ud800 escape); pass valid Unicode, "
                             "e.g. text.encode('utf-8', 'replace').decode()") from None
    return texts


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise OptionError(f"{name}={value!r} is not allowed: expected one of {', '.join(map(repr, allowed))}.")


def check_whole(name: str, value, low: int, high: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise OptionError(f"{name}={value!r} is not allowed: expected a whole number {bound}.")


def choose_variant(bundle: Bundle, variant: str | None = None, device: str = "cpu", engine: str | None = None) -> str:
    """The variant to load: the one named, else on CUDA the fastest the manifest says is meant for it
    (fp16, else optimized or fp32: int8 kernels are CPU ones), else the engine's default (the
    manifest's default for ONNX Runtime)."""
    if variant:
        return variant
    if device == "cuda":
        return next(iter(bundle.manifest.variants_for("cuda")), bundle.default_variant)
    return bundle.default_for(engine or "onnxruntime")


def choose_engine(bundle: Bundle, variant: str, engine: str | None) -> str:
    """The engine named, else the one the variant was made and checked for. A variant made for
    OpenVINO is refused on ONNX Runtime: its accuracy there was never checked (and it is slow)."""
    if engine is not None:
        check_choice("engine", engine, ENGINES)
    made_for = bundle.engine_of(variant) if variant in bundle.variants else "onnxruntime"
    if engine == "onnxruntime" and made_for != "onnxruntime":
        raise OptionError(f"variant {variant!r} was made and checked for {made_for}: load it with engine="
                          f"{made_for!r} (or leave engine out), or choose another variant.")
    return engine or made_for


def provider_name(provider) -> str | None:
    """A provider's name, given alone or as ONNX Runtime's (name, options) pair."""
    if isinstance(provider, str):
        return provider
    return provider[0] if isinstance(provider, (list, tuple)) and provider else None


def make_session(path: Path, device: str = "cpu", threads: int | None = None, providers=None):
    """One ONNX Runtime session for the predictor's lifetime."""
    import onnxruntime as ort

    check_choice("device", device, tuple(PROVIDERS))
    if threads is not None:
        check_whole("threads", threads, 1, 4 * (os.cpu_count() or 1))
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3
    chosen = providers or [PROVIDERS[device]]
    available = available_providers()
    # ONNX Runtime only warns about a provider it does not have and runs on the CPU.
    unknown = [p for p in providers or () if provider_name(p) not in available]
    if unknown:
        raise OptionError(f"providers={unknown!r}: not in this onnxruntime, which has {', '.join(available)}; name "
                          "some of those.")
    if device == "cuda":
        if CUDA_PROVIDER not in available:
            raise OptionError("device='cuda' needs onnxruntime-gpu in place of onnxruntime (README 'GPU') and an "
                              f"NVIDIA GPU; this onnxruntime has only {', '.join(available)}. Use device='cpu'.")
        if hasattr(ort, "preload_dlls"):
            # onnxruntime-gpu 1.21+: load CUDA and cuDNN from the nvidia-* wheels (or torch's) first,
            # which the CUDA provider does not find by itself outside a system-wide CUDA install.
            ort.preload_dlls()
    if chosen[-1] != "CPUExecutionProvider":
        chosen = list(chosen) + ["CPUExecutionProvider"]
    if device != "cuda":
        try:
            return ort.InferenceSession(str(path), options, providers=chosen)
        except Exception as error:  # noqa: BLE001 - ONNX Runtime raises its own types for a damaged graph
            raise BundleError(f"{path} cannot be loaded by ONNX Runtime ({(str(error).splitlines() or [''])[0][:200]}):"
                              " the file is damaged or not a model; load with verification on, or re-export the "
                              "bundle.") from error
    # Where the CUDA provider fails (no GPU, a CUDA/cuDNN library missing), ONNX Runtime's fallback
    # prints to stdout and goes on on the CPU: a GPU deployment would be slow without saying why.
    # Without it, the failure is an error here.
    gpu_problem = ("device='cuda': ONNX Runtime could not start its CUDA provider ({}): no NVIDIA GPU visible, or "
                   "a CUDA/cuDNN library missing (see README 'GPU'). Use device='cpu'.")
    try:
        session = ort.InferenceSession(str(path), options, providers=chosen, enable_fallback=0)
    except Exception as error:  # noqa: BLE001 - ONNX Runtime's exception types differ by build
        raise OptionError(gpu_problem.format((str(error).splitlines() or [""])[0][:200])) from error
    session.disable_fallback()  # enable_fallback=0 is not read by every version; this is
    if CUDA_PROVIDER not in session.get_providers():
        raise OptionError(gpu_problem.format(f"the session runs on {', '.join(session.get_providers())}"))
    return session


@dataclass(frozen=True)
class Placement:
    """Where a predictor's model runs: device ("cpu" | "cuda"), threads, ONNX Runtime providers,
    IO binding (default: on for CUDA) and engine ("onnxruntime" | "openvino"; default: the one the
    variant was made for)."""

    device: str = "cpu"
    threads: int | None = None
    providers: list | tuple | None = None
    io_binding: bool | None = None
    engine: str | None = None


class Predictor:
    """Shared machinery: the session, tokenizer, windowing and length-sorted batching."""

    kind: AnswerKind  # what each subclass answers

    def __init__(self, bundle: Bundle, variant: str | None = None, placement: Placement | None = None,
                 stride: int = DEFAULT_STRIDE, batch_size: int = 32, session=None, **where):
        """`where`: Placement's fields given one by one (device=..., threads=...), as load() passes them."""
        placement = placement or Placement(**where)
        device, providers, io_binding, engine = (placement.device, placement.providers, placement.io_binding,
                                                 placement.engine)
        check_whole("stride", stride, 0)
        check_whole("batch_size", batch_size, 1)
        if not (io_binding is None or isinstance(io_binding, bool)):
            raise OptionError(f"io_binding={io_binding!r} is not allowed: expected True, False or None (the device's "
                              "default).")
        self.bundle = bundle
        self.variant = choose_variant(bundle, variant, device, engine)
        engine = choose_engine(bundle, self.variant, engine)
        if engine == "openvino" and (device != "cpu" or providers or io_binding):
            raise OptionError("engine='openvino' runs on the CPU through OpenVINO's own runtime: leave device, "
                              "providers and io_binding out, or use engine='onnxruntime'.")
        self.labels = bundle.labels
        self.max_length = bundle.max_length
        self.stride = stride
        self.batch_size = batch_size
        self.engine = engine
        # `session`: anything with ONNX Runtime's run()/get_inputs(), e.g. one shared across predictors;
        # used as given.
        self.session = session or self._open_session(device, placement.threads, providers, io_binding)
        self.input_names = [i.name for i in self.session.get_inputs()]
        outputs = self.session.get_outputs() if hasattr(self.session, "get_outputs") else []
        classes = outputs[0].shape[-1] if outputs and outputs[0].shape else None
        if isinstance(classes, int) and classes != len(self.labels):
            raise BundleError(f"{bundle.directory}: the manifest names {len(self.labels)} labels but the model "
                              f"answers {classes} classes; the manifest was edited or belongs to another model. "
                              "Re-export the bundle.")
        self.tokenizer = load_tokenizer(bundle.tokenizer_path)
        self.prefix, self.suffix = special_tokens(self.tokenizer)
        self.pad_id = bundle.manifest.pad_token_id
        if self.pad_id >= self.tokenizer.get_vocab_size(with_added_tokens=True):
            raise BundleError(f"{bundle.directory}: the manifest's pad_token_id {self.pad_id} is not in the tokenizer's "
                              f"vocabulary of {self.tokenizer.get_vocab_size(with_added_tokens=True)} tokens; the "
                              "manifest was edited or belongs to another tokenizer. Re-export the bundle.")

    def _open_session(self, device: str, threads: int | None, providers, io_binding: bool | None):
        """The chosen variant's session on the chosen engine. An ONNX Runtime one runs through IO
        binding on CUDA (`io_binding`'s default), as `toolkit bench --device cuda` times it; on the
        CPU only when asked."""
        path = self.bundle.variant_path(self.variant)
        if self.engine == "openvino":
            if threads is not None:
                check_whole("threads", threads, 1, 4 * (os.cpu_count() or 1))
            return OpenVinoSession(path, threads)
        session = make_session(path, device, threads, providers)
        if device == "cpu":  # the int8 recipes' CPU targets are ONNX Runtime's kernels
            warn_if_not_built_for_this_cpu(self.bundle.variants[self.variant].target, self.variant)
        if device == "cuda" if io_binding is None else io_binding:
            session = BoundSession(session, device)
        return session

    def _window_scores(self, tokenized, batch_size: int, head_tail: bool = False):
        """Run every window of every text; returns windows and their per-window logits."""
        if head_tail:
            windows = make_head_tail_windows(tokenized, self.max_length, self.prefix, self.suffix)
        else:
            windows = make_windows(tokenized, self.max_length, self.stride, self.prefix, self.suffix)
        outputs: list[np.ndarray | None] = [None] * len(windows)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            batch = [windows[i] for i in chosen]
            logits = self.session.run(["logits"], pad_batch(batch, self.input_names, self.pad_id))[0]
            for row, i in enumerate(chosen):
                outputs[i] = logits[row, : len(windows[i].input_ids)] if logits.ndim == 3 else logits[row]
        return windows, outputs

    def __call__(self, texts, batch_size: int | None = None, **options):
        if batch_size is not None:
            check_whole("batch_size", batch_size, 1)
        single = isinstance(texts, str)
        answers = self.predict(check_texts([texts] if single else texts), batch_size or self.batch_size, **options)
        return answers[0] if single else answers


def keep_path(scores: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Scores with every tag but the path's zeroed: aggregation then follows the path, and each
    token's score stays the probability the model gave its tag."""
    kept = np.zeros_like(scores)
    rows = np.arange(len(path))
    kept[rows, path] = scores[rows, path]
    return kept


def token_probabilities(merged: list[np.ndarray], paths: list[np.ndarray] | None) -> list[np.ndarray]:
    """Each text's per-token class probabilities (only the path's tag kept where `paths` is given),
    computed for all texts in one pass: a numpy call per text costs more than the arithmetic on
    CoNLL-length sentences. A text without tokens keeps its empty row set."""
    lengths = [len(m) for m in merged]
    if not any(lengths):
        return list(merged)
    probabilities = softmax(np.concatenate([m for m in merged if len(m)]))
    if paths is not None:
        probabilities = keep_path(probabilities, np.concatenate([p for p, n in zip(paths, lengths) if n]))
    pieces = iter(np.split(probabilities, np.cumsum([n for n in lengths if n])[:-1]))
    return [next(pieces) if n else m for m, n in zip(merged, lengths)]


class NerPredictor(Predictor):
    """Entities with character offsets into the original text."""

    kind = ENTITIES

    def __init__(self, bundle: Bundle, aggregation: str = "first", decoding: str | None = None, **options):
        super().__init__(bundle, **options)
        check_choice("aggregation", aggregation, STRATEGIES)
        self.aggregation = aggregation
        # "viterbi" (the trained model's default, from the manifest) first picks the best
        # B-/I-consistent tag path over the tokens; "argmax" is what transformers' pipeline does.
        self.decoding = decoding or bundle.manifest.decoding
        check_choice("decoding", self.decoding, DECODINGS)
        # Which piece starts a word, as transformers' pipeline decides it: WordPiece marks continuations
        # ("##ing"); byte-level BPE and SentencePiece mark word starts with a space before them instead.
        self.subword_prefix = getattr(self.tokenizer.model, "continuing_subword_prefix", None)
        self.unknown_id = unknown_id(bundle.tokenizer_path, self.tokenizer)

    def predict(self, texts: list[str], batch_size: int = 32, aggregation: str | None = None) -> list[list[dict]]:
        if aggregation is not None:
            check_choice("aggregation", aggregation, STRATEGIES)
        tokenized = tokenize(self.tokenizer, texts)
        windows, outputs = self._window_scores(tokenized, batch_size)
        by_text: dict[int, list[int]] = {}
        for i, window in enumerate(windows):
            by_text.setdefault(window.text_index, []).append(i)
        merged = []
        for index, tokens in enumerate(tokenized):
            chosen = by_text.get(index, [])
            merged.append(merge_token_scores(len(tokens.ids), [windows[i] for i in chosen],
                                             [outputs[i] for i in chosen]))
        paths = decode_tag_sequences(merged, self.labels) if self.decoding == "viterbi" else None
        answers = []
        for text, tokens, scores in zip(texts, tokenized, token_probabilities(merged, paths)):
            answers.append(decode_entities(self._pieces(text, tokens, scores), self.labels, text,
                                           aggregation or self.aggregation))
        return answers

    def _pieces(self, text: str, tokens, scores: np.ndarray) -> list[Piece]:
        # transformers' TokenClassificationPipeline.gather_pre_entities, rule for rule: with a
        # continuation prefix, a piece continues a word when its string is not as long as the text it
        # covers ("##ing" covers 3 characters); without one, when no space stands just before it or
        # at its start. An unknown token always starts a word.
        if self.subword_prefix:
            subword = [len(token) != end - start for token, (start, end) in zip(tokens.tokens, tokens.offsets)]
        else:
            subword = [start > 0 and " " not in text[start - 1:start + 1] for start, _ in tokens.offsets]
        unknown = self.unknown_id
        best = scores.argmax(-1) if len(scores) else np.zeros(0, dtype=np.int64)
        top = np.take_along_axis(scores, best[:, None], -1)[:, 0] if len(scores) else np.zeros(0)
        return [Piece(row, start, end, continues and token_id != unknown, tag, score)
                for row, (start, end), continues, token_id, tag, score in zip(
                    scores, tokens.offsets, subword, tokens.ids, best.tolist(), top.tolist())]


class SentimentPredictor(Predictor):
    """A label with its probability. Long texts: `long_texts="windows"` averages the class
    probabilities of overlapping windows; "head+tail" reads the start and end, as a model trained
    with --truncation head+tail saw them (the manifest's choice is the default)."""

    kind = LABEL

    def __init__(self, bundle: Bundle, long_texts: str | None = None, **options):
        super().__init__(bundle, **options)
        self.long_texts = long_texts or ("head+tail" if bundle.manifest.truncation == "head+tail"
                                         else "windows")
        check_choice("long_texts", self.long_texts, LONG_TEXTS)

    def predict(self, texts: list[str], batch_size: int = 32) -> list[dict]:
        tokenized = tokenize(self.tokenizer, texts)
        if not texts:
            return []
        windows, outputs = self._window_scores(tokenized, batch_size, head_tail=self.long_texts == "head+tail")
        answers = []
        averaged = average_probabilities(outputs, [w.text_index for w in windows], len(texts))
        for tokens, probabilities in zip(tokenized, averaged):
            if not tokens.ids:  # nothing to read (empty or blank): no answer, as NER answers no entities
                answers.append(dict(NO_LABEL, scores={}))
                continue
            best = int(probabilities.argmax())
            answers.append({"label": self.labels[best], "score": float(probabilities[best]),
                            "scores": {name: float(p) for name, p in zip(self.labels, probabilities)}})
        return answers


PREDICTORS: dict[AnswerKind, type[Predictor]] = {cls.kind: cls for cls in (NerPredictor, SentimentPredictor)}


def to_json(answer) -> str:
    return json.dumps(answer, ensure_ascii=False)
