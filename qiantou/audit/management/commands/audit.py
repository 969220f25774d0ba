"""``qiantou audit verify|head|export`` — check, anchor and export the accountability record.

- ``qiantou audit verify`` recomputes every hash in the database and exits 1 naming the first
  broken event (seq and reason); on success prints the count and the chain head.
  ``--bundle FILE`` verifies an exported bundle offline instead (no database needed);
  ``--expect-head [SEQ:]HASH`` also requires a head the auditor trusts (from an earlier audit or a
  backup manifest), which catches a rewritten or cut-short tail.
- ``qiantou audit head`` prints ``SEQ HASH`` of the last event.
- ``qiantou audit export --out FILE [--since SEQ]`` writes a JSON-lines bundle.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from qiantou.audit import chain
from qiantou.audit.chain import VerifyResult


class Command(BaseCommand):
    help = "Verify, anchor or export the tamper-evident accountability record (审计链校验/导出)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="recompute every hash; exit 1 naming the first broken event")
        verify.add_argument("--bundle", help="verify this exported bundle offline instead of the database")
        verify.add_argument("--expect-head", help="trusted head: HASH (must end there) or SEQ:HASH")
        verify.add_argument("--slow", action="store_true", help="compare the columns in Python, not SQL")
        verify.add_argument("--database", default="default")
        head = sub.add_parser("head", help="print the last event's seq and hash")
        head.add_argument("--database", default="default")
        export = sub.add_parser("export", help="write a JSON-lines bundle an auditor can verify offline")
        export.add_argument("--out", required=True, help="file to write ('-' for standard output)")
        export.add_argument("--since", type=int, default=1, help="first seq to export (default 1)")
        export.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        """Dispatch to the subcommand."""
        getattr(self, "handle_" + options["subcommand"])(**options)

    def handle_verify(self, **options: Any) -> None:
        """Verify the database or a bundle; exit status 1 when broken."""
        anchor_text = options.get("expect_head")
        try:
            anchor = chain.parse_anchor(anchor_text) if anchor_text else None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options.get("bundle"):
            try:
                result = chain.verify_bundle(options["bundle"], expect_head=anchor_text)
            except (OSError, chain.BundleError) as exc:
                raise CommandError(f"{options['bundle']}: {exc}") from None
        else:
            from qiantou.audit.verification import verify_chain

            result = verify_chain(using=options["database"], fast=not options["slow"])
            if result.ok and anchor is not None:
                self._check_db_anchor(result, anchor, options["database"])
        self._report(result)

    def _check_db_anchor(self, result: VerifyResult, anchor: tuple[int | None, str], using: str) -> None:
        from qiantou.audit.models import AuditEvent

        seq = anchor[0]
        state: dict[str, Any] = {}
        if seq is not None:
            state["anchor_hash"] = (
                AuditEvent.objects.using(using).filter(seq=seq).values_list("hash", flat=True).first()
            )
        chain.check_anchor(result, anchor, state)

    def _report(self, result: VerifyResult) -> None:
        for note in result.notes:
            self.stderr.write(f"note: {note}")
        if result.ok:
            self.stdout.write(
                f"OK {result.count} events verified; head #{result.head_seq} {result.head_hash}"
            )
            return
        assert result.broken is not None
        self.stderr.write(
            f"BROKEN event #{result.broken.seq} [{result.broken.reason}]: {result.broken.message}\n"
            f"({result.count} events verified before it)"
        )
        sys.exit(1)

    def handle_head(self, **options: Any) -> None:
        """Print ``SEQ HASH`` of the last event."""
        from qiantou.audit.verification import chain_head

        seq, hash_ = chain_head(using=options["database"])
        self.stdout.write(f"{seq} {hash_}")

    def handle_export(self, **options: Any) -> None:
        """Write a bundle to ``--out``."""
        from qiantou.audit.verification import export_bundle

        out = options["out"]
        if out == "-":
            count, seq, hash_ = export_bundle(sys.stdout, using=options["database"], since=options["since"])
        else:
            with open(out, "w", encoding="utf-8") as fh:
                count, seq, hash_ = export_bundle(fh, using=options["database"], since=options["since"])
        self.stderr.write(f"exported {count} events; head #{seq} {hash_}")
