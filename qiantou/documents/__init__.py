"""Official-document output (公文): pure Python, no Django models.

- :mod:`qiantou.documents.official` — an issued plan as a GB/T 9704-2012 style document, as .docx
  (python-docx) and as PDF (WeasyPrint, Noto CJK fonts from Debian's fonts-noto-cjk as fallback);
- :mod:`qiantou.documents.tables` — generic tabular documents: .xlsx workbooks and a simple .docx
  with a title, paragraphs and a table (used for the disposition statement and version diffs).
"""

from qiantou.documents.official import OfficialDocument, official_docx, official_html, official_pdf
from qiantou.documents.tables import Sheet, TableDocument, table_docx, xlsx_bytes

__all__ = [
    "OfficialDocument",
    "Sheet",
    "TableDocument",
    "official_docx",
    "official_html",
    "official_pdf",
    "table_docx",
    "xlsx_bytes",
]
