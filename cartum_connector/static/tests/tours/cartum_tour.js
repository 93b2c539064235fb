/** @odoo-module */
