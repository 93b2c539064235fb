{
    "name": "Cartum Connector",
    "summary": "Import Cartum (Horoshop) web orders as repair orders, with products, "
    "contacts and two-way status sync",
    "version": "1.2.0",
    "category": "Inventory/Inventory",
    "license": "LGPL-3",
    "author": "cartum_connector developers",
    "website": "https://github.com/cartum-connector/cartum_connector",
    "maintainers": ["cartum-connector"],
    "development_status": "Beta",
    "images": [
        "static/description/store_dashboard.png",
        "static/description/repair_list.png",
        "static/description/repair_form_cartum.png",
    ],
    "depends": ["repair", "mail", "product"],
    "external_dependencies": {"python": ["cartum-connector-libs", "phonenumbers", "requests"]},
    "data": [
        "security/cartum_connector_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "data/ir_actions_server.xml",
        "views/cartum_store_views.xml",
        "views/cartum_sync_run_views.xml",
        "views/cartum_status_push_views.xml",
        "views/cartum_product_link_views.xml",
        "views/cartum_partner_link_views.xml",
        "wizards/cartum_import_wizard_views.xml",
        "views/repair_order_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "cartum_connector/static/src/store_link_field/*",
            "cartum_connector/static/src/sync_run_views/*",
            "cartum_connector/static/src/scss/*",
        ],
        "web.assets_tests": [
            "cartum_connector/static/tests/tours/*",
        ],
    },
}
