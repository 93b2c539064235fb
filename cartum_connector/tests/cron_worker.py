"""A scheduled job run in a process of its own, for the concurrency tests: its own registry,
cursor and transaction, as a cron worker of an Odoo server runs it.

    python3 cron_worker.py DATABASE import|refresh STORE_ID [Odoo options]

Prints "ready" once Odoo is loaded, waits for a line on its input, runs the store's job, and
prints its result as one line of JSON.
"""

import json
import sys

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config


def answer(line):
    """One line to the test that started this worker, at once."""
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def main():
    database, job, store_id, *options = sys.argv[1:]
    config.parse_config([*options, f"--database={database}"])
    registry = Registry(database)
    answer("ready")
    sys.stdin.readline()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        store = env["cartum.store"].browse(int(store_id))
        env["cartum.adapter"]._client(store).backoff_base = 0.01  # the sandbox is local
        if job == "import":
            run = env["cartum.importer"]._run(store, trigger="cron", commit=True)
            result = {"state": run.state, "imported": run.imported_count, "message": run.message}
        else:
            store._refresh_products_scheduled()
            result = {}
    answer(json.dumps(result))


if __name__ == "__main__":
    main()
