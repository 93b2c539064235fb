"""Benchmark of a first Cartum import against the ORM floor of the same records.

    python3 bench/import_bench.py [--orders 2000 --products 500 --customers 1500 --lines 3]
                                  [--db NAME --keep-db --rounds 3]

Installs cartum_connector into a new database, serves a generated store with the sandbox on
127.0.0.1, then measures in one transaction, all of it rolled back:
- the ORM floor: the same partners, categories, products and repair orders with their parts,
  created directly from the same data (no HTTP, no matching), in a savepoint rolled back;
- the first import of the store (every unfinished order of the last 60 days);
  these two side by side, ``--rounds`` times, the medians reported;
- a second import right after, where every order is unchanged.
bench/README.md tells how to read the output.
"""

import argparse
import collections
import contextlib
import getpass
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry
from odoo.service import db as odoo_db
from odoo.sql_db import close_db, db_connect
from odoo.tools import config

from cartum_api import category_levels, parse_orders
from cartum_api.records import parse_products
from cartum_sandbox import CartumSandbox, generated_store

REPO_ROOT = Path(__file__).resolve().parent.parent
ADDON = "cartum_connector"
# What the first import creates, by the floor's steps.
CREATED_MODELS = {
    "partners": "res.partner",
    "categories": "product.category",
    "products": "product.product",
    "product links": "cartum.product.link",
    "contact links": "cartum.partner.link",
    "repair orders": "repair.order",
}


@dataclass(frozen=True)
class Cost:
    """What one measured step took: wall time, SQL queries and Cartum API requests."""

    seconds: float
    queries: int
    requests: int

    @classmethod
    def total(cls, costs):
        costs = list(costs)
        return cls(
            sum(cost.seconds for cost in costs),
            sum(cost.queries for cost in costs),
            sum(cost.requests for cost in costs),
        )


@dataclass(frozen=True)
class Row:
    label: str
    orders: int
    cost: Cost

    @property
    def orders_per_second(self):
        return self.orders / self.cost.seconds if self.cost.seconds else 0.0

    @property
    def queries_per_order(self):
        return self.cost.queries / self.orders if self.orders else 0.0


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders in the store")
    parser.add_argument("--products", type=int, default=500, help="products in the catalog")
    parser.add_argument("--customers", type=int, default=1500, help="distinct customers")
    parser.add_argument("--lines", type=int, default=3, help="lines on each order")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the store")
    parser.add_argument(
        "--db",
        default=f"cartum_bench_{os.getpid()}",
        help="database; an existing one with the addon installed is used as it is and kept",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database this run created")
    parser.add_argument(
        "--page-size",
        type=int,
        default=0,
        metavar="N",
        help="orders the import writes (and the scheduled job commits) a page; by default the "
        "importer's own (100)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of the floor and the first import, side by side; the medians are reported",
    )
    parser.add_argument(
        "--query-sources",
        type=int,
        default=0,
        metavar="N",
        help="also print the N lines of the addon that lead to the most queries in the first "
        "import (the counting adds some 15%% to its time)",
    )
    return parser.parse_args(argv)


# -- database --------------------------------------------------------------------------------


def connection_options(db):
    """Odoo options for the server run-tests uses: ODOO_DB_HOST, ODOO_DB_PORT, ODOO_DB_USER."""
    return [
        f"--database={db}",
        f"--db_host={os.environ.get('ODOO_DB_HOST', '127.0.0.1')}",
        f"--db_port={os.environ.get('ODOO_DB_PORT', '5432')}",
        f"--db_user={os.environ.get('ODOO_DB_USER', getpass.getuser())}",
        f"--addons-path={REPO_ROOT}",
    ]


def drop_database(db):
    """Drop a database the benchmark made, even while connections to it remain open."""
    Registry.delete(db)
    close_db(db)
    connection = psycopg2.connect(
        host=os.environ.get("ODOO_DB_HOST", "127.0.0.1"),
        port=os.environ.get("ODOO_DB_PORT", "5432"),
        user=os.environ.get("ODOO_DB_USER", getpass.getuser()),
        dbname="postgres",
    )
    connection.autocommit = True
    with contextlib.closing(connection):
        cursor = connection.cursor()
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [db]
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{db}"')


def database_exists(db):
    with contextlib.closing(db_connect("postgres").cursor()) as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        return bool(cr.fetchone())


def install_addon(db):
    print(f"Installing {ADDON} into the new database {db} (about 2 minutes)...", flush=True)
    command = [sys.executable, "-m", "odoo", *connection_options(db)]
    command += [f"--init={ADDON}", "--without-demo=True", "--stop-after-init", "--log-level=warn"]
    subprocess.run(command, check=True)


def check_addon_installed(cr):
    cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [ADDON])
    row = cr.fetchone()
    if not row or row[0] != "installed":
        sys.exit(f"{ADDON} is not installed in database {cr.dbname}: choose another --db.")


