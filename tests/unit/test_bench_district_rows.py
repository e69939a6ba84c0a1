"""bench/district.py's import rows: a registry export of the demo population, keyed by ID number and credit code."""

from __future__ import annotations

from datetime import date

from bench.district import rows_of
from profiles.demo import generate

TODAY = date(2025, 6, 1)


def test_newborns_not_registered_yet_are_left_out_with_what_hangs_off_them():
    population = generate(20000, seed=11, today=TODAY)
    unregistered = {p.pid for p in population.persons if p.id_number is None}
    assert unregistered
    rows = rows_of(population, {})
    assert len(rows["persons"]) == len(population.persons) - len(unregistered)
    assert all(r["id_number"] for r in rows["persons"])
    keys = [r[k] for kind in ("materials", "events") for r in rows[kind] for k in ("holder_id_number",) if k in r]
    keys += [r[k] for r in rows["relations"] for k in ("from_id_number", "to_id_number") if k in r]
    assert all(keys)
