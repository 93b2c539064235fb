"""Benchmark of an import into a grown database beside the same import into an empty one.

    python3 bench/growth_bench.py [--orders 1000 --repairs 100000 --contacts 50000
                                   --products 20000]

Both scenarios start from the same copy of a database with the addon installed. The grown one
first gets ``--repairs`` repair orders (of another store), ``--contacts`` contacts with
phones and ``--products`` products with internal references, copied in SQL from one record
of each made by the ORM, and then analysed. Each then runs the first import of the same
generated store as the scheduled job does (``_run(trigger="cron", commit=True)``), and the
script prints the time and SQL queries per order of each, and their ratios.
bench/README.md tells how to read it.
"""

import argparse
import os
import time

import odoo
from import_bench import connection_options, database_exists, drop_database, install_addon
from odoo.modules.registry import Registry
from odoo.service import db as odoo_db

from cartum_sandbox import CartumSandbox, generated_store


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders of the imported store")
    parser.add_argument("--repairs", type=int, default=100_000, help="repairs already there")
    parser.add_argument("--contacts", type=int, default=50_000, help="contacts already there")
    parser.add_argument("--products", type=int, default=20_000, help="products already there")
    parser.add_argument("--db", default=f"cartum_growth_bench_{os.getpid()}", help="template")
    return parser.parse_args(argv)


def clone(cr, table, seed_id, copies, overrides):
    """Insert ``copies`` copies of row ``seed_id`` of ``table``; ``overrides`` gives SQL
    expressions of ``g`` (1..copies) for some columns. Returns the new ids, in order."""
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name != 'id' ORDER BY ordinal_position",
        (table,),
    )
    columns = [row[0] for row in cr.fetchall()]
    values = [overrides.get(column, f'seed."{column}"') for column in columns]
    quoted = ", ".join(f'"{column}"' for column in columns)
    cr.execute(
        f'INSERT INTO "{table}" ({quoted}) SELECT {", ".join(values)} '
        f'FROM "{table}" seed, generate_series(1, %s) g WHERE seed.id = %s ORDER BY g '
        "RETURNING id",
        (copies, seed_id),
    )
    return [row[0] for row in cr.fetchall()]


def grow(env, args):
    """The records of a database that has served for years, made in SQL from ORM seeds."""
    cr = env.cr
    partner = env["res.partner"].create({"name": "Seed contact", "phone": "+380501000000"})
    clone(
        cr,
        "res_partner",
        partner.id,
        args.contacts,
        {
            "name": "'Contact ' || g",
            "complete_name": "'Contact ' || g",
            "phone": "'+38050' || lpad(g::text, 7, '0')",
            "cartum_phone_key": "'38050' || lpad(g::text, 7, '0')",
        },
    )
    product = env["product.product"].create({"name": "Seed product", "default_code": "OLD-0"})
    template_ids = clone(
        cr,
        "product_template",
        product.product_tmpl_id.id,
        args.products,
        {"name": """jsonb_build_object('en_US', 'Old product ' || g)"""},
    )
    cr.execute("CREATE TEMPORARY TABLE grown_templates (g int, id int)")
    cr.execute(
        "INSERT INTO grown_templates SELECT g, id "
        "FROM unnest(%s::int[]) WITH ORDINALITY AS t(id, g)",
        (template_ids,),
    )
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'product_product' "
        "AND column_name NOT IN ('id', 'product_tmpl_id', 'default_code') "
        "ORDER BY ordinal_position"
    )
    columns = [row[0] for row in cr.fetchall()]
    quoted = ", ".join(f'"{column}"' for column in columns)
    cr.execute(
        f"INSERT INTO product_product (product_tmpl_id, default_code, {quoted}) "
        f"SELECT t.id, 'OLD-' || t.g, {', '.join(f'seed.{c}' for c in quoted.split(', '))} "
        "FROM product_product seed, grown_templates t WHERE seed.id = %s",
        (product.id,),
    )
    old_store = env["cartum.store"].create(
        {"name": "Old shop", "url": "https://old.example", "login": "api", "password": "x"}
    )
    repair = env["repair.order"].create(
        {"cartum_store_id": old_store.id, "cartum_external_id": "1", "partner_id": partner.id}
    )
    clone(
        cr,
        "repair_order",
        repair.id,
        args.repairs,
        {"name": "'OLD-' || g", "cartum_external_id": "'9' || g"},
    )
    env.invalidate_all()
    cr.commit()
    cr.execute("ANALYZE")


def run_scenario(template, name, args, shop, sandbox, grown):
    odoo_db.exp_duplicate_database(template, name)
    registry = Registry(name)
    try:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            uah = env.ref("base.UAH")
            uah.active = True
            env.company.write({"currency_id": uah.id, "country_id": env.ref("base.ua").id})
            # The sandbox is a local test store, on http://127.0.0.1.
            env["ir.config_parameter"].set_param("cartum_connector.allow_local_stores", "True")
            if grown:
                grow(env, args)
            store = env["cartum.store"].create(
                {
                    "name": "Benchmark shop",
                    "url": sandbox.base_url,
                    "login": shop.login,
                    "password": shop.password,
                }
            )
            cr.commit()
            env.invalidate_all()
            registry.clear_all_caches()
            before = cr.sql_log_count
            start = time.perf_counter()
            run = env["cartum.importer"]._run(store, trigger="cron", commit=True)
            seconds = time.perf_counter() - start
            queries = cr.sql_log_count - before
            if run.state != "done" or run.failed_count:
                raise SystemExit(f"The import went wrong: {run.state}: {run.message}")
            return run.imported_count, seconds, queries
    finally:
        drop_database(name)


def main(argv=None):
    args = parse_arguments(argv)
    odoo.tools.config.parse_config([*connection_options(args.db), "--log-level=warn"])
    created = not database_exists(args.db)
    if created:
        install_addon(args.db)
    shop = generated_store(orders=args.orders, products=500, customers=800)
    results = {}
    try:
        with CartumSandbox(shop) as sandbox:
            for label, grown in (("empty database", False), ("grown database", True)):
                print(f"Importing into the {label}...", flush=True)
                results[label] = run_scenario(
                    args.db, f"{args.db}_{int(grown)}", args, shop, sandbox, grown
                )
    finally:
        if created:
            odoo_db.exp_drop(args.db)
    print(
        f"\nGrown: {args.repairs} repair orders, {args.contacts} contacts, {args.products} "
        f"products already there; {args.orders} orders generated"
    )
    header = f"{'':18}{'orders':>7}{'seconds':>9}{'ms/order':>10}{'SQL/order':>11}"
    print(header, "-" * len(header), sep="\n")
    per_order = {}
    for label, (orders, seconds, queries) in results.items():
        per_order[label] = (seconds / orders, queries / orders)
        print(
            f"{label:18}{orders:>7}{seconds:>9.2f}{1000 * seconds / orders:>10.1f}"
            f"{queries / orders:>11.2f}"
        )
    (empty_time, empty_sql), (grown_time, grown_sql) = per_order.values()
    print(
        f"\ngrown / empty: {grown_time / empty_time:.2f}x the time per order, "
        f"{grown_sql / empty_sql:.2f}x the SQL per order"
    )


if __name__ == "__main__":
    main()
