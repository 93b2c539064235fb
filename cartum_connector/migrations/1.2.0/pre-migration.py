"""1.2.0: the Cartum status of a mapping line and of a status push is named
``cartum_status_code``, as on the repair order (it was ``cartum_status_id``, a name Odoo gives
many2ones); a part's article is derived from its line key."""

from odoo.tools import sql

RENAMED_FIELDS = [
    ("cartum.status.mapping", "cartum_status_id", "cartum_status_code"),
    ("cartum.status.push", "cartum_status_id", "cartum_status_code"),
]


def rename_field(cr, model, old, new):
    """Rename the column and the field's own records, so that the values and the field's
    metadata (its XML id, its translations) are kept."""
    table = model.replace(".", "_")
    if not sql.column_exists(cr, table, old) or sql.column_exists(cr, table, new):
        return
    sql.rename_column(cr, table, old, new)
    cr.execute(
        "UPDATE ir_model_fields SET name = %s WHERE model = %s AND name = %s", (new, model, old)
    )
    cr.execute(
        """
        UPDATE ir_model_data SET name = %s
         WHERE module = 'cartum_connector' AND model = 'ir.model.fields' AND name = %s
        """,
        (f"field_{table}__{new}", f"field_{table}__{old}"),
    )


def keep_parts_found_by_article(cr):
    """Parts imported before line keys existed have only their article: it is their key."""
    if sql.column_exists(cr, "stock_move", "cartum_article"):
        cr.execute(
            """
            UPDATE stock_move SET cartum_line_key = cartum_article
             WHERE cartum_line_key IS NULL AND COALESCE(cartum_article, '') != ''
            """
        )


def migrate(cr, version):
    for model, old, new in RENAMED_FIELDS:
        rename_field(cr, model, old, new)
    keep_parts_found_by_article(cr)
