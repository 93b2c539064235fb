from odoo import fields, models

from .cartum_store import ALLOW_LOCAL_STORES_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    cartum_allow_local_stores = fields.Boolean(
        string="Allow Local Test Stores",
        config_parameter=ALLOW_LOCAL_STORES_PARAM,
        help="Cartum stores may then use plain http:// and local or private addresses (this "
        "machine, the office network): for test stores such as the connector's sandbox only. "
        "Otherwise a store is called at a public https:// address only.",
    )
