"""Bad input is refused with a clear Chinese reason (PlanFileError), never a traceback."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from qiantou.planparse.document import PlanFileError
from qiantou.planparse.readers import read_document, read_path, read_upload
from qiantou.planparse.readers.limits import MAX_ZIP_UNCOMPRESSED_BYTES
from qiantou.planparse.readers.sniff import OLE2_MAGIC

PLANS = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "cases" / "plans"


def _refused(data: bytes, name: str, *words: str) -> PlanFileError:
    with pytest.raises(PlanFileError) as info:
        read_document(data, name)
    err = info.value
    assert err.filename == name
    for word in words:
        assert word in err.reason, err.reason
    return err


def test_empty_file() -> None:
    _refused(b"", "plan.docx", "文件为空")


def test_unknown_binary() -> None:
    _refused(bytes(range(256)) * 20, "plan.bin", "不支持的文件类型")


def test_powerpoint_is_unsupported() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("ppt/presentation.xml", "<p:presentation/>")
    _refused(buf.getvalue(), "plan.pptx", "不支持的文件类型", "PowerPoint")


@pytest.mark.parametrize("name", ["dev08-wenming-block.docx", "dev11-minsheng-taizhang.xlsx"])
def test_truncated_office_file(name: str) -> None:
    data = (PLANS / name).read_bytes()
    _refused(data[: len(data) // 2], name, "损坏")


def test_corrupt_xml_inside_docx() -> None:
    src = zipfile.ZipFile(io.BytesIO((PLANS / "dev08-wenming-block.docx").read_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = data[: len(data) // 2]
            zf.writestr(info, data)
    _refused(buf.getvalue(), "plan.docx", "损坏")


@pytest.mark.parametrize("cut", [0.5, 0.1])
def test_truncated_pdf(cut: float) -> None:
    data = (PLANS / "dev13-anquan-table.pdf").read_bytes()
    _refused(data[: int(len(data) * cut)], "plan.pdf")


def test_garbage_after_pdf_header() -> None:
    _refused(b"%PDF-1.7\n" + bytes(range(256)) * 50, "plan.pdf")


def _pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R ".encode() + trailer_extra + b" >>\n"
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_encrypted_pdf() -> None:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>",
    ]
    data = _pdf(objects, b"/Encrypt 4 0 R /ID [<" + b"ab" * 16 + b"> <" + b"ab" * 16 + b">]")
    _refused(data, "plan.pdf", "加密")


def test_scanned_pdf_without_text_layer() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buf, "PDF")
    _refused(buf.getvalue(), "scan.pdf", "扫描件")


def test_word_binary_served_as_html_is_read_as_word() -> None:
    data = (PLANS / "dev14-gongxiaoshe-legacy.doc").read_bytes()
    doc = read_document(data, "plan.html")
    assert doc.kind == "doc"
    assert any("扩展名" in w for w in doc.warnings)


def test_wrong_extension_read_by_content() -> None:
    data = (PLANS / "dev11-minsheng-taizhang.xlsx").read_bytes()
    doc = read_document(data, "plan.docx")
    assert doc.kind == "xlsx"
    assert any("扩展名" in w for w in doc.warnings)


def test_password_protected_office_file() -> None:
    fake = OLE2_MAGIC + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64
    fake += "EncryptedPackage".encode("utf-16-le") + b"\x00" * 1024
    _refused(fake, "plan.docx", "密码")


def test_zip_bomb_declared_size() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"<w:document/>")
        with zf.open("word/media/fill.bin", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(MAX_ZIP_UNCOMPRESSED_BYTES // len(chunk) + 2):
                member.write(chunk)
    assert len(buf.getvalue()) < 1_000_000  # a small file…
    _refused(buf.getvalue(), "bomb.docx", "压缩炸弹")  # …that would expand past the cap


def test_zip_bomb_lying_about_its_size() -> None:
    """Declared sizes are small, the data expands far beyond them: decompression stops, file refused."""
    buf = io.BytesIO()
    size = MAX_ZIP_UNCOMPRESSED_BYTES + (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * size)
    raw = bytearray(buf.getvalue())
    # rewrite the uncompressed size of word/document.xml to 1 KB in the local and central headers
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = 0
        while (pos := raw.find(sig, pos)) >= 0:
            if struct.unpack_from("<I", raw, pos + offset)[0] == size:
                struct.pack_into("<I", raw, pos + offset, 1024)
            pos += 4
    started = time.monotonic()
    _refused(bytes(raw), "bomb.docx")
    assert time.monotonic() - started < 10


def test_file_over_the_configured_limit(settings) -> None:  # type: ignore[no-untyped-def]
    settings.QIANTOU_MAX_UPLOAD_BYTES = 10_000
    _refused(b"a" * 10_001, "plan.txt", "文件过大")
    assert read_document("青山市任务分工".encode() * 10, "plan.txt").blocks


class _CountingStream(io.RawIOBase):
    """An endless upload that counts what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def,override]
        n = len(b)
        b[:n] = b"x" * n
        self.read_bytes += n
        return n


def test_oversized_upload_refused_before_reading_it_fully() -> None:
    stream = _CountingStream()
    with pytest.raises(PlanFileError, match="文件过大"):
        read_upload(stream, "big.txt")  # type: ignore[arg-type]
    assert stream.read_bytes <= 62 * 1024 * 1024  # stopped just past the 60 MB default

    stream = _CountingStream()
    with pytest.raises(PlanFileError, match="文件过大"):
        read_upload(stream, "big.txt", size=200 * 1024 * 1024)  # type: ignore[arg-type]
    assert stream.read_bytes == 0  # the declared size alone refused it


def test_200_mb_file_on_disk_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: costs no disk, but stat() says 200 MB
    started = time.monotonic()
    with pytest.raises(PlanFileError, match="文件过大"):
        read_path(path)
    assert time.monotonic() - started < 1


def test_text_that_is_not_text() -> None:
    _refused(b"\x01\x02\x03\x04" * 1000, "plan.txt", "不支持")
