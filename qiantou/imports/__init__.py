"""The web import flow: upload a published plan → preview → resolve unknown units → confirm (issue 3).

The parsing lives in :mod:`qiantou.planparse`, the atomic write in
:func:`qiantou.plans.importing.plan_import`; this app keeps the uploaded file between the steps
(:class:`~qiantou.imports.models.ImportUpload`) and serves the pages.
"""
