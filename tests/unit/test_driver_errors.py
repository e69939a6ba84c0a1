"""A uniqueness violation the driver reports as the failed result it caused still surfaces as ConstraintError."""

from __future__ import annotations

import pytest
from neo4j.exceptions import ConstraintError, ResultFailedError

from graph.driver import constraint_errors


def _failed_result_caused_by(cause: Exception | None) -> ResultFailedError:
    error = ResultFailedError(None, "The result has failed.")
    error.__cause__ = cause
    return error


def test_a_failed_result_caused_by_a_constraint_violation_is_the_violation():
    violation = ConstraintError("Node(1) already exists with label `Person`")
    with pytest.raises(ConstraintError) as raised, constraint_errors():
        raise _failed_result_caused_by(violation)
    assert raised.value is violation


def test_other_failed_results_and_errors_pass_through_unchanged():
    with pytest.raises(ResultFailedError), constraint_errors():
        raise _failed_result_caused_by(ValueError("something else"))
    with pytest.raises(ConstraintError), constraint_errors():
        raise ConstraintError("direct")
