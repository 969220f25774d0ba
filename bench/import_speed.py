"""Import speed and memory: read + parse generated plans (issue 3).

Targets: a 200-task .docx in ≤ 1 s, a 30-page PDF in ≤ 5 s, parse time linear in the input size, and
peak memory ≤ 300 MB for a 50 MB input. Run::

    .venv/bin/python bench/import_speed.py                  # this tree
    .venv/bin/python bench/import_speed.py --root OLD_TREE  # the same cases on another checkout
    .venv/bin/python bench/import_speed.py --quick          # skip the 50 MB cases

(``git archive HEAD~N qiantou bench | tar -x -C /tmp/old`` gives an older tree to compare with.)
Every case runs in a child process so ``ru_maxrss`` measures only that import and a case that does
not finish is stopped after its timeout.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

UNITS = ["市发展改革委", "市财政局", "市住房城乡建设局", "市农业农村局", "市民政局", "市教育局"]


def task_line(i: int) -> str:
    """One numbered task with an inline attribution and a deadline (~230 bytes of UTF-8)."""
    lead, coop = UNITS[i % len(UNITS)], UNITS[(i + 1) % len(UNITS)]
    return (
        f"{i}.推进第{i}项重点工作，完善工作机制，按季度报送进展情况，确保按期完成年度目标任务。"
        f"（{lead}牵头，{coop}、各县（市、区）人民政府配合，2024年12月底前）"
    )


def prose_text(lines: int) -> bytes:
    """A long unnumbered passage under one item, then one task: the shape that was quadratic."""
    out = ["一、关于进一步加强全市重点工作统筹推进的总体情况，说明如下"]
    out += [f"第{i}段，各地区各部门要认真贯彻落实决策部署，持续推进改革（详见附表{i}）" for i in range(lines)]
    out += ["二、重点任务", "1.推进重点工作，完善机制。（市财政局牵头，市民政局配合）"]
    return "\n".join(out).encode("utf-8")


def long_line_text(size: int) -> bytes:
    """One line of ``size`` bytes: an item, then field after field (牵头单位：…；配合单位：…；完成时限：…).

    Reading a field key once asked for the bracket depth from the start of the line: quadratic.
    """
    head = "一、建立重点工作协同推进机制。"
    parts = [head]
    n = len(head.encode("utf-8"))
    i = 0
    while n < size:
        coop = UNITS[i % len(UNITS)]
        piece = f"牵头单位：市财政局；配合单位：市民政局、{coop}；完成时限：2026年{i % 12 + 1}月底前；"
        parts.append(piece)
        n += len(piece.encode("utf-8"))
        i += 1
    return "".join(parts).encode("utf-8")


def build_docx(tasks: int) -> bytes:
    """A .docx with ``tasks`` task paragraphs."""
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
    """A .docx with one task table of ``rows`` rows (converted to a ~30-page PDF)."""
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
    """Word → PDF through LibreOffice (the reader's converter)."""
    from qiantou.planparse.readers.legacy import convert_with_soffice

    return convert_with_soffice(data, "bench.docx", ".docx", "pdf", "Word 文档")


def pdf_pages(data: bytes) -> int:
    """Number of pages of a PDF."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from qiantou.planparse.readers import limits
limits.DEFAULT_MAX_UPLOAD_BYTES = 80 * 1024 * 1024
from qiantou.planparse.readers import read_document
from qiantou.planparse import parse_document
data = open(sys.argv[2], "rb").read()
best_read = best_total = float("inf")
for _ in range(int(sys.argv[4])):
    t0 = time.perf_counter()
    doc = read_document(data, sys.argv[2])
    t1 = time.perf_counter()
    if sys.argv[3] == "parse":
        del data  # the caller has handed the file over (as the web upload and the command do)
        tasks = len(parse_document(doc).tasks)
    else:
        tasks = -1
    t2 = time.perf_counter()
    best_read, best_total = min(best_read, t1 - t0), min(best_total, t2 - t0)
    if sys.argv[3] == "parse":
        break
print(json.dumps({"read_s": round(best_read, 3), "read_parse_s": round(best_total, 3), "tasks": tasks,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def child(
    root: Path, path: Path, mode: str = "parse", repeat: int = 1, timeout: float = 300
) -> dict[str, object]:
    """Run one case in a fresh interpreter on ``root``'s code; its figures or the error."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(root), str(path), mode, str(repeat)],
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
    return result


def baseline_rss(root: Path) -> float:
    """Peak RSS of an interpreter that has only imported the readers and the parser (MB)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource,sys;sys.path.insert(0,sys.argv[1]);"
            "import qiantou.planparse.readers, qiantou.planparse.parser;"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return round(float(out.stdout), 1)


def text_plan(path: Path, size_mb: float) -> None:
    """Write a text plan of about ``size_mb`` MB of numbered tasks."""
    block = ("\n".join(task_line(i) for i in range(1, 101)) + "\n").encode("utf-8")
    with path.open("wb") as fh:
        while fh.tell() < size_mb * 1024 * 1024:
            fh.write(block)


def main() -> None:
    """Run the cases and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=ROOT, help="source tree to time (default: this one)")
    ap.add_argument("--quick", action="store_true", help="skip the 50 MB cases")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per case")
    args = ap.parse_args()
    root: Path = args.root.resolve()
    print(f"Import speed and memory of {root} (read = readers, parse = planparse.parse_document)")
    print(f"  interpreter with the importer loaded: {baseline_rss(root)} MB")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "b200.docx").write_bytes(build_docx(200))
        r = child(root, d / "b200.docx", repeat=3, timeout=args.timeout)
        print(f"  200-task .docx: {r}   target read+parse <= 1 s")

        pdf = pdf_from_docx(build_table_docx(105))
        (d / "b.pdf").write_bytes(pdf)
        r = child(root, d / "b.pdf", repeat=2, timeout=args.timeout)
        print(f"  {pdf_pages(pdf)}-page PDF (one table): {r}   target read+parse <= 5 s")

        print("  linearity, numbered text plans (parse ms per MB should stay flat):")
        for mb in (1, 2, 4, 8):
            path = d / f"t{mb}.txt"
            text_plan(path, mb)
            r = child(root, path, timeout=args.timeout)
            if "error" not in r:
                per_mb = (float(str(r["read_parse_s"])) - float(str(r["read_s"]))) / mb * 1000
                r["parse_ms_per_mb"] = round(per_mb)
            print(f"    {mb} MB: {r}")
        print("  linearity, one long unnumbered passage (parse s per 1,000 lines should stay flat):")
        for lines in (1000, 2000, 4000):
            path = d / f"p{lines}.txt"
            path.write_bytes(prose_text(lines))
            r = child(root, path, timeout=min(args.timeout, 120))
            print(f"    {lines} lines: {r}")

        print("  one long line (a single paragraph of fields; seconds should grow linearly):")
        for kb in (240, 1024):
            path = d / f"line{kb}.txt"
            path.write_bytes(long_line_text(kb * 1024))
            r = child(root, path, timeout=min(args.timeout, 120))
            print(f"    {kb} KB single line: {r}")

        if not args.quick:
            big = d / "big.txt"
            text_plan(big, 50)
            size_mb = big.stat().st_size / 1024 / 1024
            print(f"  {size_mb:.0f} MB .txt, read only: {child(root, big, 'read', timeout=args.timeout)}")
            print(
                f"  {size_mb:.0f} MB .txt, read+parse: {child(root, big, timeout=args.timeout)}"
                "   target peak <= 300 MB"
            )
            (d / "big.docx").write_bytes(build_docx(2000))
            print(f"  2000-task .docx: {child(root, d / 'big.docx', timeout=args.timeout)}")


if __name__ == "__main__":
    main()
