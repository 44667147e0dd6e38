"""``hotline``: run and operate the suite.

``hotline run`` is what ``make run`` calls: the embedded PostgreSQL (unless DATABASE_URL is
set), every migration, then the three services, until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar
from zoneinfo import ZoneInfo

import httpx
import typer

from shared.auth import ROLES_WITH_UNIT, Role, mint_token
from shared.db import SERVICES
from shared.errors import BadInput, DomainError
from shared.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
SHANGHAI = ZoneInfo("Asia/Shanghai")  # every time shown, whatever the host's zone

app = typer.Typer(
    help="12345 hotline work-order suite", no_args_is_help=True, pretty_exceptions_enable=False
)

PORTS = {"console": 8000, "intake": 8001, "dispatch": 8002, "sla": 8003, "identity": 8004}
SERVABLE = ("console", *SERVICES)  # the console keeps no data: it has no schema
# Real units of the shipped directory, so that the printed tokens work in the tour.
DEMO_UNITS = {
    Role.UNIT: "tianhe-urban",
    Role.SUB_UNIT: "tianhe-street-07",
    Role.GUIDANCE: "city-urban",
}


def service_command(service: str, *, host: str, port: int) -> list[str]:
    """The argv that starts one service; docker-compose and the tests use the same."""
    return ["hotline", "serve", service, "--host", host, "--port", str(port)]


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="console, intake, dispatch or sla")],
    host: str = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="default: 8000/8001/8002/8003")] = None,
    workers: Annotated[int | None, typer.Option(help="processes; default HOTLINE_WORKERS")] = None,
) -> None:
    """Serve one service (its schema must be migrated: `hotline migrate`)."""
    import uvicorn

    if service not in SERVABLE:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVABLE)}")
    uvicorn.run(
        f"{service}.app:build_app",
        factory=True,
        host=host,
        port=port or PORTS[service],
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
        workers=workers or get_settings().workers,
        # The client address the public endpoints count by is X-Forwarded-For's, from these.
        forwarded_allow_ips=get_settings().trusted_proxies,
    )


@app.command()
def migrate(
    services: Annotated[list[str] | None, typer.Argument(help="default: all of them")] = None,
    reference: Annotated[bool, typer.Option(help="then load the reference data")] = True,
) -> None:
    """Apply every migration of the given services' schemas, then load reference data."""
    from hotline.reference import load_all
    from shared.migrations import upgrade

    url = _database_url()
    for service in services or SERVICES:
        upgrade(service, url)
        typer.echo(f"{service}: migrated to head")
    if reference and not services:
        typer.echo(f"reference data: {load_all(url)}")


def _operator() -> str:
    """Who runs an operator command, for the record."""
    import getpass
    import socket

    return f"{getpass.getuser()}@{socket.gethostname()} (hotline)"


@app.command("train-classifier")
def train_classifier(
    force: Annotated[
        bool, typer.Option(help="make it active even if it does worse on a fresh set (recorded)")
    ] = False,
) -> None:
    """Retrain type and category on shipped and agent-confirmed examples; print the report.
    The new model becomes active only if it does no worse than the active one on the fresh
    evaluation sets (docs/classification.md)."""
    from datetime import UTC, datetime

    from intake.classify.service import retrain

    async def train(session: AsyncSession) -> str:
        report, _ = await retrain(session, now=datetime.now(UTC), by=_operator(), force=force)
        return report

    typer.echo(_in_session("train-classifier", train))


@app.command("classifier-models")
def classifier_models() -> None:
    """The stored classifier models, newest first: which is active, and each one's results
    on the fresh evaluation sets."""
    from intake.classify.service import stored_models

    for m in _in_session("classifier-models", stored_models):
        sets = m.metrics.get("evaluation_sets", {})
        fresh = ", ".join(
            f"{name} type {r.get('type_accuracy')} category {r.get('category_accuracy')}"
            for name, r in sets.items()
            if name.startswith("fresh")
        )
        state = "ACTIVE" if m.active else ("pickle, never loaded" if m.format != "skops" else "")
        trained = m.trained_at.astimezone(SHANGHAI)
        typer.echo(f"{m.version}  {trained:%Y-%m-%d %H:%M}  {state}  {fresh}")


