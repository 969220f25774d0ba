"""Lead-unit suggestion (issue 7, item 1): rank directory units by how well their mandate (三定职责)
covers a task's text, with the evidence.

How a task text is scored against each unit (no rule is specific to any one plan or directory):

1. **Normalisation** — inline pinyin removed, NFKC, traditional → simplified (with Taiwan vocabulary
   reverted when the text is mostly traditional), so 「低收入人口」 and 「低收入人口」 read alike.
2. **Segmentation** — jieba (a private ``Tokenizer``, so the process-wide jieba is not changed) with a
   user dictionary of every unit's name and short names (without the city prefix, so 民政局 and
   发展改革委 stay whole), the policy vocabulary of :mod:`qiantou.allocation.vocabulary` and the terms
   of the government-function lexicon; ``cut_for_search`` also yields the parts of long words. Stop
   words (工作, 推进, 全市 …) dropped; abbreviations (低保 → 最低生活保障) expanded.
3. **Mandate channels** — BM25 over "documents" made of each unit's mandate plus its names: words;
   character bigrams and trigrams of the Han runs (which catch shared morphemes jieba cut
   differently: 燃气管网 / 城镇燃气); and verbatim shared runs of three or more characters
   ("phrases"). Each channel is normalised by its best unit so channels can be mixed.
4. **Government-function lexicon** (:mod:`qiantou.allocation.domains`) — the everyday vocabulary of
   each functional domain of a municipal government (住建: 老旧小区, 加装电梯, 易涝积水点 …; 卫健: 托育,
   普惠托位 …), which short mandates do not spell out. A unit holds a domain when a domain marker is
   in its name (住房和城乡建设 → 住建), or in part when its mandate uses the domain's terms; the task's
   domain terms score the units holding their domains.
5. **Named in the text** — a unit whose full or short name appears in the task text itself
   ("由市供销社会同…负责", "建立由市工商联牵头的…") gets a boost: the text says who does it.
   A name mentioned only as a data source ("归集民政、人社…数据") is not a unit name and does not count.
6. **History** — the texts of tasks that stored plans gave each unit to lead (the plan being shown
   left out), as one more BM25 channel: how this administration divides its work.
7. **Committee office or its host** — a committee office whose mandate says it is 设在 a bureau
   (安委办 设在应急管理局, 爱卫办 设在卫生健康委) shares that bureau's domain: the host takes over the
   office's domains too. When both are in the running, the office is ranked above its host when the
   task carries words of the office's coordinating role (考核, 督导, 调度, 通报, 迎检, 复审, 创建 …), and
   the host above the office otherwise (operational work is the bureau's).
8. **Exclusions** — collective parties (``group``: 市级各有关部门 …) are never suggested; the
   top-level government and party committee (``government`` with no parent: 市人民政府, 市委) are
   only suggested when no other unit scores at all. Reason, from the data: their mandates
   ("领导…依法管理全市经济、社会事务") overlap every task, yet a task-division plan issued by the
   government assigns the work to its departments; in the 14 labelled plans not one task is led by
   the top-level government or party committee. Inactive (abolished) units are never suggested.

Evidence: for each suggestion the task terms that matched (mandate words and phrases, and lexicon
terms), the functional domains they belong to, and the mandate phrases (clauses between punctuation)
that contain the matched words.

Accuracy: ``bench/lead_suggestion.py`` scores top-1/top-3 against the labelled fixtures, with each
channel switched off in turn and with leave-one-plan-out tuning of the channel weights.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qiantou.allocation.domains import DomainLexicon, default_lexicon
from qiantou.allocation.vocabulary import ABBREVIATIONS, POLICY_TERMS, STOPWORDS
from qiantou.textnorm import is_mostly_traditional, nfkc, strip_pinyin, to_simplified

__all__ = [
    "DEFAULT_WEIGHTS",
    "LeadSuggester",
    "Suggestion",
    "UnitProfile",
    "Weights",
    "get_suggester",
    "lead_differs",
    "normalize_text",
    "suggest_lead_units",
]

#: BM25 parameters (Robertson & Zaragoza 2009 defaults for k1; a low b because mandates are all
#: about the same length and a longer mandate is not a less specific one).
BM25_K1 = 1.2
BM25_B = 0.4
#: Segment with jieba's search mode (long words and their parts) rather than the accurate mode.
SEARCH_MODE = True
PHRASE_MIN = 3
PHRASE_MAX = 10
#: Prior by kind of unit: a city-level plan assigns work to departments; a district or township leads
#: only a task in its own territory, which the text then usually names (and the named boost lifts).
KIND_PRIOR = {"district": 0.6, "township": 0.4}
#: How many mandate phrases and task terms a suggestion carries as evidence.
EVIDENCE_LIMIT = 4
#: An office and its host are "both in the running" when the lower of the two scores at least this
#: share of the higher (see rule 7 of the module docstring).
OFFICE_HOST_RELEVANCE = 0.5


@dataclass(frozen=True)
class Weights:
    """Weights of the channels against the word channel (1.0).

    Chosen on the labelled fixtures by ``bench/lead_suggestion.py --tune`` over a small grid, with
    leave-one-plan-out evaluation of that choice; they are the only numbers fitted to the fixtures.
    """

    word: float = 1.0
    bigram: float = 1.0
    #: character trigrams: measured, no gain over bigrams + phrases on the fixtures (kept at 0)
    trigram: float = 0.0
    phrase: float = 0.5
    #: the government-function lexicon channel (leave-one-plan-out tuning chose 6 in 12 of 14 folds,
    #: 4 in the other 2)
    domain: float = 6.0
    #: how much a domain the unit holds only through its mandate's terms counts (name markers: 1)
    mandate_domain: float = 0.25
    history: float = 1.0
    #: boost, relative to the best score, for a unit named in the task text
    named: float = 0.8
    #: apply the committee-office-or-host rule
    office_host: bool = True
    #: prior of enterprises (state-owned companies, telecoms, banks) against departments: a city
    #: plan gives the lead to a department; an enterprise leads its own service, and is then usually
    #: named in the text (which the named boost lifts)
    enterprise: float = 0.6

    def replace(self, **changes: Any) -> Weights:
        """A copy with some weights changed."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return Weights(**values)


