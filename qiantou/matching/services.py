"""Writes of the data check: start, answer and finish a run, turn confirmed matches into tasks.

Each service runs the protocol step first (nothing is written if it fails), then records the run and
one audit event (``matching.request`` / ``matching.respond`` / ``matching.finish`` /
``matching.tasks``) in one transaction. Audit payloads hold the run id and counts only — never a
name, ID number or record id. Round files and results are kept sealed at rest under
``QIANTOU_DATA_DIR/matching/runs/<run_id>/`` (SM4-GCM, see ``vault.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from qiantou.audit.services import audit_record
from qiantou.matching import files, pipeline
from qiantou.matching.csvio import CsvError, Issue, Registry, Roll, read_registry, read_roll, result_csv_bytes
from qiantou.matching.models import MatchRun, RunStatus, Side
from qiantou.matching.protocol import Outcome, ProtocolError, RowMatch, Workers, overlap_days
from qiantou.matching.vault import Vault

#: Rows below which the work runs in-process (a process pool costs more than it saves).
POOL_THRESHOLD = 20_000


def vault() -> Vault:
    """This installation's matching vault (``QIANTOU_DATA_DIR/matching``)."""
    return Vault(Path(settings.DATA_DIR) / "matching")


def max_roll_default() -> int:
    """The agreed largest roll J answers, unless the officer gives one (``QIANTOU_MATCH_MAX_ROLL``)."""
    return int(getattr(settings, "MATCHING_MAX_ROLL", 0) or 2_000_000)


def workers_for(rows: int, processes: int | None = None) -> Workers:
    """A worker pool sized for ``rows`` (in-process for small inputs)."""
    if processes is None and rows < POOL_THRESHOLD:
        processes = 1
    return Workers(processes)


def _pool(workers: Workers | None, rows: int, processes: int | None) -> AbstractContextManager[Workers]:
    return nullcontext(workers) if workers is not None else workers_for(rows, processes)


def _load_source(source: bytes | Path | Roll | Registry) -> tuple[Any, str, int]:
    """(data, label, approximate rows) of a CSV given as bytes, a path, or already parsed."""
    if isinstance(source, (Roll, Registry)):
        return source, "", len(source)
    if isinstance(source, bytes):
        return source, "", source.count(b"\n")
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CsvError(f"{path.name}：无法读取文件（{exc.strerror}）") from None
    return data, path.name, data.count(b"\n")


def _run_dir(run_id: str, side: str) -> Path:
    return vault().base / "runs" / run_id / side


def store(run: MatchRun, name: str, data: bytes) -> None:
    """Seal one file of a run at rest."""
    vault().write_sealed(_run_dir(run.run_id, run.side) / f"{name}.sealed", data, _purpose(run, name))


def load(run: MatchRun, name: str) -> bytes | None:
    """A sealed file of a run, or None if it was never stored."""
    path = _run_dir(run.run_id, run.side) / f"{name}.sealed"
    return vault().read_sealed(path, _purpose(run, name)) if path.exists() else None


def _purpose(run: MatchRun, name: str) -> bytes:
    return f"qiantou-psi run {run.run_id} {run.side} {name}".encode()


def _issues_csv(issues: list[Issue], side: str) -> bytes:
    lines = ["side,row,record_id,field,message"]
    for i in issues:
        lines.append(",".join([side, str(i.row), _csv_cell(i.record_id), i.field, _csv_cell(i.message)]))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def matchrun_request(
    *,
    actor: Any,
    roll: bytes | Path | Roll,
    mode: str = "oprf",
    pad_to: int = 0,
    peer: str = "",
    processes: int | None = None,
    workers: Workers | None = None,
) -> tuple[MatchRun, pipeline.StepResult]:
    """C: read the roll, make round 1, keep the secret state sealed; raises ``CsvError``."""
    data, label, rows = _load_source(roll)
    with _pool(workers, rows, processes) as pool:
        parsed = data if isinstance(data, Roll) else read_roll(data, label=label or "roll.csv", workers=pool)
        step = pipeline.request(
            parsed, vault=vault(), workers=pool, mode=mode, pad_to=pad_to, peer=peer or None
        )
    assert step.round_file is not None
    with transaction.atomic():
        run = MatchRun.objects.create(
            run_id=step.run_id,
            side=Side.REQUESTER,
            status=RunStatus.REQUESTED,
            mode=mode,
            unit_id=getattr(actor, "unit_id", None),
            created_by=actor if getattr(actor, "pk", None) else None,
            peer_signer=peer,
            counts=step.stats.values,
        )
        audit_record(
            actor=actor,
            action="matching.request",
            obj=run,
            payload={"run_id": run.run_id, "mode": mode, **step.stats.values},
        )
    store(run, "round1.zip", step.round_file.to_zip())
    store(run, "issues.csv", _issues_csv(step.issues, "roll"))
    return run, step