@app.command("classifier-activate")
def classifier_activate(
    version: str,
    force: Annotated[
        bool, typer.Option(help="even if it does worse on a fresh set (recorded)")
    ] = False,
) -> None:
    """Make a stored model active: a rollback to an earlier one, or one kept inactive."""
    from datetime import UTC, datetime

    from intake.classify.service import activate

    async def make_active(session: AsyncSession) -> list[str]:
        return await activate(session, version, now=datetime.now(UTC), by=_operator(), force=force)

    try:
        worse = _in_session("classifier-activate", make_active)
    except DomainError as refused:
        typer.echo(refused.message, err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{version} is active" + (f" (forced over: {'; '.join(worse)})" if worse else ""))


@app.command("rotate-pii-key")
def rotate_pii_key(
    batch: Annotated[int, typer.Option(help="tickets per transaction", min=1)] = 500,
) -> None:
    """Re-seal callers' personal data sealed by a retired key with HOTLINE_PII_KEY, a batch
    per transaction; safe to stop and run again, and beside the running services."""
    import asyncio

    from intake.privacy import vault_for
    from intake.tickets.keeping import reseal_batch, reseal_submissions

    from shared.db import standalone_session

    url, vault = _database_url(), vault_for(get_settings())

    async def run() -> int:
        after, batches = "", 0
        while True:
            async with standalone_session(url, application_name="rotate-pii-key") as session:
                last = await reseal_batch(session, vault, after=after, limit=batch)
            if last is None:
                return batches
            after, batches = last, batches + 1
            typer.echo(f"batch {batches}: up to ticket {last}")

    batches = asyncio.run(run())

    async def submissions() -> int:
        async with standalone_session(url, application_name="rotate-pii-key") as session:
            return await reseal_submissions(session, vault)

    resealed = asyncio.run(submissions())
    typer.echo(
        f"done: {batches} batch(es) and {resealed} submission(s) awaiting review; "
        f"everything now under key {vault.key_id}"
    )


@app.command("generate-keys")
def generate_keys(
    out: Annotated[Path, typer.Argument(help="a new folder for the keys")],
) -> None:
    """A signing key for each issuer (identity, intake, dispatch, sla) and the public key
    set every process believes (docs/identity.md): one private PEM per service's Secret,
    public-keys.json for all."""
    import json

    from shared.auth import new_keys

    private, public = new_keys()
    out.mkdir(parents=True, exist_ok=False)
    for issuer, pem in private.items():
        path = out / f"{issuer}.pem"
        path.touch(mode=0o600)
        path.write_text(pem)
    (out / "public-keys.json").write_text(json.dumps(public, indent=2) + "\n")
    typer.echo(f"keys in {out}: {', '.join(private)} (private, one each) and public-keys.json")


@app.command("add-user")
def add_user(
    username: str,
    role: Annotated[Role, typer.Option(help="agent, dispatcher, unit, supervisor, admin, …")],
    name: Annotated[str, typer.Option(help="the person's name as shown")],
    unit: Annotated[str | None, typer.Option(help="unit id (unit, sub_unit, guidance)")] = None,
    district: Annotated[
        str | None, typer.Option(help="a district agency's (dispatcher, supervisor; Art 5)")
    ] = None,
) -> None:
    """Add a person to the directory straight in the database: the first administrator,
    before anyone can sign in to add the others. Asks for the password."""
    from identity import service
    from identity.schemas import AccountCreate

    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        body = AccountCreate(
            username=username,
            display_name=name,
            role=role,
            unit_id=unit,
            district=district,
            password=password,
        )
    except ValueError as refused:
        raise typer.BadParameter(str(refused)) from None

    async def create(session: AsyncSession) -> None:
        await service.create(session, "hotline add-user", service.wall_time(), body)

    try:
        _in_session("add-user", create)
    except DomainError as refused:
        typer.echo(refused.zh or refused.message, err=True)
        raise typer.Exit(2) from None
    typer.echo(f"added {username} ({role.value})")


def _pg_program(name: str) -> str:
    """A PostgreSQL client program: from HOTLINE_PG_BIN, else the embedded server's (the
    same version as the development database), else the machine's."""
    import shutil

    from shared import embedded_pg

    folder = os.environ.get("HOTLINE_PG_BIN")
    found = str(Path(folder) / name) if folder else embedded_pg.program(name) or shutil.which(name)
    if found is None:
        typer.echo(
            f"{name} not found: install the PostgreSQL client or set HOTLINE_PG_BIN", err=True
        )
        raise typer.Exit(2)
    return str(found)


def _libpq_url() -> str:
    from shared.db import asyncpg_dsn

    return asyncpg_dsn(_database_url())


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="a new folder for the dumps")],
) -> None:
    """Dump each service's schema to OUT/<schema>.dump (pg_dump's custom format), with a
    manifest of the migrations each was at; the services may keep running."""
    import json
    from datetime import UTC, datetime

    from shared.migrations import head_revisions

    url = _libpq_url()
    out.mkdir(parents=True, exist_ok=False)
    for schema in SERVICES:
        target = out / f"{schema}.dump"
        command = [_pg_program("pg_dump"), "--format=custom", f"--schema={schema}"]
        subprocess.run([*command, "--no-owner", f"--file={target}", url], check=True)
        typer.echo(f"{schema}: {target.stat().st_size:,} bytes")
    manifest = {
        "taken_at": datetime.now(UTC).isoformat(),
        "schemas": {s: sorted(head_revisions(s)) for s in SERVICES},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="a folder `hotline backup` wrote")],
    schema: Annotated[
        list[str] | None, typer.Option(help="only this schema (repeatable); all by default")
    ] = None,
) -> None:
    """Restore schemas from a backup into DATABASE_URL, each in one transaction (what was
    there is replaced); then `hotline migrate` brings an older backup to this release."""
    for name in schema or SERVICES:
        if name not in SERVICES:
            raise typer.BadParameter(f"unknown schema {name!r}; one of {', '.join(SERVICES)}")
        dump = source / f"{name}.dump"
        if not dump.exists():
            typer.echo(f"no {dump}", err=True)
            raise typer.Exit(2)
        command = [_pg_program("pg_restore"), "--clean", "--if-exists", "--no-owner"]
        url = _libpq_url()
        subprocess.run([*command, "--single-transaction", f"--dbname={url}", str(dump)], check=True)
        typer.echo(f"{name}: restored")


