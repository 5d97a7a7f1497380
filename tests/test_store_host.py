"""The store inside the host application: its transactions and its tenants.

A portal writes its own rows and regflow's in one transaction of its own
connection (``repo.using(conn)``): they commit together or not at all. And
a repository scoped to an agency never reads, lists, counts or hands out
another agency's registrations.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

import regflow
from regflow import DuplicateAccount, InvalidValue, RegistrationNotFound
from regflow import events as ev
from regflow.store import ANY_AGENCY, PostgresStore, Repository, SQLiteStore
from store_fixtures import (  # noqa: F401 - backend_fixture is a fixture
    YEAR,
    Backend,
    agent_id,
    backend_fixture,
    lifecycle,
    postgres_dsn,
)

# -- the host's transaction ----------------------------------------------------


def _host_table(backend: Backend) -> str:
    return (
        "host_orders" if backend.kind == "sqlite" else f'"{backend.schema}".host_orders'
    )


@pytest.fixture(name="host")
def host_fixture(backend: Backend) -> Iterator[tuple[Backend, Repository]]:
    """The backend with its tables created and a host table of the portal's."""
    repo = backend.repository()
    backend.sql(f"CREATE TABLE {_host_table(backend)} (id TEXT PRIMARY KEY)")
    try:
        yield backend, repo
    finally:
        repo.close()


def _orders(backend: Backend) -> list[str]:
    return [str(r[0]) for r in backend.sql(f"SELECT id FROM {_host_table(backend)}")]


def _connect(backend: Backend) -> object:
    if backend.kind == "sqlite":
        return sqlite3.connect(backend.location, isolation_level=None)
    import psycopg

    return psycopg.connect(backend.location)


def _begin(backend: Backend, conn: object) -> None:
    if backend.kind == "sqlite":
        conn.execute("BEGIN")  # type: ignore[attr-defined]
    # psycopg: a non-autocommit connection opens one on the first statement.


def _insert(backend: Backend, conn: object, order: str) -> None:
    mark = "?" if backend.kind == "sqlite" else "%s"
    sql = f"INSERT INTO {_host_table(backend)} (id) VALUES ({mark})"
    conn.execute(sql, (order,))  # type: ignore[attr-defined]


def _finish(backend: Backend, conn: object, commit: bool) -> None:
    if backend.kind == "sqlite":
        conn.execute("COMMIT" if commit else "ROLLBACK")  # type: ignore[attr-defined]
    elif commit:
        conn.commit()  # type: ignore[attr-defined]
    else:
        conn.rollback()  # type: ignore[attr-defined]


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "rollback"])
def test_writes_join_the_hosts_transaction(
    host: tuple[Backend, Repository], commit: bool
) -> None:
    """The host's row and regflow's registration commit, or roll back, together."""
    backend, repo = host
    events = lifecycle("host", 0)
    conn = _connect(backend)
    try:
        _begin(backend, conn)
        _insert(backend, conn, "order-1")
        mine = repo.using(conn)
        reg = mine.start(events[0])  # type: ignore[arg-type]
        for event in events[1:4]:
            reg = mine.apply(reg.agent_id, YEAR, event)
        assert mine.load(reg.agent_id, YEAR) == reg  # visible inside the transaction
        _finish(backend, conn, commit)
    finally:
        conn.close()  # type: ignore[attr-defined]
    with backend.repository() as fresh:
        if commit:
            assert _orders(backend) == ["order-1"]
            assert fresh.load(agent_id("host", 0), YEAR) == reg
            assert [c.seq for c in fresh.changes()] == [1, 2, 3, 4]
        else:
            assert _orders(backend) == []
            with pytest.raises(RegistrationNotFound):
                fresh.load(agent_id("host", 0), YEAR)
            assert fresh.changes() == []
        assert fresh.verify() == ()