DEFAULT_WEIGHTS = Weights()

_HAN_RUN_RE = re.compile(r"[\u3400-\u9fff]+")
_CLAUSE_SPLIT_RE = re.compile(r"[，。；;,.、：:！？!?\n]+")
_CITY_NAME_RE = re.compile(r"^(?:中共)?(.{1,10}?[省市县区州盟旗])(?:人民政府|委员会)$")
_SUFFIX_RE = re.compile(r"(?:局|委|办|部|厅|会|中心|室|队|社|行|院|所|公司|集团|支队|分局|分行)$")
#: "设在市应急管理局" / "办公室设在市卫生健康委": the office's host, up to the end of the clause.
_HOSTED_RE = re.compile(r"设在([^，。；;,.、]{2,30})")


def normalize_text(text: str) -> str:
    """Task or mandate text as the scorer reads it: pinyin stripped, NFKC, simplified script."""
    text = nfkc(strip_pinyin(text or ""))
    return to_simplified(text, vocabulary=is_mostly_traditional(text))


@dataclass(frozen=True)
class UnitProfile:
    """What the suggester needs to know about one unit (no database required)."""

    code: str
    name: str
    kind: str = "bureau"
    short_names: tuple[str, ...] = ()
    mandate: str = ""
    id: int | None = None
    active: bool = True
    parent_code: str | None = None

    @property
    def is_top_level_government(self) -> bool:
        """The city government or party committee itself (``government`` with no parent)."""
        return self.kind == "government" and not self.parent_code


