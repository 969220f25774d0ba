"""Exports of assessment: the accountability report as PDF (WeasyPrint, Noto CJK) and .docx, its
offline-verification bundle (.zip), the scorecard as PDF with its charts, and the circular as .docx in
official-document layout (``qiantou.documents.official``)."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections import defaultdict
from typing import Any

from django.template.loader import render_to_string

from qiantou.assessment.charts import data_uri, reminder_states_svg, score_ranking_svg
from qiantou.assessment.models import CircularDraft
from qiantou.assessment.offline import key_fingerprint
from qiantou.assessment.report import AccountabilityReport
from qiantou.assessment.scoring import Scorecard
from qiantou.audit.verification import export_bundle
from qiantou.documents.fonts import css_family
from qiantou.documents.official import OfficialDocument, official_docx

FONTS = {"body": css_family("fangsong"), "title": css_family("xiaobiaosong"), "heading": css_family("heiti")}


def reminder_counts(report: AccountabilityReport) -> dict[str, dict[str, int]]:
    """Per unit: reminders acknowledged / delivered only / sent only (cancelled ones left out)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"acknowledged": 0, "delivered": 0, "sent": 0})
    for m in report.reminders:
        if m.cancelled or m.sent_at is None:
            continue
        key = "acknowledged" if m.acknowledged_at else "delivered" if m.delivered else "sent"
        counts[m.unit][key] += 1
    return dict(counts)


def report_html(report: AccountabilityReport) -> str:
    """The report as print HTML (the PDF's source), with the reminder chart embedded."""
    counts = reminder_counts(report)
    chart = data_uri(reminder_states_svg(counts)) if counts else ""
    fingerprint = key_fingerprint(report.checkpoint["public_key"]) if report.checkpoint else ""
    return render_to_string(
        "assessment/report_print.html",
        {"r": report, "chart": chart, "fonts": FONTS, "fingerprint": fingerprint},
    )


def report_pdf(report: AccountabilityReport) -> bytes:
    """The report as PDF bytes."""
    from weasyprint import HTML

    return bytes(HTML(string=report_html(report)).write_pdf())


