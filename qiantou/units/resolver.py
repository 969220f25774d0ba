"""The unit-name resolver: a printed unit name → a directory unit, a group, a generic party, or unknown.

Used by every part of the product that reads unit names (the plan importer, the data check, the API).
It never drops a name (``Resolution.printed`` is always the input, unchanged) and never invents a
unit: a name that is not in the directory comes back ``unknown`` with ranked candidates for a person
to pick from.

Pipeline (each stage only runs when the previous one found nothing):

1. **Generic parties** — 有关部门, 相关单位, 等有关部门, 其他有关单位 … (the 等-tails of a list) are
   ``generic``; the directory may list such a phrase as an alias of a group, which is then offered
   as a candidate but not chosen, because an importer keeps generic parties apart.
2. **Exact** — inline pinyin removed (``務(wù)``), Unicode NFKC, every bracket kind folded to ``()``,
   spaces removed; equal to a unit's full name (``exact``), a short name (``alias``) or a former
   name (``former_name``).
3. **simplified** — the same after traditional → simplified, character by character (OpenCC t2s).
4. **vocabulary** — the same after Taiwan vocabulary is reverted (OpenCC tw2sp, then 资讯 → 信息 in
   simplified script): ``市工業和資訊化局`` → 市工业和信息化局.
5. **prefix** — the city prefix added or removed: ``青山市X`` ↔ ``市X``, ``中共青山市委X`` ↔ ``市委X``
   (prefixes come from the top-level government units' names); ``variant`` — a glued 等, a role
   note (``市发展改革委（牵头）``) or enclosing brackets removed.
6. **fuzzy** — rapidfuzz ``ratio`` against every name, short name and former name. A fuzzy hit is
   accepted only when it is very close (≥ :data:`FUZZY_ACCEPT_SCORE`), unambiguous (the next unit
   scores at least :data:`FUZZY_ACCEPT_MARGIN` lower) and differs only in connective characters
   (和 与 及 暨 的 、 brackets) — ``市人力资源与社会保障局`` is accepted, but a changed content
   character never is: ``市农业农材局`` (one wrong character, ratio 83) and ``市市场监督局`` stay
   ``unknown`` with the directory entry as the top candidate, because a one-character difference is
   as often another unit (江滨街道 / 江北街道) as a typo. The thresholds were chosen from the labelled
   plans in ``tests/fixtures/cases/plans`` and the deliberately unknown names listed in
   ``tests/fixtures/cases/units/UNKNOWN.md`` (see ``tests/test_resolver.py``).

A match to an inactive unit is returned as ``unknown`` (method ``inactive``) with that unit as the
top candidate, so that no task is assigned to an abolished body without a person confirming it.

Speed: every name variant is one dict lookup over precomputed keys; rapidfuzz only runs on misses;
results are cached per resolver. See ``bench/resolver.py``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from qiantou.textnorm import fold_brackets, nfkc, revert_vocabulary, strip_pinyin, to_simplified

ResolutionKind = Literal["unit", "group", "generic", "unknown"]
Method = Literal[
    "exact", "alias", "former_name", "simplified", "vocabulary", "prefix", "variant", "fuzzy",
    "generic", "ambiguous", "inactive", "none",
]

#: A fuzzy hit at or above this rapidfuzz ratio (0–100) may be accepted (see the module docstring).
FUZZY_ACCEPT_SCORE = 90.0
#: …and only when the best other unit scores at least this much lower.
FUZZY_ACCEPT_MARGIN = 8.0
#: Candidates below this ratio are not offered. 市生长改造委 vs 市发展改革委 (a synonym-spun copy)
#: scores 50, and it is the entry a person should be shown.
CANDIDATE_MIN_SCORE = 45.0
#: How many candidates an unknown name carries.
CANDIDATE_LIMIT = 5

# Characters whose insertion, removal or exchange does not change which body a name denotes.
_CONNECTIVES = frozenset("和与及暨的、·()")
_EDGE_PUNCTUATION = " ，,、；;。.：:\"'“”‘’!！?？*＊"
_SPACE_RE = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
_GENERIC_LEAD_RE = re.compile(r"^(?:以及|等等|等|及|和|与|其他|其它|另外)+")
_GENERIC_RE = re.compile(
    r"^(有关|相关)?的?"
    r"(部门|单位|方面|机构|部门和单位|部门、单位|单位和部门|部门单位|职能部门|责任单位|成员单位|企业|企事业单位)$"
)
# 青山市人民政府 / 中共青山市委员会 → 青山市
# A role note after a name, "市发展改革委（牵头）", and a glued list tail, "市财政局等".
_ROLE_NOTE_RE = re.compile(r"\((?:[^()]*(?:牵头|配合|协办|主办|负责|第一|为主|参与)[^()]*)\)$")
_CITY_PREFIX_RE = re.compile(r"^(?:中共)?(.{1,10}?[省市县区州盟旗])(?:人民政府|委员会)$")
_TIER_METHOD: dict[int, Method] = {0: "exact", 1: "alias", 2: "former_name"}
_STAGE_CONFIDENCE: dict[str, float] = {
    "exact": 1.0, "alias": 1.0, "simplified": 1.0, "vocabulary": 0.98, "prefix": 0.97, "variant": 0.95,
}
_FORMER_NAME_CONFIDENCE = 0.95


@dataclass(frozen=True)
class UnitRecord:
    """What the resolver needs to know about one directory unit (no database required)."""

    code: str
    name: str
    kind: str = "bureau"
    short_names: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    id: int | None = None
    active: bool = True
    parent_code: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> UnitRecord:
        """Build from a dict with the directory's field names (lists or ``|``-separated strings)."""

        def as_tuple(value: Any) -> tuple[str, ...]:
            if not value:
                return ()
            if isinstance(value, str):
                return tuple(p.strip() for p in value.split("|") if p.strip())
            return tuple(str(v) for v in value if str(v).strip())

        active = data.get("active", True)
        if isinstance(active, str):
            active = active.strip().lower() not in {"0", "false", "no", "否", "无效"}
        return cls(
            code=str(data["code"]),
            name=str(data["name"]),
            kind=str(data.get("kind") or "bureau"),
            short_names=as_tuple(data.get("short_names")),
            former_names=as_tuple(data.get("former_names")),
            id=data.get("id"),
            active=bool(active),
            parent_code=data.get("parent_code") or None,
        )


