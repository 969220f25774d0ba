"""Legacy formats through LibreOffice headless: ``.doc``/``.wps``/``.rtf``/``.odt`` → docx,
``.xls``/``.et``/``.ods`` → xlsx; and MHT (single-file web pages) → their HTML part.

Each conversion runs ``soffice --headless --convert-to`` in a private temporary directory with its
own user profile (``-env:UserInstallation``), so concurrent conversions do not share a profile lock,
under a timeout after which the whole process group is killed.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from qiantou.planparse.document import PlanFileError

__all__ = ["SOFFICE_TIMEOUT_SECONDS", "convert_with_soffice", "mht_html", "soffice_path"]

SOFFICE_TIMEOUT_SECONDS = 90


def soffice_path() -> str | None:
    """The LibreOffice binary (``$QIANTOU_SOFFICE``, ``soffice`` on PATH, or ``/usr/bin/soffice``)."""
    env = os.environ.get("QIANTOU_SOFFICE")
    if env:
        return env
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    return "/usr/bin/soffice" if Path("/usr/bin/soffice").exists() else None


def convert_with_soffice(data: bytes, filename: str, source_ext: str, target: str, what: str) -> bytes:
    """Convert ``data`` (a ``source_ext`` file) to ``target`` (``docx``/``xlsx``) and return the bytes.

    Raises :class:`PlanFileError` when LibreOffice is missing, times out, or cannot convert the file
    (damaged or password-protected).
    """
    binary = soffice_path()
    if binary is None:
        raise PlanFileError(
            filename, f"服务器未安装 LibreOffice，无法读取{what}，请另存为 .docx/.xlsx 后上传"
        )
    with tempfile.TemporaryDirectory(prefix="qiantou-soffice-") as tmp:
        tmpdir = Path(tmp)
        src = tmpdir / f"input{source_ext}"
        src.write_bytes(data)
        outdir = tmpdir / "out"
        outdir.mkdir()
        profile = tmpdir / "profile"
        cmd = [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--nofirststartwizard",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(src),
        ]
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
        env["HOME"] = str(tmpdir)
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            cwd=tmpdir,
            env=env,
            start_new_session=True,
        )
        try:
            proc.communicate(timeout=SOFFICE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            raise PlanFileError(
                filename, f"转换{what}超时（{SOFFICE_TIMEOUT_SECONDS} 秒），文件可能过大或已损坏"
            ) from exc
        outputs = list(outdir.glob(f"*.{target}"))
        if not outputs or outputs[0].stat().st_size == 0:
            raise PlanFileError(filename, f"无法转换{what}：文件可能已损坏或设置了密码")
        return outputs[0].read_bytes()


def mht_html(data: bytes, filename: str) -> tuple[bytes, str | None]:
    """The HTML part of an MHT (MIME ``multipart/related``) page and its declared charset."""
    try:
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception as exc:
        raise PlanFileError(filename, "单个文件网页（MHT）无法解析") from exc
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                return payload, part.get_content_charset()
    raise PlanFileError(filename, "单个文件网页（MHT）中没有网页正文")
