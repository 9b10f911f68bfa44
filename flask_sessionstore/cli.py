"""``flask sessions``: inspect and revoke sessions from the command line.

Registered by :meth:`~flask_sessionstore.SessionStore.init_app`.  Works with
any store; a command whose optional ``Store`` method the store lacks fails
with a message that says so.

The commands run in their own process, so they see a shared store
(:class:`~flask_sessionstore.MongoStore`) but never the sessions of a
server's :class:`~flask_sessionstore.MemoryStore`, which live in the server
process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from .cookie import format_iso
from .stores.base import Store, stored_expiry
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
    """Run an optional store method, turning ``NotImplementedError`` into a clear error."""
    try:
        return method()
    except NotImplementedError as exc:
        raise _unsupported(store, command, exc) from None


def _unsupported(store: Store, command: str, exc: NotImplementedError) -> click.ClickException:
    return click.ClickException(
        f"'flask sessions {command}' is not supported by {type(store).__name__}: {exc}"
    )


@sessions_command.command("count")
def count_command() -> None:
    """Print the number of live sessions."""
    store = _store()
    click.echo(_call(store, store.length, "count"))


@sessions_command.command("list")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Show at most N sessions.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of {id, expires}.")
def list_command(limit: int | None, as_json: bool) -> None:
    """List live session IDs with their expiry (UTC)."""
    store = _store()
    sessions = _call(store, store.all, "list")
    rows: list[dict[str, Any]] = []
    for sid, stored in sessions.items():
        if limit is not None and len(rows) >= limit:
            break
        expires = stored_expiry(stored)
        rows.append({"id": sid, "expires": format_iso(expires) if expires else None})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no live sessions")
    for row in rows:
        click.echo(f"{row['id']}  {row['expires'] or 'browser session'}")
    if limit is not None and len(sessions) > len(rows):
        click.echo(f"... {len(sessions) - len(rows)} more (raise --limit to see them)", err=True)


@sessions_command.command("show", context_settings=SID_ARGUMENT)
@click.argument("sid")
def show_command(sid: str) -> None:
    """Print the stored session SID, pretty-printed."""
    stored = _store().get(sid)
    if stored is None:
        raise click.ClickException(f"no live session with ID {sid!r}")
    click.echo(json.dumps(stored, indent=2, default=str, ensure_ascii=False))


@sessions_command.command("destroy", context_settings=SID_ARGUMENT)
@click.argument("sid")
def destroy_command(sid: str) -> None:
    """Remove the session SID (the browser holding it is logged out)."""
    store = _store()
    live = store.get(sid) is not None
    store.destroy(sid)  # also when not live: an expired copy may still linger
    if not live:
        raise click.ClickException(f"no live session with ID {sid!r}")
    click.echo(f"destroyed {sid}")


@sessions_command.command("clear")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def clear_command(yes: bool) -> None:
    """Remove every session (everyone is logged out)."""
    store = _store()
    if not yes:
        try:
            what = f"all {store.length()} live session(s)"
        except NotImplementedError:
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

    Stores with native expiry (MongoStore's TTL index) have nothing to do
    and report 0.  From LARGE_STORE live sessions on, a progress bar shows
    the batches as they go.
    """
    store = _store()
    try:
        live = store.length()
    except NotImplementedError:
        live = 0
    batches = store.prune_batches(batch_size)
    removed = 0
    try:
        if live >= LARGE_STORE:
            with click.progressbar(
                _running_total(batches),
                label="Pruning expired sessions",
                item_show_func=lambda total: None if total is None else f"{total} removed",
            ) as bar:
                for total in bar:
                    removed = total
        else:
            removed = sum(batches)
    except NotImplementedError as exc:
        raise _unsupported(store, "prune", exc) from None
    click.echo(f"removed {removed} expired session(s)")


def _running_total(batches: Iterator[int]) -> Iterator[int]:
    total = 0
    for count in batches:
        total += count
        yield total