def matchrun_respond(
    *,
    actor: Any,
    request_file: files.RoundFile,
    registry: bytes | Path | Registry,
    max_roll: int | None = None,
    peer: str = "",
    processes: int | None = None,
    workers: Workers | None = None,
) -> tuple[MatchRun, pipeline.StepResult]:
    """J: answer round 1 once per run id; raises ``CsvError``, ``RoundFileError``, ``ProtocolError``."""
    data, label, reg_rows = _load_source(registry)
    manifest = request_file.manifest if _json_ok(request_file) else {}
    run_id = str(manifest.get("run_id", ""))
    answered = {run_id} if MatchRun.objects.filter(run_id=run_id, side=Side.RESPONDER).exists() else set()
    rows = manifest["roll_size"] if isinstance(manifest.get("roll_size"), int) else 0
    with _pool(workers, max(rows, reg_rows), processes) as pool:
        parsed = (
            data
            if isinstance(data, Registry)
            else read_registry(data, label=label or "registry.csv", workers=pool)
        )
        step = pipeline.respond(
            request_file,
            parsed,
            vault=vault(),
            workers=pool,
            max_roll=max_roll or max_roll_default(),
            answered=answered,
            peer=peer or None,
        )
    assert step.round_file is not None
    try:
        with transaction.atomic():
            run = MatchRun.objects.create(
                run_id=step.run_id,
                side=Side.RESPONDER,
                status=RunStatus.RESPONDED,
                mode=step.round_file.manifest["mode"],
                unit_id=getattr(actor, "unit_id", None),
                created_by=actor if getattr(actor, "pk", None) else None,
                peer_signer=request_file.manifest["signer"],
                counts=step.stats.values,
            )
            audit_record(
                actor=actor,
                action="matching.respond",
                obj=run,
                payload={"run_id": run.run_id, **step.stats.values},
            )
    except IntegrityError:
        raise ProtocolError(f"比对 {step.run_id} 已答复过一次：拒绝重放的请求") from None
    store(run, "round2.zip", step.round_file.to_zip())
    store(run, "issues.csv", _issues_csv(step.issues, "registry"))
    return run, step


def _json_ok(rf: files.RoundFile) -> bool:
    try:
        return isinstance(rf.manifest, dict)
    except ValueError:
        return False


def matchrun_finish(
    *,
    actor: Any,
    response_file: files.RoundFile,
    processes: int | None = None,
    as_of: dt.date | None = None,
    workers: Workers | None = None,
) -> tuple[MatchRun, pipeline.StepResult]:
    """C: decrypt own matches from round 2; raises ``RoundFileError``, ``ProtocolError``."""
    rows = 0
    if _json_ok(response_file) and isinstance(response_file.manifest.get("query_count"), int):
        rows = response_file.manifest["query_count"] // 2
    as_of = as_of or timezone.localdate()  # open ends count up to today in Asia/Shanghai
    with _pool(workers, rows, processes) as pool:
        step = pipeline.finish(response_file, vault=vault(), workers=pool, as_of=as_of)
    assert step.outcome is not None
    with transaction.atomic():
        run, _ = MatchRun.objects.select_for_update().get_or_create(
            run_id=step.run_id,
            side=Side.REQUESTER,
            defaults={"status": RunStatus.REQUESTED, "unit_id": getattr(actor, "unit_id", None)},
        )
        run.status = RunStatus.FINISHED
        run.counts = {**run.counts, **step.stats.values}
        run.save(update_fields=["status", "counts", "updated_at"])
        audit_record(
            actor=actor,
            action="matching.finish",
            obj=run,
            payload={"run_id": run.run_id, **step.stats.values},
        )
    store(run, "result.csv", result_csv_bytes(step.outcome.result_rows()))
    store(run, "matches.json", json.dumps(outcome_to_json(step.outcome), ensure_ascii=False).encode())
    return run, step


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    """The decrypted matches as JSON (kept sealed; shown on the requester's result page)."""

    def eps(m: RowMatch, kind: str) -> list[dict[str, Any]]:
        return [
            {
                "custody_type": e.custody_type,
                "start": e.start.isoformat(),
                "end": e.end.isoformat() if e.end else "",
                "reference": e.reference,
                "overlap_days": overlap_days(e, m.benefit_start, m.benefit_end, outcome.as_of),
            }
            for e in getattr(m, kind)
        ]

    return {
        "as_of": outcome.as_of.isoformat(),
        "matches": [
            {
                "record_id": m.record_id,
                "row": m.row,
                "benefit_start": m.benefit_start.isoformat(),
                "benefit_end": m.benefit_end.isoformat() if m.benefit_end else "",
                "by_id": eps(m, "by_id"),
                "candidates": eps(m, "candidates"),
            }
            for m in outcome.matches
        ],
    }


