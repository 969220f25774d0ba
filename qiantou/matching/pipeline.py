"""The three steps of a data check on files, shared by the ``match`` command, the web and the benchmark.

Pure Python (no Django): callers pass a :class:`~qiantou.matching.vault.Vault` for keys and sealed
state, and record the returned counts in the audit record. Nothing is written when a step fails:
outputs are produced in memory and written last.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from qiantou.matching import files, protocol
from qiantou.matching.csvio import Issue, Registry, Roll, read_registry, read_roll, result_csv_bytes
from qiantou.matching.protocol import ClientState, Outcome, ProtocolError, Stats, Workers
from qiantou.matching.vault import SealError, Vault

_STATE_PURPOSE = b"qiantou-psi client state "


class StateError(ProtocolError):
    """No usable local state for a run (unknown, already finished, or sealed with another key)."""


@dataclass
class StepResult:
    """What one step produced: the run id, the round file to send (if any), issues and counts."""

    run_id: str
    round_file: files.RoundFile | None = None
    outcome: Outcome | None = None
    issues: list[Issue] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)


_gc_lock = threading.Lock()
_gc_holds = 0
_gc_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a step; reference counting still frees
    everything the step lets go of (a step makes no reference cycles worth waiting for).

    A step makes millions of small objects (bytes, tuples, lists) while it holds a whole roll or
    registry, and every automatic collection rescans all of them: measured, ~0.7 of the parent's
    ~3 CPU-s at 1e5 x 1e5. Nested and concurrent steps share one pause; when the last one ends
    the collector is switched on again if it was on before.
    """
    global _gc_holds, _gc_was_enabled
    with _gc_lock:
        if _gc_holds == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holds += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holds -= 1
            if _gc_holds == 0 and _gc_was_enabled:
                gc.enable()


def _state_path(vault: Vault, run_id: str) -> Path:
    return vault.base / "requests" / f"{run_id}.state"


def _done_path(vault: Vault, run_id: str) -> Path:
    return vault.base / "requests" / f"{run_id}.finished"


@_collector_paused()
def request(
    roll: Roll | bytes | Path,
    *,
    vault: Vault,
    workers: Workers,
    mode: str = "oprf",
    pad_to: int = 0,
    peer: str | None = None,
) -> StepResult:
    """C, round 1: read the roll, blind its keys, seal the state locally, return the round file."""
    step, state = _request(roll, vault=vault, workers=workers, mode=mode, pad_to=pad_to, peer=peer)
    _seal_state(vault, state)
    return step


def _request(
    roll: Roll | bytes | Path,
    *,
    vault: Vault,
    workers: Workers,
    mode: str,
    pad_to: int = 0,
    peer: str | None = None,
) -> tuple[StepResult, ClientState]:
    """:func:`request` without sealing the state: the caller must seal it before the round file leaves."""
    if not isinstance(roll, Roll):
        roll = read_roll(roll, workers=workers)
    stats = Stats()
    rf, state = protocol.client_request(
        roll, signer=vault.identity, workers=workers, mode=mode, pad_to=pad_to, peer=peer, stats=stats
    )
    stats.add(invalid_id_rows=sum(1 for i in roll.issues if i.field == "id_number"))
    return StepResult(state.run_id, rf, issues=roll.issues, stats=stats), state


def _seal_state(vault: Vault, state: ClientState) -> None:
    vault.write_sealed(_state_path(vault, state.run_id), state.pack(), _STATE_PURPOSE + state.run_id.encode())


@_collector_paused()
def respond(
    request_file: files.RoundFile,
    registry: Registry | bytes | Path,
    *,
    vault: Vault,
    workers: Workers,
    max_roll: int,
    answered: set[str] | None = None,
    peer: str | None = None,
) -> StepResult:
    """J, round 2: check the request, evaluate it with a fresh key, publish the labelled tag table."""
    if not isinstance(registry, Registry):
        registry = read_registry(registry, workers=workers)
    stats = Stats()
    rf = protocol.server_respond(
        request_file,
        registry,
        signer=vault.identity,
        reference_key=vault.reference_key,
        workers=workers,
        max_roll=max_roll,
        expected_signer=peer,
        answered=answered,
        stats=stats,
    )
    stats.add(invalid_id_rows=sum(1 for i in registry.issues if i.field == "id_number"))
    return StepResult(rf.manifest["run_id"], rf, issues=registry.issues, stats=stats)


