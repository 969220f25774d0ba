"""Plan parsing: published task-division plans (Word, Excel, PDF, HTML, text) → tasks.

Pure Python, no Django. Two stages meet at :class:`~qiantou.planparse.document.SourceDocument`:

* ``readers`` turn bytes into a ``SourceDocument`` (type sniffed from content, encodings and
  mojibake repaired, page noise removed, tables with merged cells filled);
* ``parser`` turns a ``SourceDocument`` into a :class:`~qiantou.planparse.document.ParsedPlan`
  (numbering tree, attributions, lead rule, deadlines).
"""
