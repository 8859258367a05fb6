"""Who runs a management command, for the history rows it writes: `--user USERNAME` (a Django
user), and always the operating-system account, so that no change is left without an author."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from accounting.services.history import HistoryStamp, operator_stamp


def operator_argument_add(parser: CommandParser) -> None:
    parser.add_argument(
        "--user",
        help="Username recorded in the history as making the change (default: none; the "
        "operating-system account running the command is recorded either way).",
    )


def operator_from_options(options: dict[str, Any]) -> HistoryStamp:
    """The history stamp for `--user`, refused when no such user exists."""
    username = options.get("user")
    if not username:
        return operator_stamp()
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user '{username}'; --user names an existing user.")
    return operator_stamp(user)
