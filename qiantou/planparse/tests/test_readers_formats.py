"""Each reader on documents built in the test: Word tables and numbering, Excel values, HTML."""

from __future__ import annotations

import datetime as dt
import io

import docx
import openpyxl
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from qiantou.planparse.document import Paragraph, SourceDocument, Table
from qiantou.planparse.readers import read_document
from qiantou.planparse.readers.excel import display_value


def _docx_bytes(document: docx.document.Document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _paragraphs(doc: SourceDocument) -> list[str]:
    return [b.text for b in doc.blocks if isinstance(b, Paragraph) and b.text.strip()]


def test_docx_body_order_and_merged_cells() -> None:
    d = docx.Document()
    d.add_paragraph("重点任务分工表")
    table = d.add_table(rows=4, cols=4)
    for c, h in enumerate(["序号", "任务", "牵头单位", "完成时限"]):
        table.cell(0, c).text = h
    table.cell(1, 0).merge(table.cell(1, 3)).text = "一、农村厕所革命"  # gridSpan over the row
    for r, (no, task) in enumerate([("1", "新建改建卫生厕所"), ("2", "开展问题厕所回头看")], start=2):
        table.cell(r, 0).text = no
        table.cell(r, 1).text = task
        table.cell(r, 3).text = "2024年底前"
    table.cell(2, 2).merge(table.cell(3, 2)).text = "市农业农村局"  # vMerge over two rows
    d.add_paragraph("注：各县要参照本表制定任务清单。")
    doc = read_document(_docx_bytes(d), "plan.docx")
    kinds = [type(b).__name__ for b in doc.blocks if not isinstance(b, Paragraph) or b.text]
    assert kinds == ["Paragraph", "Table", "Paragraph"]
    t = next(b for b in doc.blocks if isinstance(b, Table))
    assert t.rows[1] == ["一、农村厕所革命"] * 4
    assert t.merged[1] == [False, True, True, True]
    assert t.rows[3][2] == "市农业农村局" and t.merged[3][2] and not t.merged[2][2]
    assert t.rows[3][:2] == ["2", "开展问题厕所回头看"]


def test_docx_automatic_numbering_rendered() -> None:
    d = docx.Document()
    numbering = d.part.numbering_part.element
    numbering.append(
        parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
            '<w:lvlText w:val="%1、"/><w:suff w:val="nothing"/></w:lvl>'
            '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
            '<w:lvlText w:val="（%2）"/><w:suff w:val="nothing"/></w:lvl>'
            "</w:abstractNum>"
        )
    )
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))

    def numbered(text: str, level: int) -> None:
        p = d.add_paragraph(text)
        p._p.get_or_add_pPr().append(
            parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>')
        )

    numbered("总体要求", 0)
    numbered("重点任务", 0)
    numbered("提升政务服务效能", 1)
    numbered("强化要素保障", 1)
    for _ in range(9):
        numbered("占位", 0)
    numbered("保障措施", 0)
    numbered("加强组织领导", 1)
    texts = _paragraphs(read_document(_docx_bytes(d), "plan.docx"))
    assert texts[:4] == ["一、总体要求", "二、重点任务", "（1）提升政务服务效能", "（2）强化要素保障"]
    assert texts[-2:] == ["十二、保障措施", "（1）加强组织领导"]  # the lower level restarts


def test_docx_soft_line_breaks_split_paragraphs() -> None:
    d = docx.Document()
    p = d.add_paragraph("1.公共场所秩序整治。")
    run = p.add_run()
    run.add_break()
    p.add_run("牵头单位：市城市管理局")
    texts = _paragraphs(read_document(_docx_bytes(d), "plan.docx"))
    assert texts == ["1.公共场所秩序整治。", "牵头单位：市城市管理局"]


def test_xlsx_values_as_displayed_every_sheet_and_merges() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws["A1"] = "青山市民生实事督办台账"
    ws.merge_cells("A1:E1")
    ws.append([])
    ws.append(["序号", "任务", "牵头单位", "完成时限", "完成率"])
    ws.append([1, "新建幼儿园8所", "市教育局", 45535, 0.5])
    ws.append([2, "更换护眼灯具", None, dt.datetime(2024, 9, 30), 1])
    ws.merge_cells("C4:C5")
    ws["D4"].number_format = 'yyyy"年"m"月"d"日"'
    ws["D5"].number_format = 'yyyy"年"m"月"d"日"'
    ws["E4"].number_format = "0%"
    ws["E5"].number_format = "0.0%"
    other = wb.create_sheet("填表说明")
    other["A1"] = "1.牵头单位栏为空的，责任单位栏中列第一位者为牵头单位。"
    buf = io.BytesIO()
    wb.save(buf)
    doc = read_document(buf.getvalue(), "plan.xlsx")
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    assert [t.sheet for t in tables] == ["台账", "填表说明"]
    t = tables[0]
    assert t.rows[0] == ["青山市民生实事督办台账"] * 5 and t.merged[0] == [False] + [True] * 4
    assert t.rows[1] == ["序号", "任务", "牵头单位", "完成时限", "完成率"]  # the empty row 2 is dropped
    assert t.rows[2] == ["1", "新建幼儿园8所", "市教育局", "2024年8月31日", "50%"]
    assert t.rows[3] == ["2", "更换护眼灯具", "市教育局", "2024年9月30日", "100.0%"]
    assert t.merged[3][2]


