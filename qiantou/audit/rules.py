"""Who may read the accountability record (django-rules).

``audit.view_events``: the auditor (审计/巡察), the supervision office (督查室) and the security auditor
(安全审计员) read the whole record and its verification; nobody writes it except through services.
Everyone else sees only the trail of an object they may see (checked by that object's selectors).
The predicate lives with the shared role predicates in ``qiantou.accounts.rules``; whichever module
loads first registers the permission.
"""

from __future__ import annotations

import rules

from qiantou.accounts.rules import is_event_reader

if not rules.perm_exists("audit.view_events"):
    rules.add_perm("audit.view_events", is_event_reader)
