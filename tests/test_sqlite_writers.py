"""The embedded SQLite database takes two writers at once: the second waits, nothing fails.

A fresh machine runs on SQLite with the web server, the task worker (whose ORM broker writes on
every poll) and a sync writing to one file. Run in a child process on a file of its own, with the
project's settings (DATABASE_URL=sqlite:///...), because the test database here is in memory or
PostgreSQL.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A task reads, then writes inside one transaction (what a leak rule does); meanwhile another
# connection writes and commits. Under SQLite's default deferred transactions the task's write is
# refused at once ("database is locked"), since its read snapshot is stale; with the write lock
# taken at BEGIN the other writer waits its turn instead, and both rows land.
SCRIPT = textwrap.dedent(
    """
    import threading
    import django
    django.setup()
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE finding (source TEXT)")
    read_done, other_done = threading.Event(), threading.Event()
    errors = []

    def task():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM finding")
                read_done.set()
                other_done.wait(1.0)  # the other writer commits now, or waits for us
                cursor.execute("INSERT INTO finding VALUES ('task')")
        except Exception as error:
            errors.append(f"task: {error}")
        finally:
            read_done.set()
            connection.close()

    def broker():
        read_done.wait(10)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("INSERT INTO finding VALUES ('broker')")
        except Exception as error:
            errors.append(f"broker: {error}")
        finally:
            other_done.set()
            connection.close()

    threads = [threading.Thread(target=task), threading.Thread(target=broker)]
    [thread.start() for thread in threads]
    [thread.join(60) for thread in threads]
    with connection.cursor() as cursor:
        cursor.execute("SELECT source FROM finding ORDER BY source")
        rows = [row[0] for row in cursor.fetchall()]
    print("rows", ",".join(rows))
    print("errors", "; ".join(errors) or "none")
    """
)


def test_two_writers_on_the_embedded_sqlite_wait_their_turn(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="superhack.settings")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'superhack.sqlite3'}"
    env.pop("REDIS_URL", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "errors none" in proc.stdout, proc.stdout
    assert "rows broker,task" in proc.stdout