# -- measuring -------------------------------------------------------------------------------


def start_cold(env):
    """Empty the record cache and the ormcaches, so that the floor and the import start alike."""
    env.invalidate_all()
    env.registry.clear_all_caches()


def measure(env, shop, work):
    """Run ``work()``; return its result and its Cost, the writes it left pending included."""
    env.flush_all()
    queries, requests = env.cr.sql_log_count, len(shop.requests)
    start = time.perf_counter()
    result = work()
    env.flush_all()
    cost = Cost(
        time.perf_counter() - start,
        env.cr.sql_log_count - queries,
        len(shop.requests) - requests,
    )
    return result, cost


class QuerySources:
    """An Odoo query hook: counts queries by the innermost line of the addon that led to them."""

    def __init__(self):
        self.counts = collections.Counter()
        self.addon_dir = str(REPO_ROOT / ADDON)

    def __call__(self, cr, query, params, start, delay):
        frame = sys._getframe(1)
        while frame and not frame.f_code.co_filename.startswith(self.addon_dir):
            frame = frame.f_back
        if frame is None:
            self.counts["(no addon line: the flush at the end of the measure)"] += 1
            return
        path = Path(frame.f_code.co_filename).relative_to(REPO_ROOT)
        self.counts[f"{path}:{frame.f_lineno} {frame.f_code.co_name}"] += 1

    @contextlib.contextmanager
    def counting(self):
        """Odoo's cursor calls the hooks of the current thread on each query."""
        thread = threading.current_thread()
        thread.query_hooks = [*getattr(thread, "query_hooks", ()), self]
        try:
            yield
        finally:
            thread.query_hooks = [hook for hook in thread.query_hooks if hook is not self]


# -- set-up, as the addon's tests do it ------------------------------------------------------


def set_up_store(env, shop, base_url):
    """A company in UAH in Ukraine, a responsible user, and the store record for the sandbox."""
    from odoo.addons.cartum_connector import compat

    uah = env.ref("base.UAH")
    uah.active = True
    env.company.write({"currency_id": uah.id, "country_id": env.ref("base.ua").id})
    # The sandbox is a local test store, on http://127.0.0.1.
    env["ir.config_parameter"].set_param("cartum_connector.allow_local_stores", "True")
    manager = env["res.users"].create(
        {
            "name": "Cartum Manager",
            "login": "cartum_bench_manager",
            "email": "cartum.manager@example.com",
            compat.GROUP_IDS: [Command.set([env.ref(f"{ADDON}.group_cartum_manager").id])],
        }
    )
    return env["cartum.store"].create(
        {
            "name": "Benchmark shop",
            "url": base_url,
            "login": shop.login,
            "password": shop.password,
            "import_language": "ua",
            "responsible_user_ids": [Command.set(manager.ids)],
        }
    )


