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
from ums_find.refusals import exit_on_refusal
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
        with exit_on_refusal():
            run_migrate(settings)
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"migrated database {settings.mysql.database}")


@main.command()
def consume() -> None:
    """Keep the view current from the topic until SIGTERM or SIGINT."""
    from consumers.run import exit_after_signal, run_projection
    from consumers.topics import ensure_topics
    from ums_find.kafka import KafkaUnavailable

    settings = load_settings()
    stop = stop_on_signals()
    exit_after_signal(stop, settings.shutdown_s)
    with exit_on_refusal():
        try:
            ensure_topics(settings.kafka)
        except KafkaUnavailable as exc:
            # The consumer waits for the broker by itself; the topics can be made later.
            logging.getLogger(__name__).warning("%s", exc)
        code = run_projection(settings, stop)
    sys.exit(code)


@main.command()
def serve() -> None:
    """Serve the HTTP API with waitress (UMS_HTTP_WORKERS processes); SIGTERM drains what is in flight."""
    from ums_find.http.app import create_app
    from ums_find.http.workers import serve as run_server

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
    from consumers.publish import publish_random, publish_user
    from consumers.topics import ensure_topics
    from ums_find import kafka

    if count is None and (name is None or phone is None):
        raise click.UsageError("give --name and --phone, or --random COUNT")
    settings = load_settings()
    producer = kafka.producer(settings.kafka)
    try:
        with exit_on_refusal():
            ensure_topics(settings.kafka)
            if count is None:
                user = _user(name or "", phone or "", since)
                click.echo(publish_user(producer, settings.kafka.topic, user))
                return
            acked = publish_random(producer, settings.kafka.topic, count, seed)
    except kafka.KafkaUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"published {acked} of {count} random users to {settings.kafka.topic}")
    if acked < count:
        sys.exit(1)


@main.command()
@click.option(
    "--verify", is_flag=True, help="Build the side table and report how the live view differs; no swap."
)
@click.option("--drop-old", is_flag=True, help="Drop the replaced tables after the swap.")
@click.option("--force", is_flag=True, help="Replay even if the topic's earliest records are gone.")
def replay(verify: bool, drop_old: bool, force: bool) -> None:
    """Rebuild the view from the start of the topic beside the live one, then swap it in."""
    from consumers.replay import run_replay

    settings, stop = load_settings(), stop_on_signals()
    with exit_on_refusal():
        code = run_replay(settings, verify=verify, drop_old=drop_old, force=force, stop=stop)
    sys.exit(code)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(as_json: bool) -> None:
    """Per partition the checkpoint, the high watermark and the lag; the DLQ depth; the row count."""
    import json

    from consumers.status import gather, render
    from ums_find.kafka import KafkaException
    from ums_find.store import DatabaseUnavailable

    try:
        with exit_on_refusal():
            found = gather(load_settings())
    except (KafkaException, LookupError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(found.as_json(), indent=2) if as_json else render(found))


@main.group()
def dlq() -> None:
    """The dead-letter topic: list and re-publish poison records."""


@dlq.command("show")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def dlq_show(as_json: bool) -> None:
    """List dead letters: their position, the original position, the reason and the key."""
    import json

    from consumers.dlq import read_dead_letters

    for letter in _dead_letters(read_dead_letters):
        key = None if letter.key is None else letter.key.decode("utf-8", "replace")
        if as_json:
            fields = {"position": letter.position, "original": letter.original, "reason": letter.reason}
            click.echo(json.dumps({**fields, "key": key}))
        else:
            click.echo(f"{letter.position}\toriginal {letter.original}\t{letter.reason}\tkey {key!r}")


@dlq.command("redrive")
@click.option("--original", "originals", multiple=True, help="Original position P:O (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Every dead letter.")
def dlq_redrive(originals: tuple[str, ...], everything: bool) -> None:
    """Re-publish dead letters, chosen by their original position, to the main topic."""
    from consumers.dead_letter_topic import topic_producer_limit
    from consumers.dlq import read_dead_letters, redrive
    from ums_find import kafka

    if not originals and not everything:
        raise click.UsageError("give --original P:O (repeatable) or --all")
    letters = _dead_letters(read_dead_letters)
    chosen = letters if everything else [d for d in letters if d.original in set(originals)]
    missing = set(originals) - {d.original for d in letters}
    if missing:
        raise click.ClickException(f"no dead letter from {', '.join(sorted(missing))}")
    settings = load_settings()
    try:
        # As large as the topic takes: a dead letter may be as large as its record was.
        limit = topic_producer_limit(settings.kafka, settings.kafka.topic)
        producer = kafka.producer(settings.kafka, **{"message.max.bytes": limit})
        with exit_on_refusal():
            count = redrive(producer, settings.kafka.topic, chosen)
    except kafka.KafkaUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"redrove {count} records to {settings.kafka.topic}")


def _dead_letters(read: Any) -> list[Any]:
    from ums_find.kafka import KafkaException, KafkaUnavailable

    try:
        with exit_on_refusal():
            return list(read(load_settings().kafka))
    except (KafkaException, KafkaUnavailable, LookupError) as exc:
        raise click.ClickException(str(exc)) from None
