"""bench/profile.py's summary: every sample goes to the library the innermost project frame was calling."""

from __future__ import annotations

import json

from bench.profile import attribute, markdown, summarise_phase

VIEW = "post (web/api/prefill.py:40)"
SNAPSHOT = "load (graph/snapshots.py:88)"


def test_a_sample_inside_a_library_goes_to_that_library_and_the_project_function_that_called_it():
    stack = ["<module> (wsgi.py:1)", "handle (gunicorn/workers/sync.py:10)", VIEW, SNAPSHOT,
             "run (neo4j/_sync/work/session.py:300)", "recv_into (socket.py:700)"]
    assert attribute(stack) == ("neo4j", "graph/snapshots.py:load")


def test_a_sample_in_a_project_functions_own_lines_is_project_code():
    assert attribute(["handle (gunicorn/workers/sync.py:10)", VIEW]) == ("project code", "web/api/prefill.py:post")


def test_a_sample_with_no_project_frame_goes_to_its_innermost_library():
    assert attribute(["run (rq/worker.py:1)", "loads (json/decoder.py:9)"]) == ("json", "(no project frame)")


def test_a_phase_adds_its_runs_and_says_how_busy_its_processes_were(tmp_path):
    blocked = "_wait_for_io (neo4j/_async_compat/network/_bolt_socket.py:486)"  # py-spy called it active
    lines = {
        "web-prefill-1": [f"{VIEW};{SNAPSHOT};run (neo4j/_sync/work/session.py:300) 60", f"{VIEW} 20",
                          f"{VIEW};{SNAPSHOT};{blocked} 40"],
        "web-prefill-2": [f"{VIEW};dumps (json/encoder.py:200) 20"],
    }
    for name, raw in lines.items():
        (tmp_path / f"{name}.txt").write_text("\n".join(raw) + "\n")
        (tmp_path / f"{name}.json").write_text(json.dumps({"seconds": 1.0, "rate": 100}))
    s = summarise_phase(sorted(tmp_path.glob("*.txt")))
    assert (s["samples"], s["waiting"], s["seconds"], s["busy"]) == (100, 40, 2.0, 0.5)
    assert [(area, n) for area, n, _ in s["areas"]] == [("neo4j", 60), ("project code", 20), ("json", 20)]
    assert dict(s["inclusive"])["web/api/prefill.py:post"] == 100
    assert dict(s["inclusive"])["graph/snapshots.py:load"] == 60
    text = markdown(tmp_path)
    assert "## web-prefill\n" in text and "| neo4j | 60% | graph/snapshots.py:load (100%) |" in text


def test_the_micro_benchmark_runs_both_sides_and_puts_the_code_back(monkeypatch, capsys):
    from bench import micro
    from notifier import templates
    from profiles import workdays

    monkeypatch.setattr(micro, "ROUNDS", 1)
    monkeypatch.setattr(micro, "CALLS", 20)
    cached = workdays._official_workday
    micro.main()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all("µs per call" in line for line in lines)
    assert workdays._official_workday is cached and templates._environment().auto_reload is False


def test_a_line_that_is_not_a_sample_is_left_out_instead_of_stopping_the_summary(tmp_path):
    raw = [f"{VIEW} 30", "providing", "py-spy> Stopped sampling because the process exited providing", f"{VIEW} 10"]
    (tmp_path / "web-prefill-1.txt").write_text("\n".join(raw) + "\n")
    s = summarise_phase([tmp_path / "web-prefill-1.txt"])
    assert s["samples"] == 40
