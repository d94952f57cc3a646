"""The token chain in PostgreSQL: one store shared by every machine, locked per chain.

For CI runners with an empty disk and pools of workers, where a file cannot be shared:
``token_store_url`` names a database the user already runs (the warehouse, Meltano's own
database). Design:

- One table, ``<schema>.tap_slack_snow_token_chains`` (chain_id primary key, the sealed
  envelope as jsonb, updated_at), created on first use under a transaction-level advisory
  lock so two first runs do not race on ``CREATE TABLE``.
- The lock is the chain's row: ``SELECT ... FOR UPDATE`` in a transaction held across
  read, refresh and write, bounded by ``lock_timeout``. A second run on any machine waits,
  then reads what the first committed and reuses it. A run that dies while holding the
  lock loses its connection, and the server ends its transaction and lock with it.
- Connecting happens before anything is sent to Slack, so an unreachable database costs no
  refresh token. The new chain is committed right after Slack answers; if the connection
  dropped meanwhile, the write is retried on new connections, and when the database stays
  away :class:`StoreWriteError` lets the provider put the chain in a rescue file.

The driver (psycopg 3) is the optional extra ``tap-slack-snow[postgres]``.
"""

from __future__ import annotations

import contextlib
import json
import time
import typing as t

from tap_slack_snow.auth.crypto import EnvelopeError, StoreKey, describe_envelope_error
from tap_slack_snow.auth.store import StoreWriteError
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.settings import DEFAULTS, is_database_url

if t.TYPE_CHECKING:
    import psycopg

TABLE = "tap_slack_snow_token_chains"
CONNECT_TIMEOUT_SECONDS = 10
#: Retries of the write of a new chain after its connection dropped (seconds between).
SAVE_RETRY_WAITS = (0.5, 1.0, 2.0, 4.0)
#: A lock holder silent for this long (a partitioned machine) is cut off by the server.
IDLE_IN_TRANSACTION_TIMEOUT = "15min"
APPLICATION_NAME = "tap-slack-snow"
EXTRA_HINT = "pip install 'tap-slack-snow[postgres]'"


def libpq_url(url: str) -> str:
    """The URL libpq reads: SQLAlchemy's ``postgresql+psycopg://`` spelling made plain."""
    return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgresql+") else url


def _driver() -> t.Any:
    try:
        import psycopg  # noqa: PLC0415 - optional extra, only for token_store_url
    except ImportError:
        raise TapSlackError(
            f"token_store_url is a PostgreSQL URL, which needs the database driver: {EXTRA_HINT}"
        ) from None
    return psycopg