def test_display_value_formats() -> None:
    assert display_value(45535, 'yyyy"年"m"月"d"日"') == "2024年8月31日"
    assert display_value(45535, "yyyy-mm-dd") == "2024-08-31"
    assert display_value(45535, 'm"月"d"日"') == "8月31日"
    assert display_value(1234567.5, "#,##0.00") == "1,234,567.50"
    assert display_value(3.0, "General") == "3"
    assert display_value(2.5, "General") == "2.5"
    assert display_value(5, '0"个"') == "5个"
    assert display_value(dt.datetime(2024, 3, 5, 14, 7), "yyyy-mm-dd hh:mm") == "2024-03-05 14:07"
    assert display_value(None, "General") == ""


def test_html_visible_text_and_table_spans() -> None:
    html = """<html><head><title>标题不是正文</title><style>p{color:red}</style>
    <script>var x = "脚本不是正文";</script></head><body>
    <div class="nav"><a href="/">首页</a> | <a href="/a">政务公开</a> | <a href="/b">互动交流</a></div>
    <p class=MsoNormal><span>各县（市、区）人民政府：</span></p>
    <p class=MsoNormal><![if !supportEmptyParas]>&nbsp;<![endif]><o:p></o:p></p>
    <p>第一行<br>第二行</p>
    <table border=1>
      <tr><td>序号</td><td>任务</td><td>牵头单位</td></tr>
      <tr><td colspan=3>一、扩大有效投资</td></tr>
      <tr><td>1</td><td>实施重点项目</td><td rowspan=2>市发展改革委</td></tr>
      <tr><td>2</td><td>争取专项债</td></tr>
    </table>
    <div style="display:none">隐藏的文字</div>
    <footer>版权所有 青山市人民政府</footer>
    </body></html>"""
    doc = read_document(html.encode("utf-8"), "page.html")
    texts = _paragraphs(doc)
    assert texts == ["各县（市、区）人民政府：", "第一行", "第二行"]
    t = next(b for b in doc.blocks if isinstance(b, Table))
    assert t.rows == [
        ["序号", "任务", "牵头单位"],
        ["一、扩大有效投资"] * 3,
        ["1", "实施重点项目", "市发展改革委"],
        ["2", "争取专项债", "市发展改革委"],
    ]
    assert t.merged[1] == [False, True, True] and t.merged[3] == [False, False, True]


def test_html_line_wraps_between_chinese_characters_are_not_spaces() -> None:
    html = "<html><body><p>推进生活垃圾分类，新增垃圾分类示范\n小区30个。</p></body></html>"
    assert _paragraphs(read_document(html.encode(), "page.htm")) == [
        "推进生活垃圾分类，新增垃圾分类示范小区30个。"
    ]


def test_mht_page() -> None:
    body = "<html><body><p>1.推行联合报装。（市住房城乡建设局负责）</p></body></html>"
    mht = (
        (
            b"MIME-Version: 1.0\r\n"
            b'Content-Type: multipart/related; boundary="b1"\r\n\r\n'
            b'--b1\r\nContent-Type: text/html; charset="gbk"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        )
        + __import__("base64").encodebytes(body.encode("gbk"))
        + b"\r\n--b1--\r\n"
    )
    doc = read_document(mht, "page.mht")
    assert doc.kind == "html"
    assert _paragraphs(doc) == ["1.推行联合报装。（市住房城乡建设局负责）"]


def test_xls_through_libreoffice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An .xls (made here from an .xlsx by LibreOffice) is read back through LibreOffice."""
    import subprocess

    from qiantou.planparse.readers.legacy import soffice_path

    wb = openpyxl.Workbook()
    wb.active.append(["序号", "任务", "完成时限"])
    wb.active.append([1, "建设智慧养老服务平台", "2025年6月底前"])
    src = tmp_path / "plan.xlsx"
    wb.save(src)
    binary = soffice_path()
    assert binary is not None
    subprocess.run(
        [
            binary,
            f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
            "--headless",
            "--convert-to",
            "xls",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    doc = read_document((tmp_path / "plan.xls").read_bytes(), "plan.xls")
    assert doc.kind == "xls"
    t = next(b for b in doc.blocks if isinstance(b, Table))
    assert t.rows[1] == ["1", "建设智慧养老服务平台", "2025年6月底前"]
