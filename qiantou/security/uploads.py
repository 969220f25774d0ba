"""The floor every upload passes, whatever the view: no executables or scripts (by name or by content).

Each view then sniffs the type it expects from the content and refuses a file whose name claims
another, with its own message in its own form (``qiantou.chasing.uploads``, ``qiantou.planparse.readers``,
``qiantou.matching.files``); this floor catches what any of them might forget.
"""

from __future__ import annotations

import os

from django.utils.translation import gettext as _

#: How many leading bytes :func:`check_upload` looks at.
SNIFF_BYTES = 4096

_EXECUTABLE_MAGIC = (
    b"\x7fELF",  # Linux
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O, Java class
    b"#!",  # shell/python scripts
)
_EXECUTABLE_EXTENSIONS = frozenset(
    ".exe .dll .com .scr .msi .bat .cmd .ps1 .vbs .vbe .js .jse .wsf .hta .sh .jar .apk .elf .so".split()
)


def check_upload(name: str, head: bytes) -> str | None:
    """Why upload ``name`` starting with ``head`` is refused (a Chinese message); None if it may pass."""
    ext = os.path.splitext(name or "")[1].lower()
    if ext in _EXECUTABLE_EXTENSIONS or head.startswith(_EXECUTABLE_MAGIC) or _windows_program(head):
        return _("文件“%(name)s”是可执行程序或脚本，不允许上传。") % {"name": name}
    return None


def _windows_program(head: bytes) -> bool:
    """A DOS/Windows program: ``MZ`` and the PE signature or the DOS stub (not just a text starting "MZ")."""
    return head.startswith(b"MZ") and (b"PE\x00\x00" in head[:1024] or b"DOS mode" in head[:512])
