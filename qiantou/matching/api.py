"""REST API of the data check, mounted at ``/api/matching/``: the same round-file bytes over HTTP.

Between two installations, with a bearer token of a ``data_officer`` account on each side::

    POST /api/matching/request   (roll=@ROLL.csv)        -> {"id", "run_id", ...}   on civil affairs
    GET  /api/matching/runs/{id}/files/round1.zip         -> round 1 (zip)
    POST /api/matching/respond   (round1=@round1.zip)    -> round 2 (zip)           on justice
         (uses the registry kept by POST /api/matching/registry, or a ``registry`` file part)
    POST /api/matching/finish    (round2=@round2.zip)    -> counts; RESULT via files/result.csv

Errors are ``{"detail": "<Chinese message>"}``: 403 not a data officer, 404 unknown run, 422 a bad
CSV or round file (tampered, truncated, another run, replayed, over the agreed roll size).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile

from qiantou.matching import files, services
from qiantou.matching.csvio import CsvError
from qiantou.matching.files import RoundFileError
from qiantou.matching.protocol import ProtocolError
from qiantou.matching.selectors import matchrun_get_for, matchrun_list_for, require_data_officer

router = Router(tags=["matching"])
_FILES = {
    "round1.zip": "application/zip",
    "round2.zip": "application/zip",
    "result.csv": "text/csv; charset=utf-8",
    "issues.csv": "text/csv; charset=utf-8",
}


class RunOut(Schema):
    id: int
    run_id: str
    side: str
    status: str
    mode: str
    counts: dict[str, Any]


class RegistryOut(Schema):
    registry_rows: int


def _officer(request: HttpRequest) -> Any:
    user = getattr(request, "auth", None) or request.user
    require_data_officer(user)
    return user


def _bad(exc: Exception) -> HttpError:
    return HttpError(422, str(exc))


@router.get("/runs", response=list[RunOut])
def run_list(request: HttpRequest) -> Any:
    """This unit's runs (counts and run ids only)."""
    return list(matchrun_list_for(_officer(request))[:200])


@router.get("/runs/{pk}/files/{name}")
def run_file(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """A sealed file of a run: ``round1.zip``, ``round2.zip``, ``result.csv`` or ``issues.csv``."""
    run = matchrun_get_for(_officer(request), pk)
    data = services.load(run, name) if name in _FILES else None
    if data is None:
        raise HttpError(404, "该文件不存在")
    return HttpResponse(data, content_type=_FILES[name])


@router.post("/request", response=RunOut)
def request_start(request: HttpRequest, roll: File[UploadedFile], verifiable: bool = False) -> Any:
    """Civil affairs: start a check from a roll CSV."""
    user = _officer(request)
    try:
        run, _ = services.matchrun_request(
            actor=user, roll=roll.read(), mode="voprf" if verifiable else "oprf"
        )
    except CsvError as exc:
        raise _bad(exc) from None
    return run


@router.post("/registry", response=RegistryOut)
def registry_put(request: HttpRequest, registry: File[UploadedFile]) -> Any:
    """Justice: keep the registry used to answer requests arriving over HTTP."""
    user = _officer(request)
    try:
        return {"registry_rows": services.registry_store(actor=user, data=registry.read())}
    except CsvError as exc:
        raise _bad(exc) from None


@router.post("/respond")
def respond(
    request: HttpRequest,
    round1: File[UploadedFile],
    registry: File[UploadedFile] | None = None,
    max_roll: int | None = None,
) -> HttpResponse:
    """Justice: answer round 1 (zip) and return round 2 (zip)."""
    user = _officer(request)
    data = registry.read() if registry is not None else services.registry_load()
    if data is None:
        raise HttpError(422, "尚未上传登记库：请先 POST /api/matching/registry")
    try:
        _, step = services.matchrun_respond(
            actor=user, request_file=files.read_zip(round1.read()), registry=data, max_roll=max_roll
        )
    except (CsvError, RoundFileError, ProtocolError) as exc:
        raise _bad(exc) from None
    assert step.round_file is not None
    return HttpResponse(step.round_file.to_zip(), content_type="application/zip")


@router.post("/finish", response=RunOut)
def finish(request: HttpRequest, round2: File[UploadedFile]) -> Any:
    """Civil affairs: finish a run from round 2 (zip); the result is then at ``files/result.csv``."""
    user = _officer(request)
    try:
        response_file = files.read_zip(round2.read())
        run_id = str(response_file.manifest.get("run_id", ""))
        if not matchrun_list_for(user).filter(run_id=run_id, side="requester").exists():
            raise ProtocolError("该答复对应的比对不是本单位发起的")
        run, _ = services.matchrun_finish(actor=user, response_file=response_file)
    except (RoundFileError, ProtocolError, ValueError) as exc:
        raise _bad(exc) from None
    return run