def test_a_refused_write_leaves_the_hosts_transaction_usable(
    host: tuple[Backend, Repository],
) -> None:
    """A constraint regflow hits inside the host's transaction undoes only
    regflow's part (a savepoint): the host's rows still commit."""
    backend, repo = host
    first, second = lifecycle("dup", 0), lifecycle("dup", 1)
    reg = repo.start(first[0])  # type: ignore[arg-type]
    reg = repo.apply(reg.agent_id, YEAR, first[1])
    assert isinstance(second[1], ev.SaveProfile)
    taken = attrs.evolve(
        second[1], profile=attrs.evolve(second[1].profile, npn=reg.npn)
    )
    conn = _connect(backend)
    try:
        _begin(backend, conn)
        _insert(backend, conn, "order-2")
        mine = repo.using(conn)
        other = mine.start(second[0])  # type: ignore[arg-type]
        with pytest.raises(DuplicateAccount):
            mine.apply(other.agent_id, YEAR, taken)
        _insert(backend, conn, "order-3")
        _finish(backend, conn, commit=True)
    finally:
        conn.close()  # type: ignore[attr-defined]
    assert _orders(backend) == ["order-2", "order-3"]
    with backend.repository() as fresh:
        assert fresh.load(agent_id("dup", 1), YEAR).version == 1


def test_sqlite_connection_in_the_default_mode_joins_too(tmp_path: Path) -> None:
    """With sqlite3's default (implicit) transactions, a host's INSERT opens
    the transaction regflow joins; rollback() takes both away."""
    path = tmp_path / "host.sqlite3"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE host_orders (id TEXT PRIMARY KEY)")
    conn.commit()
    with Repository(SQLiteStore(connection=conn)) as repo:
        conn.execute("INSERT INTO host_orders VALUES ('o')")
        assert conn.in_transaction
        repo.start(lifecycle("implicit", 0)[0])  # type: ignore[arg-type]
        conn.rollback()
        with pytest.raises(RegistrationNotFound):
            repo.load(agent_id("implicit", 0), YEAR)
        assert conn.execute("SELECT count(*) FROM host_orders").fetchone() == (0,)
    conn.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_pool_connection_joins_the_hosts_transaction(
    host: tuple[Backend, Repository],
) -> None:
    """A store on a psycopg_pool pool; the host's pooled connection carries
    regflow's writes in its transaction."""
    backend, _ = host
    from psycopg_pool import ConnectionPool

    with ConnectionPool(backend.location, min_size=1, max_size=2, open=True) as pool:
        repo = Repository(PostgresStore(pool=pool, schema=backend.schema))
        with pool.connection() as conn, conn.transaction():
            _insert(backend, conn, "pooled")
            repo.using(conn).start(lifecycle("pool", 0)[0])  # type: ignore[arg-type]
        assert repo.load(agent_id("pool", 0), YEAR).version == 1
        with (
            pytest.raises(RuntimeError),
            pool.connection() as conn,
            conn.transaction(),
        ):
            _insert(backend, conn, "lost")
            repo.using(conn).start(lifecycle("pool", 1)[0])  # type: ignore[arg-type]
            raise RuntimeError("the host fails after regflow wrote")
        with pytest.raises(RegistrationNotFound):
            repo.load(agent_id("pool", 1), YEAR)
        assert _orders(backend) == ["pooled"]
        repo.close()


def test_using_refuses_a_foreign_connection(backend: Backend) -> None:
    """using() names the connection type it needs."""
    with backend.repository() as repo, pytest.raises(InvalidValue, match="connection"):
        repo.using(object())


# -- agencies ------------------------------------------------------------------

_AGENCIES = ("acme", "beta")


def _in(agency: str, event: ev.Event) -> ev.Event:
    if isinstance(event, ev.StartRegistration):
        return attrs.evolve(
            event, agency_id=agency, event_id=f"{agency}-{event.event_id}"
        )
    return attrs.evolve(event, event_id=f"{agency}-{event.event_id}")


