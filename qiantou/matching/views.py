"""Data-check pages: start a check (civil affairs), answer one (justice), finish it and see results.

Every page needs the ``data_officer`` role. Uploads are processed in memory and not kept; round
files, issue lists and results are kept sealed at rest (``services.store``).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qiantou.errors import QiantouError
from qiantou.matching import files, services
from qiantou.matching.csvio import CsvError
from qiantou.matching.files import RoundFileError, fingerprint
from qiantou.matching.models import RunStatus, Side
from qiantou.matching.protocol import ProtocolError
from qiantou.matching.selectors import matchrun_get_for, matchrun_list_for, require_data_officer
from qiantou.matching.vault import AT_REST_CIPHER

_ERRORS = (CsvError, RoundFileError, ProtocolError)
_DOWNLOADS = {
    "round1.zip": ("application/zip", "round1-{run}.zip"),
    "round2.zip": ("application/zip", "round2-{run}.zip"),
    "result.csv": ("text/csv; charset=utf-8", "RESULT-{run}.csv"),
    "issues.csv": ("text/csv; charset=utf-8", "issues-{run}.csv"),
}


def _read_upload(request: HttpRequest, field: str) -> bytes:
    upload: UploadedFile | None = request.FILES.get(field)
    if upload is None:
        raise ValidationError(_("请选择要上传的文件。"))
    limit = int(getattr(settings, "QIANTOU_MAX_UPLOAD_BYTES", 60 * 1024 * 1024))
    if upload.size and upload.size > limit:
        raise ValidationError(_("文件过大（上限 %(mb)d MB）。") % {"mb": limit // (1024 * 1024)})
    return upload.read()


def _officer(request: HttpRequest) -> Any:
    require_data_officer(request.user)
    return request.user


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Both sides' forms and the list of this unit's runs."""
    user = _officer(request)
    ctx = {
        "nav": "matching",
        "runs": matchrun_list_for(user).select_related("created_by")[:100],
        "fingerprint": fingerprint(files.public_key_hex(services.vault().identity)),
        "cipher": AT_REST_CIPHER,
        "max_roll": services.max_roll_default(),
    }
    return render(request, "matching/index.html", ctx)


def _fail(request: HttpRequest, exc: Exception) -> HttpResponse:
    message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, message)
    return redirect("matching:index")


@login_required
@require_POST
def request_start(request: HttpRequest) -> HttpResponse:
    """Civil affairs: upload the roll, get round 1."""
    user = _officer(request)
    try:
        data = _read_upload(request, "roll")
        mode = "voprf" if request.POST.get("verifiable") else "oprf"
        run, _step = services.matchrun_request(
            actor=user, roll=data, mode=mode, peer=request.POST.get("peer_key", "").strip()
        )
    except (*_ERRORS, ValidationError) as exc:
        return _fail(request, exc)
    messages.success(request, _("已生成第一轮文件，请下载后交给对方。"))
    return redirect("matching:run_detail", pk=run.pk)


@login_required
@require_POST
def respond(request: HttpRequest) -> HttpResponse:
    """Justice: upload the registry and round 1, get round 2."""
    user = _officer(request)
    try:
        registry = _read_upload(request, "registry")
        request_file = files.read_zip(_read_upload(request, "round1"))
        max_roll = int(request.POST.get("max_roll") or services.max_roll_default())
        run, _step = services.matchrun_respond(
            actor=user, request_file=request_file, registry=registry, max_roll=max_roll
        )
    except (*_ERRORS, ValidationError, ValueError) as exc:
        return _fail(request, exc)
    messages.success(request, _("已生成答复文件，请下载后交还发起方。"))
    return redirect("matching:run_detail", pk=run.pk)


