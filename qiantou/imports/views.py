"""Pages of the import flow: upload → preview → resolve unknown units → confirm (or cancel).

Views call the services in :mod:`qiantou.imports.services` and read through the selectors; a user
only ever sees their own pending uploads (anything else is a 404).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qiantou.accounts.rules import is_editor_role_
from qiantou.errors import QiantouError
from qiantou.imports.forms import UploadForm
from qiantou.imports.models import ImportUpload
from qiantou.imports.selectors import import_upload_get_for, unit_candidates
from qiantou.imports.services import (
    import_upload_cancel,
    import_upload_choose,
    import_upload_confirm,
    import_upload_create,
)
from qiantou.planparse.document import PlanFileError
from qiantou.plans.models import Plan
from qiantou.plans.selectors import plan_get_for
from qiantou.units.models import Unit
from qiantou.web.htmx import wants_fragment

#: Resolution → (CSS class, label) of a unit name chip.
STATES = {
    "unit": ("u-matched", gettext_lazy("已匹配")),
    "group": ("u-group", gettext_lazy("集合主体")),
    "generic": ("u-generic", gettext_lazy("泛指")),
    "unknown": ("u-unknown", gettext_lazy("未匹配")),
    "chosen": ("u-chosen", gettext_lazy("已选定")),
}


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    return [str(exc)]


def _replace_target(request: HttpRequest, value: Any) -> Plan | None:
    """The draft plan to re-import into (through the visibility selector), or None."""
    if not value:
        return None
    return plan_get_for(request.user, int(value))


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """The upload form; on success the upload is kept and the preview opens."""
    user: Any = request.user
    if not is_editor_role_(user):  # the form would only fail on submit (the sidebar hides the link)
        raise PermissionDenied(_("只有经办人或单位负责人可以导入方案。"))
    initial_plan = request.GET.get("plan") or request.POST.get("plan")
    target = _replace_target(request, initial_plan) if str(initial_plan or "").isdigit() else None
    form = UploadForm(
        request.POST or None, request.FILES or None, initial={"plan": target.pk if target else None}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        try:
            created = import_upload_create(
                actor=user, data=f.read(), filename=f.name, year=form.cleaned_data["year"], plan=target
            )
        except (PlanFileError, ValidationError, PermissionDenied, QiantouError) as exc:
            for message in _messages(exc):
                form.add_error("file", message)
        else:
            return redirect("imports:preview", token=created.token)
    if request.method == "POST":
        status = 400
    return render(
        request, "imports/upload.html", {"nav": "imports", "form": form, "target": target}, status=status
    )


def _context(upload: ImportUpload) -> dict[str, Any]:
    """The preview's rows: tasks with their unit chips, and the names a person has to settle."""
    data = upload.preview
    names: dict[str, dict[str, Any]] = data.get("names", {})
    choices: dict[str, int] = upload.choices
    chosen_units = {u.pk: u for u in Unit.objects.filter(pk__in=list(choices.values()))}
    uses: Counter[str] = Counter()
    for t in data.get("tasks", []):
        for name in dict.fromkeys(t["lead"] + t["cooperating"] + t["generic"]):
            uses[name] += 1
    index = {name: i for i, name in enumerate(names, start=1)}

    def chip(name: str) -> dict[str, Any]:
        r = names.get(name, {"kind": "unknown"})
        picked = chosen_units.get(choices[name]) if name in choices else None
        state = "chosen" if picked is not None else r["kind"]
        css, label = STATES[state]
        shown = picked.name if picked else (r.get("unit_name") or name)
        return {"name": name, "state": state, "css": css, "label": label, "unit": shown, "index": index[name]}

    tasks = []
    for t in data.get("tasks", []):
        tasks.append(
            {
                **t,
                "lead_chips": [chip(n) for n in t["lead"]],
                "coop_chips": [chip(n) for n in t["cooperating"]],
                "generic_chips": [chip(n) for n in t["generic"]],
            }
        )
    pending = []
    for name, r in names.items():
        if r["kind"] != "unknown" and name not in choices:
            continue
        picked = chosen_units.get(choices[name]) if name in choices else None
        pending.append(
            {
                "name": name,
                "index": index[name],
                "uses": uses[name],
                "picked": picked,
                "candidates": r.get("candidates", []),
            }
        )
    counts = Counter(chip(n)["state"] for n in names if uses[n])
    return {
        "upload": upload,
        "data": data,
        "tasks": tasks,
        "pending": pending,
        "unresolved": sum(1 for p in pending if p["picked"] is None),
        "legend": [(css, label, counts.get(state, 0)) for state, (css, label) in STATES.items()],
    }


