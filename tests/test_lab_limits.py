"""The lab's limits at every door (issue 27): measurements, events, visitors, runs, uploads. Fast, no HTTP."""

from __future__ import annotations

from concurrent.futures import Future

from kd.lab.measure import LatencyBoard
from kd.models import PRESETS, ConvNet


def test_a_measurement_times_a_bounded_number_of_models_and_its_interval_counts_from_its_end():
    now = [1000.0]
    worker: list[tuple[Future, object]] = []

    def submit(task):
        worker.append((Future(), task))
        return worker[-1][0]

    def slow_model():
        now[0] += 500  # the measurement takes long: the interval must count from its end
        return ConvNet(PRESETS["student"]).eval()

    board = LatencyBoard(submit, interval_seconds=60, max_models=2, clock=lambda: now[0])
    too_many = {key: slow_model for key in ("a", "b", "c")}
    assert "at most 2 models" in board.request(too_many, (1,), ("torch",)) and not worker
    assert board.request({"a": slow_model}, (1,), ("torch",), repeats=2) is None
    future, task = worker.pop()
    future.set_result(task())
    refused = board.request({"b": slow_model}, (1,), ("torch",), repeats=2)  # 500 s after the request, 0 after the end
    assert refused is not None and "measure again in 60 s" in refused


def test_proxy_headers_count_every_line_from_the_right_and_an_ipv6_64_is_one_visitor():
    from kd.lab.visitors import address_key, client_address, visitor_id

    # the client's own line first, the proxy's line after it: the proxy's entry is the one to trust
    assert client_address("10.0.0.9", ["6.6.6.6", "1.2.3.4"], 1) == "1.2.3.4"
    assert client_address("10.0.0.9", ["6.6.6.6, 7.7.7.7", "1.2.3.4"], 2) == "7.7.7.7"
    assert client_address("10.0.0.9", ["6.6.6.6", "1.2.3.4"], 0) == "10.0.0.9"  # KD_PROXY_HOPS=0: no header trusted
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert visitor_id("2001:db8:1:2::1", None, "a") == visitor_id("2001:db8:1:2:abcd::1", None, "b")
    assert visitor_id("2001:db8:1:2::1", None, "a") != visitor_id("2001:db8:1:3::1", None, "a")
    assert address_key("::ffff:1.2.3.4") == "1.2.3.4"


