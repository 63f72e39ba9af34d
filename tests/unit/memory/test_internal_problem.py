"""A bug of the engine is answered as a problem naming it, never raised to the caller."""

from __future__ import annotations

from flink_tm_memory.memory.failures import Reason, internal_problem


def test_a_bug_becomes_a_problem_that_names_it_and_asks_for_a_report() -> None:
    problem = internal_problem(ZeroDivisionError("division by zero"))

    assert problem.reason is Reason.INTERNAL_ERROR
    assert problem.message is not None
    assert "(ZeroDivisionError: division by zero)" in problem.message
    assert "this is a bug in flink-tm-memory, please report it" in problem.message
    assert problem.chain == (problem.message,)
    assert problem.classes == ("python.ZeroDivisionError",)
    assert problem.keys == ()