@dataclass(frozen=True)
class Suggestion:
    """One ranked unit. ``score`` is relative (the best unit of the query is about 1.0).

    ``matched_terms``: task words found in the unit's mandate or names, or in the lexicon of a
    domain the unit holds; ``mandate_phrases``: the mandate clauses holding them; ``domains``: the
    names of those functional domains; ``named_in_text``: the task text names this unit itself;
    ``coordination``: the coordinating-role words that ranked a committee office above its host.
    """

    unit_id: int | None
    code: str
    name: str
    score: float
    matched_terms: tuple[str, ...] = ()
    mandate_phrases: tuple[str, ...] = ()
    named_in_text: bool = False
    fallback: bool = False  # a top-level government unit offered because nothing else fitted
    domains: tuple[str, ...] = ()
    coordination: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for the API."""
        return {
            "unit_id": self.unit_id,
            "code": self.code,
            "name": self.name,
            "score": round(self.score, 4),
            "matched_terms": list(self.matched_terms),
            "mandate_phrases": list(self.mandate_phrases),
            "named_in_text": self.named_in_text,
            "fallback": self.fallback,
            "domains": list(self.domains),
            "coordination": list(self.coordination),
        }


@dataclass
class Channels:
    """Every unit's raw score on each channel for one text (before weighting), and the evidence."""

    word: list[float]
    bigram: list[float]
    trigram: list[float]
    phrase: list[float]
    domain_name: list[float]
    domain_mandate: list[float]
    history: list[float]
    named: set[int]
    coordination: list[str]
    parts: list[dict[str, float]]
    domain_terms: list[dict[str, float]]
    unit_domains: list[list[int]]


def _ngrams(run: str) -> Iterable[str]:
    for n in range(PHRASE_MIN, PHRASE_MAX + 1):
        for i in range(len(run) - n + 1):
            yield run[i : i + n]


def _char_ngrams(text: str, n: int) -> list[str]:
    out: list[str] = []
    for run in _HAN_RUN_RE.findall(text):
        out.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return out


def _bigrams(text: str) -> list[str]:
    return _char_ngrams(text, 2)


def _normalised(values: list[float]) -> list[float]:
    best = max(values, default=0.0)
    return [v / best for v in values] if best > 0 else values


@dataclass
class _Bm25:
    """A tiny BM25 index over a fixed list of token lists."""

    docs: list[Counter[str]]
    idf: dict[str, float] = field(default_factory=dict)
    norms: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.docs)
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        # BM25+ style idf that stays positive for a term in most documents.
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        lengths = [sum(d.values()) for d in self.docs]
        avg = (sum(lengths) / n) if n else 1.0
        self.norms = [BM25_K1 * (1 - BM25_B + BM25_B * length / (avg or 1.0)) for length in lengths]

    def score(
        self, query: Counter[str], overrides: dict[int, Counter[str]] | None = None
    ) -> tuple[list[float], list[dict[str, float]]]:
        """Per document: the score and each query term's contribution (``overrides`` replace documents)."""
        docs = self.docs if not overrides else [overrides.get(i, d) for i, d in enumerate(self.docs)]
        scores = [0.0] * len(docs)
        parts: list[dict[str, float]] = [{} for _ in docs]
        for term, qtf in query.items():
            idf = self.idf.get(term)
            if idf is None:
                continue
            weight = idf * (1 + math.log(qtf))
            for i, doc in enumerate(docs):
                tf = doc.get(term)
                if tf:
                    contribution = weight * tf * (BM25_K1 + 1) / (tf + self.norms[i])
                    scores[i] += contribution
                    parts[i][term] = contribution
        return scores, parts


_jieba_base: Any = None
_jieba_lock = threading.Lock()


