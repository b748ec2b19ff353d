"""The `ums-find` command: every subcommand, and the wiring of the adapters (composition root)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import click

from ums_find import logs
from ums_find.domain import DomainError, Name, User
from ums_find.events import parse_phone, parse_since
from ums_find.settings import Settings, SettingsError


def load_settings() -> Settings:
    """Settings from the environment, or a clear exit naming the bad one."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


@click.group()
def main() -> None:
    """ums-find: the query side of the User Management System."""
    logs.configure()


@main.command()
def migrate() -> None:
    """Create the database and tables if absent (idempotent)."""
    from ums_find.store import DatabaseUnavailable
    from ums_find.store import migrate as run_migrate

    settings = load_settings()
    try:
        run_migrate(settings)
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"migrated database {settings.mysql_database}")


@main.command()
def consume() -> None:
    """Keep the view current from the topic until SIGTERM or SIGINT."""
    from consumers.kafka import KafkaUnavailable
    from consumers.run import run_projection
    from consumers.topics import ensure_topics

    settings = load_settings()
    try:
        ensure_topics(settings)
    except KafkaUnavailable as exc:
        # The consumer waits for the broker by itself; the topics can be made later.
        logging.getLogger(__name__).warning("%s", exc)
    sys.exit(run_projection(settings, stop_on_signals()))


@main.command()
def serve() -> None:
    """Serve the HTTP API with waitress (UMS_HTTP_WORKERS processes); SIGTERM drains what is in flight."""
    from ums_find.api import create_app
    from ums_find.workers import serve as run_server

    settings = load_settings()
    sys.exit(run_server(lambda: create_app(settings), settings))


def _user(name: str, phone: str, since: str | None) -> User:
    try:
        moment = parse_since(since) if since else datetime.now(UTC)
        return User(Name(name), parse_phone(int(phone) if phone.isdigit() else phone), moment)
    except DomainError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.option("--name", help="The user's name (8 to 32 characters).")
@click.option("--phone", help="The phone number (9000000000 up to 15 digits).")
@click.option("--since", help="When the user joined, ISO-8601 (default: now).")
@click.option("--random", "count", type=click.IntRange(min=1), help="Publish COUNT random users instead.")
@click.option("--seed", type=int, help="Seed for --random, for repeatable names.")
def publish(
    name: str | None, phone: str | None, since: str | None, count: int | None, seed: int | None
) -> None:
    """Publish users as AddService would; print the position token of a single one."""
    from confluent_kafka import Producer

    from consumers.kafka import KafkaUnavailable, producer_config
    from consumers.publish import publish_random, publish_user
    from consumers.topics import ensure_topics

    if count is None and (name is None or phone is None):
        raise click.UsageError("give --name and --phone, or --random COUNT")
    settings = load_settings()
    # Java's default partitioner (murmur2), as AddService's producer uses: the API maps names the same way.
    producer = Producer(producer_config(settings, partitioner="murmur2_random"))
    try:
        ensure_topics(settings)
        if count is not None:
            acked = publish_random(producer, settings.topic, count, seed)
            click.echo(f"published {acked} of {count} random users to {settings.topic}")
            if acked < count:
                sys.exit(1)
        else:
            click.echo(publish_user(producer, settings.topic, _user(name or "", phone or "", since)))
    except KafkaUnavailable as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option(
    "--verify", is_flag=True, help="Build the side table and report how the live view differs; no swap."
)
@click.option("--drop-old", is_flag=True, help="Drop the replaced tables after the swap.")
@click.option("--force", is_flag=True, help="Replay even if the topic's earliest records are gone.")
def replay(verify: bool, drop_old: bool, force: bool) -> None:
    """Rebuild the view from the start of the topic beside the live one, then swap it in."""
    from consumers.replay import run_replay

    sys.exit(
        run_replay(load_settings(), verify=verify, drop_old=drop_old, force=force, stop=stop_on_signals())
    )