def test_the_servers_trust_no_proxy_header_of_their_own(monkeypatch):
    import subprocess
    import sys

    import uvicorn.config
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from kd.lab.visitors import distrust_server_proxy_headers

    environ: dict[str, str] = {}
    distrust_server_proxy_headers(environ)  # what the Gradio app does before it launches
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", environ["FORWARDED_ALLOW_IPS"])
    config = uvicorn.config.Config(app=lambda scope, receive, send: None)  # as Gradio's launch makes it
    trusted = ProxyHeadersMiddleware(None, config.forwarded_allow_ips).trusted_hosts
    assert "127.0.0.1" not in trusted and "::1" not in trusted
    # Streamlit's server, loaded as `streamlit run dashboard/server.py` loads it: uvicorn wraps it in no proxy layer
    monkeypatch.delenv("FORWARDED_ALLOW_IPS")
    script = (
        "import uvicorn.config, uvicorn.middleware.proxy_headers as p\n"
        "c = uvicorn.config.Config('dashboard.server:app'); c.load()\n"
        "print(type(c.loaded_app).__name__)"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert "ProxyHeadersMiddleware" not in shown.stdout, shown.stdout


def fake_run(folder, run_id: str, stamp: int, size: int = 1000) -> None:
    """A run's two files (prune reads no content), aged by `stamp`."""
    import os

    for suffix in (".safetensors", ".json"):
        path = folder / f"{run_id}{suffix}"
        path.write_bytes(b"x" * (size // 2))
        os.utime(path, ns=(stamp * 10**9, stamp * 10**9))


def test_pruning_keeps_each_visitors_share_and_remembers_owners_across_a_restart(tmp_path):
    from kd.lab.store import RunStore

    store = RunStore(tmp_path)
    runs = [("run-b", "visitor-b"), ("run-c", "visitor-c")] + [(f"run-a{n}", "visitor-a") for n in range(4)]
    for stamp, (run_id, owner) in enumerate(runs):
        fake_run(tmp_path, run_id, 1000 + stamp)
        store.set_owner(run_id, owner)
    assert RunStore(tmp_path).owner("run-b") == "visitor-b"  # kept in the folder, read again after a restart
    removed = RunStore(tmp_path).prune(max_runs=3, max_bytes=10**9, keep="run-a3")
    assert removed == ["run-a0", "run-a1", "run-a2"]  # the flooding visitor's own oldest, not the others'
    assert sorted(path.stem for path in tmp_path.glob("*.safetensors")) == ["run-a3", "run-b", "run-c"]
    assert set(RunStore(tmp_path).prune(max_runs=3, max_bytes=2500, keep="run-a3")) == {"run-b"}  # equal shares: oldest


def test_scratch_twins_count_inside_the_runs_folders_caps(tmp_path):
    import os

    from kd.lab.store import RunStore

    twins = tmp_path / "baselines"
    twins.mkdir()
    for n in range(5):
        path = twins / f"{n:020d}.json"
        path.write_bytes(b"x" * 7000)
        os.utime(path, ns=((1000 + n) * 10**9,) * 2)
    fake_run(tmp_path, "run-1", 2000, size=60_000)
    store = RunStore(tmp_path)
    assert store.prune(max_runs=3, max_bytes=10**9) == []
    assert sorted(path.stem for path in twins.iterdir()) == [f"{n:020d}" for n in (2, 3, 4)]  # the oldest went
    store.prune(max_runs=3, max_bytes=75_000)  # 60 KB of run and 21 KB of twins: the cache goes first
    assert len(list(twins.iterdir())) == 2 and (tmp_path / "run-1.safetensors").is_file()


def test_a_failed_run_says_what_failed_in_words_without_a_path():
    from kd.lab.failures import failure_in_words

    words = failure_in_words(FileExistsError(17, "File exists", "/srv/kd/runs/baselines"))
    assert words == "the server could not read or write the run's files"
    assert "/" not in failure_in_words(RuntimeError("CUDA error at /opt/torch/x.cpp:12"))


def test_no_page_icon_makes_the_browser_fetch_a_font_from_outside():
    from pathlib import Path

    dashboard = Path(__file__).resolve().parents[1] / "dashboard"
    using = [path.name for path in dashboard.rglob("*.py") if ":material/" in path.read_text()]
    assert not using, f"Material icons (fetched from a font CDN) in {using}"


def test_a_runs_cost_is_bounded_in_worker_seconds_not_only_in_epochs_and_images(tmp_path):
    import dataclasses
    from pathlib import Path

    import pytest

    from kd.lab.cost import in_words, run_seconds, teacher_members, wait_seconds
    from kd.lab.runs import RunManager
    from kd.recipes import DASHBOARD_RUN

    shipped = Path(__file__).resolve().parents[1] / "checkpoints"
    if not (shipped / "ensemble.safetensors").is_file():
        pytest.skip("needs the shipped teacher and ensemble (make checkpoints)")
    teachers = {"teacher": shipped / "teacher.safetensors", "ensemble": shipped / "ensemble.safetensors"}
    manager = RunManager(tmp_path, teachers)
    assert teacher_members(teachers["ensemble"]) == 3 and teacher_members(teachers["teacher"]) == 1
    largest = dataclasses.replace(DASHBOARD_RUN, epochs=5, limit=10_000)
    manager.check(largest, "ensemble")  # unmixed: cached logits, the ensemble costs nothing more (~60 s)
    mixed = dataclasses.replace(largest, mix="cutmix")
    manager.check(mixed, "teacher")  # one teacher on every mixed batch: ~100 s
    with pytest.raises(ValueError, match=r"about 1\d\d s, and one run may take at most 120 s"):
        manager.check(mixed, "ensemble")  # ~170 s measured: refused in words
    assert 150 < run_seconds(mixed, 3) < 190 and 50 < run_seconds(largest, 3) < 70
    assert in_words(wait_seconds(30, [61, 61])) == "about 3 min" and in_words(40) == "about 40 s"


def test_events_outside_the_queue_are_bounded_at_once_and_rated_per_visitor():
    from kd.lab.gate import BUSY, TOO_FAST, EventGate

    now = [0.0]
    gate = EventGate(concurrency=2, per_second=5, clock=lambda: now[0])
    assert gate.enter(None) is None and gate.enter(None) is None
    assert gate.enter(None) == BUSY  # full: refused at once, never waiting
    gate.leave()
    assert gate.enter(None) is None
    gate.leave()
    gate.leave()
    answers = []
    for _ in range(30):  # one visitor, all at once: a burst of 4 s' worth, then refused
        answers.append(gate.enter("flooder"))
        if answers[-1] is None:
            gate.leave()
    assert answers.count(None) == 20 and answers[-1] == TOO_FAST
    assert gate.enter("someone else") is None  # another visitor is not slowed by the flooder's rate
    gate.leave()
    now[0] += 1
    assert gate.enter("flooder") is None  # 5 a second come back


def test_upload_bytes_are_budgeted_per_visitor_and_in_total_per_window():
    from kd.lab.uploads import UploadBudget

    now = [0.0]
    budget = UploadBudget(per_visitor=25_000_000, total=60_000_000, window_seconds=2400, clock=lambda: now[0])
    accepted = sum(budget.spend("one client", 4_900_000) is None for _ in range(40))
    assert accepted == 5  # 24.5 MB of 196 MB sent
    assert "25 MB per 40 minutes" in budget.spend("one client", 4_900_000)
    assert budget.spend("another", 20_000_000) is None
    assert "at most 60 MB" in budget.spend("a third", 20_000_000)  # the total holds whatever the addresses
    now[0] += 2400
    assert budget.spend("one client", 4_900_000) is None  # a window later the files are gone, and so is the count


def test_figures_cut_short_by_the_measurements_time_say_so():
    from kd.lab.measure import MEASURE_SECONDS, cut_short

    rows = [{"batch_size": size} for size in (1, 4, 16)]
    assert f"up to batch 16: one measurement may hold the server's worker {MEASURE_SECONDS} s" in cut_short(
        rows, (1, 4, 16, 1024)
    )
    assert cut_short(rows, (1, 4, 16)) is None