class Candidate(NamedTuple):
    """A directory entry offered for a printed name: ``score`` is 0–1 (rapidfuzz ratio / 100)."""

    code: str
    name: str
    score: float


@dataclass(frozen=True)
class Resolution:
    """The resolver's answer for one printed name.

    ``printed`` is the input unchanged; ``normalized`` its canonical key (pinyin stripped, NFKC,
    simplified, brackets folded, no spaces). ``kind``: ``unit`` | ``group`` (a collective party such as
    市级各有关部门, never expanded) | ``generic`` (有关部门 …) | ``unknown``. ``unit_code``/``unit_id``/
    ``unit_name`` are set for ``unit`` and ``group`` only. ``confidence`` (0–1) is how sure the
    resolver is of ``kind`` and ``unit_code``; 0 for ``unknown``. ``method`` says which stage decided.
    ``candidates`` are ranked directory entries: the chosen unit first for a match, the closest
    entries for an unknown name (possibly none).
    """

    printed: str
    normalized: str
    kind: ResolutionKind
    method: Method
    confidence: float
    unit_code: str | None = None
    unit_id: int | None = None
    unit_name: str | None = None
    candidates: tuple[Candidate, ...] = field(default=())

    @property
    def matched(self) -> bool:
        """True when the name denotes one directory entry (a unit or a group)."""
        return self.kind in ("unit", "group")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (candidates as ``{"code", "name", "score"}`` objects)."""
        return {
            "printed": self.printed,
            "normalized": self.normalized,
            "kind": self.kind,
            "method": self.method,
            "confidence": self.confidence,
            "unit_code": self.unit_code,
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "candidates": [c._asdict() for c in self.candidates],
        }


def fold_name(text: str) -> str:
    """Formatting-only normalisation: pinyin stripped, NFKC, brackets folded, spaces and edge
    punctuation removed. No script conversion (that is a separate stage)."""
    key = _SPACE_RE.sub("", fold_brackets(nfkc(strip_pinyin(text))))
    key = key.strip(_EDGE_PUNCTUATION)
    # A bracket left open or closed by a split list: "(市财政局" / "市财政局)".
    if key.endswith(")") and "(" not in key:
        key = key.rstrip(")")
    if key.startswith("(") and ")" not in key:
        key = key.lstrip("(")
    return key


class _Hit(NamedTuple):
    unit: int  # index into the resolver's records
    tier: int  # 0 full name, 1 short name, 2 former name


class UnitResolver:
    """Resolves printed unit names against a directory given as :class:`UnitRecord` objects.

    ``UnitResolver(records)`` works without a database; :meth:`from_db` reads the ``Unit`` table.
    Thread-safe for reads; the result cache is bounded (``cache_size`` names).
    """

    def __init__(
        self,
        records: Iterable[UnitRecord | Mapping[str, Any]],
        *,
        prefixes: Sequence[str] | None = None,
        cache_size: int = 100_000,
    ) -> None:
        self.records: list[UnitRecord] = [
            r if isinstance(r, UnitRecord) else UnitRecord.from_mapping(r) for r in records
        ]
        self._by_code = {r.code: i for i, r in enumerate(self.records)}
        self._index: dict[str, list[_Hit]] = {}
        self._record_keys: list[tuple[str, ...]] = []
        for i, record in enumerate(self.records):
            keys: list[str] = []
            for tier, names in ((0, (record.name,)), (1, record.short_names), (2, record.former_names)):
                for name in names:
                    folded = fold_name(name)
                    for key in dict.fromkeys((folded, to_simplified(folded))):
                        if key:
                            self._add(key, _Hit(i, tier))
                            keys.append(key)
            self._record_keys.append(tuple(keys))
        self.prefixes: tuple[str, ...] = tuple(prefixes) if prefixes is not None else self._city_prefixes()
        # Fuzzy choices: every distinct key of an active unit once, with the active units it names.
        self._fuzzy_keys: list[str] = []
        self._fuzzy_units: list[tuple[int, ...]] = []
        for key, hits in self._index.items():
            units = tuple(dict.fromkeys(h.unit for h in hits if self.records[h.unit].active))
            if units:
                self._fuzzy_keys.append(key)
                self._fuzzy_units.append(units)
        self._cache: dict[str, Resolution] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _add(self, key: str, hit: _Hit) -> None:
        hits = self._index.setdefault(key, [])
        if hit not in hits:
            hits.append(hit)

    def _city_prefixes(self) -> tuple[str, ...]:
        found: list[str] = []
        for record in self.records:
            if record.kind == "government" and not record.parent_code:
                match = _CITY_PREFIX_RE.match(fold_name(record.name))
                if match and match.group(1) not in found:
                    found.append(match.group(1))
        return tuple(found)

    @classmethod
    def from_db(cls, queryset: Any = None) -> UnitResolver:
        """Build from the ``Unit`` table (all units, inactive included), or from ``queryset``."""
        from qiantou.units.models import Unit

        rows = (queryset if queryset is not None else Unit.objects.all()).values(
            "id", "code", "name", "kind", "short_names", "former_names", "active", "parent__code",
        )
        return cls(
            UnitRecord(
                code=row["code"], name=row["name"], kind=row["kind"],
                short_names=tuple(row["short_names"] or ()), former_names=tuple(row["former_names"] or ()),
                id=row["id"], active=row["active"], parent_code=row["parent__code"],
            )
            for row in rows
        )

    # --- public API ------------------------------------------------------------------------------

    def resolve(self, printed: str) -> Resolution:
        """Resolve one printed name (see the module docstring). Never raises for a str input."""
        cached = self._cache.get(printed)
        if cached is not None:
            return cached
        result = self._resolve(printed)
        with self._lock:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[printed] = result
        return result

    def resolve_many(self, names: Iterable[str]) -> list[Resolution]:
        """Resolve each name, in the given order (duplicates resolved once)."""
        return [self.resolve(name) for name in names]

    def clear_cache(self) -> None:
        """Forget cached results (benchmarks measure cold lookups this way)."""
        with self._lock:
            self._cache.clear()

    def search(self, text: str) -> list[UnitRecord]:
        """Records with a name, short name or former name containing ``text`` (both normalised),
        plus the record the resolver picks for ``text``; in directory order."""
        needle = to_simplified(fold_name(text))
        if not needle:
            return []
        found = {i for i, keys in enumerate(self._record_keys) if any(needle in key for key in keys)}
        resolution = self.resolve(text)
        if resolution.unit_code is not None:
            found.add(self._by_code[resolution.unit_code])
        return [self.records[i] for i in sorted(found)]

    def record(self, code: str) -> UnitRecord | None:
        """The record with this code, or None."""
        index = self._by_code.get(code)
        return self.records[index] if index is not None else None

    # --- stages ----------------------------------------------------------------------------------

    def _resolve(self, printed: str) -> Resolution:
        folded = fold_name(printed)
        simplified = to_simplified(folded)
        if not simplified:
            return Resolution(printed, simplified, "unknown", "none", 0.0)

        generic = self._generic(printed, simplified)
        if generic is not None:
            return generic

        stages: list[tuple[str, str]] = [("exact", folded), ("simplified", simplified)]
        for stage, key in stages:
            hits = self._index.get(key)
            if hits:
                return self._from_hits(printed, simplified, hits, stage)
        # Only now the (slower, riskier) vocabulary conversion: 執行 would become 运行 on a hit above.
        vocabulary = revert_vocabulary(to_simplified(folded, vocabulary=True))
        if vocabulary != simplified:
            stages.append(("vocabulary", vocabulary))
            hits = self._index.get(vocabulary)
            if hits:
                return self._from_hits(printed, simplified, hits, "vocabulary")

        bases = list(dict.fromkeys(key for _stage, key in stages))
        for base in bases:
            for variant in self._prefix_variants(base):
                hits = self._index.get(variant)
                if hits:
                    return self._from_hits(printed, simplified, hits, "prefix")
        for base in bases:
            for trimmed in _trimmed(base):
                for variant in (trimmed, *self._prefix_variants(trimmed)):
                    hits = self._index.get(variant)
                    if hits:
                        return self._from_hits(printed, simplified, hits, "variant")

        return self._fuzzy(printed, simplified, bases)

    def _generic(self, printed: str, simplified: str) -> Resolution | None:
        stripped = _GENERIC_LEAD_RE.sub("", simplified)
        match = _GENERIC_RE.match(stripped)
        if not match or not (match.group(1) or stripped != simplified):
            return None
        # The directory may carry the phrase as an alias of a group: offer it, do not choose it.
        candidates = tuple(
            Candidate(self.records[hit.unit].code, self.records[hit.unit].name, 1.0)
            for hit in self._index.get(stripped, ()) if self.records[hit.unit].active
        )
        return Resolution(printed, simplified, "generic", "generic", 1.0, candidates=candidates)

    def _prefix_variants(self, key: str) -> list[str]:
        variants: list[str] = []
        for prefix in self.prefixes:
            party = "中共" + prefix
            if key.startswith(party):
                variants.append("市" + key[len(party):])  # 中共青山市委组织部 → 市委组织部
            if key.startswith(prefix) and len(key) > len(prefix):
                rest = key[len(prefix):]
                variants.append(prefix[-1] + rest)  # 青山市发改委 → 市发改委
                variants.append(rest)  # 青山市委 → 委 is filtered by length below
            if key.startswith(prefix[-1]) and not key.startswith(prefix):
                rest = key[1:]
                variants.append(prefix + rest)  # 市城乡建设局 → 青山市城乡建设局
                if rest.startswith("委"):
                    variants.append(party + rest)  # 市委办公室 → 中共青山市委办公室
        return [v for v in variants if len(v) >= 2 and v != key]

    def _from_hits(self, printed: str, normalized: str, hits: list[_Hit], stage: str) -> Resolution:
        active = [h for h in hits if self.records[h.unit].active]
        if not active:
            candidates = self._candidates_for(h.unit for h in sorted(hits, key=lambda h: h.tier))
            return Resolution(printed, normalized, "unknown", "inactive", 0.0, candidates=candidates)
        best_tier = min(h.tier for h in active)
        units = list(dict.fromkeys(h.unit for h in active if h.tier == best_tier))
        if len(units) > 1:
            # Two units share this name or alias: a person must choose.
            return Resolution(printed, normalized, "unknown", "ambiguous", 0.0,
                              candidates=self._candidates_for(units))
        record = self.records[units[0]]
        if best_tier == 2:
            method: Method = "former_name"
            confidence = _FORMER_NAME_CONFIDENCE
        elif stage == "exact":
            method = _TIER_METHOD[best_tier]
            confidence = 1.0
        else:
            method = stage  # type: ignore[assignment]
            confidence = _STAGE_CONFIDENCE[stage]
        return self._matched(printed, normalized, record, method, confidence)

    def _matched(
        self, printed: str, normalized: str, record: UnitRecord, method: Method, confidence: float,
    ) -> Resolution:
        kind: ResolutionKind = "group" if record.kind == "group" else "unit"
        return Resolution(
            printed, normalized, kind, method, confidence,
            unit_code=record.code, unit_id=record.id, unit_name=record.name,
            candidates=(Candidate(record.code, record.name, confidence),),
        )

    def _candidates_for(self, units: Iterable[int], score: float = 1.0) -> tuple[Candidate, ...]:
        seen = list(dict.fromkeys(units))
        return tuple(Candidate(self.records[u].code, self.records[u].name, score) for u in seen)

    def _fuzzy(self, printed: str, normalized: str, bases: list[str]) -> Resolution:
        best: dict[int, tuple[float, str, str]] = {}  # unit → (score, query, key)
        for query in bases:
            for key, score, index in process.extract(
                query, self._fuzzy_keys, scorer=fuzz.ratio, limit=3 * CANDIDATE_LIMIT,
                score_cutoff=CANDIDATE_MIN_SCORE,
            ):
                for unit in self._fuzzy_units[index]:
                    known = best.get(unit)
                    if known is None or score > known[0]:
                        best[unit] = (score, query, key)
        if not best:
            return Resolution(printed, normalized, "unknown", "none", 0.0)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], self.records[item[0]].code))
        candidates = tuple(
            Candidate(self.records[u].code, self.records[u].name, round(s[0] / 100, 4))
            for u, s in ranked[:CANDIDATE_LIMIT]
        )
        unit, (score, query, key) = ranked[0]
        runner_up = ranked[1][1][0] if len(ranked) > 1 else 0.0
        if (
            score >= FUZZY_ACCEPT_SCORE
            and score - runner_up >= FUZZY_ACCEPT_MARGIN
            and _only_connectives_differ(query, key)
        ):
            record = self.records[unit]
            return Resolution(
                printed, normalized, "group" if record.kind == "group" else "unit", "fuzzy",
                round(score / 100, 4), record.code, record.id, record.name, candidates,
            )
        return Resolution(printed, normalized, "unknown", "fuzzy", 0.0, candidates=candidates)


def _trimmed(key: str) -> list[str]:
    """Forms of ``key`` without a trailing role note, a glued 等, or enclosing brackets."""
    forms: list[str] = []
    current = key
    note = _ROLE_NOTE_RE.search(current)
    if note and note.start() >= 2:
        current = current[: note.start()]
        forms.append(current)
    if len(current) > 2 and current.endswith("等"):
        current = current[:-1]
        forms.append(current)
    if len(current) > 2 and current.startswith("(") and current.endswith(")") and current.count("(") == 1:
        forms.append(current[1:-1])
    return forms


def _only_connectives_differ(query: str, key: str) -> bool:
    """True when every edit turning ``query`` into ``key`` inserts, removes or swaps a connective."""
    for op in Levenshtein.editops(query, key):
        if op.tag == "replace":
            if query[op.src_pos] not in _CONNECTIVES or key[op.dest_pos] not in _CONNECTIVES:
                return False
        elif op.tag == "insert":
            if key[op.dest_pos] not in _CONNECTIVES:
                return False
        elif op.tag == "delete" and query[op.src_pos] not in _CONNECTIVES:
            return False
    return True


# --- the process-wide resolver over the database ----------------------------------------------------

_shared: tuple[tuple[Any, ...], UnitResolver] | None = None
_shared_lock = threading.Lock()


def get_resolver() -> UnitResolver:
    """The resolver over the ``Unit`` table, rebuilt when the directory changed (any process).

    One cheap query per call — ``(count, max(updated_at), max(id))`` — detects a change; the resolver
    (and its cache) is rebuilt only then.
    """
    global _shared
    from django.db.models import Count, Max

    from qiantou.units.models import Unit

    stamp = Unit.objects.aggregate(n=Count("id"), changed=Max("updated_at"), top=Max("id"))
    fingerprint = (stamp["n"], stamp["changed"], stamp["top"])
    current = _shared
    if current is not None and current[0] == fingerprint:
        return current[1]
    with _shared_lock:
        resolver = UnitResolver.from_db()
        _shared = (fingerprint, resolver)
    return resolver


def resolve(printed: str) -> Resolution:
    """Resolve one name against the database directory (shortcut for ``get_resolver().resolve``)."""
    return get_resolver().resolve(printed)
