"""The run command's workers: WORKERS=n makes n worker children, each restarted on its own, each under its own name."""

from profiles.config import Settings
from tests.conftest import make_environ
from web.stack import build_children, worker_names


def test_workers_setting_makes_one_child_per_worker_with_its_own_slot():
    settings = Settings.from_env(make_environ(WORKERS="3"))
    children = build_children(settings, {})
    workers = [c for c in children if c.name.startswith("worker")]
    assert [c.name for c in workers] == ["worker-1", "worker-2", "worker-3"]
    assert [c.start.__self__.argv[3:] for c in workers] == [
        ["--slot", "1"], ["--slot", "2", "--no-scheduler"], ["--slot", "3", "--no-scheduler"]]  # RQ's scheduler in one
    assert [c.name for c in children].count("scheduler") == 1  # the cron scheduler runs once, whatever WORKERS is
    names = worker_names(children)  # before they start: no pid yet
    assert len(names) == 3 and [n.split("-w")[-1] for n in names] == ["1-0", "2-0", "3-0"]


def test_one_worker_by_default():
    children = build_children(Settings.from_env(make_environ()), {})
    assert [c.name for c in children if c.name.startswith("worker")] == ["worker-1"]
