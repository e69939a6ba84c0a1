"""Flask CLI commands for operators: schema migrations, API keys, the audit chain, key rotation."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from tqdm import tqdm

from graph.apikeys import ROLES
from graph.audit import AccessLog, upgrade_legacy
from graph.rotation import count_pending, rotate
from graph.scan import scan_due
from graph.schema import MIGRATIONS, MigrationError, applied_versions, migrate
from profiles.anchors import ANCHORS
from profiles.audit import SEALED, ChainBroken, NoAuditKey, Verdict
from profiles.catalog import CatalogError, check_catalog, load_catalog
from profiles.catalog.model import coverage
from profiles.config import load
from profiles.errors import NotFound
from profiles.models import OPERATOR
from web.usecases.accounts import create_api_key, revoke_api_key


def init_app(app: Flask) -> None:
    from web import cli_data, cli_jobs, cli_officers

    for group in (graph_group, apikey_group, audit_group, keys_group, catalog_group):
        app.cli.add_command(group)
    cli_data.init_app(app)
    cli_jobs.init_app(app)
    cli_officers.init_app(app)


graph_group = AppGroup("graph", help="The Neo4j schema.")  # AppGroup: each command runs in an app context


@graph_group.command("migrate", help="Apply schema migrations not yet recorded in the graph (safe to repeat).")
def migrate_command() -> None:
    services = current_app.extensions["lifecycle"]
    try:
        applied = migrate(services.driver, services.settings.neo4j_database)
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from exc
    if applied:
        click.echo(f"applied migrations {', '.join(map(str, applied))}")
    else:
        click.echo(f"schema up to date (version {MIGRATIONS[-1].version})")


@graph_group.command("status", help="List migrations and whether each is applied.")
def status_command() -> None:
    services = current_app.extensions["lifecycle"]
    done = applied_versions(services.driver, services.settings.neo4j_database)
    for m in MIGRATIONS:
        click.echo(f"{m.version:>4}  {'applied' if m.version in done else 'pending':8} {m.name}")


@click.group("apikey", help="API keys for department systems and scripts.")
def apikey_group() -> None:
    pass


@apikey_group.command("create", help="Create a key and print it once; only its hash is kept.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True, help="who holds it, e.g. 'civil-affairs-bureau'")
@with_appcontext
def apikey_create(role: str, name: str) -> None:
    try:
        key = create_api_key(current_app.extensions["lifecycle"], OPERATOR, name, role)
    except ValueError as exc:
        raise click.ClickException(f"name: {exc}") from exc
    click.echo(key)
    click.echo(f"(role {role}, name {name}; store it now: it cannot be shown again)", err=True)


@apikey_group.command("list", help="One line per key: id, name, role, created, last used, active or revoked.")
@with_appcontext
def apikey_list() -> None:
    services = current_app.extensions["lifecycle"]
    keys = services.api_keys.all_keys()
    if not keys:
        click.echo("no API keys yet (create one with `apikey create`)")
    for k in keys:
        state = f"revoked {_when(k.revoked_at, services.settings.zone)}" if k.revoked else "active"
        last = _when(k.last_used_at, services.settings.zone) if k.last_used_at else "never"
        click.echo(f"{k.kid}  {k.name:<24}  {k.role:<7}  created {_when(k.created_at, services.settings.zone)}  "
                   f"last used {last:<16}  {state}")


@apikey_group.command("revoke", help="End a key at once: from its next request on it gets 401.")
@click.argument("key_id")
@with_appcontext
def apikey_revoke(key_id: str) -> None:
    services = current_app.extensions["lifecycle"]
    # The whole key is accepted too: whoever holds a leaked one can end it without looking its id up.
    kid = key_id.strip().split("_")[1] if key_id.strip().startswith("lk_") else key_id.strip()
    try:
        done = revoke_api_key(services, OPERATOR, kid)
    except NotFound as exc:
        raise click.ClickException(f"no API key with id {kid!r} (`apikey list` shows the ids)") from exc
    at = _when(done.key.revoked_at, services.settings.zone)
    if done.already:
        click.echo(f"{kid} ({done.key.name}) was already revoked, at {at}")
    else:
        click.echo(f"revoked {kid} ({done.key.name}, role {done.key.role}) at {at}: it gets 401 from now on")


def _when(moment, zone) -> str:
    """A stored UTC time as the operator reads it: local to the service's zone, to the minute."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "-"