def first_import_orders(shop, store):
    """The orders a first import takes: unfinished ones of the first-import period.

    Exits when a generated order is older than that period: the import would leave it out.
    """
    from odoo.addons.cartum_connector.models.cartum_importer import FIRST_IMPORT_PERIOD

    window_start = store._to_store_time(fields.Datetime.now() - FIRST_IMPORT_PERIOD)
    orders = parse_orders(shop.find_orders(), store.name_order).items
    if any(order.created < window_start for order in orders):
        sys.exit(f"Some generated orders are older than the first import's {FIRST_IMPORT_PERIOD}.")
    finished = {status_id for status_id, s in shop.status_snapshot().items() if s["is_successful"]}
    return [order for order in orders if order.status_id not in finished]


# -- the floor: the same records, straight with the ORM --------------------------------------


def create_floor_records(env, shop, store, orders, catalog):
    """Create what the first import creates, from the same data, with no HTTP and no search:
    contacts, the category tree, products, their links to the store, repair orders with their
    parts, followers and delivery notes, and the repairs moved to their mapped states.

    Values come from the addon's own mapper, so that the records are the import's, and each
    step is the cheapest ORM call for it (one create per model, or per level of categories;
    one batch of repair actions per state). Only these calls are measured, each with its
    flush. Returns {step: (records, Cost)}.
    """
    from odoo.addons.cartum_connector.models.cartum_order_mapper import PreparedRecords

    mapper = env["cartum.order.mapper"]
    # Nothing exists yet: every contact, category and product the mapper maps is created.
    shared = mapper._map_shared(store, orders, {}, catalog)
    prepared = PreparedRecords(region=shared.region)
    steps = {}

    def step(name, work):
        steps[name] = measure(env, shop, work)
        return steps[name][0]

    partner_values = list(shared.partners.values())
    partners = step("partners", lambda: env["res.partner"].sudo().create(partner_values))
    prepared.partners_by_key = dict(zip(shared.partners, partners, strict=True))

    paths = set(shared.category_paths.values())
    category_model = env["product.category"].sudo()
    by_path = {(): category_model.browse()}

    def create_tree():
        for level in category_levels(paths):
            created = category_model.create(
                [{"name": path[-1], "parent_id": by_path[path[:-1]].id} for path in level]
            )
            by_path.update(zip(level, created, strict=True))
        return category_model.browse([category.id for path, category in by_path.items() if path])

    step("categories", create_tree)
    product_values = [
        {**values, "categ_id": by_path[shared.category_paths[identity]].id}
        if identity in shared.category_paths
        else values
        for identity, values in shared.products.items()
    ]
    product_model = mapper._product_model(store)
    products = step("products", lambda: product_model.create(product_values))
    for identity, product in zip(shared.products, products, strict=True):
        for key in shared.product_keys[identity]:
            prepared.products_by_key[key] = product

    now = fields.Datetime.now()
    link_values = [
        {
            "store_id": store.id,
            "external_id": article,
            "product_id": prepared.products_by_key[key].id,
            "last_read_at": now,
        }
        for key, article in shared.articles.items()
    ]
    step("product links", lambda: env["cartum.product.link"].sudo().create(link_values))
    partner_link_values = [
        {
            "store_id": store.id,
            "external_id": key,
            "partner_id": partner.id,
            "last_read_at": now,
        }
        for key, partner in prepared.partners_by_key.items()
    ]
    step("contact links", lambda: env["cartum.partner.link"].sudo().create(partner_link_values))

    # The same company and context as the import's creation of repair orders.
    repair_model = env["repair.order"].sudo().with_company(store.company_id)
    repair_model = repair_model.with_context(
        cartum_inbound=True, mail_create_nolog=True, mail_create_nosubscribe=True
    )
    order_values = mapper._map_orders(store, prepared, orders)
    repair_values = [order_values[order.order_id].repair_values() for order in orders]
    repairs = step("repair orders", lambda: repair_model.create(repair_values))

    def followers_and_notes():
        repairs.message_subscribe(partner_ids=store.responsible_user_ids.partner_id.ids)
        notes = {
            repair.id: order_values[order.order_id].delivery_note
            for order, repair in zip(orders, repairs, strict=True)
            if repair.cartum_delivery_digest
        }
        repairs.browse(notes)._message_log_batch(bodies=notes)
        return repairs

    step("followers and notes", followers_and_notes)

    def move_to_states():
        targets = {m.cartum_status_code: m.inbound_state for m in store.status_mapping_ids}
        by_target = collections.defaultdict(list)
        for order, repair in zip(orders, repairs, strict=True):
            target = targets.get(order.status_id)
            if target and target != repair.state:
                by_target[target].append(repair.id)
        for target, ids in by_target.items():
            moving = repairs.browse(ids).with_context(cartum_inbound=True, mail_notrack=True)
            moving._cartum_move_to_state(target)
        return repairs

    step("repair states", move_to_states)
    return steps


