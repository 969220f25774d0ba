"""Government-function lexicon: which functional domain a task's words belong to, and which units
hold each domain (issue 7, item 1).

A short 三定 mandate ("负责住房保障、房地产市场监管和城乡建设管理") cannot list every word a task
about that work uses ("为既有住宅加装电梯"). The lexicon in ``data/domains.toml`` supplies that
everyday vocabulary per functional domain of a municipal government (发展改革, 住建, 卫健, 应急 …),
written from general knowledge of how the work is divided — not from any plan or directory.

- :meth:`DomainLexicon.unit_domains` maps a unit to domains from its **name** (markers such as 住房和
  城乡建设, 卫生健康, 爱国卫生 found in its full or short names) and, more weakly, its **mandate**
  (how many distinct domain terms the mandate text contains).
- :meth:`DomainLexicon.match` finds a text's domain terms: substring matches (so compounds count
  without depending on segmentation), where an occurrence lying inside a longer matched term gives
  way to it (农村 inside 农村生活污水 counts for 生态环境, not 农业农村), and each term weighs
  ``log(1 + domains / domains listing it)``.
- :meth:`DomainLexicon.coordination_terms` finds the words of a committee office's coordinating role
  (考核, 督导, 迎检 …) in a text.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["DEFAULT_PATH", "Domain", "DomainLexicon", "default_lexicon"]

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "domains.toml"

#: A mandate naming this many distinct terms of a domain holds it fully (fewer: proportionally).
MANDATE_FULL_HITS = 3

_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")


@dataclass(frozen=True)
class Domain:
    """One functional domain: its key, Chinese name, unit-name markers and task vocabulary."""

    key: str
    name: str
    markers: tuple[str, ...]
    terms: tuple[str, ...]


class DomainLexicon:
    """The domains of a lexicon file and the indexes the scorer needs (immutable, thread-safe)."""

    def __init__(self, domains: list[Domain], coordination: tuple[str, ...] = ()) -> None:
        """``domains``: the functional domains; ``coordination``: committee-office role words."""
        self.domains = domains
        self.keys = [d.key for d in domains]
        self.coordination = tuple(sorted(set(coordination), key=lambda t: (-len(t), t)))
        by_term: dict[str, list[int]] = {}
        for i, domain in enumerate(domains):
            for term in domain.terms:
                holders = by_term.setdefault(term, [])
                if i not in holders:
                    holders.append(i)
        self.term_domains: dict[str, tuple[int, ...]] = {t: tuple(v) for t, v in by_term.items()}
        n = len(domains) or 1
        self.term_weight: dict[str, float] = {
            t: math.log(1 + n / len(v)) for t, v in self.term_domains.items()
        }
        # Longest first, so a longer term is found before the terms inside it.
        self._terms = sorted(self.term_domains, key=lambda t: (-len(t), t))
        self._by_first: dict[str, list[str]] = {}
        for term in self._terms:
            self._by_first.setdefault(term[0], []).append(term)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_PATH) -> DomainLexicon:
        """Read a lexicon TOML file (see ``data/domains.toml`` for the shape).

        Raises ``ValueError`` naming the file and the domain when a domain has no key or no terms.
        """
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        domains: list[Domain] = []
        for n, raw in enumerate(data.get("domain", []), start=1):
            key = str(raw.get("key") or "").strip()
            terms = tuple(dict.fromkeys(str(raw.get("terms") or "").split()))
            if not key or not terms:
                raise ValueError(f"{path}: domain #{n} ({key or 'no key'}) needs a key and terms")
            domains.append(
                Domain(
                    key=key,
                    name=str(raw.get("name") or key),
                    markers=tuple(str(raw.get("units") or "").split()),
                    terms=terms,
                )
            )
        coordination = tuple(str(data.get("coordination", {}).get("terms") or "").split())
        return cls(domains, coordination)

    # --- units -------------------------------------------------------------------------------------

    def name_domains(self, names: list[str]) -> set[int]:
        """Domains whose marker occurs in one of a unit's names (city prefix already removed).

        人民政府 is read as 政府 first: 市人民政府办公室 is no 民政 unit."""
        # 人民政府 holds 民政 without being a civil-affairs unit: read it as 政府.
        names = [name.replace("人民政府", "政府") for name in names]
        found: set[int] = set()
        for i, domain in enumerate(self.domains):
            if any(marker in name for marker in domain.markers for name in names):
                found.add(i)
        return found

    def mandate_domains(self, mandate: str) -> dict[int, float]:
        """Domain → share (0–1] from the distinct domain terms the mandate text contains."""
        hits: dict[int, int] = {}
        for term in self.match(mandate):
            for i in self.term_domains[term]:
                hits[i] = hits.get(i, 0) + 1
        return {i: min(1.0, h / MANDATE_FULL_HITS) for i, h in hits.items()}

    # --- texts -------------------------------------------------------------------------------------

    def match(self, text: str) -> dict[str, float]:
        """The lexicon terms found in ``text`` (normalised, simplified) → their weights.

        A term occurrence inside a longer matched occurrence does not count; ASCII terms (12345,
        5G, DRG) match only between non-alphanumeric characters, so 120 is not found in 1200.
        """
        spans: list[tuple[int, int, str]] = []
        for start, ch in enumerate(text):
            for term in self._by_first.get(ch, ()):
                end = start + len(term)
                if text.startswith(term, start):
                    if _ASCII_ALNUM.match(term[0]) and (
                        (start > 0 and _ASCII_ALNUM.match(text[start - 1]))
                        or (end < len(text) and _ASCII_ALNUM.match(text[end]))
                    ):
                        continue
                    spans.append((start, end, term))
        # Longest spans first; a span lying inside an accepted longer one gives way to it.
        spans.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
        accepted: list[tuple[int, int]] = []
        found: dict[str, float] = {}
        for start, end, term in spans:
            if any(s <= start and end <= e and e - s > end - start for s, e in accepted):
                continue
            accepted.append((start, end))
            found[term] = self.term_weight[term]
        return found

    def domain_scores(self, text: str) -> tuple[list[float], dict[int, dict[str, float]]]:
        """Per domain: the summed weight of its terms in ``text``, and those terms (domain → term → w)."""
        scores = [0.0] * len(self.domains)
        terms: dict[int, dict[str, float]] = {}
        for term, weight in self.match(text).items():
            for i in self.term_domains[term]:
                scores[i] += weight
                terms.setdefault(i, {})[term] = weight
        return scores, terms

    def coordination_terms(self, text: str) -> list[str]:
        """The coordinating-role words (考核, 督导, 迎检 …) that occur in ``text``."""
        return [t for t in self.coordination if t in text]


@lru_cache(maxsize=4)
def default_lexicon(path: str = str(DEFAULT_PATH)) -> DomainLexicon:
    """The lexicon shipped in ``data/domains.toml`` (read once per process)."""
    return DomainLexicon.load(path)
