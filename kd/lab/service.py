"""The lab service: everything a visitor can trigger, with every rule a public server needs, for any front end.

The Streamlit app, the Gradio app and any third front end hold one `Lab` per server process
and only translate widgets into its calls: they enforce no rule and do no tensor maths. A
visitor is an opaque id (kd.lab.visitors); models are named by key (kd.lab.catalog); runs and
sweeps are queued with their owner and the server's caps (kd.lab.runs, kd.lab.sweeps);
latency is measured once per interval for the whole server (kd.lab.measure); drawings are
checked before they are decoded (kd.lab.drawing); a finished run's card is data (kd.lab.card), and so
are the Draw pages' examples (kd.lab.examples) and Compare runs' curves and settings (kd.lab.compare);
what the pages show of the queue, the latency board and the sweeps is data too (kd.lab.queue_state,
kd.lab.latency_views, kd.lab.sweep_views), so the apps never reach past this class. Longer than
most modules: it is the one list of what a front end may ask, each method a few lines over a
module that does the work.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import torch

from kd import checkpoint
from kd.data import MNIST, DataError, load_mnist
from kd.evaluate import disagreements, unpack_correct
from kd.infer.bench import RUNTIMES
from kd.infer.runtime import load_predictor
from kd.infer.sessions import Predictor
from kd.lab import catalog, cost, widgets
from kd.lab.answers import softened
from kd.lab.card import TWIN_TRAINING, ResultCard, result_card, twin_name
from kd.lab.catalog import ModelEntry
from kd.lab.compare import RunComparison, comparable, compare_runs
from kd.lab.drawing import digit_from_array, digit_from_bytes, refuse_large_images
from kd.lab.examples import Example, drawn_keys, example, validation_keys
from kd.lab.failures import NO_DATA
from kd.lab.gate import EventGate
from kd.lab.latency_views import LatencyView
from kd.lab.limits import Limits
from kd.lab.measure import LatencyBoard, Measurement, reference_figures
from kd.lab.omitted_view import OffsetCurve, OffsetView, offset_curve, offset_view, omitted_digits, omitted_summary
from kd.lab.queue_state import QueueState
from kd.lab.records import CANCELLED, DONE, FAILED, QUEUED, Run
from kd.lab.runs import RunManager
from kd.lab.settings import DEFAULT_TEACHER, ENSEMBLE, Settings
from kd.lab.sweep_views import SweepView, read_sweep
from kd.lab.sweeps import QueuedSweep, SweepQueue
from kd.lab.uploads import UploadBudget
from kd.metadata import MetadataError, ModelInfo
from kd.omitted import recorded_offset
from kd.predict import logits
from kd.recipes import DASHBOARD_RUN
from kd.significance import McNemar, compare_on_test_set, mcnemar
from kd.sweep.results import RESULTS_FILE, SWEEP_FILE, SweepGrid
from kd.train import TrainConfig

CACHED_MODELS = 32  # loaded models kept in memory (each a few hundred KB), by path and weights checksum


class Lab:
    """One lab server: its models, its run and sweep queue, its latency board, and the rules over them."""

    def __init__(self, settings: Settings, limits: Limits, load_data: Callable[[], MNIST] = load_mnist):
        self.settings, self.limits = settings, limits
        refuse_large_images(limits.max_drawing_pixels)  # every decoder in the process, the frameworks' included
        self.runs = RunManager(settings.runs_dir, settings.teacher_paths, load_data=load_data, limits=limits)
        self.sweeps = SweepQueue(self.runs, DASHBOARD_RUN)  # every cell is the Distill page's run with its values
        self.latency = LatencyBoard(self.runs.submit, limits.measure_interval_seconds, limits.max_measured_models)
        # `kd report`'s figures: shown until measured here, and beside this server's own after
        self.reference_latency = reference_figures(settings.checkpoints_dir / "results.json")
        self.latency.seed(self.reference_latency)
        self._model = functools.lru_cache(maxsize=CACHED_MODELS)(catalog.load_model)
        self._predictor = functools.lru_cache(maxsize=CACHED_MODELS)(self._load_predictor)
        self._disagreements = functools.lru_cache(maxsize=CACHED_MODELS)(self._find_disagreements)
        self._mcnemar = functools.lru_cache(maxsize=CACHED_MODELS)(self._compare_on_test_set)
        self._offsets = functools.lru_cache(maxsize=CACHED_MODELS)(self._test_offsets)
        self._data_lock, self._no_data = threading.Lock(), None  # MNIST's one load (Lab.data), or why it failed
        self._examples: list[Example] | None = None  # the Draw pages' examples, made on first use
        self._examples_lock = threading.Lock()
        self.warmed = threading.Event()  # set when warm_up's work is done, at once where it is off
        # the doors a front end's server guards before any handler runs (the Gradio app's middleware)
        self.events = EventGate(limits.event_concurrency, limits.events_per_second)
        self.uploads = UploadBudget(limits.upload_bytes_per_visitor, limits.upload_bytes_total)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Lab:
        """The lab that KD_* variables describe (folders and limits), read once, when a server starts."""
        return cls(Settings.from_env(), Limits.from_env(environ))

    def shutdown(self) -> None:
        self.sweeps.shutdown()
        self.runs.shutdown()

    # --- models -------------------------------------------------------------------------

    def shipped(self, name: str) -> ModelEntry | None:
        return catalog.shipped(name, self.settings)

    def missing_notice(self) -> str | None:
        """What every front end says when shipped models are missing (no server path in it), or None."""
        missing = catalog.missing_shipped(self.settings)
        if not missing:
            return None
        return (
            f"Not found (or unreadable) on this server: {', '.join(missing)}. `make checkpoints` trains them (about "
            "a quarter of an hour on a laptop CPU); the rest works with what is there."
        )

    def finished_runs(self) -> list[ModelEntry]:
        """Saved runs, newest first."""
        found = (catalog.run_entry(row["id"], row["path"], row["metadata"]) for row in self.runs.finished())
        return [entry for entry in found if entry is not None]

    def shipped_models(self) -> list[ModelEntry]:
        """The shipped checkpoints that are there, in catalogue order: the ensemble of teachers last, if made."""
        found = (self.shipped(name) for name in catalog.SHIPPED_KEYS)
        return [entry for entry in found if entry is not None]

    def models(self, teacher: bool = True) -> list[ModelEntry]:
        """Every model there is to pick: the shipped ones that are there, then the finished runs.

        teacher=False leaves out the single teacher, which the Draw pages ask beside the model picked.
        """
        shipped = [entry for entry in self.shipped_models() if teacher or entry.key != DEFAULT_TEACHER]
        return shipped + self.finished_runs()

    def entry(self, key: str | None) -> ModelEntry | None:
        """The model a key names, or None for an unknown key (whatever a client sent)."""
        return catalog.entry_for(key, self.settings) if key else None

    def default_student(self) -> ModelEntry | None:
        """The shipped distilled student, or the first student there is."""
        return self.shipped(catalog.DEFAULT_STUDENT) or next(iter(self.models(teacher=False)), None)

    def model(self, entry: ModelEntry) -> torch.nn.Module:
        """The loaded model (cached); CheckpointError if its file changed since it was listed."""
        return self._model(entry.path, entry.sha)

    def predictor(self, entry: ModelEntry) -> Predictor:
        """What answers a drawing for this model: ONNX Runtime where it is faster, else PyTorch (cached)."""
        return self._predictor(entry.path, entry.sha)

    def _load_predictor(self, path, sha) -> Predictor:
        return load_predictor(path, self._model(path, sha))

    def data(self) -> MNIST:
        """MNIST, loaded once per server and shared with the run worker; DataError where it is not available.

        One attempt for the pages' sake: the warm-up, the Draw examples and the comparisons ask at once
        when a server starts, and without network each retry would wait on a download and log again.
        """
        with self._data_lock:
            if self._no_data is not None:
                raise self._no_data
            try:
                return self.runs.data()
            except DataError as exc:
                self._no_data = exc
                raise

    def test_digit(self, index: int) -> tuple[np.ndarray, int]:
        """Test image `index` as a (28, 28) uint8 array, and its label: what a page shows of MNIST."""
        data = self.data()
        return data.test_images[index].numpy(), int(data.test_labels[index])

    def examples(self) -> list[Example]:
        """The examples the Draw pages offer to click (kd.lab.examples): MNIST validation digits where MNIST is
        there, then drawn digits. Made once per server: without MNIST, no page retries its download."""
        with self._examples_lock:
            if self._examples is None:
                try:
                    data = self.data()
                except DataError:
                    data = None  # no MNIST here: the drawn examples only
                keys = (validation_keys() if data is not None else []) + drawn_keys()
                self._examples = [example(key, data) for key in keys]
            return self._examples

    def example(self, key: str) -> Example:
        """One example by its key; ValueError, a sentence to show, for a key there is no example by."""
        found = next((shown for shown in self.examples() if shown.key == key), None)
        if found is None:
            raise ValueError(f"There is no example {key!r} on this server")
        return found

    def disagreements(self, a: ModelEntry, b: ModelEntry, limit: int = 40) -> list[dict]:
        """Test digits where two models disagree or are both wrong, in test-set order (kd.evaluate; cached)."""
        return self._disagreements(a.path, a.sha, b.path, b.sha, limit)

    def _find_disagreements(self, path_a, sha_a, path_b, sha_b, limit: int) -> list[dict]:
        return disagreements(self._model(path_a, sha_a), self._model(path_b, sha_b), self.data(), limit=limit)

    def warm_up(self) -> None:
        """Prepare, on a thread of its own, what a first visit would otherwise wait for: MNIST, the shipped models
        (and their ONNX exports), the Sweeps page's scipy, the Overview's McNemar test (from the checkpoints' records
        where they have them) and the Metrics page's first comparison.
        Skipped where KD_WARM_UP=0 (tests). `warmed` is set when it is done, whether it worked or not."""
        if not self.limits.warm_up:
            self.warmed.set()
            return

        def work() -> None:
            try:
                teacher, student, scratch = (self.shipped(name) for name in catalog.SHIPPED)
                for entry in (teacher, student, scratch):  # first: drawing needs no MNIST
                    if entry is not None:
                        self.predictor(entry)
                importlib.import_module("kd.sweep.stats")  # scipy, which the Sweeps page's statistics need: 1-2 s
                self.data()
                if student is not None and scratch is not None:
                    self.mcnemar(student, scratch)
                if teacher is not None and student is not None:
                    self.disagreements(teacher, student)
            except DataError:
                pass  # no MNIST here (a Space without network): kd.data logged the one line an operator needs
            finally:
                self.warmed.set()

        threading.Thread(target=work, name="kd-warm-up", daemon=True).start()  # not the run worker: runs go first

    # --- drawings ----------------------------------------------------------------------

    def digit_from_bytes(self, raw: bytes) -> np.ndarray | None:
        """A PNG or JPEG from a client -> the 28x28 digit, None if blank; ValueError (in words) if refused."""
        return digit_from_bytes(raw, self.limits.max_drawing_pixels)

    def digit_from_array(self, image: np.ndarray | None) -> np.ndarray | None:
        """A drawing already decoded (a sketchpad's array) -> the 28x28 digit; the same limits apply."""
        return digit_from_array(image, self.limits.max_drawing_pixels)

    def answers(self, entry: ModelEntry, digit: np.ndarray, temperatures: Iterable[float]) -> dict[float, np.ndarray]:
        """softmax(logits / T) of one 28x28 digit as a (10,) array for each T, from one forward pass of the model's
        fastest runtime (kd.lab.answers); CheckpointError or OSError if its file changed since it was listed.

        A run trained without some digits answers corrected: with the offset on their logits that it chose on
        validation (kd.omitted.corrected's), as its label says (kd.lab.catalog.run_label)."""
        return softened(self.predictor(entry), digit, temperatures, recorded_offset(entry.info.raw))

    def runtime(self, entry: ModelEntry) -> str:
        """The runtime that answers drawings for this model, in words ("ONNX Runtime", "PyTorch"); loads it."""
        return RUNTIMES[self.predictor(entry).runtime]

    def answer(self, digit: np.ndarray) -> dict[str, dict]:
        """The shipped teacher's and default student's answer, as /predict returns it, from the runtimes the Draw
        pages use; ValueError if one is missing."""
        teacher, student = self.shipped("teacher"), self.default_student()
        if teacher is None or student is None:
            raise ValueError("the shipped teacher or student is missing on this server")
        answers = {}
        for name, entry in (("teacher", teacher), ("student", student)):
            p = self.answers(entry, digit, (1.0,))[1.0]
            answers[name] = {"digit": int(p.argmax()), "probabilities": [float(x) for x in p]}
        return answers

    def comparable_models(self) -> list[ModelEntry]:
        """The models whose training curves Compare runs can overlay: shipped and finished runs, not the ensemble."""
        return comparable(self.models())

    def compare_runs(self, keys: Iterable[str]) -> RunComparison:
        """The curves and settings of the models these keys name (unknown keys left out), for Compare runs;
        ValueError, a sentence to show, unless two or more of them have curves."""
        named = dict.fromkeys(key for key in keys if isinstance(key, str))  # each model once, whatever a client sent
        found = (self.entry(key) for key in named)
        return compare_runs([entry for entry in found if entry is not None])

    # --- runs --------------------------------------------------------------------------

    def teacher_choices(self) -> widgets.Choices:
        """The teachers a run may distil from, key -> label: the single teacher, the default (if its checkpoint is
        missing, `check_teacher` says so), then the ensemble of teachers where one was made."""
        labels = {DEFAULT_TEACHER: catalog.SINGLE_TEACHER_CHOICE}
        ensemble = self.shipped(ENSEMBLE)
        if ensemble is not None:
            labels[ENSEMBLE] = ensemble.label
        return widgets.Choices(labels, DEFAULT_TEACHER)

    def run_settings(
        self,
        temperature: float,
        alpha: float,
        epochs: float,
        images: float,
        seed: float,
        mix: str = widgets.MIXING.default,
        omit_digits: object = (),
    ) -> TrainConfig:
        """The Distill page's run with a visitor's values; ValueError, in words, for a bad value or one over the caps.

        Values come from widgets or straight from an API client, so anything may arrive: numbers as
        floats or strings, NaN, 10^6 epochs, a mixing that does not exist. TrainConfig refuses what
        is invalid, the run queue what is over a cap. A mixed run costs a teacher forward pass per
        batch (no cached logits), an ensemble's as many as it has members: the caps on epochs and
        images bound that too. `omit_digits`: the digits left out of the training images (kd.lab.omitted_view
        reads them: "3", ["3", "8"], [3]); any but not all ten.
        """
        try:
            numbers = [float(value) for value in (temperature, alpha, epochs, images, seed)]
        except (TypeError, ValueError):
            raise ValueError("temperature, alpha, epochs, images and seed must be numbers") from None
        temperature, alpha, epochs, images, seed = numbers
        for name, value in (("epochs", epochs), ("images", images), ("seed", seed)):
            if not value.is_integer():
                raise ValueError(f"{name} must be a whole number, got {value:g}")
        settings = dataclasses.replace(
            DASHBOARD_RUN,
            temperature=temperature,
            alpha=alpha,
            epochs=int(epochs),
            limit=int(images),
            seed=int(seed),
            mix=mix,
            omit_digits=omitted_digits(omit_digits),
        )
        self.runs.check_caps(settings)
        return settings

    def launch(self, visitor: str, settings: TrainConfig, teacher: str = DEFAULT_TEACHER) -> Run:
        """Queue a run for this visitor, distilled from the teacher keyed `teacher` (`teacher_choices`); ValueError
        (in words) for an unknown teacher or over a cap: one run per visitor, queue length."""
        return self.runs.launch(settings, owner=visitor, teacher=teacher)

    def run_of(self, visitor: str) -> Run | None:
        """The visitor's latest run in this server's memory: what their page shows, after a reload too."""
        return self.runs.latest_of(visitor)

    def cancel(self, visitor: str, run_id: str) -> bool:
        """Stop the visitor's own run; False if it is not theirs or no longer active."""
        run = self.runs.get(run_id)
        return run is not None and run.owner == visitor and self.runs.cancel(run_id)

    def may_delete(self, visitor: str, run_id: str) -> bool:
        return self.runs.may_delete(run_id, visitor)

    def delete(self, visitor: str, run_id: str) -> bool:
        """Delete a saved run the visitor launched (any run where the server allows it); ValueError if not."""
        return self.runs.delete(run_id, owner=visitor)

    def run_status(self, run: Run) -> str:
        """Where a run stands, in words: the same sentence on every front end."""
        if run.status == QUEUED:
            position = self.runs.position(run.id) or 1
            busy = "another run or a sweep's cell is training" if self.busy() else "the worker is about to start it"
            wait = self.runs.expected_wait(run.id)
            expected = f", expected {cost.in_words(wait)} from now" if wait else ""
            return f"Queued, position {position}: {busy}. Yours starts when the work before it is done{expected}."
        if run.status == DONE and run.twin_pending:
            return f"The run finished and was saved. {TWIN_TRAINING}"
        if run.status == DONE:
            return "The run finished and was saved."
        if run.status == FAILED and run.error == NO_DATA:
            return f"Training is unavailable on this server: {NO_DATA}."
        if run.status == FAILED:
            return f"The run failed: {run.error}. Nothing was saved; the details are in the server's log."
        if run.status == CANCELLED:
            return "The run was cancelled; nothing was saved."
        last, remaining = run.latest(), run.remaining_seconds()
        if last is None:
            return "Starting: loading the data and the teacher…"
        if last.step == last.total_steps:
            return "Trained: evaluating on the test digits and saving…"
        elapsed = time.time() - (run.started or time.time())
        text = f"Epoch {last.epoch} of {run.settings.epochs} · step {last.step} of {last.total_steps} "
        text += f"({last.step / last.total_steps:.0%}) · {elapsed:.0f} s elapsed"
        return text + (f", about {remaining:.0f} s left" if remaining is not None else "")

    def result_card(self, run: Run) -> ResultCard | None:
        """The card of a finished run, or None if it is not done (or its record lacks what the card shows)."""
        if run.metadata is None or not run.path.is_file():
            return None
        teacher = self.shipped(run.teacher)  # the one it learnt from: its metrics, its name in the headline
        try:
            info = ModelInfo.from_dict(run.metadata, run.id)
        except MetadataError:
            return None
        if teacher is None:
            card = result_card(run.id, info, None)
        else:
            card = result_card(run.id, info, teacher.info.metrics, teacher.label.lower())
        # the left-out digits' part (kd.lab.omitted_view): None for a run that trained on every digit
        summary = omitted_summary(info, teacher.info.metrics if teacher is not None else None, twin_name(card.mix))
        return dataclasses.replace(card, omitted=summary, twin_pending=run.twin_pending)

    def omitted_view(self, key: str, offset: float | None = None) -> OffsetView | None:
        """The test set with `offset` (None: the one chosen on validation) on the logits of the digits the model
        keyed `key` never saw: its errors and recall, for the card's offset control. None for a model that saw
        every digit (or an unknown key); ValueError, in words, for a bad offset. One forward pass per model, cached;
        CheckpointError if its file changed since it was listed."""
        entry = self.entry(key)
        summary = omitted_summary(entry.info, None, "") if entry is not None else None
        if summary is None:
            return None
        test_logits, curve = self._offsets(entry.path, entry.sha, summary.digits)
        return offset_view(test_logits, self.data().test_labels, summary, curve, offset)

    def _test_offsets(self, path, sha, digits: tuple[int, ...]) -> tuple[torch.Tensor, OffsetCurve]:
        test_logits = logits(self._model(path, sha), self.data().test_images)
        return test_logits, offset_curve(test_logits, self.data().test_labels, digits)

    def busy(self) -> bool:
        """True while a run or a sweep's cell trains: CPU timings taken now are slower."""
        return self.runs.running() is not None or self.runs.twin_training() or self.sweeps.training()

    def queue_state(self) -> QueueState:
        """What the worker is doing, in counts: the run training, how many wait, the latency board's state."""
        training = self.runs.running()
        return QueueState(
            training=training.id if training is not None else None,
            waiting=len(self.runs.queued()),
            busy=self.busy(),
            measuring=self.latency.pending(),
            measurements=self.latency.measurements,
        )

    # --- sweeps ------------------------------------------------------------------------

    def sweep_folders(self) -> dict[str, Path]:
        """Every sweep there is to show, by a name a visitor may see ("results/sweep", "runs/sweep-..."), shipped first.

        A sweep is a folder holding results.csv and sweep.json, or the results or runs folder itself.
        """
        found = {}
        for role, parent in (("results", self.settings.results_dir), ("runs", self.settings.runs_dir)):
            for folder in (parent, *sorted(parent.glob("*/"))):
                if (folder / RESULTS_FILE).is_file() and (folder / SWEEP_FILE).is_file():
                    found.setdefault(role if folder == parent else f"{role}/{folder.name}", folder)
        return found

    def sweep_names(self) -> list[str]:
        """The sweeps there are to show, by the names a visitor may see, shipped first (`sweep_view` opens one)."""
        return list(self.sweep_folders())

    def sweep_view(self, name: str) -> SweepView:
        """The sweep `sweep_names` lists as `name`, with its statistics (kd.lab.sweep_views); ValueError, a sentence
        to show, for an unknown name or files that cannot be read."""
        folder = self.sweep_folders().get(name)
        if folder is None:
            raise ValueError(f"There is no sweep {name!r} on this server")
        try:
            return read_sweep(name, folder)
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"The sweep {name} could not be read: {type(exc).__name__}") from None

    def launch_sweep(self, visitor: str, grid: SweepGrid) -> QueuedSweep:
        """Queue a small sweep for this visitor; ValueError (in words) over a cap: one sweep per visitor, cells."""
        return self.sweeps.launch(grid, owner=visitor)

    def sweep_of(self, visitor: str) -> QueuedSweep | None:
        return self.sweeps.mine(visitor)

    def stop_sweep(self, visitor: str) -> bool:
        sweep = self.sweeps.mine(visitor)
        return sweep is not None and self.sweeps.cancel(sweep.id, owner=visitor)

    # --- latency -----------------------------------------------------------------------

    def measure(self, entries: list[ModelEntry], batch_sizes: tuple[int, ...], runtimes: tuple[str, ...]) -> str | None:
        """Queue a latency measurement of these models; None if queued, else why not (at most once per interval)."""
        loaders = {entry.key: functools.partial(self.model, entry) for entry in entries}
        return self.latency.request(loaders, batch_sizes, runtimes)

    def latency_view(self, entries: list[ModelEntry]) -> LatencyView:
        """The latency board for these models as both apps show it (kd.lab.latency_views)."""
        reference = self.reference_figures(entries)
        load = (os.getloadavg()[0], os.cpu_count() or 1) if hasattr(os, "getloadavg") else None  # not on Windows
        return LatencyView(tuple(entries), self.latency_figures(entries), self.latency.pending(), reference, load)

    def latency_figures(self, entries: list[ModelEntry]) -> dict[str, Measurement]:
        """The latest figures of each of these models that has been measured, by key."""
        return self.latency.figures([entry.key for entry in entries])

    def reference_figures(self, entries: list[ModelEntry]) -> dict[str, Measurement]:
        """`kd report`'s figures of these models (checkpoints/results.json), by key: what every page quotes."""
        return {
            entry.key: self.reference_latency[entry.key] for entry in entries if entry.key in self.reference_latency
        }

    def check_teacher(self, teacher: str = DEFAULT_TEACHER) -> str | None:
        """Why runs cannot start from this teacher on this server (an unknown key, no readable checkpoint), or None."""
        try:
            checkpoint.read_metadata(self.runs.teacher_checkpoint(teacher))
        except ValueError as exc:
            return f"Cannot start a run: {exc}."
        except checkpoint.CheckpointError:
            return "A run needs the teacher checkpoint, which is not there."
        return None

    # --- significance ------------------------------------------------------------------

    def mcnemar(self, a: ModelEntry, b: ModelEntry) -> McNemar:
        """McNemar's exact test of two models on the test set: is their difference more than test-set noise?
        (kd.significance). From the digits each checkpoint's metrics record as right when both have them (no
        MNIST, no forward pass: what a page's first visit needs), else computed once per pair of weights and
        cached; CheckpointError if a file changed since listed."""
        stored = [entry.info.metrics.raw.get("correct") for entry in (a, b)]
        size = a.info.metrics.test_size
        if all(isinstance(packed, str) for packed in stored) and b.info.metrics.test_size == size:
            with contextlib.suppress(ValueError):  # a malformed record: computed instead
                correct = [unpack_correct(packed, size) for packed in stored]
                if all(len(flags) == size for flags in correct):
                    return mcnemar(*correct)
        return self._mcnemar(a.path, a.sha, b.path, b.sha)

    def _compare_on_test_set(self, path_a, sha_a, path_b, sha_b) -> McNemar:
        return compare_on_test_set(self._model(path_a, sha_a), self._model(path_b, sha_b), self.data())
