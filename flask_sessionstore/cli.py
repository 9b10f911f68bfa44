"""``flask sessions``: inspect and revoke sessions from the command line.

Registered by :meth:`~flask_sessionstore.SessionStore.init_app`.  Works with
any store; a command whose optional ``Store`` method the store lacks fails
with a message that says so, and a store that cannot be reached gives a
one-line error, not a traceback.

The commands run in their own process, so they see a shared store
(:class:`~flask_sessionstore.MongoStore`, :class:`~flask_sessionstore.RedisStore`)
but never the sessions of a server's :class:`~flask_sessionstore.MemoryStore`,
which live in the server process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from .cookie import format_iso
from .records import SessionRecord
from .stores.base import Store
from .stores.memory import MemoryStore

T = TypeVar("T")

#: ``flask sessions prune`` shows a progress bar from this many live sessions on.
LARGE_STORE = 10_000

#: Session IDs may start with "-" (they are URL-safe base64), so a lone
#: ``-abc`` is taken as the SID, not as an unknown option.
SID_ARGUMENT = {"ignore_unknown_options": True}

sessions_command = AppGroup("sessions", help="Inspect and revoke server-side sessions.")


def _store() -> Store:
    from .extension import options_of

    store = options_of(current_app).store
    if isinstance(store, MemoryStore) and not current_app.testing:
        click.echo(
            "note: MemoryStore keeps sessions inside each server process; this command "
            "only sees the store of its own process.",
            err=True,
        )
    return store


def _call(store: Store, method: Callable[[], T], command: str) -> T:
    """Run a store method; unsupported or unreachable becomes a one-line error."""
    try:
        return method()
    except NotImplementedError as exc:
        raise click.ClickException(
            f"'flask sessions {command}' is not supported by {type(store).__name__}: {exc}"
        ) from None
    except click.ClickException:
        raise
    except Exception as exc:
        name = getattr(store, "name", None) or type(store).__name__
        raise click.ClickException(
            f"{name} could not be reached for 'flask sessions {command}': "
            f"{type(exc).__name__}: {str(exc)[:300]}"
        ) from None


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else format_iso(moment)


def _row(record: SessionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "expires": _when(record.expires_at),
        "user": record.user,
        "last_seen_at": _when(record.last_seen_at),
        "created_at": _when(record.created_at),
        "ip": record.ip,
        "user_agent": record.user_agent,
    }


@sessions_command.command("count")
def count_command() -> None:
    """Print the number of live sessions."""
    store = _store()
    click.echo(_call(store, store.length, "count"))


@sessions_command.command("list")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Show at most N sessions.")
@click.option("--user", default=None, help="Only the sessions of this owner (exact match).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON array of {id, expires, user, last_seen_at, created_at, ip, user_agent}.",
)
def list_command(limit: int | None, user: str | None, as_json: bool) -> None:
    """List live sessions: ID, expiry, owner and last seen (UTC), in a table.

    The expiry is the store's, so a browser-session cookie's session shows
    when the store will forget it.  --json gives the exact times.
    """
    store = _store()
    if user is not None:
        records = _call(store, lambda: store.sessions_of(user), "list --user")
        more = max(len(records) - limit, 0) if limit is not None else 0
        records = records[:limit] if limit is not None else records
    else:
        fetch = None if limit is None else limit + 1
        records = _call(store, lambda: list(store.records(fetch)), "list")
        more = int(limit is not None and len(records) > limit)
        records = records[:limit] if limit is not None else records
    rows = [_row(record) for record in records]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no live sessions" + (f" of {user!r}" if user is not None else ""))
    else:
        _table(records)
    if more:
        click.echo("... more sessions (raise --limit to see them)", err=True)


def _table(records: list[SessionRecord]) -> None:
    """ID, expiry, owner and last seen (UTC, to the minute) in aligned columns."""

    def minute(moment: datetime | None) -> str:
        return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")

    lines = [("ID", "EXPIRES (UTC)", "USER", "LAST SEEN (UTC)")] + [
        (r.id, minute(r.expires_at), r.user if r.user is not None else "-", minute(r.last_seen_at))
        for r in records
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        click.echo("  ".join([*cells, line[3]]))


@sessions_command.command("show", context_settings=SID_ARGUMENT)
@click.argument("sid")
def show_command(sid: str) -> None:
    """Print the stored session SID, pretty-printed."""
    store = _store()
    stored = _call(store, lambda: store.get(sid), "show")
    if stored is None:
        raise click.ClickException(f"no live session with ID {sid!r}")
    click.echo(json.dumps(stored, indent=2, default=str, ensure_ascii=False))


@sessions_command.command("destroy", context_settings=SID_ARGUMENT)
@click.argument("sid", required=False)
@click.option("--user", default=None, help="Destroy every session of this owner instead.")
def destroy_command(sid: str | None, user: str | None) -> None:
    """Remove the session SID, or every session of --user (those browsers are logged out)."""
    store = _store()
    if (sid is None) == (user is None):
        raise click.UsageError("give either a session ID or --user, not both")
    if user is not None:
        count = _call(store, lambda: store.revoke_user(user), "destroy --user")
        click.echo(f"destroyed {count} session(s) of {user!r}")
        return
    assert sid is not None
    if not _call(store, lambda: store.revoke(sid), "destroy"):
        raise click.ClickException(f"no live session with ID {sid!r}")
    click.echo(f"destroyed {sid}")


@sessions_command.command("clear")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def clear_command(yes: bool) -> None:
    """Remove every session (everyone is logged out)."""
    store = _store()
    if not yes:
        try:
            what = f"all {_call(store, store.length, 'clear')} live session(s)"
        except click.ClickException:
            what = "every session"
        click.confirm(f"Remove {what} from {type(store).__name__}?", abort=True)
    _call(store, store.clear, "clear")
    click.echo("all sessions removed")


@sessions_command.command("prune")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Sessions removed per batch, for stores that prune in batches.",
)
def prune_command(batch_size: int) -> None:
    """Remove expired sessions where the store does not do it natively.

    Stores with native expiry (MongoStore's TTL index, Redis key expiry) have
    nothing to do and say so.  From LARGE_STORE live sessions on, a progress
    bar shows the batches as they go.
    """
    store = _store()
    if store.expires_natively:
        click.echo(
            f"nothing to do: {type(store).__name__} removes expired sessions by itself "
            "(a TTL index or key expiry)"
        )
        return
    try:
        live = store.length()
    except NotImplementedError:
        live = 0
    batches = store.prune_batches(batch_size)

    def run() -> int:
        if live < LARGE_STORE:
            return sum(batches)
        removed = 0
        with click.progressbar(
            _running_total(batches),
            label="Pruning expired sessions",
            item_show_func=lambda total: None if total is None else f"{total} removed",
        ) as bar:
            for total in bar:
                removed = total
        return removed

    click.echo(f"removed {_call(store, run, 'prune')} expired session(s)")


def _running_total(batches: Iterator[int]) -> Iterator[int]:
    total = 0
    for count in batches:
        total += count
        yield total