def load_state(vault: Vault, run_id: str) -> ClientState:
    """The sealed state of a run started here; raises :class:`StateError` with the reason."""
    path = _state_path(vault, run_id)
    if _done_path(vault, run_id).exists():
        raise StateError(f"比对 {run_id} 已经完成过：拒绝重复使用答复文件")
    if not path.exists():
        raise StateError(f"本机没有比对 {run_id} 的请求记录：答复文件不属于本机发起的比对")
    try:
        return ClientState.unpack(vault.read_sealed(path, _STATE_PURPOSE + run_id.encode()))
    except SealError as exc:
        raise StateError(str(exc)) from None


@_collector_paused()
def finish(
    response_file: files.RoundFile,
    *,
    vault: Vault,
    workers: Workers,
    as_of: dt.date | None = None,
    opened: ClientState | None = None,
) -> StepResult:
    """C, after round 2: unblind, decrypt own matches, then retire the state (a replay is refused).

    ``opened`` may be the state already read with :func:`load_state`; it is used only when its run
    id is the answer's and the run is still not finished, else the state is read here.
    """
    try:
        run_id = str(response_file.manifest.get("run_id", ""))
    except ValueError:
        raise files.RoundFileError("manifest.json 不是有效的 JSON（文件损坏或被截断）") from None
    if len(run_id) != 32 or any(c not in "0123456789abcdef" for c in run_id):
        raise files.RoundFileError("manifest.json 缺少有效的运行编号")
    state = opened
    if state is None or state.run_id != run_id or _done_path(vault, run_id).exists():
        state = load_state(vault, run_id)
    stats = Stats()
    outcome = protocol.client_finish(state, response_file, workers=workers, as_of=as_of, stats=stats)
    _done_path(vault, run_id).write_text(dt.datetime.now(dt.UTC).isoformat(), encoding="utf-8")
    _state_path(vault, run_id).unlink(missing_ok=True)
    stats.add(result_rows=len(outcome.result_rows()))
    return StepResult(run_id, outcome=outcome, stats=stats)


@_collector_paused()
def run_local(
    roll_path: Path,
    registry_path: Path,
    out_path: Path,
    *,
    vault: Vault,
    workers: Workers,
    workdir: Path,
    mode: str = "oprf",
    max_roll: int | None = None,
    as_of: dt.date | None = None,
) -> tuple[StepResult, StepResult, StepResult]:
    """Both sides in one process, through the same round files on disk (demo and benchmark).

    The two sides are independent until the request reaches J, so J reads its registry (in a
    thread, its rows in the worker pool) while C reads its roll and blinds its queries: the cores
    are not left idle during either side's own serial work. Both CSV files are checked before
    anything is written. C seals its state, and opens it again from disk, in a thread while J
    answers (the pool starts on J's work at once); the state is on disk before J's answer is.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="registry") as reader:
        reading = reader.submit(read_registry, Path(registry_path), workers=workers)
        req, sealed = _request(Path(roll_path), vault=vault, workers=workers, mode=mode)
        registry = reading.result()
    assert req.round_file is not None
    req.round_file.write_dir(workdir / "round1")
    roll_size = req.round_file.manifest["roll_size"]
    with ThreadPoolExecutor(1, thread_name_prefix="state") as c_side:
        sealing = c_side.submit(_seal_state, vault, sealed)
        opening = c_side.submit(load_state, vault, req.run_id)
        del sealed  # freed once sealed: C then holds only the state read back (peak memory at 1e6)
        resp = respond(
            files.read_dir(workdir / "round1"),
            registry,
            vault=vault,
            workers=workers,
            max_roll=max_roll if max_roll is not None else roll_size,
        )
        sealing.result()  # a state that could not be written stops the run here
        assert resp.round_file is not None
        resp.round_file.write_dir(workdir / "round2")
        try:
            state: ClientState | None = opening.result()
        except StateError:
            state = None  # finish reads it again and reports why
    fin = finish(
        files.read_dir(workdir / "round2"),
        vault=vault,
        workers=workers,
        as_of=as_of,
        opened=state,
    )
    assert fin.outcome is not None
    write_result(out_path, fin.outcome)
    return req, resp, fin


def write_result(path: Path, outcome: Outcome) -> None:
    """Write RESULT.csv atomically."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(result_csv_bytes(outcome.result_rows()))
    tmp.replace(path)