@login_required
@require_POST
def finish(request: HttpRequest) -> HttpResponse:
    """Civil affairs: upload round 2, see the matches."""
    user = _officer(request)
    try:
        response_file = files.read_zip(_read_upload(request, "round2"))
        run_id = str(response_file.manifest.get("run_id", "")) if response_file.manifest_bytes else ""
        if run_id and not matchrun_list_for(user).filter(run_id=run_id, side=Side.REQUESTER).exists():
            raise ProtocolError(_("该答复对应的比对不是本单位发起的。"))
        run, _step = services.matchrun_finish(actor=user, response_file=response_file)
    except (*_ERRORS, ValidationError, ValueError) as exc:
        return _fail(request, exc)
    messages.success(request, _("比对完成。"))
    return redirect("matching:run_detail", pk=run.pk)


#: The run's counts (``protocol.Stats``) as the run page names them; a key not listed shows as is.
COUNT_LABELS = {
    "roll_rows": gettext_lazy("名单行数"),
    "registry_rows": gettext_lazy("登记库行数"),
    "invalid_id_rows": gettext_lazy("身份证号无效的行"),
    "queries": gettext_lazy("发出的查询"),
    "table_count": gettext_lazy("发出的标签"),
    "tags_received": gettext_lazy("收到的标签"),
    "id_matches": gettext_lazy("按身份证号匹配"),
    "candidate_rows": gettext_lazy("按姓名和出生日期的候选"),
    "result_rows": gettext_lazy("结果行数"),
    "hash_to_group": gettext_lazy("哈希到群元素（次）"),
    "scalar_mult": gettext_lazy("标量乘法（次）"),
}


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One run: counts, downloads, and (for a finished request) the matches."""
    user = _officer(request)
    run = matchrun_get_for(user, pk)
    matches = None
    plans: list[Any] = []
    if run.side == Side.REQUESTER and run.status == RunStatus.FINISHED:
        raw = services.load(run, "matches.json")
        matches = json.loads(raw)["matches"] if raw else []
        plans = _draft_plans(user)
    available = [name for name in _DOWNLOADS if services.load(run, name) is not None]
    return render(
        request,
        "matching/run_detail.html",
        {
            "nav": "matching",
            "run": run,
            "matches": matches,
            "downloads": available,
            "plans": plans,
            "counts": [(COUNT_LABELS.get(key, key), value) for key, value in sorted(run.counts.items())],
        },
    )


def _draft_plans(user: Any) -> list[Any]:
    from qiantou.plans.models import PlanStatus
    from qiantou.plans.selectors import plan_list_for

    if user.unit_id is None:
        return []
    return list(plan_list_for(user).filter(status=PlanStatus.DRAFT, lead_unit_id=user.unit_id)[:50])


@login_required
def download(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """A sealed file of a run, decrypted for a data officer of the unit."""
    user = _officer(request)
    run = matchrun_get_for(user, pk)
    if name not in _DOWNLOADS:
        raise Http404
    data = services.load(run, name)
    if data is None:
        raise Http404(_("该文件不存在。"))
    content_type, filename = _DOWNLOADS[name]
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename.format(run=run.run_id[:8])}"'
    return response


@login_required
@require_POST
def create_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn the matches the officer confirmed into tasks on a draft plan."""
    user = _officer(request)
    run = matchrun_get_for(user, pk)
    record_ids = request.POST.getlist("record_id")
    try:
        from qiantou.plans.selectors import plan_get_for

        plan = plan_get_for(user, request.POST.get("plan"))
        if not record_ids:
            raise ValidationError(_("请勾选要生成任务的记录。"))
        tasks = services.matchrun_create_tasks(actor=user, run=run, plan=plan, record_ids=record_ids)
    except (ProtocolError, ValidationError, PermissionDenied, QiantouError, Http404) as exc:
        messages.error(
            request,
            "；".join(exc.messages)
            if isinstance(exc, ValidationError)
            else str(exc) or _("无权在该方案中新增任务。"),
        )
        return redirect("matching:run_detail", pk=run.pk)
    messages.success(request, _("已在方案中生成 %(n)d 项任务。") % {"n": len(tasks)})
    return redirect("matching:run_detail", pk=run.pk)
