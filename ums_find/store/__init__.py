"""MySQL: connections, schema, the projection's writes and the API's reads."""

from ums_find.store.checkpoints import CheckpointRepository, Scope
from ums_find.store.connection import DatabaseRefused, DatabaseUnavailable, Tables, connect
from ums_find.store.projection import Change, Position, ProjectionStore, StalePosition
from ums_find.store.reader import UserReader, UserRecord
from ums_find.store.schema import migrate

__all__ = [
    "Change",
    "CheckpointRepository",
    "DatabaseRefused",
    "DatabaseUnavailable",
    "Position",
    "ProjectionStore",
    "Scope",
    "StalePosition",
    "Tables",
    "UserReader",
    "UserRecord",
    "connect",
    "migrate",
]
