"""Benchmark of several stores imported at the same time, as Odoo's cron workers run them.

    python3 bench/stores_bench.py [--stores 4 --orders 250 --customers 337 --products 150]
                                  [--workers 2]

K stores, each with its own sandbox, sell to the same customers (each phone typed in any of
five formats) the same products. Each scenario starts from the same copy of a database with
the addon installed, and runs every store's scheduled import (``_run(trigger="cron",
commit=True)``, committing page by page) in worker processes that take the next store from one
queue, as Odoo's cron workers take the next due job:
- serial: one worker;
- parallel: ``--workers`` workers.
It prints the wall time of each, the speed-up, the duplicates left (contacts per phone key,
products per internal reference, categories per parent and name: each must be 0), and the SQL
queries and API requests per order. bench/README.md tells how to read it.
"""

import argparse
import multiprocessing
import os
import random
import sys
import time
from datetime import timedelta

import odoo
from import_bench import connection_options, database_exists, drop_database, install_addon
from odoo.modules.registry import Registry
from odoo.service import db as odoo_db

from cartum_sandbox import CartumSandbox, SandboxStore
from cartum_sandbox.seed import phone_formats

CATEGORIES = ("Запчастини/Дисплеї", "Запчастини/Акумулятори", "Аксесуари", "Послуги")
DUPLICATE_QUERIES = {
    "contacts per phone": """
        SELECT count(*) - count(DISTINCT cartum_phone_key) FROM res_partner
        WHERE cartum_phone_key IS NOT NULL""",
    "products per reference": """
        SELECT count(*) - count(DISTINCT default_code) FROM product_product
        WHERE default_code LIKE 'SHR-%'""",
    "categories per parent and name": """
        SELECT count(*) - count(DISTINCT (coalesce(parent_id, 0), name::text))
        FROM product_category""",
}


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=4, help="stores, each with its sandbox")
    parser.add_argument("--orders", type=int, default=250, help="orders in each store")
    parser.add_argument("--customers", type=int, default=337, help="customers all stores share")
    parser.add_argument("--products", type=int, default=150, help="products all stores sell")
    parser.add_argument("--workers", type=int, default=2, help="workers of the parallel run")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the stores")
    parser.add_argument("--db", default=f"cartum_stores_bench_{os.getpid()}", help="template")
    return parser.parse_args(argv)


def shared_shops(args):
    """K shops over one set of customers and one catalog; each its own orders."""
    rng = random.Random(args.seed)
    people = [
        (f"Клієнт {number}", phone_formats("67", f"{rng.randrange(10**7):07d}"))
        for number in range(args.customers)
    ]
    articles = [f"SHR-{number:04d}" for number in range(args.products)]
    prices = [round(rng.uniform(50, 3000), 2) for _ in articles]
    shops = []
    for _store in range(args.stores):
        shop = SandboxStore(login="api", password="secret")
        for number, article in enumerate(articles):
            shop.add_product(
                article,
                {"ua": f"Товар {number}", "en": f"Product {number}"},
                prices[number],
                category=CATEGORIES[number % len(CATEGORIES)],
            )
        now = shop.now()
        for age in sorted((rng.uniform(0, 20 * 86400) for _ in range(args.orders)), reverse=True):
            name, phones = rng.choice(people)
            shop.add_order(
                created=now - timedelta(seconds=int(age)),
                customer_name=name,
                phone=rng.choice(phones),
                status=rng.choice((1, 1, 2, 6)),
                lines=[(article, rng.randint(1, 2)) for article in rng.sample(articles, 3)],
            )
        shops.append(shop)
    return shops


def set_up_scenario(template, name, sandboxes):
    """A copy of the template with the company and one store per sandbox, committed."""
    odoo_db.exp_duplicate_database(template, name)
    with Registry(name).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        uah = env.ref("base.UAH")
        uah.active = True
        env.company.write({"currency_id": uah.id, "country_id": env.ref("base.ua").id})
        # The sandboxes are local test stores, on http://127.0.0.1.
        env["ir.config_parameter"].set_param("cartum_connector.allow_local_stores", "True")
        stores = env["cartum.store"].create(
            [
                {
                    "name": f"Shop {number}",
                    "url": sandbox.base_url,
                    "login": "api",
                    "password": "secret",
                    "order_prefix": f"S{chr(65 + number)}-",
                }
                for number, sandbox in enumerate(sandboxes)
            ]
        )
        return stores.ids