@pytest.fixture(name="tenants")
def tenants_fixture(backend: Backend) -> Iterator[Repository]:
    """Two agencies with the same agent ids and NPNs; acme's agent 0 certified,
    beta's stopped at the profile. The repository reads ANY_AGENCY."""
    repo = backend.repository(agency=ANY_AGENCY)
    for agency, steps in zip(_AGENCIES, (10, 3), strict=True):
        mine = repo.scoped(agency)
        for n in range(2):
            events = [_in(agency, e) for e in lifecycle("tenant", n)[:steps]]
            reg = mine.start(events[0])  # type: ignore[arg-type]
            for event in events[1:]:
                reg = mine.apply(reg.agent_id, YEAR, event)
    try:
        yield repo
    finally:
        repo.close()


def test_every_read_stays_in_its_agency(tenants: Repository) -> None:
    """Each listing, count, log, feed and repair of a scoped repository sees
    its agency's registrations only."""
    npn = lifecycle("tenant", 0)[1].profile.npn  # type: ignore[attr-defined]
    for agency, status in zip(
        _AGENCIES, (regflow.Status.CERTIFIED, regflow.Status.IN_PROGRESS), strict=True
    ):
        repo = tenants.scoped(agency)
        regs = list(repo.by_plan_year(YEAR))
        assert {r.agency_id for r in regs} == {agency} and len(regs) == 2
        assert {r.agency_id for r in repo.page()} == {agency}
        assert [r.agency_id for r in repo.by_status(status)] == [agency] * 2
        assert list(repo.by_status(regflow.Status.CERTIFIED, plan_year=YEAR)) == (
            regs if agency == "acme" else []
        )
        state = regs[0].individual
        assert [r.agency_id for r in repo.by_state(state)] == [agency] * 2
        assert [r.agency_id for r in repo.by_npn(npn)] == [agency]
        assert {r.agency_id for r in repo.page(npn=npn)} == {agency}
        assert repo.count() == 2 and repo.count(status=status) == 2
        assert {h.agency for h in repo.histories()} == {agency}
        assert {c.key.agency for c in repo.changes(limit=1000)} == {agency}
        assert {c.key.agency for c in repo.feed("audit").pending(1000)} == {agency}
        assert repo.verify() == ()
        assert repo.rebuild().restored == ()
        assert repo.load(agent_id("tenant", 0), YEAR).agency_id == agency


def test_any_agency_reads_all_and_writes_none(tenants: Repository) -> None:
    """ANY_AGENCY lists across agencies; a write needs a scope."""
    assert tenants.count() == 4
    assert [r.agency_id for r in tenants.by_plan_year(YEAR)] == [
        "acme",
        "acme",
        "beta",
        "beta",
    ]
    assert len(tenants.changes(limit=1000)) == 10 * 2 + 3 * 2
    with pytest.raises(InvalidValue, match="scoped"):
        tenants.load(agent_id("tenant", 0), YEAR)
    with pytest.raises(InvalidValue, match="scoped"):
        tenants.apply(agent_id("tenant", 0), YEAR, lifecycle("tenant", 0)[3])


def test_no_agency_is_an_agency_of_its_own(tenants: Repository) -> None:
    """The default repository (no agency) sees none of the agencies' rows,
    and a start for another agency is refused."""
    plain = tenants.scoped(None)
    assert plain.count() == 0 and list(plain.page()) == [] and plain.changes() == []
    with pytest.raises(RegistrationNotFound):
        plain.load(agent_id("tenant", 0), YEAR)
    with pytest.raises(InvalidValue, match="agency 'acme'"):
        plain.start(_in("acme", lifecycle("other", 0)[0]))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="'agency' must be"):
        Repository(tenants.store, agency=7)  # type: ignore[arg-type]


def test_a_page_cursor_is_checked(tenants: Repository) -> None:
    """Keyset pages cover every registration once; a forged cursor is refused."""
    seen = []
    page = tenants.page(limit=3)
    while True:
        seen += [(r.agency_id, r.agent_id) for r in page]
        if page.next is None:
            break
        page = tenants.page(after=page.next, limit=3)
    assert len(seen) == len(set(seen)) == 4
    for bad in ("not base64!", "WzEsMiwzXQ==", ""):
        with pytest.raises(InvalidValue, match="'after'"):
            tenants.page(after=bad)
    with pytest.raises(InvalidValue, match="'limit'"):
        tenants.page(limit=0)
