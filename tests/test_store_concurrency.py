"""Several processes, and several threads, writing the same registrations at once."""

from __future__ import annotations

import multiprocessing
import threading

import regflow
from store_fixtures import (  # noqa: F401 - backend_fixture is a fixture
    YEAR,
    Backend,
    agent_id,
    backend_fixture,
    contend,
    contended_event,
    lifecycle,
    submit,
)

PROCS = 3
REGS = 3
PER = 6


def _started(backend: Backend, regs: int) -> None:
    with backend.repository() as repo:
        for r in range(regs):
            submit(repo, lifecycle("race", r)[0], agent_id("race", r))


def _assert_complete(backend: Backend, expected: dict[str, set[str]]) -> None:
    flow = regflow.Workflow.for_plan_year(YEAR)
    with backend.repository() as repo:
        for agent, ids in expected.items():
            log = repo.store.history(agent, YEAR)
            logged = [e.event_id for e in log]
            assert len(logged) == len(set(logged)), f"{agent}: an event applied twice"
            assert set(logged[1:]) == ids, f"{agent}: events lost"
            assert repo.load(agent, YEAR) == flow.replay(log)
        assert repo.verify() == ()


def test_processes_racing_on_shared_registrations(backend: Backend) -> None:
    """Processes sending the same events to the same registrations lose and repeat none."""
    _started(backend, REGS)
    ctx = multiprocessing.get_context("spawn")
    args = (backend.kind, backend.location, backend.schema)
    workers = [
        ctx.Process(target=contend, args=(*args, me, PROCS, REGS, PER))
        for me in range(PROCS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * PROCS
    expected = {
        agent_id("race", r): {
            contended_event(r, w, k).event_id for w in range(PROCS) for k in range(PER)
        }
        for r in range(REGS)
    }
    _assert_complete(backend, expected)


def test_threads_sharing_one_store(backend: Backend) -> None:
    """Threads sharing one store object and one repository serialize cleanly."""
    _started(backend, 1)
    errors: list[BaseException] = []
    with backend.repository(retries=100) as repo:

        def work(me: int) -> None:
            try:
                for k in range(PER):
                    repo.apply(agent_id("race", 0), YEAR, contended_event(0, me, k))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(me,)) for me in range(PROCS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    expected = {
        agent_id("race", 0): {
            contended_event(0, w, k).event_id for w in range(PROCS) for k in range(PER)
        }
    }
    _assert_complete(backend, expected)


def test_two_repositories_racing_in_one_process(backend: Backend) -> None:
    """Interleaved writers over two connections: the stale one retries and wins later."""
    _started(backend, 1)
    agent = agent_id("race", 0)
    with backend.repository() as first, backend.repository() as second:
        a = first.apply(agent, YEAR, contended_event(0, 0, 0))
        b = second.apply(agent, YEAR, contended_event(0, 1, 0))
        # first's memo is out of date now: its load notices.
        c = first.apply(agent, YEAR, contended_event(0, 0, 1))
        assert (a.version, b.version, c.version) == (2, 3, 4)
        assert first.load(agent, YEAR) == second.load(agent, YEAR) == c
