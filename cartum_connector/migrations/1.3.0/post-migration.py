"""1.3.0: a sync run keeps the orders it imported, updated or found unchanged as lines
(``cartum.sync.run.line``), no longer as comma-joined numbers in three text columns."""

from odoo.tools import sql

OUTCOME_COLUMNS = [
    ("imported", "imported_external_ids"),
    ("updated", "updated_external_ids"),
    ("unchanged", "unchanged_external_ids"),
]


def orders_to_lines(cr, outcome, column):
    """One line per number of ``column``, in the order the run wrote them, then no column."""
    if not sql.column_exists(cr, "cartum_sync_run", column):
        return
    cr.execute(
        f"""
        INSERT INTO cartum_sync_run_line (run_id, company_id, external_id, outcome,
                                          create_uid, create_date, write_uid, write_date)
        SELECT run.id, run.company_id, TRIM(number), %s,
               run.create_uid, run.create_date, run.write_uid, run.write_date
          FROM cartum_sync_run run,
               UNNEST(STRING_TO_ARRAY(run.{column}, ',')) WITH ORDINALITY AS numbers(number, n)
         WHERE TRIM(number) != ''
         ORDER BY run.id, numbers.n
        """,
        (outcome,),
    )
    cr.execute(f"ALTER TABLE cartum_sync_run DROP COLUMN {column}")


def migrate(cr, version):
    for outcome, column in OUTCOME_COLUMNS:
        orders_to_lines(cr, outcome, column)
