"""``flask sessions``: inspect and revoke sessions from the command line.

Registered by :meth:`~flask_sessionstore.SessionStore.init_app`.  Works with
any store; a command whose optional ``Store`` method the store lacks fails
with a message that says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from .stores.base import Store, stored_expiry

T = TypeVar("T")

sessions_command = AppGroup("sessions", help="Inspect and revoke server-side sessions.")


def _store() -> Store:
    from .extension import options_of

    return options_of(current_app).store


def _call(method: Callable[[], T], command: str) -> T:
    try:
        return method()
    except NotImplementedError as exc:
        raise click.ClickException(
            f"'flask sessions {command}' is not supported by {type(_store()).__name__}: {exc}"
        ) from None


@sessions_command.command("count")
def count_command() -> None:
    """Print the number of live sessions."""
    click.echo(_call(_store().length, "count"))


@sessions_command.command("list")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Show at most N sessions.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_command(limit: int | None, as_json: bool) -> None:
    """List session IDs with their expiry."""
    sessions = _call(_store().all, "list")
    rows: list[dict[str, Any]] = []
    for sid, stored in sessions.items():
        if limit is not None and len(rows) >= limit:
            break
        expires = stored_expiry(stored)
        rows.append({"id": sid, "expires": expires.isoformat() if expires else None})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']}  {row['expires'] or 'browser session'}")


@sessions_command.command("show")
@click.argument("sid")
def show_command(sid: str) -> None:
    """Print the stored session SID, pretty-printed."""
    stored = _store().get(sid)
    if stored is None:
        raise click.ClickException(f"no live session with ID {sid!r}")
    click.echo(json.dumps(stored, indent=2, default=str, ensure_ascii=False))


@sessions_command.command("destroy")
@click.argument("sid")
def destroy_command(sid: str) -> None:
    """Remove the session SID."""
    _store().destroy(sid)
    click.echo(f"destroyed {sid}")


@sessions_command.command("clear")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def clear_command(yes: bool) -> None:
    """Remove every session."""
    store = _store()
    if not yes:
        click.confirm(f"Remove every session in {type(store).__name__}?", abort=True)
    _call(store.clear, "clear")
    click.echo("all sessions removed")


@sessions_command.command("prune")
def prune_command() -> None:
    """Remove expired sessions where the store does not do it natively."""
    removed = _call(_store().prune, "prune")
    click.echo(f"removed {removed} expired session(s)")
