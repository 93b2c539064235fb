"""Benchmark of the stock job: the same 200 changes among 2,000 and among 20,000 linked products.

    python3 bench/stock_bench.py [--linked 2000 20000 --changed 200 --db NAME]

For each number of linked products, a store that sends its stock (as warehouse quantities) is
given that many tracked products, linked to it and copied in SQL from one made by the ORM, with
what Cartum has already equal to their stock (0); then ``--changed`` of them get stock through
the ORM. The store's scheduled job (``cartum.stock.export._export_store``, committing each
round) sends the changes to a sandbox; the script checks that exactly ``--changed`` products
were sent, and prints its time and SQL queries and their ratios to the first series.
bench/README.md tells how to read it.
"""

import argparse
import os
import time

import odoo
from growth_bench import clone
from import_bench import (
    check_addon_installed,
    connection_options,
    database_exists,
    drop_database,
    install_addon,
)
from odoo.modules.registry import Registry

from cartum_sandbox import CartumSandbox, SandboxStore

WAREHOUSE = "Основний склад"


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--linked", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--changed", type=int, default=200, help="products whose stock moves")
    parser.add_argument(
        "--db",
        default=f"cartum_stock_bench_{os.getpid()}",
        help="database; an existing one with the addon installed is used and kept (the "
        "benchmark's stores and products are committed in it)",
    )
    return parser.parse_args(argv)


def set_up_store(env, sandbox, shop, linked, changed):
    """A store with ``linked`` linked tracked products, ``changed`` of them with new stock."""
    cr = env.cr
    tag = f"S{linked}-{os.getpid()}"
    store = env["cartum.store"].create(
        {
            "name": f"Stock benchmark {tag}",
            "url": sandbox.base_url,
            "login": shop.login,
            "password": shop.password,
            "order_prefix": f"{tag}-",
            "requests_per_second": 0,
            "stock_export": True,
            "stock_kind": "residues",
            "stock_warehouse_name": WAREHOUSE,
        }
    )
    seed = env["product.product"].create({"name": f"{tag} seed", "is_storable": True})
    template_ids = clone(
        cr,
        "product_template",
        seed.product_tmpl_id.id,
        linked,
        {"name": f"jsonb_build_object('en_US', '{tag} product ' || g)"},
    )
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'product_product' "
        "AND column_name NOT IN ('id', 'product_tmpl_id', 'default_code') "
        "ORDER BY ordinal_position"
    )
    columns = ", ".join(f'"{row[0]}"' for row in cr.fetchall())
    seed_columns = ", ".join(f"seed.{column}" for column in columns.split(", "))
    cr.execute(
        f"INSERT INTO product_product (product_tmpl_id, default_code, {columns}) "
        f"SELECT t.id, %s || '-' || t.g, {seed_columns} "
        "FROM product_product seed, unnest(%s::int[]) WITH ORDINALITY AS t(id, g) "
        "WHERE seed.id = %s RETURNING id, default_code",
        (tag, template_ids, seed.id),
    )
    products = cr.fetchall()
    cr.execute(
        "INSERT INTO cartum_product_link (store_id, company_id, external_id, product_id, "
        "linked_at, stock_sent, create_uid, create_date, write_uid, write_date) "
        "SELECT %s, %s, p.code, p.id, now(), '0', 1, now(), 1, now() "
        "FROM unnest(%s::int[], %s::text[]) AS p(id, code)",
        (
            store.id,
            store.company_id.id,
            [product_id for product_id, _code in products],
            [code for _id, code in products],
        ),
    )
    for _product_id, code in products:
        shop.add_product(code, {"ua": code}, 10.0)
    location = store.picking_type_id.default_location_src_id
    step = max(1, linked // changed)
    for product_id, _code in products[::step][:changed]:
        env["stock.quant"]._update_available_quantity(
            env["product.product"].browse(product_id), location, 3
        )
    # The store's settings were sent with every product already: no full round.
    store.stock_signature = env["cartum.stock.export"]._signature(store)
    env.invalidate_all()
    cr.commit()
    cr.execute("ANALYZE")
    return store


def run_series(registry, sandbox, shop, linked, changed):
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        store = set_up_store(env, sandbox, shop, linked, changed)
        shop.stock_imports.clear()
        env.invalidate_all()
        registry.clear_all_caches()
        before = cr.sql_log_count
        start = time.perf_counter()
        env["cartum.stock.export"]._export_store(store)
        seconds = time.perf_counter() - start
        queries = cr.sql_log_count - before
        sent = len(shop.stock_imports)
        if sent != changed:
            raise SystemExit(f"{linked} linked: the job sent {sent} products, not {changed}")
        waiting = env["cartum.stock.export"]._stock_state(store)["waiting"]
        if waiting:
            raise SystemExit(f"{linked} linked: {waiting} products still waiting")
        return sent, seconds, queries


def main(argv=None):
    args = parse_arguments(argv)
    odoo.tools.config.parse_config([*connection_options(args.db), "--log-level=warn"])
    created = not database_exists(args.db)
    if created:
        install_addon(args.db)
    results = {}
    try:
        registry = Registry(args.db)
        with registry.cursor() as cr:
            check_addon_installed(cr)
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["ir.config_parameter"].set_param("cartum_connector.allow_local_stores", "True")
        for linked in args.linked:
            # One shop is one store: each series has its own sandbox.
            shop = SandboxStore(login="api", password="secret")
            shop.warehouse_stock = True
            with CartumSandbox(shop) as sandbox:
                print(f"Sending {args.changed} changes among {linked} linked...", flush=True)
                results[linked] = run_series(registry, sandbox, shop, linked, args.changed)
    finally:
        if created:
            drop_database(args.db)
    header = f"{'linked':>8}{'sent':>6}{'seconds':>9}{'queries':>9}{'time ×':>8}{'SQL ×':>7}"
    print(header, "-" * len(header), sep="\n")
    _sent, base_seconds, base_queries = results[args.linked[0]]
    for linked, (sent, seconds, queries) in results.items():
        print(
            f"{linked:>8}{sent:>6}{seconds:>9.2f}{queries:>9}"
            f"{seconds / base_seconds:>8.2f}{queries / base_queries:>7.2f}"
        )


if __name__ == "__main__":
    main()
