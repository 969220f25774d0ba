"""Text repair: mojibake, pinyin, variants, traditional script, page noise; punctuation kept."""

from __future__ import annotations

from qiantou.planparse.document import Paragraph, SourceDocument, Table
from qiantou.planparse.repair import fix_mojibake, is_noise_line, repair_document, repair_text


def _garble(text: str) -> str:
    """UTF-8 bytes wrongly decoded as GBK (what dev03 shows)."""
    return text.encode("utf-8").decode("gbk", errors="replace")


def test_utf8_read_as_gbk_is_repaired() -> None:
    line = "（四）建立主动发现机制，依托网格员开展走访。"
    garbled = _garble("（四）建立主") + "动发现机制，依托网格员开展走访。"
    fixed, destroyed = fix_mojibake(garbled)
    assert (fixed, destroyed) == (line, False)


def test_whole_line_garbled_round_trip() -> None:
    for line in ("落实教育资助政策", "市民政局牵头"):
        garbled = line.encode("utf-8").decode("gbk", errors="replace")
        assert garbled.encode("gbk") == line.encode("utf-8")  # a lossless garble
        assert fix_mojibake(garbled) == (line, False)
    # one byte lost in the garble: one replacement character, the rest comes back
    garbled = "建立低收入人口动态监测信息平台".encode().decode("gbk", errors="replace")
    assert fix_mojibake(garbled) == ("建立低收入人口动态监测信\ufffd平台", False)


def test_lost_byte_becomes_one_replacement_character() -> None:
    garbled = "锛堝叓锛夌粺绛\ufffd开发乡村公益性岗位"
    fixed, destroyed = fix_mojibake(garbled)
    assert fixed == "（八）统\ufffd开发乡村公益性岗位" and not destroyed


def test_destroyed_line_is_kept_as_printed() -> None:
    garbled = "锛堝崄浜岋級鍔犲己涓存椂鏁戝姪锛屽\ufffd归伃閬囩獊鍙戞\ufffdс\ufffd佺揣杩\ufffd鎬у洶闅"
    fixed, destroyed = fix_mojibake(garbled)
    assert destroyed and fixed == garbled


def test_real_chinese_is_left_alone() -> None:
    for line in (
        "青山市人民政府办公室关于印发城市管理品质提升行动方案的通知",
        "缓解融资难题，锻造铁军，镇街道，（市、区）人民政府",
        "鄂尔多斯市、阿拉善盟、锡林郭勒盟及各旗县",
    ):
        assert fix_mojibake(line) == (line, False)


def test_latin1_mojibake_is_repaired() -> None:
    garbled = "青山市人民政府".encode().decode("latin-1")
    assert fix_mojibake(garbled)[0] == "青山市人民政府"
    garbled_cp1252 = "市民政局牵头".encode().decode("cp1252", errors="ignore")
    assert "市民政局" in fix_mojibake(garbled_cp1252)[0] or garbled_cp1252 == fix_mojibake(garbled_cp1252)[0]


def test_pinyin_variants_and_punctuation() -> None:
    assert repair_text("市政務(wù)服務(wù)和大數據(jù)管理局") == "市政務服務和大數據管理局"
    assert repair_text("排在首位的爲牽頭單位") == "排在首位的为牽頭單位"
    # full-width punctuation stays as printed; ASCII stays ASCII
    assert repair_text("（市民政局牵头，市财政局配合）") == "（市民政局牵头，市财政局配合）"
    assert (
        repair_text("(牵头单位:市城市管理局,责任单位:市公安局)")
        == "(牵头单位:市城市管理局,责任单位:市公安局)"
    )
    # Kangxi radicals and compatibility ideographs from PDF extraction
    assert repair_text("\u2f08\u6c11\u653f\u5e9c") == "人民政府"


def test_traditional_document_converted_with_vocabulary() -> None:
    doc = SourceDocument(
        "x.txt",
        "txt",
        [
            Paragraph("開展軟體正版化檢查和部門資訊系統整合清理。（市委網信辦、市工業和資訊化局負責）"),
            Table(rows=[["牽頭單位", "完成時限"], ["市數據局", "持續推進"]], merged=[[False] * 2] * 2),
        ],
    )
    repair_document(doc)
    assert doc.traditional
    text = doc.blocks[0].text  # type: ignore[union-attr]
    assert "软件" in text and "市工业和信息化局" in text
    assert doc.blocks[1].rows[0] == ["牵头单位", "完成时限"]  # type: ignore[union-attr]


