"""Import speed and memory: read (+ parse, when the parser exists) generated plans.

Targets (issue "Import published task-division plans"): a 200-task .docx in ≤ 1 s, a 30-page PDF in
≤ 5 s, and peak memory ≤ 300 MB for a 50 MB input. Run: ``.venv/bin/python bench/import_speed.py``.
The 50 MB cases run in a child process each so ``ru_maxrss`` measures only that import.
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

UNITS = ["市发展改革委", "市财政局", "市住房城乡建设局", "市农业农村局", "市民政局", "市教育局"]


def task_line(i: int) -> str:
    lead, coop = UNITS[i % len(UNITS)], UNITS[(i + 1) % len(UNITS)]
    return (
        f"{i}.推进第{i}项重点工作，完善工作机制，按季度报送进展情况，确保按期完成年度目标任务。"
        f"（{lead}牵头，{coop}、各县（市、区）人民政府配合，2024年12月底前）"
    )


def build_docx(tasks: int) -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("青山市重点任务分工方案")
    d.add_paragraph("各牵头单位要细化措施，列第一位者为牵头单位，下同。")
    d.add_paragraph("一、重点任务")
    for i in range(1, tasks + 1):
        d.add_paragraph(task_line(i))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def build_table_docx(rows: int) -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("青山市重点任务分工表")
    t = d.add_table(rows=rows + 1, cols=5)
    t.style = "Table Grid"
    for c, h in enumerate(["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]):
        t.cell(0, c).text = h
    for r in range(1, rows + 1):
        cells = t.rows[r].cells
        cells[0].text = str(r)
        cells[1].text = task_line(r).split("（")[0][len(str(r)) + 1 :] * 2
        cells[2].text = UNITS[r % len(UNITS)]
        cells[3].text = "、".join(UNITS[(r + k) % len(UNITS)] for k in (1, 2))
        cells[4].text = "2024年12月底前"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def pdf_from_docx(data: bytes) -> bytes:
    from qiantou.planparse.readers.legacy import convert_with_soffice

    return convert_with_soffice(data, "bench.docx", ".docx", "pdf", "Word 文档")


def pdf_pages(data: bytes) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def timed(data: bytes, name: str, repeat: int = 3) -> dict[str, float]:
    from qiantou.planparse.readers import read_document

    try:
        from qiantou.planparse import parse_document
    except ImportError:  # the parser is not there yet: time the read only
        parse_document = None  # type: ignore[assignment]
    best_read = best_total = float("inf")
    tasks = -1
    for _ in range(repeat):
        t0 = time.perf_counter()
        doc = read_document(data, name)
        t1 = time.perf_counter()
        if parse_document is not None:
            plan = parse_document(doc)
            tasks = len(plan.tasks)
        t2 = time.perf_counter()
        best_read = min(best_read, t1 - t0)
        best_total = min(best_total, t2 - t0)
    return {"read_s": round(best_read, 3), "read_parse_s": round(best_total, 3), "tasks": tasks}


CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from qiantou.planparse.readers import read_path
from qiantou.planparse.readers import limits
limits.DEFAULT_MAX_UPLOAD_BYTES = 80 * 1024 * 1024
import django.conf
try:
    from qiantou.planparse import parse_document
except ImportError:
    parse_document = None
t0 = time.perf_counter()
doc = read_path(sys.argv[2])
t1 = time.perf_counter()
tasks = len(parse_document(doc).tasks) if parse_document and sys.argv[3] == "parse" else -1
t2 = time.perf_counter()
print(json.dumps({"read_s": round(t1 - t0, 2), "read_parse_s": round(t2 - t0, 2), "tasks": tasks,
                  "blocks": len(doc.blocks),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def child(path: Path, mode: str, timeout: float = 300) -> dict[str, object]:
    baseline = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource,sys;sys.path.insert(0,sys.argv[1]);"
            "import qiantou.planparse.readers, qiantou.planparse.repair;"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), str(path), mode],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:.0f} s"}
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    result["baseline_rss_mb"] = round(float(baseline.stdout), 1)
    return result


def main() -> None:
    print("Import speed (best of 3; read = readers, parse = qiantou.planparse.parse_document)")
    docx200 = build_docx(200)
    r = timed(docx200, "bench-200.docx")
    print(f"  200-task .docx ({len(docx200) // 1024} KB): {r}   target read+parse <= 1 s")

    table_docx = build_table_docx(105)
    pdf = pdf_from_docx(table_docx)
    pages = pdf_pages(pdf)
    r = timed(pdf, "bench.pdf", repeat=2)
    print(f"  {pages}-page PDF, one table ({len(pdf) // 1024} KB): {r}   target read+parse <= 5 s")

    with tempfile.TemporaryDirectory() as tmp:
        big_txt = Path(tmp) / "big.txt"
        line = ("\n".join(task_line(i) for i in range(1, 101)) + "\n").encode("utf-8")
        with big_txt.open("wb") as fh:
            while fh.tell() < 50 * 1024 * 1024:
                fh.write(line)
        size_mb = big_txt.stat().st_size / 1024 / 1024
        print(f"  {size_mb:.0f} MB .txt, read only: {child(big_txt, 'read')}   target peak <= 300 MB")
        print(f"  {size_mb:.0f} MB .txt, read+parse: {child(big_txt, 'parse')}")
        small_txt = Path(tmp) / "small.txt"
        small_txt.write_bytes(big_txt.read_bytes()[: 5 * 1024 * 1024])
        print(f"  5 MB .txt, read+parse: {child(small_txt, 'parse')}")
        big_docx = Path(tmp) / "big.docx"
        big_docx.write_bytes(build_docx(2000))
        print(f"  2000-task .docx ({big_docx.stat().st_size // 1024} KB): {child(big_docx, 'parse')}")
    print(f"(this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