@click.group("audit", help="The access log.")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="Anchor the heads that moved, then check the anchors and every chain (records, "
                                    "links, head, last anchor); name the first bad record, head or anchor.")
@click.option("--no-anchor", is_flag=True, help="only read: check without writing an anchor first")
@with_appcontext
def audit_verify(no_anchor: bool) -> None:
    log = _access_log()
    if not no_anchor:
        _anchor(log)
    checked = log.verify()
    verdict = checked.verdict
    if verdict.intact:
        top = checked.anchor_head
        last = f"; last anchor {top.seq}, key {top.key_id}" if top and top.seq else "; no anchor yet"
        click.echo(f"access log intact: {checked.records} records checked in {_n(checked.chains, 'chain')}, "
                   f"{_n(checked.anchors, 'anchor')}{last}")
        return
    raise click.ClickException(f"access log broken at {_where(verdict)}: {verdict.reason}")


@audit_group.command("anchor", help="Anchor the chain heads that moved since the last anchor (the sweeper does it "
                                    "every run).")
@with_appcontext
def audit_anchor() -> None:
    done = _anchor(_access_log())
    if done.anchors:
        last = done.anchors[-1]
        click.echo(f"anchored {done.heads} chain heads in anchor(s) {done.anchors[0].seq}-{last.seq} "
                   f"(last: {last.hash[:16]}, key {last.key_id})")
    else:
        click.echo("no chain head moved since the last anchor")
    if done.refused:
        raise click.ClickException(f"{len(done.refused)} head(s) left out; the first, {_where(done.refused[0])}: "
                                   f"{done.refused[0].reason}")


def _anchor(log: AccessLog):
    try:
        return log.anchor()
    except ChainBroken as exc:
        raise click.ClickException(f"access log broken at {_where(exc.verdict)}: {exc.verdict.reason}") from exc
    except NoAuditKey as exc:
        raise click.ClickException(str(exc)) from exc


@audit_group.command("upgrade", help="Seal the single chain of an earlier layout (re-signing it first if it predates "
                                     "keys), once it verifies.")
@with_appcontext
def audit_upgrade() -> None:
    services = current_app.extensions["lifecycle"]
    log = _access_log()
    try:
        done = upgrade_legacy(services.driver, services.settings.neo4j_database, log.keys)
    except ChainBroken as exc:
        raise click.ClickException(
            f"refusing to upgrade: the legacy log is already broken at {_where(exc.verdict)}: {exc.verdict.reason}. "
            "Nothing was changed; a broken history is not signed (investigate, then restore it from a backup)."
        ) from exc
    except NoAuditKey as exc:
        raise click.ClickException(str(exc)) from exc
    if done.nothing_to_do:
        click.echo("access log already in chains per subject (or empty): nothing to upgrade")
        return
    if done.resigned:
        click.echo(f"re-signed {done.resigned} legacy records and the head under key {log.keys.active}")
    click.echo(f"sealed the single chain ({done.sealed} records) as chain '{SEALED}'; anchor {done.anchor} "
               "recorded its head")


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _access_log() -> AccessLog:
    return current_app.extensions["lifecycle"].access_log


def _where(verdict: Verdict) -> str:
    r, chain = verdict.record, verdict.chain
    if verdict.anchor is not None:
        return f"anchor {verdict.anchor.seq} ({verdict.anchor.at.isoformat()})"
    if chain == ANCHORS:
        return "the anchor head (AnchorHead missing)" if verdict.head is None else \
            f"the anchor head (AnchorHead seq {verdict.head.seq})"
    of = f" of chain {chain}" if chain else ""
    if r is not None:
        return f"record {r.seq} (rid {r.rid}, {r.at.isoformat()}){of}"
    if verdict.head is None:
        return f"the head{of} (AuditHead missing)"
    return f"the head{of} (AuditHead seq {verdict.head.seq})"


@click.group("keys", help="Data-encryption keys.")
def keys_group() -> None:
    pass