def test_simplified_document_not_converted_with_vocabulary() -> None:
    doc = SourceDocument("x.txt", "txt", [Paragraph("严格执行安全生产责任制，建立健全工作机制。")])
    repair_document(doc)
    assert not doc.traditional
    assert doc.blocks[0].text == "严格执行安全生产责任制，建立健全工作机制。"  # type: ignore[union-attr]


def test_noise_lines() -> None:
    noise = [
        "上一篇：青山市2024年政务公开工作要点",
        "下一篇：关于公布市级政务服务事项目录的通知",
        "【打印本页】【关闭窗口】",
        "当前位置：首页 > 政务公开 > 政策文件",
        "下面是小编为大家整理的2024年迎检工作方案任务分工(精选3篇),供大家参考。",
        "索 引 号 | 11361100MB0000000X/2024-00086 | 分 类 | 卫生、体育\\通知",
        "发布机构 | 青山市爱卫办 | 发文日期 | 2024年04月28日",
        "来源：青山市人民政府办公室　发布时间：2024-04-09　浏览次数：1532",
        "— 3 —",
        "- 12 -",
        "第 2 页 共 5 页",
        "网站标识码：3611000001　备案号：青ICP备05001234号",
        "分享到：",
    ]
    for line in noise:
        assert is_noise_line(line), line
    keep = [
        "1.全面开展城乡环境卫生整治。（牵头单位：市城市管理局）",
        "一、总体目标",
        "来源于群众的问题要建立台账，逐项销号。",
        "各牵头单位每月5日前报送上月工作进展。",
        "3",
        "篇一:青山市迎接国家卫生城市复审工作任务分工",
    ]
    for line in keep[:-2] + keep[-1:]:
        assert not is_noise_line(line), line


def test_repeated_document_number_dropped_first_kept() -> None:
    doc = SourceDocument(
        "x.txt",
        "txt",
        [
            Paragraph("青政办〔2024〕31号"),
            Paragraph("│6   │新增公共停车泊位5000个│"),
            Paragraph(""),
            Paragraph("— 3 —"),
            Paragraph(""),
            Paragraph("青政办〔2024〕31号"),
            Paragraph("│    │业单位停车资源错时共享│"),
        ],
    )
    repair_document(doc)
    assert [b.text for b in doc.blocks] == [  # type: ignore[union-attr]
        "青政办〔2024〕31号",
        "│6   │新增公共停车泊位5000个│",
        "│    │业单位停车资源错时共享│",
    ]


def test_traditional_document_keeps_mainland_words_and_converts_certain_taiwan_terms() -> None:
    # A traditional page: ordinary words the plan printed stay (OpenCC tw2sp would write 创建, 集成,
    # 运行, 数据); Taiwan-only terms with one certain mainland form are converted.
    doc = SourceDocument(
        "x.txt",
        "txt",
        [
            Paragraph("1.建立資料共享機制，整合各部門資源，執行情況按季度報送，支援基層開展工作。"),
            Paragraph("2.推進資訊化建設，升級軟體和硬體，建設網際網路平台和資料庫，最佳化網路環境。"),
            Paragraph("3.發展數位經濟，邀請數位專家指導，完善伺服器排程。（市工業和資訊化局負責）"),
        ],
    )
    repair_document(doc)
    text = "\n".join(b.text for b in doc.blocks)  # type: ignore[union-attr]
    assert doc.traditional
    for kept in ("建立资料共享机制", "整合各部门资源", "执行情况", "支援基层"):
        assert kept in text, kept
    for converted in ("信息化", "软件和硬件", "互联网平台", "数据库", "优化网络", "数字经济", "服务器调度"):
        assert converted in text, converted
    assert "数位专家" in text  # 数位 before a word for people means "several"
    assert "市工业和信息化局" in text


def test_to_simplified_text_is_character_wise_on_simplified_text() -> None:
    from qiantou.textnorm import to_simplified_text

    mainland = "建立健全工作机制，整合数据资源，执行到位，资料归档。"
    assert to_simplified_text(mainland) == mainland