def catalog_of(shop, orders):
    """The sandbox's catalog entries of the articles on ``orders``, read in memory."""
    articles = sorted({line.article for order in orders for line in order.lines})
    raw_products = shop.export_products(articles, limit=len(articles))
    return {product.article: product for product in parse_products(raw_products).items}


# -- the benchmark ---------------------------------------------------------------------------


def record_counts(env):
    return {
        step: env[model].with_context(active_test=False).search_count([])
        for step, model in CREATED_MODELS.items()
    }


def check_run(run, expected, what):
    counts = {name: run[f"{name}_count"] for name in ("imported", "updated", "unchanged", "failed")}
    print(f"{what}: state {run.state}, " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    wrong = [
        f"{name} {counts[name]} (expected {count})"
        for name, count in expected.items()
        if counts[name] != count
    ]
    if run.state != "done" or wrong:
        details = ", ".join(wrong)
        sys.exit(f"{what} went wrong: state {run.state}; {details}; message: {run.message}")


def check_same_records(env, counts_before, floor_steps):
    """The floor must create what the import created, or the comparison means nothing."""
    created = {step: count - counts_before[step] for step, count in record_counts(env).items()}
    floor = {step: len(floor_steps[step][0]) for step in CREATED_MODELS}
    if created != floor:
        sys.exit(f"The floor created {floor} but the import created {created}.")


def run_benchmark(env, args):
    from odoo.addons.cartum_connector.models import cartum_importer
    from odoo.addons.cartum_connector.work_context import WorkContext

    if args.page_size:
        cartum_importer.ORDERS_PER_PAGE = args.page_size

    shop = generated_store(
        orders=args.orders,
        products=args.products,
        customers=args.customers,
        seed=args.seed,
        lines_per_order=args.lines,
    )
    importer = env["cartum.importer"]
    with CartumSandbox(shop) as sandbox:
        store = set_up_store(env, shop, sandbox.base_url)
        # The floor moves repairs to states.
        env["cartum.adapter"]._refresh_statuses(WorkContext(store))
        orders = first_import_orders(shop, store)
        catalog = catalog_of(shop, orders)

        counts_before = record_counts(env)
        query_sources = QuerySources()

        def floor():
            with contextlib.closing(env.cr.savepoint()):  # closing() rolls the floor back
                start_cold(env)
                return create_floor_records(env, shop, store, orders, catalog)

        def first_import(counted):
            start_cold(env)
            with query_sources.counting() if counted else contextlib.nullcontext():
                run, cost = measure(env, shop, lambda: importer._run(store, trigger="manual"))
            check_run(run, {"imported": len(orders), "failed": 0}, "First import")
            return run, cost

        # Rounds side by side, in turn floor first and import first, so that what the machine
        # does meanwhile weighs on both alike; each import but the last is rolled back, and the
        # last round runs the floor first, before the import it keeps.
        rounds = []
        for number in range(args.rounds):
            last = number == args.rounds - 1
            counted = last and args.query_sources  # the queries of one import
            if (args.rounds - 1 - number) % 2:
                first_run, first_cost = import_rolled_back(env, first_import, counted, keep=last)
                floor_steps = floor()
            else:
                floor_steps = floor()
                first_run, first_cost = import_rolled_back(env, first_import, counted, keep=last)
            floor_cost = Cost.total(cost for _records, cost in floor_steps.values())
            rounds.append((first_cost, floor_cost))
        check_same_records(env, counts_before, floor_steps)

        second_run, second_cost = measure(env, shop, lambda: importer._run(store, trigger="manual"))
        check_run(
            second_run,
            {"imported": 0, "updated": 0, "failed": 0},
            "Second import",
        )
    rows = [
        Row("first import", first_run.imported_count, median_cost(first for first, _ in rounds)),
        Row(
            "ORM floor",
            len(floor_steps["repair orders"][0]),
            median_cost(floor for _, floor in rounds),
        ),
        Row("second import (all unchanged)", second_run.unchanged_count, second_cost),
    ]
    return rows, rounds, floor_steps, query_sources.counts


def import_rolled_back(env, first_import, counted, keep):
    """The first import, rolled back unless ``keep`` (the second import starts from it)."""
    if keep:
        return first_import(counted)
    with contextlib.closing(env.cr.savepoint()):
        return first_import(counted)


def median_cost(costs):
    """The cost of median time among ``costs`` (the queries and requests do not vary)."""
    costs = sorted(costs, key=lambda cost: cost.seconds)
    return costs[(len(costs) - 1) // 2]


def print_report(args, rows, rounds, floor_steps, query_sources):
    from odoo.addons.cartum_connector.models.cartum_importer import ORDERS_PER_PAGE

    first, floor = rows[:2]
    print()
    print(
        f"Generated store: {args.orders} orders of {args.lines} lines, {args.products} products, "
        f"{args.customers} customers (seed {args.seed}); the import writes {ORDERS_PER_PAGE} "
        "orders a page"
    )
    header = (
        f"{'':32}{'orders':>7}{'seconds':>9}{'orders/s':>10}{'queries':>9}{'SQL/order':>11}"
        f"{'API':>5}"
    )
    rule = "-" * len(header)
    print(header, rule, sep="\n")
    for row in rows:
        print(
            f"{row.label:32}{row.orders:>7}{row.cost.seconds:>9.2f}{row.orders_per_second:>10.1f}"
            f"{row.cost.queries:>9}{row.queries_per_order:>11.1f}{row.cost.requests:>5}"
        )
    print(rule)
    time_ratio = first.cost.seconds / floor.cost.seconds
    query_ratio = first.cost.queries / floor.cost.queries
    print(f"{'first import / ORM floor':32}{'':7}{time_ratio:>8.2f}x{'':19}{query_ratio:>10.2f}x")
    by_round = [first_cost.seconds / floor_cost.seconds for first_cost, floor_cost in rounds]
    print(
        f"time ratio of each round ({len(rounds)}, the first and the floor side by side): "
        + ", ".join(f"{ratio:.2f}x" for ratio in by_round)
    )
    print("ORM floor by step, last round (records, seconds, queries):")
    for step, (records, cost) in floor_steps.items():
        print(f"  {step:30}{len(records):>7}{cost.seconds:>9.2f}{'':10}{cost.queries:>9}")
    if query_sources:
        print("\nQueries of the first import by the addon line that led to them:")
        for source, count in query_sources.most_common(args.query_sources):
            print(f"{count:>9}{count / first.orders:>8.1f}/order  {source}")


def main(argv=None):
    args = parse_arguments(argv)
    config.parse_config([*connection_options(args.db), "--log-level=warn"], setup_logging=True)
    created = not database_exists(args.db)
    try:
        if created:
            install_addon(args.db)
        registry = Registry(args.db)
        # Closed without a commit: nothing measured stays, so a kept database can serve again.
        with contextlib.closing(registry.cursor()) as cr:
            check_addon_installed(cr)
            env = api.Environment(cr, SUPERUSER_ID, {})
            rows, rounds, floor_steps, query_sources = run_benchmark(env, args)
    finally:
        if created and not args.keep_db and database_exists(args.db):
            odoo_db.exp_drop(args.db)
    print_report(args, rows, rounds, floor_steps, query_sources)


if __name__ == "__main__":
    main()