@keys_group.command("rotate", help="Re-encrypt everything under the active key (resumable; safe to interrupt).")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 10000))
@with_appcontext
def keys_rotate(batch: int) -> None:
    services = current_app.extensions["lifecycle"]
    db = services.settings.neo4j_database
    pending = count_pending(services.driver, db, services.cipher)
    with tqdm(total=pending, unit="node", desc=f"re-encrypting under {services.cipher.active}") as bar:
        done = rotate(services.driver, db, services.cipher, batch=batch, progress=bar.update)
    click.echo(f"re-encrypted {done} nodes; {count_pending(services.driver, db, services.cipher)} left")


@click.group("catalog", help="The service catalog (事项目录).")
def catalog_group() -> None:
    pass


@catalog_group.command("check", help="Validate the catalog (default: the configured one); name every problem.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def catalog_check(directory: Path | None) -> None:
    # Plain click, not AppGroup: the app itself refuses to start on a broken catalog, and this must still report.
    catalog, problems = check_catalog(directory or load().catalog_dir)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"the catalog has {len(problems)} problem(s)")
    click.echo(f"catalog OK: {len(catalog.services)} services, {len(catalog.materials)} material kinds")


@catalog_group.command("stages",
                       help="The coverage table: each stage of both lifecycles and the services that carry it.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def catalog_stages(directory: Path | None) -> None:
    # Plain click like `check`: it reads the catalog files, not the graph.
    catalog, problems = check_catalog(directory or load().catalog_dir)
    if problems:
        raise click.ClickException(f"the catalog has {len(problems)} problem(s); see `catalog check`")
    gaps = []
    for audience, rows in coverage(catalog).items():
        life = catalog.lifecycles[audience]
        click.echo(f"{life.name.zh} / {life.name.en}")
        for stage, carried in rows:
            said = ", ".join(f"{s.code}{' (offer)' if s.nature == 'offer' else ''}" for s in carried) or "-- none --"
            click.echo(f"  {_pad(stage.name.zh, 10)}{stage.key:<14}{len(carried):>3}  {said}")
            if not carried:
                gaps.append(f"{stage.name.zh} ({stage.key})")
        click.echo("")
    sources = next(iter(catalog.lifecycles.values())).sources if catalog.lifecycles else ()
    click.echo("stages: " + "; ".join(src.title for src in sources))
    click.echo(f"not covered: {', '.join(gaps)}" if gaps else "every stage is covered")


def _pad(text: str, width: int) -> str:
    """Left-aligned in `width` terminal columns: a Chinese character takes two."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 1)


@catalog_group.command("preview", help="Compare who would be due under a changed service file with the live catalog.")
@click.argument("changed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--within", default=365, show_default=True, type=click.IntRange(0, 3660))
@with_appcontext
def catalog_preview(changed: Path, as_of, within: int) -> None:
    services = current_app.extensions["lifecycle"]
    live = services.catalog
    try:
        candidate = catalog_with(services.settings.catalog_dir, changed)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    day = as_of.date()
    db = services.settings.neo4j_database
    before = {(i.service, i.subject_id) for i in scan_due(services.driver, db, live, day, within)}
    after = {(i.service, i.subject_id) for i in scan_due(services.driver, db, candidate, day, within)}
    click.echo(f"as of {day}, within {within} days: service, due now, due with the change, newly due, no longer due")
    for code in sorted({s for s, _ in before | after}):
        b = {sid for s, sid in before if s == code}
        a = {sid for s, sid in after if s == code}
        marker = "" if a == b else "   <- changes"
        click.echo(f"  {code:42} {len(b):>7} {len(a):>7} {len(a - b):>+7} {-len(b - a):>+7}{marker}")


def catalog_with(live_dir: Path, changed: Path):
    """The live catalog with one service file replaced (or added) by `changed`, validated like the live one."""
    import shutil
    import tempfile

    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "catalog"
        shutil.copytree(live_dir, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        code = (yaml.safe_load(changed.read_text(encoding="utf-8")) or {}).get("code") or changed.stem
        shutil.copyfile(changed, copy / "services" / f"{code}.yaml")
        return load_catalog(copy)
