"""An offer through the whole pipeline: the childcare subsidy is pushed once to the parent with the prefilled claim,
worded "您可…申领", with no due date; a later scan in the same year sends nothing; the next year of age is offered
again. The personal page lists it as something to claim, with no due date and no countdown."""

from __future__ import annotations

from datetime import timedelta

from profiles.models import Relation
from profiles.rules import birthday
from tests.integration.notify_helpers import messages_per_notice, notices, person
from tests.integration.test_notify_pipeline import DAY, sandbox, scan, smtp, svc  # noqa: F401  (fixtures)


def test_the_childcare_subsidy_is_offered_once_a_year_with_the_prefilled_claim(svc, sandbox):  # noqa: F811
    born = DAY - timedelta(days=10)
    child = person(svc, born=born, phone=None, name="李小宝")
    mum = person(svc, phone="+8613800138031")
    svc.subjects.relate(Relation(mum.pid, child.pid, "PARENT_OF"))
    scan(svc, DAY)
    sms = notices(svc, channel="sms", service="childcare_subsidy_claim")
    assert [(n["to"], n["offset_days"], n["status"]) for n in sms] == [(mum.pid, 365, "sent")]
    [body] = [m["body"] for m in sandbox.messages(to="+8613800138031")]
    assert "您可为小宝申领育儿补贴" in body and f"/n/{sms[0]['nid']}" in body
    assert "请于" not in body and "截止" not in body and "天" not in body  # no deadline, no countdown

    for later in (DAY + timedelta(days=1), DAY + timedelta(days=60)):
        scan(svc, later)  # the same year of age: nothing new
    assert len(notices(svc, channel="sms", service="childcare_subsidy_claim")) == 1
    assert set(messages_per_notice(sandbox).values()) == {1}

    second_year = birthday(born, 1) + timedelta(days=1)
    scan(svc, second_year)
    offered = notices(svc, channel="sms", service="childcare_subsidy_claim")
    assert len(offered) == 2 and offered[-1]["due_on"].to_native() == birthday(born, 2)