@app.command()
def outbox(
    service: Annotated[str, typer.Argument(help="intake, dispatch or sla")],
    replay: Annotated[
        list[int] | None, typer.Option(help="make this event (seq) due now; repeatable")
    ] = None,
    replay_all: Annotated[bool, typer.Option(help="make every undelivered event due now")] = False,
) -> None:
    """List a service's events that failed delivery (kept, retried); replay them now."""
    from shared.outbox import Outbox

    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}")

    async def look(session: AsyncSession) -> None:
        box = Outbox(service)
        if replay or replay_all:
            count = await box.replay(session, None if replay_all else replay)
            typer.echo(f"{count} event(s) due now")
            return
        for row in await box.stuck(session):
            typer.echo(
                f"{row['seq']}\t{row['event_type']}\t→ {row['destination']}\t"
                f"key {row['ordering_key']}\tattempts {row['attempts']}\t"
                f"next {row['next_attempt_at']:%Y-%m-%d %H:%M:%S%z}\t{row['last_error']}"
            )

    _in_session("outbox", look)


def _database_url() -> str:
    url = get_settings().database_url
    if not url:
        typer.echo("DATABASE_URL is not set", err=True)
        raise typer.Exit(2)
    return url


def _in_session(command: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """``work`` in one unit of work on DATABASE_URL (an engine of its own, disposed after),
    committed when it returns."""
    import asyncio

    from shared.db import standalone_session

    url = _database_url()

    async def run() -> T:
        async with standalone_session(url, application_name=command) as session:
            return await work(session)

    return asyncio.run(run())


@app.command("dev-token")
def dev_token(
    role: Annotated[Role, typer.Argument(help="the token's role")],
    unit: Annotated[
        str | None, typer.Option(help="unit id (unit, sub_unit and guidance roles)")
    ] = None,
    district: Annotated[
        str | None,
        typer.Option(help="a district hotline agency's district (dispatcher, supervisor; Art 5)"),
    ] = None,
    subject: Annotated[str | None, typer.Option(help="who the token names")] = None,
) -> None:
    """Print a bearer token for a development stack (refused in production)."""
    settings = get_settings()
    if settings.is_production:
        typer.echo("dev-token is refused: HOTLINE_ENV=production", err=True)
        raise typer.Exit(2)
    if role in ROLES_WITH_UNIT and not unit:
        raise typer.BadParameter(f"a {role.value} token needs --unit")
    try:
        token = mint_token(
            settings,
            role=role,
            subject=subject or f"dev-{role.value}",
            unit_id=unit,
            district=district,
        )
    except BadInput as refused:
        raise typer.BadParameter(refused.message) from None
    typer.echo(token)


@app.command()
def run(
    host: str = "127.0.0.1",
    base_port: Annotated[
        int, typer.Option(help="intake's port; dispatch, sla and identity follow")
    ] = 8001,
    console_port: Annotated[int, typer.Option(help="the web workbench's port")] = 8000,
    data_dir: Annotated[
        Path, typer.Option(help="embedded PostgreSQL and the notification sink live here")
    ] = Path(".data"),
) -> None:
    """Start everything for development: database, migrations, the services, the workbench."""
    from hotline.reference import load_all
    from shared import embedded_pg
    from shared.migrations import upgrade

    ports = {service: base_port + i for i, service in enumerate(SERVICES)}
    if console_port in ports.values():
        raise typer.BadParameter(
            f"the console's port {console_port} is one of the services' "
            f"({base_port}–{base_port + len(SERVICES) - 1})"
        )
    ports["console"] = console_port
    # A supervisor's stop is a Ctrl-C; and Ctrl-C works even if started with SIGINT ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    settings = get_settings()
    server = None
    url = settings.database_url
    if url:
        typer.echo("database: DATABASE_URL (no embedded PostgreSQL)")
    else:
        server, url = embedded_pg.start(data_dir.resolve() / "pg", database="hotline")
        typer.echo(f"database: embedded PostgreSQL in {data_dir / 'pg'}")
    for service in SERVICES:
        upgrade(service, url)
    typer.echo("migrations: at head")
    typer.echo(f"reference data: {load_all(url)}")

    # The services keep their development files (the notification sink) beside the database.
    env = {**os.environ, "DATABASE_URL": url, "HOTLINE_DATA_DIR": str(data_dir.resolve())}
    env.update(
        {
            f"HOTLINE_{s.upper()}_URL": f"http://{host}:{p}"
            for s, p in ports.items()
            if s in SERVICES
        }
    )
    children = {
        service: subprocess.Popen(
            [sys.executable, "-m", *service_command(service, host=host, port=port)],
            env=env,
        )
        for service, port in ports.items()
    }
    try:
        _wait_ready(children, host, ports)
        _print_welcome(host, ports)
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
        typer.echo("a service stopped; stopping the others", err=True)
    except KeyboardInterrupt:
        typer.echo("\nstopping…")
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if server is not None:
            server.cleanup()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_ready(
    children: dict[str, subprocess.Popen[bytes]], host: str, ports: dict[str, int]
) -> None:
    deadline = time.monotonic() + 60
    waiting = dict(ports)
    while waiting:
        for service, port in list(waiting.items()):
            if children[service].poll() is not None:
                raise SystemExit(f"{service} exited before it was ready")
            try:
                if httpx.get(f"http://{host}:{port}/readyz", timeout=1).status_code == 200:
                    del waiting[service]
            except httpx.TransportError:
                pass
        if time.monotonic() > deadline:
            raise SystemExit(f"not ready after 60 s: {', '.join(waiting)}")
        time.sleep(0.2)


def _print_welcome(host: str, ports: dict[str, int]) -> None:
    settings = get_settings()
    typer.echo("\nThe 12345 hotline suite is running (Ctrl-C stops it):")
    for service, port in ports.items():
        if service == "console":
            typer.echo(f"  workbench http://{host}:{port}   (the web console, in Chinese)")
        else:
            typer.echo(f"  {service:<9} http://{host}:{port}   docs: http://{host}:{port}/docs")
    typer.echo("\nDevelopment tokens (Authorization: Bearer …):")
    for role in Role:
        if role in (Role.SERVICE, Role.CALLER):
            continue  # services mint their own; a caller's token is one ticket's rating link
        token = mint_token(
            settings, role=role, subject=f"dev-{role.value}", unit_id=DEMO_UNITS.get(role)
        )
        typer.echo(f"  {role.value:<10} {token}")
    typer.echo("", nl=True)
    sys.stdout.flush()
