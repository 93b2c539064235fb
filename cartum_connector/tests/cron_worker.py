"""Scheduled jobs run in a process of their own, for the concurrency tests: its own registry,
cursor and transaction, as a cron worker of an Odoo server runs them.

    python3 cron_worker.py DATABASE [Odoo options]

Prints "ready" once Odoo is loaded. Then, for each line "import STORE_ID", "refresh
STORE_ID" or "stock STORE_ID" on its input, runs that store's job and prints its result as one
line of JSON, until its input ends.
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


def run_job(registry, job, store_id):
    # Importable once the registry has loaded the addon: this file runs as a script, where a
    # relative import has no package.
    from odoo.addons.cartum_connector.work_context import (  # pylint: disable=odoo-addons-relative-import
        WorkContext,
    )

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        store = env["cartum.store"].browse(store_id)
        # The sandbox is local: no need to wait long before asking again.
        env["cartum.adapter"]._client(WorkContext(store)).backoff_base = 0.01
        if job == "import":
            run = env["cartum.importer"]._run(store, trigger="cron", commit=True)
            return {"state": run.state, "imported": run.imported_count, "message": run.message}
        if job == "stock":
            env["cartum.stock.export"]._export_store(store)
            return {}
        store._refresh_products_scheduled()
        return {}


def main():
    database, *options = sys.argv[1:]
    config.parse_config([*options, f"--database={database}"])
    registry = Registry(database)
    answer("ready")
    for line in sys.stdin:
        job, store_id = line.split()
        answer(json.dumps(run_job(registry, job, int(store_id))))


if __name__ == "__main__":
    main()
