"""Alembic environment: runs on a connection handed in by core.db.upgrade, or on a URL."""

from alembic import context
from sqlalchemy import create_engine, pool

from core.models import Base

target_metadata = Base.metadata
config = context.config


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate compares only our models: slack-sdk's tables (0002) are not in them."""
    return not (type_ == "table" and reflected and compare_to is None and name.startswith("slack_"))


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_ours,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    # Offline tooling (autogenerate) uses a sync driver.
    url = url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    engine = create_engine(url, poolclass=pool.NullPool, hide_parameters=True)  # no member data in errors
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