def _new_tokenizer() -> Any:
    """A private jieba ``Tokenizer`` with the general dictionary, loaded once per process and copied
    (loading it takes seconds; a copy of the frequency table, tens of milliseconds)."""
    global _jieba_base
    import jieba

    with _jieba_lock:
        if _jieba_base is None:
            base = jieba.Tokenizer()
            base.initialize()
            _jieba_base = base
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(_jieba_base.FREQ)
    tokenizer.total = _jieba_base.total
    tokenizer.initialized = True
    return tokenizer


class LeadSuggester:
    """Ranks units for a task text (see the module docstring). Thread-safe for reads."""

    def __init__(
        self,
        units: Iterable[UnitProfile],
        history: Iterable[tuple[Any, str, str]] = (),
        *,
        weights: Weights = DEFAULT_WEIGHTS,
        lexicon: DomainLexicon | None = None,
    ) -> None:
        """``units``: the directory; ``history``: ``(plan key, lead unit code, task text)`` of tasks
        stored plans assigned to a single lead unit — how this administration divides its work;
        ``weights``: the channel weights; ``lexicon``: the government-function lexicon (default:
        the shipped ``data/domains.toml``)."""
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.weights = weights
        self.lexicon = lexicon if lexicon is not None else default_lexicon()
        all_units = list(units)
        self.units: list[UnitProfile] = [u for u in all_units if u.active and u.kind != "group"]
        self.city_prefixes = self._city_prefixes(all_units)
        self._stop = STOPWORDS | set(self.city_prefixes) | {p.rstrip("市县区") for p in self.city_prefixes}
        self._lock = threading.Lock()
        self._tokenizer = _new_tokenizer()
        words: set[str] = set(POLICY_TERMS) | set(ABBREVIATIONS) | set(ABBREVIATIONS.values())
        words.update(t for t in self.lexicon.term_domains if len(t) >= 3)
        self._names: list[list[str]] = []
        for unit in self.units:
            names = [normalize_text(n) for n in (unit.name, *unit.short_names)]
            self._names.append(names)
            for name in names:
                words.add(name)
                words.update(self._core_names(name))
        for word in sorted(words):
            if len(word) >= 2:
                self._tokenizer.add_word(word, freq=2000)
        self._mandates = [normalize_text(u.mandate) for u in self.units]
        word_docs: list[Counter[str]] = []
        bigram_docs: list[Counter[str]] = []
        trigram_docs: list[Counter[str]] = []
        for unit_names, mandate in zip(self._names, self._mandates, strict=True):
            stems = list(dict.fromkeys(self._core_names(n)[-1] for n in unit_names))
            name_words = [w for stem in stems for w in self._name_words(stem)]
            word_docs.append(Counter(self._words(mandate) + name_words))
            bigram_docs.append(Counter(_bigrams(mandate) + [b for stem in stems for b in _bigrams(stem)]))
            trigram_docs.append(Counter(_char_ngrams(mandate, 3)))
        self._phrase_df: Counter[str] = Counter()
        self._phrase_sets: list[set[str]] = []
        for mandate in self._mandates:
            grams = {g for run in _HAN_RUN_RE.findall(mandate) for g in _ngrams(run)}
            self._phrase_sets.append(grams)
            self._phrase_df.update(grams)
        self._word_index = _Bm25(word_docs)
        self._bigram_index = _Bm25(bigram_docs)
        self._trigram_index = _Bm25(trigram_docs)
        by_code = {u.code: i for i, u in enumerate(self.units)}
        self._history_by_plan: dict[Any, dict[int, Counter[str]]] = {}
        history_docs: list[Counter[str]] = [Counter() for _ in self.units]
        for plan_key, code, text in history:
            i = by_code.get(code)
            if i is None:
                continue
            counted = Counter(self._words(normalize_text(text)))
            history_docs[i].update(counted)
            self._history_by_plan.setdefault(plan_key, {}).setdefault(i, Counter()).update(counted)
        self._history_index = _Bm25(history_docs) if any(history_docs) else None
        # Names to look for in a task text, longest first; only names that look like a body's
        # name (end in 局/委/办/中心 …) so that 民政, 教育 in prose are not taken for a unit.
        mentions: list[tuple[str, int]] = []
        for i, unit_names in enumerate(self._names):
            for name in unit_names:
                if len(name) >= 3 and _SUFFIX_RE.search(name):
                    mentions.append((name, i))
        self._mentions = sorted(set(mentions), key=lambda m: -len(m[0]))
        self._build_domains()

    def _build_domains(self) -> None:
        """Each unit's functional domains (by name, by mandate) and the office → host pairs."""
        lexicon = self.lexicon
        self._name_domains: list[set[int]] = []
        self._mandate_domains: list[dict[int, float]] = []
        for unit_names, mandate in zip(self._names, self._mandates, strict=True):
            cores = [c for n in unit_names for c in self._core_names(n)]
            self._name_domains.append(lexicon.name_domains(cores))
            self._mandate_domains.append(lexicon.mandate_domains(mandate))
        #: (office index, host index): the office's mandate says it is 设在 the host.
        self.office_hosts: list[tuple[int, int]] = []
        by_core: dict[str, set[int]] = {}
        for i, unit_names in enumerate(self._names):
            for name in unit_names:
                by_core.setdefault(self._core_names(name)[0], set()).add(i)
        for i, mandate in enumerate(self._mandates):
            for match in _HOSTED_RE.finditer(mandate):
                phrase = match.group(1).replace(" ", "")
                # 设在市应急管理局: by a listed name, else by the name without the city prefix
                hosts = (self.named_units(phrase) or by_core.get(self._core_names(phrase)[0], set())) - {i}
                if len(hosts) == 1:
                    self.office_hosts.append((i, hosts.pop()))
                    break
        for office, host in self.office_hosts:
            # The host bureau does the office's work on the ground: it holds the office's domains.
            self._name_domains[host] |= self._name_domains[office]

    @staticmethod
    def _city_prefixes(units: Sequence[UnitProfile]) -> tuple[str, ...]:
        found: list[str] = []
        for unit in units:
            if unit.is_top_level_government:
                match = _CITY_NAME_RE.match(normalize_text(unit.name).replace(" ", ""))
                if match and match.group(1) not in found:
                    found.append(match.group(1))
        return tuple(found)

    def _core_names(self, name: str) -> list[str]:
        """A name with the city prefix (青山市 / 市 / 中共…市委) removed: 市民政局 → 民政局, 民政."""
        core = name
        for prefix in (*self.city_prefixes, "中共", "市委", "市"):
            if core.startswith(prefix) and len(core) > len(prefix) + 1:
                core = core[len(prefix) :]
        out = [core]
        stem = _SUFFIX_RE.sub("", core)
        if len(stem) >= 2 and stem != core:
            out.append(stem)
        return out

    def _words(self, text: str) -> list[str]:
        with self._lock:
            pieces = list(
                self._tokenizer.cut_for_search(text) if SEARCH_MODE else self._tokenizer.cut(text)
            )
        out: list[str] = []
        stop = self._stop
        for piece in pieces:
            piece = piece.strip()
            if len(piece) < 2 or piece in stop or not _HAN_RUN_RE.search(piece):
                continue
            out.append(piece)
            expansion = ABBREVIATIONS.get(piece)
            if expansion:
                out.append(expansion)
        return out

    def _name_words(self, stem: str) -> list[str]:
        """Words of a name's stem (城市管理和综合执法 → 城市管理, 综合, 执法), whole-word segmentation."""
        with self._lock:
            pieces = list(self._tokenizer.cut(stem))
        words = [p for p in pieces if len(p) >= 2 and p not in self._stop]
        return [*words, stem] if stem not in words and len(stem) >= 2 else words

    def named_units(self, text: str) -> set[int]:
        """Indexes of units whose name (not a prose word) appears in ``text`` (already normalised)."""
        found: set[int] = set()
        rest = text.replace(" ", "")
        for name, i in self._mentions:
            if name in rest:
                found.add(i)
                rest = rest.replace(name, "\0")
        return found

    # --- scoring ---------------------------------------------------------------------------------

    def channels(self, text: str, exclude_plan: Any = None) -> Channels | None:
        """Every unit's raw score on each channel for ``text``; ``None`` for an empty text/directory.

        Exposed so that ``bench/lead_suggestion.py`` can weigh the same channels many ways.
        """
        clean = normalize_text(text)
        if not clean.strip() or not self.units:
            return None
        n = len(self.units)
        words = self._words(clean)
        word_scores, word_parts = self._word_index.score(Counter(words))
        bigram_scores, _ = self._bigram_index.score(Counter(_bigrams(clean)))
        trigram_scores, _ = self._trigram_index.score(Counter(_char_ngrams(clean, 3)))
        phrase_scores, phrase_parts = self._phrase_scores(clean)
        history_scores = [0.0] * n
        if self._history_index is not None:
            own = self._history_by_plan.get(exclude_plan, {}) if exclude_plan is not None else {}
            overrides = {i: self._history_index.docs[i] - c for i, c in own.items()}
            history_scores, _ = self._history_index.score(Counter(words), overrides)
        per_domain, domain_terms = self.lexicon.domain_scores(clean)
        by_name = [0.0] * n
        by_mandate = [0.0] * n
        unit_terms: list[dict[str, float]] = [{} for _ in range(n)]
        unit_domains: list[list[int]] = [[] for _ in range(n)]
        for d, terms in domain_terms.items():
            for i in range(n):
                if d in self._name_domains[i]:
                    by_name[i] += per_domain[d]
                    share = 1.0
                elif d in self._mandate_domains[i]:
                    share = self._mandate_domains[i][d]
                    by_mandate[i] += share * per_domain[d]
                else:
                    continue
                unit_domains[i].append(d)
                for term, w in terms.items():
                    unit_terms[i][term] = max(unit_terms[i].get(term, 0.0), share * w)
        return Channels(
            word=word_scores,
            bigram=bigram_scores,
            trigram=trigram_scores,
            phrase=phrase_scores,
            domain_name=by_name,
            domain_mandate=by_mandate,
            history=history_scores,
            named=self.named_units(clean),
            coordination=self.lexicon.coordination_terms(clean),
            parts=[{**word_parts[i], **phrase_parts[i]} for i in range(n)],
            domain_terms=unit_terms,
            unit_domains=unit_domains,
        )

    def combine(self, ch: Channels, weights: Weights | None = None) -> tuple[list[float], set[int]]:
        """Weighted total per unit (the best is about 1.0), and the offices ranked over their host
        for coordinating work."""
        w = weights or self.weights
        domain = [a + w.mandate_domain * b for a, b in zip(ch.domain_name, ch.domain_mandate, strict=True)]
        mixed = [
            (w.word, _normalised(ch.word)),
            (w.bigram, _normalised(ch.bigram)),
            (w.trigram, _normalised(ch.trigram)),
            (w.phrase, _normalised(ch.phrase)),
            (w.domain, _normalised(domain)),
        ]
        if self._history_index is not None:
            mixed.append((w.history, _normalised(ch.history)))
        peak = sum(weight for weight, values in mixed if weight) or 1.0
        totals: list[float] = []
        for i, unit in enumerate(self.units):
            s = sum(weight * values[i] for weight, values in mixed if weight)
            s *= KIND_PRIOR.get(unit.kind, w.enterprise if unit.kind == "enterprise" else 1.0)
            if i in ch.named:
                s += w.named * peak
            totals.append(s / peak)
        lifted: set[int] = set()
        if w.office_host:
            for office, host in self.office_hosts:
                high = max(totals[office], totals[host])
                if high <= 0 or min(totals[office], totals[host]) < OFFICE_HOST_RELEVANCE * high:
                    continue
                if ch.coordination:
                    if totals[office] <= totals[host]:
                        totals[office] = totals[host] * 1.001 + 1e-9
                    lifted.add(office)
                elif totals[host] <= totals[office]:
                    totals[host] = totals[office] * 1.001 + 1e-9
        return totals, lifted

    def rank(self, text: str, *, exclude_plan: Any = None, weights: Weights | None = None) -> list[int]:
        """Unit indexes, best first, as :meth:`suggest` would order them (the bench's entry point)."""
        ch = self.channels(text, exclude_plan)
        if ch is None:
            return []
        return self._order(self.combine(ch, weights)[0])

    def _order(self, totals: list[float]) -> list[int]:
        ranked = sorted(range(len(self.units)), key=lambda i: (-totals[i], self.units[i].code))
        regular = [i for i in ranked if not self.units[i].is_top_level_government and totals[i] > 0]
        return regular or [i for i in ranked if totals[i] > 0]

    def suggest(self, text: str, *, top: int = 5, exclude_plan: Any = None) -> list[Suggestion]:
        """The ``top`` best units for ``text``, best first; an empty list for an empty text.

        ``exclude_plan``: leave that plan's tasks out of the history, so a plan's own printed leads
        never vouch for themselves.
        """
        ch = self.channels(text, exclude_plan)
        if ch is None:
            return []
        totals, lifted = self.combine(ch)
        order = self._order(totals)
        fallback = bool(order) and all(self.units[i].is_top_level_government for i in order)
        return [
            self._suggestion(i, totals[i], ch, lifted, fallback) for i in order[:top]
        ]

    def fit_scores(self, text: str, *, exclude_plan: Any = None) -> dict[str, float]:
        """Mandate fit of every unit (code → 0–1, the best unit 1.0) for ``text``; the top-level
        government units are left out (they are not cooperating units of their own plans)."""
        ch = self.channels(text, exclude_plan)
        if ch is None:
            return {}
        totals = self.combine(ch)[0]
        best = max(totals) or 1.0
        return {
            u.code: round(totals[i] / best, 4)
            for i, u in enumerate(self.units)
            if not u.is_top_level_government and totals[i] > 0
        }

    def _phrase_scores(self, text: str) -> tuple[list[float], list[dict[str, float]]]:
        """Per unit: weight of the maximal character runs (≥ PHRASE_MIN) shared with its mandate."""
        grams = {g for run in _HAN_RUN_RE.findall(text) for g in _ngrams(run)}
        n = len(self.units)
        scores = [0.0] * n
        parts: list[dict[str, float]] = [{} for _ in range(n)]
        for i, mandate_grams in enumerate(self._phrase_sets):
            shared = grams & mandate_grams
            if not shared:
                continue
            maximal = [g for g in shared if not any(g != h and g in h for h in shared)]
            for g in maximal:
                if g in self._stop:
                    continue
                w = (len(g) - PHRASE_MIN + 1) * math.log(1 + n / self._phrase_df[g])
                scores[i] += w
                parts[i][g] = w
        return scores, parts

    def _suggestion(
        self, i: int, score: float, ch: Channels, lifted: set[int], fallback: bool
    ) -> Suggestion:
        unit = self.units[i]
        parts = ch.parts[i]
        terms = [t for t, _ in sorted(parts.items(), key=lambda kv: -kv[1])]
        phrases: list[str] = []
        for clause in _CLAUSE_SPLIT_RE.split(self._mandates[i]):
            clause = clause.strip()
            if clause and any(t in clause for t in terms) and clause not in phrases:
                phrases.append(clause)
        phrases.sort(key=lambda c: -sum(parts[t] for t in terms if t in c))
        # Lexicon terms first (they say what the task is about), then the mandate words.
        lexicon_terms = [t for t, _ in sorted(ch.domain_terms[i].items(), key=lambda kv: -kv[1])]
        shown = list(dict.fromkeys(lexicon_terms[:EVIDENCE_LIMIT] + terms))
        return Suggestion(
            unit_id=unit.id,
            code=unit.code,
            name=unit.name,
            score=score,
            matched_terms=tuple(shown[: EVIDENCE_LIMIT * 2]),
            mandate_phrases=tuple(phrases[:EVIDENCE_LIMIT]),
            named_in_text=i in ch.named,
            fallback=fallback,
            domains=tuple(self.lexicon.domains[d].name for d in ch.unit_domains[i]),
            coordination=tuple(ch.coordination) if i in lifted else (),
        )


