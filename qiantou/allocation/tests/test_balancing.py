"""The balancing solver: its constraints always hold (property-based), infeasible inputs are explained."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qiantou.allocation.balancing import BalanceTask, BalanceUnit, solve

THRESHOLD = 0.3


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[BalanceTask], list[BalanceUnit]]:
    n_units = draw(st.integers(2, 8))
    units = [
        BalanceUnit(
            key=u,
            name=f"单位{u}",
            base_load=draw(st.sampled_from([0.0, 0.5, 1.0, 3.0, 6.0])),
            cap=draw(st.one_of(st.none(), st.sampled_from([2.0, 4.0, 8.0]))),
            available=draw(st.sampled_from([True, True, False])),
        )
        for u in range(n_units)
    ]
    tasks = []
    for t in range(draw(st.integers(1, 8))):
        lead = draw(st.integers(0, n_units - 1))
        fit = {u: draw(st.sampled_from([0.0, 0.1, 0.5, 0.9])) for u in range(n_units) if u != lead}
        others = [u for u in range(n_units) if u != lead]
        current = tuple(draw(st.lists(st.sampled_from(others), max_size=2, unique=True)))
        allowed = frozenset(draw(st.lists(st.sampled_from(others), max_size=1)))
        tasks.append(
            BalanceTask(
                key=t,
                label=f"任务{t + 1}",
                lead=lead,
                weight=draw(st.sampled_from([0.5, 1.0, 2.0])),
                need=draw(st.integers(0, 2)),
                fit=fit,
                allowed=allowed,
                current=current,
                fixed=draw(st.booleans()),
            )
        )
    return tasks, units


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_constraints_always_hold(instance: tuple[list[BalanceTask], list[BalanceUnit]]) -> None:
    tasks, units = instance
    by_key = {u.key: u for u in units}
    result = solve(tasks, units, fit_threshold=THRESHOLD, time_limit=2.0)
    assert result.status in {"optimal", "feasible", "infeasible", "empty"}
    if result.status == "infeasible":
        assert result.problems and all(isinstance(p, str) and p for p in result.problems)
        return
    if result.status == "empty":
        assert all(t.fixed or t.need == 0 for t in tasks)
        return
    loads = {u.key: u.base_load for u in units}
    for t in tasks:
        if t.fixed:
            assert t.key not in result.assignment  # fixed tasks stay as printed
            for k in t.current:
                loads[k] += t.weight
    for t in tasks:
        if t.fixed or t.need == 0:
            continue
        chosen = result.assignment[t.key]
        assert len(chosen) == t.need == len(set(chosen))
        for k in chosen:
            assert k != t.lead  # each task keeps its lead, which never cooperates on it
            assert by_key[k].available
            assert t.fit.get(k, 0) >= THRESHOLD or k in t.allowed or k in t.current
            loads[k] += t.weight
    for k, load in loads.items():
        cap = by_key[k].cap
        if cap is not None and any(k in c for c in result.assignment.values()):
            assert load <= cap + 1e-6
    if result.greedy_max_load is not None and result.max_load is not None:
        assert result.max_load <= result.greedy_max_load + 1e-6


def test_minimises_the_maximum_load() -> None:
    units = [
        BalanceUnit(key="a", name="甲", base_load=5),
        BalanceUnit(key="b", name="乙"),
        BalanceUnit(key="c", name="丙"),
    ]
    tasks = [
        BalanceTask(
            key=i, label=f"任务{i}", lead="c", weight=1, need=1, fit={"a": 0.9, "b": 0.5}, current=("a",)
        )
        for i in range(4)
    ]
    result = solve(tasks, units)
    assert result.status == "optimal"
    assert all(result.assignment[i] == ("b",) for i in range(4))  # a is already busy
    assert result.max_load == 5


def test_infeasible_when_every_eligible_unit_is_at_its_cap_names_the_tasks() -> None:
    units = [
        BalanceUnit(key="a", name="市民政局", base_load=4, cap=4),
        BalanceUnit(key="b", name="市司法局", base_load=1, available=False),
        BalanceUnit(key="c", name="市财政局"),
    ]
    tasks = [
        BalanceTask(key=1, label="1 低保对象信息比对", lead="c", fit={"a": 0.9, "b": 0.8}),
        BalanceTask(key=2, label="2 预算安排", lead="a", fit={"c": 0.9}),
    ]
    result = solve(tasks, units)
    assert result.status == "infeasible"
    assert not result.assignment
    assert len(result.problems) == 1
    message = result.problems[0]
    assert "1 低保对象信息比对" in message and "市民政局" in message and "市司法局" in message
    assert "已达上限" in message and "不可用" in message


def test_infeasible_when_caps_are_jointly_too_tight() -> None:
    units = [
        BalanceUnit(key="a", name="甲", cap=1.0),
        BalanceUnit(key="b", name="乙", cap=1.0),
        BalanceUnit(key="lead", name="牵头"),
    ]
    tasks = [
        BalanceTask(key=i, label=f"任务{i}", lead="lead", weight=1, fit={"a": 1, "b": 1}) for i in range(3)
    ]
    result = solve(tasks, units)
    assert result.status == "infeasible"
    assert any("任务0" in p and "甲" in p for p in result.problems)


def test_reproducible() -> None:
    units = [BalanceUnit(key=k, name=k) for k in "abcdef"]
    tasks = [
        BalanceTask(key=i, label=str(i), lead="a", weight=1 + i % 3, need=2, fit={k: 0.5 for k in "bcdef"})
        for i in range(12)
    ]
    first = solve(tasks, units)
    assert all(solve(tasks, units).assignment == first.assignment for _ in range(3))
