import importlib.util
from pathlib import Path

from odoo.tests import tagged
from odoo.tools import sql

from .common import CartumCase, orders_of

MIGRATIONS = Path(__file__).parents[1] / "migrations"
OUTCOMES = ("imported", "updated", "unchanged")


def migration(version, name):
    """The ``migrate`` function of a migration script, as Odoo loads it on upgrade."""
    path = MIGRATIONS / version / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"cartum_migration_{version}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.migrate


@tagged("post_install", "-at_install")
class TestUpgradeFrom110(CartumCase):
    """A database of 1.1.0, where the Cartum status of mapping lines and pushes was stored as
    ``cartum_status_id`` and parts kept their article in a column of its own, upgrades to 1.2.0
    with nothing lost."""

    first_import_in_class = True

    def setUp(self):
        super().setUp()
        self.repair_of(1006).action_validate()  # a push waiting in the outbox
        self.env.flush_all()

    def as_in_110(self):
        """Put the tables and the fields' records back as 1.1.0 had them."""
        cr = self.env.cr
        for table, model in (
            ("cartum_status_mapping", "cartum.status.mapping"),
            ("cartum_status_push", "cartum.status.push"),
        ):
            cr.execute(f"ALTER TABLE {table} RENAME COLUMN cartum_status_code TO cartum_status_id")
            cr.execute(
                "UPDATE ir_model_fields SET name = 'cartum_status_id' "
                "WHERE model = %s AND name = 'cartum_status_code'",
                (model,),
            )
            cr.execute(
                "UPDATE ir_model_data SET name = %s "
                "WHERE module = 'cartum_connector' AND name = %s",
                (f"field_{table}__cartum_status_id", f"field_{table}__cartum_status_code"),
            )
        # Parts imported before line keys: their article only.
        cr.execute("ALTER TABLE stock_move ADD COLUMN cartum_article varchar")
        cr.execute(
            "UPDATE stock_move SET cartum_article = cartum_line_key, cartum_line_key = NULL "
            "WHERE repair_id = %s",
            (self.repair_of(1001).id,),
        )

    def test_status_codes_and_part_keys_are_kept(self):
        mappings = self.store.status_mapping_ids
        push = self.env["cartum.status.push"].search([("repair_id", "=", self.repair_of(1006).id)])
        codes = {mapping.id: mapping.cartum_status_code for mapping in mappings}
        field_ids = {
            model: self.env["ir.model.fields"]._get(model, "cartum_status_code").id
            for model in ("cartum.status.mapping", "cartum.status.push")
        }
        parts = self.parts_of(self.repair_of(1001))
        self.assertTrue(codes and push.cartum_status_code and parts)
        before = (codes, push.cartum_status_code, parts)
        self.as_in_110()
        self.env.invalidate_all()

        migration("1.2.0", "pre-migration")(self.env.cr, "18.0.1.1.0")

        self.env.invalidate_all()
        self.env.registry.clear_cache()
        codes = {mapping.id: mapping.cartum_status_code for mapping in mappings}
        parts = self.parts_of(self.repair_of(1001))
        self.assertEqual((codes, push.cartum_status_code, parts), before)
        for model, field_id in field_ids.items():
            self.assertEqual(
                self.env["ir.model.fields"]._get(model, "cartum_status_code").id, field_id
            )
        # The import finds the parts again by their key: nothing is added twice.
        self.shop.set_line_quantity(1001, "DSP-IP12", 3)
        run = self.run_import()
        self.assertEqual(run.updated_count, 1, run.message)
        self.assertEqual(self.parts_of(self.repair_of(1001))["DSP-IP12"], (3, 3200.0))
        self.assertEqual(len(self.parts_of(self.repair_of(1001))), len(parts))


@tagged("post_install", "-at_install")
class TestUpgradeFrom120(CartumCase):
    """A database of 1.2.0, where a sync run kept the numbers of the orders it imported, updated
    or found unchanged comma-joined in three text columns, upgrades to 1.3.0 with every order
    of every run as a line, and without those columns."""

    first_import_in_class = True
    COLUMNS = tuple(f"{outcome}_external_ids" for outcome in OUTCOMES)

    def as_in_120(self):
        """Put the runs' orders back in the columns 1.2.0 had, and no line."""
        cr = self.env.cr
        for column in self.COLUMNS:
            cr.execute(f"ALTER TABLE cartum_sync_run ADD COLUMN {column} text")
            cr.execute(
                f"""
                UPDATE cartum_sync_run run
                   SET {column} = (SELECT STRING_AGG(line.external_id, ', ' ORDER BY line.id)
                                     FROM cartum_sync_run_line line
                                    WHERE line.run_id = run.id AND line.outcome = %s)
                """,
                (column.removesuffix("_external_ids"),),
            )
        cr.execute("DELETE FROM cartum_sync_run_line")

    def lines_of_runs(self):
        """Each run's orders by outcome, in the order the run went through them (1.2.0 kept no
        order between outcomes)."""
        runs = self.env["cartum.sync.run"].search([("store_id", "=", self.store.id)])
        return {
            run.id: {
                outcome: [(line.external_id, line.repair_id) for line in lines]
                for outcome, lines in run.line_ids.grouped("outcome").items()
            }
            for run in runs
        }

    def test_the_orders_of_each_run_become_its_lines(self):
        self.shop.set_line_quantity(1002, "BAT-SM-A52", 3)
        self.run_import()  # 1002 updated, the other open orders unchanged
        wizard = self.env["cartum.import.wizard"].create(
            {"store_id": self.store.id, "order_numbers": "1003, 1006"}
        )
        wizard.action_import()  # 1003 imported, 1006 unchanged, in one run
        self.env.flush_all()
        before = self.lines_of_runs()
        outcomes = {outcome for lines in before.values() for outcome in lines}
        self.assertEqual(len(before), 3)
        self.assertEqual(outcomes, {"imported", "updated", "unchanged"})
        self.as_in_120()
        self.env.invalidate_all()
        self.assertFalse(any(self.lines_of_runs().values()))

        migration("1.3.0", "post-migration")(self.env.cr, "18.0.1.2.0")

        self.env.invalidate_all()
        self.assertEqual(self.lines_of_runs(), before)
        for column in self.COLUMNS:
            self.assertFalse(sql.column_exists(self.env.cr, "cartum_sync_run", column), column)
        # The lines are a run's like those it makes: its company's, and in its counts.
        lines = self.env["cartum.sync.run.line"].search([("run_id", "in", list(before))])
        self.assertEqual(lines.company_id, self.company)
        for run in lines.run_id:
            counts = (run.imported_count, run.updated_count, run.unchanged_count)
            self.assertEqual(counts, tuple(len(orders_of(run, outcome)) for outcome in OUTCOMES))