# --- the process-wide suggester over the database ---------------------------------------------------

_shared: tuple[tuple[Any, ...], LeadSuggester] | None = None
_shared_lock = threading.Lock()


def profiles_from_db() -> list[UnitProfile]:
    """Every unit of the directory as a :class:`UnitProfile`."""
    from qiantou.units.models import Unit

    rows = Unit.objects.values(
        "id", "code", "name", "kind", "short_names", "mandate", "active", "parent__code"
    )
    return [
        UnitProfile(
            code=r["code"], name=r["name"], kind=r["kind"], short_names=tuple(r["short_names"] or ()),
            mandate=r["mandate"] or "", id=r["id"], active=r["active"], parent_code=r["parent__code"],
        )
        for r in rows
    ]


#: How many of the most recent single-lead tasks of stored plans feed the history channel.
HISTORY_LIMIT = 20_000


def history_from_db() -> list[tuple[Any, str, str]]:
    """``(plan id, lead unit code, task text)`` of recent tasks with exactly one matched lead unit."""
    from django.db.models import Count, Q

    from qiantou.plans.models import Task, TaskUnitRole

    rows = (
        Task.objects.annotate(leads=Count("task_units", filter=Q(task_units__role=TaskUnitRole.LEAD)))
        .filter(leads=1, task_units__role=TaskUnitRole.LEAD, task_units__unit__isnull=False)
        .order_by("-id")
        .values_list("plan_id", "task_units__unit__code", "text")[:HISTORY_LIMIT]
    )
    return list(rows)


