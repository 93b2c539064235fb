from odoo import Command, models

from .. import compat


class ResGroups(models.Model):
    """What security/ and data/ set on groups through fields that differ between Odoo series
    (category, members, actions); the data files call these, the fields' names are compat's."""

    _inherit = "res.groups"

    def _cartum_set_category(self, category_id):
        category = self.env["ir.module.category"].browse(category_id)
        compat.set_groups_category(self, category, "cartum_connector.res_groups_privilege_cartum")

    def _cartum_add_users(self, user_ids):
        self.write({compat.USER_IDS: [Command.link(user_id) for user_id in user_ids]})

    def _cartum_add_actions(self, action_ids):
        """Only users of these groups see the actions."""
        actions = self.env["ir.actions.server"].browse(action_ids)
        actions.write({compat.GROUP_IDS: [Command.link(group.id) for group in self]})