class PostgresChainStore:
    """One chain's row in the tap's table (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        chain: str,
        key: StoreKey,
        lock_timeout: float,
        schema: str = DEFAULTS["token_store_schema"],
        save_retry_waits: t.Sequence[float] = SAVE_RETRY_WAITS,
    ) -> None:
        """Remember where; nothing connects until the chain is needed."""
        if not is_database_url(url):
            raise TapSlackError(
                "token_store_url must start with postgresql:// (or postgresql+psycopg://); "
                "for a file store set token_store_path instead"
            )
        self._psycopg = _driver()
        self._conninfo = libpq_url(url)
        self._chain = chain
        self._key = key
        self.lock_timeout = lock_timeout
        self.schema = schema
        self.save_retry_waits = tuple(save_retry_waits)
        self._conn: psycopg.Connection[t.Any] | None = None
        try:
            parts = self._psycopg.conninfo.conninfo_to_dict(self._conninfo)
        except self._psycopg.ProgrammingError:
            raise TapSlackError(
                "token_store_url is not a valid PostgreSQL URL "
                "(postgresql://USER:PASSWORD@HOST:PORT/DATABASE)"
            ) from None
        host = str(parts.get("host") or "localhost")
        self.server = f"{host}:{parts.get('port') or 5432}"
        self.database = str(parts.get("dbname") or parts.get("user") or "postgres")

    @property
    def table(self) -> str:
        """``schema.table`` as it appears in messages."""
        return f"{self.schema}.{TABLE}"

    @property
    def location(self) -> str:
        """The table, database and server (never the password)."""
        return f"table {self.table} of database {self.database} on {self.server}"

    @property
    def key(self) -> StoreKey:
        """The sealing key."""
        return self._key

    @property
    def chain(self) -> str:
        """The chain id."""
        return self._chain

    # --- connections ------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[t.Any]:
        driver = self._psycopg
        try:
            conn: psycopg.Connection[t.Any] = driver.connect(
                self._conninfo,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                application_name=APPLICATION_NAME,
            )
        except driver.Error as exc:
            raise TapSlackError(
                f"cannot reach the token store database {self.database} on {self.server} "
                f"({_first_line(exc)}): check that PostgreSQL runs there and accepts this "
                "user, and that token_store_url is right (no refresh token was spent)"
            ) from None
        return conn

    def _sql(self, text: str) -> t.Any:
        sql = self._psycopg.sql
        return sql.SQL(text).format(
            table=sql.Identifier(self.schema, TABLE), schema=sql.Identifier(self.schema)
        )

    def _ensure_table(self, conn: psycopg.Connection[t.Any]) -> None:
        exists = conn.execute("SELECT to_regclass(%s)", (f'"{self.schema}"."{TABLE}"',))
        row = exists.fetchone()
        if row and row[0] is not None:
            return
        with conn.transaction():
            # One creator at a time: concurrent CREATE ... IF NOT EXISTS can still collide.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (TABLE,))
            # Only when missing: CREATE SCHEMA needs a privilege many users lack.
            found = conn.execute("SELECT to_regnamespace(%s)", (f'"{self.schema}"',)).fetchone()
            if not found or found[0] is None:
                conn.execute(self._sql("CREATE SCHEMA {schema}"))
            conn.execute(
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {table} ("
                    " chain_id text PRIMARY KEY,"
                    " envelope jsonb,"
                    " created_at timestamptz NOT NULL DEFAULT now(),"
                    " updated_at timestamptz)"
                )
            )

    # --- the ChainStore steps ---------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> t.Iterator[None]:
        """Connect, then hold this chain's row lock until ``save`` commits or the block ends."""
        psycopg = self._psycopg
        conn = self._connect()
        try:
            try:
                conn.autocommit = True
                self._ensure_table(conn)
                conn.execute(
                    self._sql("INSERT INTO {table} (chain_id) VALUES (%s) ON CONFLICT DO NOTHING"),
                    (self._chain,),
                )
                conn.autocommit = False
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, true),"
                    " set_config('idle_in_transaction_session_timeout', %s, true)",
                    (f"{int(self.lock_timeout * 1000)}ms", IDLE_IN_TRANSACTION_TIMEOUT),
                )
                conn.execute(
                    self._sql("SELECT 1 FROM {table} WHERE chain_id = %s FOR UPDATE"),
                    (self._chain,),
                )
            except psycopg.errors.LockNotAvailable:
                raise TapSlackError(
                    f"another tap-slack-snow run has held the lock on the row chain_id="
                    f"{self._chain} of {self.location} for over {self.lock_timeout:g} s; "
                    "wait for it to finish (pg_stat_activity shows it as application_name "
                    f"{APPLICATION_NAME})"
                ) from None
            except psycopg.errors.InsufficientPrivilege as exc:
                raise TapSlackError(
                    f"the token store user may not use {self.location} ({_first_line(exc)}): "
                    "grant it CREATE on the schema (or create the table), and SELECT, INSERT, "
                    "UPDATE on the table (no refresh token was spent)"
                ) from None
            except psycopg.Error as exc:
                raise TapSlackError(
                    f"the token store {self.location} failed ({_first_line(exc)}); "
                    "no refresh token was spent"
                ) from None
            self._conn = conn
            yield
        finally:
            self._conn = None
            with contextlib.suppress(Exception):
                conn.close()  # ends the transaction (and the lock) if save did not

    def load(self) -> dict[str, t.Any] | None:
        """The chain (under the lock: the locked row; else a short read)."""
        psycopg = self._psycopg
        query = self._sql("SELECT envelope FROM {table} WHERE chain_id = %s")
        try:
            if self._conn is not None:
                row = self._conn.execute(query, (self._chain,)).fetchone()
            else:
                with self._connect() as conn:
                    found = conn.execute("SELECT to_regclass(%s)", (f'"{self.schema}"."{TABLE}"',))
                    regclass = found.fetchone()
                    if not regclass or regclass[0] is None:
                        return None
                    row = conn.execute(query, (self._chain,)).fetchone()
        except psycopg.Error as exc:
            raise TapSlackError(
                f"cannot read the token store {self.location}: {_first_line(exc)}"
            ) from None
        if row is None or row[0] is None:
            return None
        try:
            return self._key.open(self._chain, row[0])
        except EnvelopeError as exc:
            where = f"the row chain_id={self._chain} of {self.location}"
            raise TapSlackError(describe_envelope_error(exc, where=where, key=self._key)) from None

    def holds_plaintext(self) -> bool:
        """Rows were encrypted from the first release of this store."""
        return False

    def check_writable(self) -> None:
        """Touch the locked row: proves UPDATE is allowed before a token is spent."""
        assert self._conn is not None, "check_writable needs the lock"
        psycopg = self._psycopg
        try:
            self._conn.execute(
                self._sql("UPDATE {table} SET envelope = envelope WHERE chain_id = %s"),
                (self._chain,),
            )
        except psycopg.Error as exc:
            raise StoreWriteError(
                f"cannot write the token store {self.location} ({_first_line(exc)}); "
                "no refresh token was spent"
            ) from None

    def save(self, content: dict[str, t.Any]) -> None:
        """Commit the sealed chain now; retry on new connections if this one dropped."""
        psycopg = self._psycopg
        envelope = json.dumps(self._key.seal(self._chain, content))
        if self._conn is not None:
            try:
                self._conn.execute(
                    self._sql(
                        "UPDATE {table} SET envelope = %s::jsonb, updated_at = now() "
                        "WHERE chain_id = %s"
                    ),
                    (envelope, self._chain),
                )
                self._conn.commit()
            except psycopg.Error as exc:
                last = _first_line(exc)
            else:
                return
        else:
            last = "not connected"
        # The locked connection is gone (the server restarted, the network dropped it):
        # its transaction and lock died with it, so a plain upsert on a new one is safe.
        for wait in (0.0, *self.save_retry_waits):
            time.sleep(wait)
            try:
                with psycopg.connect(
                    self._conninfo,
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    application_name=APPLICATION_NAME,
                    autocommit=True,
                ) as conn:
                    self._ensure_table(conn)
                    conn.execute(
                        self._sql(
                            "INSERT INTO {table} (chain_id, envelope, updated_at) "
                            "VALUES (%s, %s::jsonb, now()) ON CONFLICT (chain_id) DO UPDATE "
                            "SET envelope = EXCLUDED.envelope, updated_at = now()"
                        ),
                        (self._chain, envelope),
                    )
                    return
            except psycopg.Error as exc:
                last = _first_line(exc)
        raise StoreWriteError(f"cannot write the token store {self.location} ({last})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
