"""``qiantou match request|respond|finish|local``: the cross-department data check on files.

    qiantou match request --roll ROLL.csv --out DIR             # civil affairs: round 1 to carry over
    qiantou match respond --registry REG.csv --in DIR --out DIR2 [--max-roll N]   # justice
    qiantou match finish --in DIR2 --out RESULT.csv             # civil affairs: the matches
    qiantou match local --roll ROLL.csv --registry REG.csv --out RESULT.csv   # both sides (demo)

Bad input (malformed CSV, wrong columns, duplicate record ids, files of another run, a truncated or
altered round file) stops the command with a message naming the file and row; nothing is written.
Rows whose ID number is invalid are listed (row number and reason) and still checked by name.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiantou.matching import files, services
from qiantou.matching.csvio import CsvError, Issue, write_issues
from qiantou.matching.files import RoundFileError, fingerprint
from qiantou.matching.pipeline import write_result
from qiantou.matching.protocol import ProtocolError
from qiantou.matching.vault import AT_REST_CIPHER

_MAX_LISTED = 50


class Command(BaseCommand):
    help = "跨部门数据比对（隐私集合求交，双方都不交出名单）。Private set intersection data check."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="step", required=True)
        common = CommandParser(add_help=False)
        common.add_argument(
            "--processes", type=int, default=None, help="worker processes (default: all cores)"
        )
        common.add_argument("--actor", default=None, help="username recorded in the audit record")

        p = sub.add_parser("request", parents=[common], help="民政：生成第一轮文件")
        p.add_argument("--roll", required=True, type=Path)
        p.add_argument("--out", required=True, type=Path)
        p.add_argument("--verifiable", action="store_true", help="ask for a DLEQ proof (RFC 9497 VOPRF)")
        p.add_argument(
            "--pad-to", type=int, default=0, help="pad the roll to this many rows (hides its size)"
        )
        p.add_argument("--peer-key", default="", help="justice's signing public key (hex) to pin")

        p = sub.add_parser("respond", parents=[common], help="司法：答复第一轮文件")
        p.add_argument("--registry", required=True, type=Path)
        p.add_argument("--in", dest="in_dir", required=True, type=Path)
        p.add_argument("--out", required=True, type=Path)
        p.add_argument("--max-roll", type=int, default=None, help="agreed largest roll (rows) to answer")
        p.add_argument("--peer-key", default="", help="civil affairs' signing public key (hex) to pin")

        p = sub.add_parser("finish", parents=[common], help="民政：解出本方命中结果")
        p.add_argument("--in", dest="in_dir", required=True, type=Path)
        p.add_argument("--out", required=True, type=Path)

        p = sub.add_parser("local", parents=[common], help="本机演示：双方经同一组文件完成比对")
        p.add_argument("--roll", required=True, type=Path)
        p.add_argument("--registry", required=True, type=Path)
        p.add_argument("--out", required=True, type=Path)
        p.add_argument("--verifiable", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options.get("actor"):
            try:
                actor = get_user_model().objects.get(username=options["actor"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"用户 {options['actor']} 不存在") from None
        step = options["step"]
        try:
            getattr(self, f"_{step}")(actor, options)
        except (CsvError, RoundFileError, ProtocolError) as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"{exc.filename or ''}：{exc.strerror}") from None

    def _check_out_dir(self, path: Path) -> None:
        if path.exists() and (path / files.MANIFEST).exists():
            raise CommandError(f"{path} 中已有比对文件：请换一个空目录，避免覆盖")

    def _report(self, issues: list[Issue]) -> None:
        ids = [i for i in issues if i.field == "id_number"]
        names = [i for i in issues if i.field == "name"]
        if ids:
            self.stderr.write(f"{len(ids)} 行身份号码无效，已仅按姓名+出生日期+性别比对（请核实后更正）：")
            for i in ids[:_MAX_LISTED]:
                self.stderr.write(f"  第 {i.row} 行（{i.record_id}）：{i.message}")
            if len(ids) > _MAX_LISTED:
                self.stderr.write(f"  ……另有 {len(ids) - _MAX_LISTED} 行，见问题清单")
        if names:
            self.stderr.write(f"{len(names)} 行缺少姓名/出生日期/性别，仅按身份号码比对。")

    def _write_issues(self, groups: list[tuple[str, list[Issue]]], target: Path) -> None:
        if any(issues for _, issues in groups):
            target.parent.mkdir(parents=True, exist_ok=True)
            write_issues(target, groups)
            self.stderr.write(f"问题清单：{target}")

    def _request(self, actor: Any, o: dict[str, Any]) -> None:
        self._check_out_dir(o["out"])
        run, step = services.matchrun_request(
            actor=actor,
            roll=o["roll"],
            mode="voprf" if o["verifiable"] else "oprf",
            pad_to=o["pad_to"],
            peer=o["peer_key"],
            processes=o["processes"],
        )
        assert step.round_file is not None
        step.round_file.write_dir(o["out"])
        self._report(step.issues)
        self._write_issues(
            [("roll", step.issues)], services.vault().base / "runs" / run.run_id / "roll-issues.csv"
        )
        v = step.stats.values
        self.stdout.write(
            f"比对编号 {run.run_id}：名册 {v['roll_rows']} 行，发出 {v['queries']} 个盲化查询 → {o['out']}"
        )
        self.stdout.write(
            f"本机签名公钥指纹 {fingerprint(step.round_file.manifest['signer'])}"
            f"（请与对方电话核对）；本机状态已加密保存（{AT_REST_CIPHER}）"
        )

    def _respond(self, actor: Any, o: dict[str, Any]) -> None:
        self._check_out_dir(o["out"])
        request_file = files.read_dir(o["in_dir"])
        run, step = services.matchrun_respond(
            actor=actor,
            request_file=request_file,
            registry=o["registry"],
            max_roll=o["max_roll"],
            peer=o["peer_key"],
            processes=o["processes"],
        )
        assert step.round_file is not None
        step.round_file.write_dir(o["out"])
        self._report(step.issues)
        self._write_issues(
            [("registry", step.issues)], services.vault().base / "runs" / run.run_id / "registry-issues.csv"
        )
        v = step.stats.values
        self.stdout.write(
            f"比对编号 {run.run_id}：答复 {v['queries']} 个查询，发布 {v['table_count']} 个标签 → {o['out']}"
        )
        self.stdout.write(f"请求方签名公钥指纹 {fingerprint(request_file.manifest['signer'])}")

    def _finish(self, actor: Any, o: dict[str, Any]) -> None:
        response_file = files.read_dir(o["in_dir"])
        run, step = services.matchrun_finish(
            actor=actor, response_file=response_file, processes=o["processes"]
        )
        assert step.outcome is not None
        write_result(o["out"], step.outcome)
        v = step.stats.values
        self.stdout.write(
            f"比对编号 {run.run_id}：身份号码命中 {v['id_matches']} 人，姓名+出生日期+性别待核实 "
            f"{v['candidate_rows']} 人；在押期间与待遇期重叠 {v['result_rows']} 条 → {o['out']}"
        )

    def _local(self, actor: Any, o: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory(prefix="qiantou-match-") as tmp:
            run, roll_issues, registry_issues = services.matchrun_local(
                actor=actor,
                roll=o["roll"],
                registry=o["registry"],
                out=o["out"],
                mode="voprf" if o["verifiable"] else "oprf",
                processes=o["processes"],
                workdir=Path(tmp),
            )
        self._report(roll_issues)
        self._report(registry_issues)
        out: Path = o["out"]
        self._write_issues(
            [("roll", roll_issues), ("registry", registry_issues)], out.with_name(out.stem + ".issues.csv")
        )
        v = run.counts
        self.stdout.write(
            f"比对编号 {run.run_id}：名册 {v.get('roll_rows')} 行；身份号码命中 {v.get('id_matches')} 人，"
            f"待核实候选 {v.get('candidate_rows')} 人；重叠 {v.get('result_rows')} 条 → {o['out']}"
        )