@login_required
def preview(request: HttpRequest, token: str) -> HttpResponse:
    """Tasks beside their source text, units coloured by resolution, warnings, unknown units to settle."""
    upload = import_upload_get_for(request.user, token)
    ctx = {"nav": "imports", **_context(upload)}
    if wants_fragment(request) and request.GET.get("part") == "tasks":
        return render(request, "imports/_tasks.html", ctx)
    return render(request, "imports/preview.html", ctx)


@login_required
@require_POST
def choose(request: HttpRequest, token: str) -> HttpResponse:
    """Pick (or, with an empty unit, undo) the directory unit for one unknown printed name."""
    upload = import_upload_get_for(request.user, token)
    name = request.POST.get("name", "")
    raw = request.POST.get("unit", "")
    error = None
    try:
        if not raw.isdigit() and name not in upload.choices:  # 确定 with nothing picked: say so
            raise ValidationError(_("请先在列表中选择一个单位。"))
        upload = import_upload_choose(
            actor=request.user, upload=upload, name=name, unit_id=int(raw) if raw.isdigit() else None
        )
    except (ValidationError, PermissionDenied) as exc:
        error = "；".join(_messages(exc))
    if not wants_fragment(request):
        if error:
            messages.error(request, error)
        return redirect("imports:preview", token=token)
    ctx = _context(upload)
    item = next((p for p in ctx["pending"] if p["name"] == name), None)
    if item is None:
        return HttpResponse(status=404)
    response = render(request, "imports/_pending.html", {**ctx, "p": item, "error": error})
    if error is None:
        response["HX-Trigger"] = "import-choices-changed"
    return response


@login_required
def candidates(request: HttpRequest, token: str) -> HttpResponse:
    """``<option>``s for an unknown name: the resolver's candidates first, then directory matches."""
    import_upload_get_for(request.user, token)
    units = unit_candidates(request.GET.get("name", ""), request.GET.get("q", ""))
    return render(request, "imports/_options.html", {"units": units})


@login_required
@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Create (or replace) the draft plan; on failure nothing changes and the preview says why."""
    upload = import_upload_get_for(request.user, token)
    replacing = upload.plan_id is not None
    try:
        plan = import_upload_confirm(actor=request.user, upload=upload)
    except (PlanFileError, ValidationError, PermissionDenied, QiantouError) as exc:
        for message in _messages(exc):
            messages.error(request, message)
        return redirect("imports:preview", token=token)
    done = (
        _("已重新导入方案“%(title)s”（%(n)d 项任务）。")
        if replacing
        else _("已导入方案“%(title)s”（%(n)d 项任务），当前为草稿。")
    )
    messages.success(request, done % {"title": plan.title, "n": plan.tasks.count()})
    return redirect("plans:plan_detail", pk=plan.pk)


@login_required
@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """Throw the upload away and go back to where the import started."""
    upload = get_object_or_404(ImportUpload, token=token, user_id=request.user.pk)
    target = upload.plan_id
    import_upload_cancel(actor=request.user, upload=upload)
    messages.info(request, _("已取消导入，未做任何修改。"))
    if target is not None:
        return redirect("plans:plan_detail", pk=target)
    return redirect("plans:plan_list")