def report_docx(report: AccountabilityReport) -> bytes:
    """The report as .docx: title, key points, assignments, reminders, timeline, verification."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    from qiantou.documents.official import _font

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(15)
    section.top_margin = section.bottom_margin = Mm(15)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(report.title), "xiaobiaosong", 20)

    def para(text: str, role: str = "fangsong", size: float = 11) -> None:
        p = doc.add_paragraph()
        _font(p.add_run(text), role, size)

    def table(headers: list[str], rows: list[list[str]]) -> None:
        t = doc.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        for j, h in enumerate(headers):
            _font(t.rows[0].cells[j].paragraphs[0].add_run(h), "heiti", 9)
        for row in rows:
            cells = t.add_row().cells
            for j, value in enumerate(row):
                _font(cells[j].paragraphs[0].add_run(value), "fangsong", 9)

    para(
        f"时间范围：{report.start:%Y-%m-%d} 至 {report.end:%Y-%m-%d}　牵头单位：{report.lead_unit or '—'}　"
        f"生成人：{report.generated_by or '—'}　生成时间：{report.generated_at:%Y-%m-%d %H:%M}"
    )
    para("一、要点", "heiti", 13)
    for f in report.findings or ["该时段内无催办记录。"]:
        para(f)
    para("二、任务交办情况", "heiti", 13)
    table(
        ["序号", "任务", "牵头单位", "配合单位", "完成时限"],
        [
            [a["no"], a["text"], a["lead"], a["cooperating"], str(a["deadline"] or "—")]
            for a in report.assignments
        ],
    )
    para("三、催办记录（发出 / 送达 / 确认）", "heiti", 13)
    table(
        ["事项", "责任单位", "催办级次", "阶梯时点", "发出", "送达", "确认", "是否按时"],
        [
            [
                m.item_title,
                m.unit,
                m.label + ("（升级）" if m.escalation else ""),
                f"{m.expected_at:%Y-%m-%d %H:%M}" if m.expected_at else "—",
                f"{m.sent_at:%Y-%m-%d %H:%M}" if m.sent_at else "—",
                "；".join(m.delivered) or "—",
                f"{m.acknowledged_at:%Y-%m-%d %H:%M} {m.acknowledged_by}" if m.acknowledged_at else m.state,
                "按时" if m.on_time else "—" if m.on_time is None else "延迟",
            ]
            for m in report.reminders
        ],
    )
    para("四、履职时间线", "heiti", 13)
    table(
        ["序号", "时间", "操作人", "事件", "对象", "内容", "当时责任单位"],
        [
            [
                f"#{t.seq}",
                f"{t.at:%Y-%m-%d %H:%M}",
                f"{t.actor}（{t.actor_unit}）",
                t.label,
                t.subject,
                t.detail,
                t.responsible,
            ]
            for t in report.timeline
        ],
    )
    para("五、记录完整性验证", "heiti", 13)
    v = report.verification
    para(v.message)
    para(f"链头：#{v.head_seq} {v.head_hash}")
    if report.checkpoint:
        para(
            f"核验点：审计记录 #{report.checkpoint['checkpoint_seq']}；签名公钥指纹 "
            f"{key_fingerprint(report.checkpoint['public_key'])}"
        )
        para(f"签名：{report.checkpoint['signature']}")
    para("引用记录哈希：" + "；".join(f"#{s} {h}" for s, h in v.cited), size=8)
    for p in doc.paragraphs:
        p.paragraph_format.space_after = Pt(2)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def report_bundle_zip(report: AccountabilityReport) -> bytes:
    """The offline-verification package: ``manifest.json`` (signed checkpoint), ``audit-bundle.jsonl`` (the
    chain from the first cited event on), ``report.pdf`` and a README with the command."""
    if not report.checkpoint:
        raise ValueError("record the checkpoint first (services.report_checkpoint)")
    since = min((seq for seq, _ in report.verification.cited), default=1)
    bundle = io.StringIO()
    export_bundle(bundle, since=since)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(report.checkpoint, ensure_ascii=False, indent=1))
        zf.writestr("audit-bundle.jsonl", bundle.getvalue())
        zf.writestr("report.pdf", report_pdf(report))
        zf.writestr(
            "README.txt",
            "离线复核 / offline verification:\n"
            "  python -m qiantou.assessment.offline manifest.json audit-bundle.jsonl\n"
            f"签名公钥指纹 / key fingerprint: {key_fingerprint(report.checkpoint['public_key'])}\n",
        )
    return out.getvalue()


def scorecard_html(card: Scorecard, *, title: str, trend_svg: str = "") -> str:
    """The scorecard as print HTML with the ranking (and trend) charts embedded."""
    ranking = score_ranking_svg([(x.unit_name, x.total) for x in card.cooperating[:30]])
    return render_to_string(
        "assessment/scorecard_print.html",
        {
            "card": card,
            "title": title,
            "fonts": FONTS,
            "ranking": data_uri(ranking),
            "trend": data_uri(trend_svg) if trend_svg else "",
        },
    )


def scorecard_pdf(card: Scorecard, *, title: str, trend_svg: str = "") -> bytes:
    """The scorecard as PDF bytes."""
    from weasyprint import HTML

    return bytes(HTML(string=scorecard_html(card, title=title, trend_svg=trend_svg)).write_pdf())


def circular_document(draft: CircularDraft) -> OfficialDocument:
    """The draft as an official document (GB/T 9704-2012 layout), with the late units as an attachment."""
    from qiantou.documents.official import AttachmentTable

    late = draft.figures.get("late") or []
    attachments = []
    if late:
        attachments.append(
            AttachmentTable(
                title="逾期单位情况表",
                headers=["序号", "单位", "逾期完成（项）", "逾期未完成（项）", "综合得分"],
                rows=[
                    [str(i), x["unit"], str(x["late"]), str(x["missing"]), f"{x['total']:.2f}"]
                    for i, x in enumerate(late, start=1)
                ],
                widths_mm=[14, 62, 28, 28, 24],
            )
        )
    return OfficialDocument(
        authority=draft.authority,
        doc_number=draft.doc_number,
        title=draft.title,
        main_recipients=draft.main_recipients,
        body=[p for p in draft.body.splitlines() if p.strip()],
        signatory=draft.signatory,
        issued_on=(draft.sent_at or dt.datetime.now()).date(),
        attachments=attachments,
    )


def circular_docx(draft: CircularDraft) -> bytes:
    """The circular as .docx (editable in Word/WPS before it is sent)."""
    return official_docx(circular_document(draft))


def json_safe(value: Any) -> Any:
    """Dates as ISO text (for API output of report parts)."""
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