def get_suggester() -> LeadSuggester:
    """The suggester over the ``Unit`` table and the stored plans, rebuilt when either changed."""
    global _shared
    from django.db.models import Count, Max

    from qiantou.plans.models import Plan, TaskUnit
    from qiantou.units.models import Unit

    stamp = Unit.objects.aggregate(n=Count("id"), changed=Max("updated_at"), top=Max("id"))
    work = TaskUnit.objects.aggregate(n=Count("id"), top=Max("id"))
    plans = Plan.objects.aggregate(changed=Max("updated_at"))
    fingerprint = (stamp["n"], stamp["changed"], stamp["top"], work["n"], work["top"], plans["changed"])
    current = _shared
    if current is not None and current[0] == fingerprint:
        return current[1]
    with _shared_lock:
        suggester = LeadSuggester(profiles_from_db(), history_from_db())
        _shared = (fingerprint, suggester)
    return suggester


def suggest_lead_units(text: str, *, top: int = 5, exclude_plan: Any = None) -> list[Suggestion]:
    """Rank directory units as the lead for a task ``text``, best first, with evidence.

    ``text``: the task text (simplified or traditional); ``top``: how many (1–20);
    ``exclude_plan``: a plan id whose own tasks must not count as history (the plan being shown).
    Returns at most ``top`` :class:`Suggestion` objects; empty for an empty text or directory.
    """
    top = max(1, min(int(top), 20))
    return get_suggester().suggest(text, top=top, exclude_plan=exclude_plan)


def lead_differs(printed_lead_ids: Sequence[int | None], suggestions: Sequence[Suggestion]) -> bool:
    """True when the task has a printed lead and the top suggestion is not among its leads.

    Used to say "the printed lead differs from the suggestion" — it never changes anything.
    """
    leads = {i for i in printed_lead_ids if i is not None}
    if not leads or not suggestions:
        return False
    return suggestions[0].unit_id not in leads
