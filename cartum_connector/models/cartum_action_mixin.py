from odoo import api, models
from odoo.exceptions import AccessError

MANAGER_GROUP = "cartum_connector.group_cartum_manager"


class CartumActionMixin(models.AbstractModel):
    """What the connector's buttons share: who may press those that reach Cartum, and how
    they answer."""

    _name = "cartum.action.mixin"
    _description = "Cartum Button Checks and Answers"

    def _check_cartum_manager(self):
        """Buttons that reach Cartum are for Cartum administrators, also when called by RPC,
        on records of their companies (the record rules of ``write``)."""
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Cartum administrators can do this."))
        self.check_access("write")

    @api.model
    def _cartum_notification(self, title, message, level):
        """A notification whose lines stay separate lines; ``level``: success, warning or
        danger (sticky unless success). The view reloads behind it."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": level,
                "sticky": level != "success",
                "className": "o_cartum_notification",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
