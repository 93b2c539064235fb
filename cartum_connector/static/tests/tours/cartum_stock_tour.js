/** @odoo-module */

import { registry } from "@web/core/registry";

/*
 * Stock to Cartum, pressed in a browser: the store's new settings on its form, Send Stock Now
 * on the form and on the dashboard card, and the stock state they show. Run by
 * cartum_connector/tests/test_tours.py (test_stock_tour), from the stores' dashboard, with the
 * demo shop's first import done and its stock not sent yet.
 */

const STORE_CARD = ".o_cartum_store_kanban .o_kanban_record:contains(Demo shop)";
const CARTUM_NOTIFICATION = ".o_notification.o_cartum_notification";

registry.category("web_tour.tours").add("cartum_stock_tour", {
    url: "/odoo/action-cartum_connector.cartum_store_action",
    steps: () => [
        {
            content: "a store that does not send its stock shows no stock state on its card",
            trigger: `${STORE_CARD}:not(:has(.o_cartum_stock_state))`,
        },
        {
            content: "open the card's menu",
            trigger: STORE_CARD,
            run: `hover && click ${STORE_CARD} .o_dropdown_kanban .dropdown-toggle`,
        },
        {
            content: "no Send Stock Now while the store does not send its stock",
            trigger: ".o-dropdown--menu .o_cartum_store_menu:not(:has(.o_cartum_send_stock_now))",
        },
        {
            content: "press Settings in the card's menu",
            trigger: ".o-dropdown--menu .o_cartum_store_menu a:contains(Settings)",
            run: "click",
        },
        {
            content: "open the Stock to Cartum tab",
            trigger: ".o_form_view .o_notebook a.nav-link:contains(Stock to Cartum)",
            run: "click",
        },
        {
            content: "switch on Send Stock to Cartum",
            trigger: ".o_form_view .o_field_widget[name=stock_export] input:not(:checked)",
            run: "click",
        },
        {
            content: "the presence texts show, Horoshop's by default",
            trigger: ".o_form_view .o_field_widget[name=presence_in_stock] input",
            run() {
                if (this.anchor.value !== "В наявності") {
                    throw new Error(`in stock text: ${this.anchor.value}`);
                }
            },
        },
        {
            content: "write the store's own out of stock text",
            trigger: ".o_form_view .o_field_widget[name=presence_out_of_stock] input",
            run: "edit Закінчився",
        },
        {
            content: "choose warehouse stock in Cartum",
            trigger: ".o_form_view .o_field_widget[name=stock_kind] input[data-value=residues]",
            run: "click",
        },
        {
            content: "name the Cartum warehouse",
            trigger: ".o_form_view .o_field_widget[name=stock_warehouse_name] input",
            run: "edit Основний склад",
        },
        {
            content: "save the store",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "the store is saved; its stock state shows the linked products waiting",
            trigger: ".o_form_view .o_form_saved .o_field_widget[name=stock_waiting_count]:contains(/[1-9]/)",
        },
        {
            content: "press Send Stock Now on the form",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_send_stock_now]",
            run: "click",
        },
        {
            content: "the notification says the stock is sent in the background",
            trigger: `${CARTUM_NOTIFICATION}:contains(Send Stock Now):contains(in the background)`,
        },
        {
            content: "back to the stores",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Cartum Stores)",
            run: "click",
        },
        {
            content: "the card shows the stock state",
            trigger: `${STORE_CARD} .o_cartum_stock_state:contains(linked):contains(waiting):contains(refused)`,
        },
        {
            content: "open the card's menu again",
            trigger: STORE_CARD,
            run: `hover && click ${STORE_CARD} .o_dropdown_kanban .dropdown-toggle`,
        },
        {
            content: "press Send Stock Now in the card's menu",
            trigger: ".o-dropdown--menu .o_cartum_send_stock_now",
            run: "click",
        },
        {
            content: "the card's Send Stock Now does not wait on Cartum either",
            trigger: `${CARTUM_NOTIFICATION}:contains(Send Stock Now):contains(in the background)`,
        },
    ],
});