def matchrun_local(
    *,
    actor: Any,
    roll: Path,
    registry: Path,
    out: Path,
    mode: str = "oprf",
    processes: int | None = None,
    workdir: Path,
    as_of: dt.date | None = None,
) -> tuple[MatchRun, list[Issue], list[Issue]]:
    """Both sides through the same round files in one command (demo): request, respond, finish.

    Both CSV files are checked before anything is written. Returns the requester's run and the
    issues (invalid ID numbers…) of the roll and the registry.
    """
    roll_data, roll_label, roll_rows = _load_source(roll)
    reg_data, reg_label, reg_rows = _load_source(registry)
    with workers_for(max(roll_rows, reg_rows), processes) as workers:
        parsed_roll = read_roll(roll_data, label=roll_label, workers=workers)
        parsed_registry = read_registry(reg_data, label=reg_label, workers=workers)
        _, req = matchrun_request(actor=actor, roll=parsed_roll, mode=mode, workers=workers)
        assert req.round_file is not None
        req.round_file.write_dir(workdir / "round1")
        _, resp = matchrun_respond(
            actor=actor,
            request_file=files.read_dir(workdir / "round1"),
            registry=parsed_registry,
            max_roll=req.round_file.manifest["roll_size"],
            workers=workers,
        )
        assert resp.round_file is not None
        resp.round_file.write_dir(workdir / "round2")
        run, fin = matchrun_finish(
            actor=actor, response_file=files.read_dir(workdir / "round2"), as_of=as_of, workers=workers
        )
    assert fin.outcome is not None
    pipeline.write_result(out, fin.outcome)
    return run, req.issues, resp.issues


def matchrun_create_tasks(*, actor: Any, run: MatchRun, plan: Any, record_ids: list[str]) -> list[Any]:
    """One task "暂停发放低保待遇：记录 …" per confirmed match, on a draft plan led by the actor's unit.

    Only record ids the run actually matched are accepted. The plans app lets only handlers and unit
    heads edit a plan, so the tasks are written by ``plans.services.task_create`` as the system
    (``actor=None``) after checking here that the plan is led by the data officer's own unit; the
    ``matching.tasks`` audit event names the officer. Raises ``PermissionDenied``, ``StateError``
    (plan not a draft), ``ProtocolError`` (a record id not matched in this run).
    """
    from django.core.exceptions import PermissionDenied

    from qiantou.plans.services import task_create

    if run.side != Side.REQUESTER or run.status != RunStatus.FINISHED:
        raise ProtocolError("只有已完成的发起方比对才能生成任务")
    if getattr(actor, "unit_id", None) is None or plan.lead_unit_id != actor.unit_id:
        raise PermissionDenied("只能在本单位牵头的方案中生成任务")
    raw = load(run, "matches.json")
    matched = {m["record_id"] for m in json.loads(raw)["matches"]} if raw else set()
    unknown = [r for r in record_ids if r not in matched]
    if unknown:
        raise ProtocolError(f"记录 {unknown[0]} 不在本次比对的结果中")
    tasks = []
    with transaction.atomic():
        for rid in record_ids:
            tasks.append(
                task_create(
                    actor=None,
                    plan=plan,
                    no="",
                    text=f"暂停发放低保待遇：记录 {rid}（数据比对 {run.run_id[:8]}）",
                    lead_units=[plan.lead_unit],
                )
            )
        audit_record(
            actor=actor,
            action="matching.tasks",
            obj=run,
            payload={"run_id": run.run_id, "plan_id": plan.pk, "tasks": len(tasks)},
        )
    return tasks


_ACTIVE_REGISTRY = "active-registry.csv.sealed"
_ACTIVE_PURPOSE = b"qiantou-psi active registry"


def registry_store(*, actor: Any, data: bytes) -> int:
    """J: keep a checked registry (sealed at rest) for answering requests that arrive over HTTP.

    Returns its number of rows; raises ``CsvError`` (nothing stored).
    """
    parsed = read_registry(data, label="registry.csv")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="matching.registry",
            object_type="matching.registry",
            payload={
                "registry_rows": len(parsed),
                "invalid_id_rows": sum(1 for i in parsed.issues if i.field == "id_number"),
            },
        )
        vault().write_sealed(vault().base / _ACTIVE_REGISTRY, data, _ACTIVE_PURPOSE)
    return len(parsed)


def registry_load() -> bytes | None:
    """The registry kept by :func:`registry_store`, or None."""
    path = vault().base / _ACTIVE_REGISTRY
    return vault().read_sealed(path, _ACTIVE_PURPOSE) if path.exists() else None
