import importlib.util
from pathlib import Path

from odoo.tests import tagged

from .common import CartumCase

MIGRATIONS = Path(__file__).parents[1] / "migrations"


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