def worker(db, queue, ready, go, results):
    """One cron worker: its own process, registry and cursor; takes stores from the queue."""
    odoo.tools.config.parse_config(
        [*connection_options(db), "--log-level=warn", "--http-interface=127.0.0.1"]
    )
    registry = Registry(db)
    queries = orders = 0
    ready.release()
    go.wait()
    while True:
        store_id = queue.get()
        if store_id is None:
            break
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            before = cr.sql_log_count
            run = env["cartum.importer"]._run(
                env["cartum.store"].browse(store_id), trigger="cron", commit=True
            )
            queries += cr.sql_log_count - before
            orders += run.imported_count
            if run.state != "done":
                results.put(("error", f"store {store_id}: {run.state}: {run.message}"))
    results.put(("done", (queries, orders)))


def run_scenario(template, name, shops, sandboxes, workers):
    store_ids = set_up_scenario(template, name, sandboxes)
    context = multiprocessing.get_context("spawn")
    queue, results = context.Queue(), context.Queue()
    ready, go = context.Semaphore(0), context.Event()
    for store_id in store_ids:
        queue.put(store_id)
    for _worker in range(workers):
        queue.put(None)
    processes = [
        context.Process(target=worker, args=(name, queue, ready, go, results))
        for _worker in range(workers)
    ]
    for process in processes:
        process.start()
    for _process in processes:
        ready.acquire()  # every worker has loaded Odoo: only the imports are timed
    requests_before = sum(len(shop.requests) for shop in shops)
    start = time.perf_counter()
    go.set()
    queries = orders = 0
    errors = []
    for _process in processes:
        while True:
            kind, value = results.get()
            if kind == "error":
                errors.append(value)
                continue
            queries += value[0]
            orders += value[1]
            break
    seconds = time.perf_counter() - start
    for process in processes:
        process.join()
    requests = sum(len(shop.requests) for shop in shops) - requests_before
    with Registry(name).cursor() as cr:
        duplicates = {}
        for label, query in DUPLICATE_QUERIES.items():
            cr.execute(query)
            duplicates[label] = cr.fetchone()[0]
    drop_database(name)
    return {
        "seconds": seconds,
        "orders": orders,
        "queries": queries,
        "requests": requests,
        "duplicates": duplicates,
        "errors": errors,
    }


def main(argv=None):
    args = parse_arguments(argv)
    odoo.tools.config.parse_config([*connection_options(args.db), "--log-level=warn"])
    created = not database_exists(args.db)
    if created:
        install_addon(args.db)
    shops = shared_shops(args)
    sandboxes = [CartumSandbox(shop) for shop in shops]
    results = {}
    try:
        for sandbox in sandboxes:
            sandbox.start()
        for label, workers in (("serial, 1 worker", 1), (f"{args.workers} workers", args.workers)):
            print(f"Running {label}...", flush=True)
            results[label] = run_scenario(
                args.db, f"{args.db}_{workers}w", shops, sandboxes, workers
            )
    finally:
        for sandbox in sandboxes:
            sandbox.stop()
        if created:
            odoo_db.exp_drop(args.db)
    print(
        f"\n{args.stores} stores x {args.orders} orders, {args.customers} shared customers, "
        f"{args.products} shared products"
    )
    header = f"{'':20}{'orders':>7}{'seconds':>9}{'SQL/order':>11}{'API/order':>11}  duplicates"
    print(header, "-" * len(header), sep="\n")
    for label, result in results.items():
        duplicates = ", ".join(f"{k} {v}" for k, v in result["duplicates"].items())
        print(
            f"{label:20}{result['orders']:>7}{result['seconds']:>9.2f}"
            f"{result['queries'] / max(result['orders'], 1):>11.1f}"
            f"{result['requests'] / max(result['orders'], 1):>11.2f}  {duplicates}"
        )
        for error in result["errors"]:
            print(f"  {error}")
    serial, parallel = results.values()
    speed_up = serial["seconds"] / parallel["seconds"]
    print(f"\nspeed-up of {args.workers} workers over 1: {speed_up:.2f}x")
    if any(sum(r["duplicates"].values()) or r["errors"] for r in results.values()):
        sys.exit("Duplicates or failed runs: see above.")


if __name__ == "__main__":
    main()
