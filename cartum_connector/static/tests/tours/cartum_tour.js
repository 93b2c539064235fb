/** @odoo-module */

import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";
import { session } from "@web/session";
import { runRefresh } from "@cartum_connector/sync_run_views/sync_run_views";

/*
 * Every button, menu and action of the Cartum connector, pressed in a browser.
 * Run by cartum_connector/tests/test_tours.py, which sets up a sandbox store whose first
 * import is done, with three open failures (orders 1008, 1009 and 1010, fixed in Cartum
 * since) and one pending status push (WEB-1006, next attempt in 2099), and a second store
 * that never synced, whose only run failed. The browser is 1440 pixels wide.
 *
 * Written once for Odoo 18.0 and 19.0: no import of web_tour's utilities (their module moved
 * in 19.0), both series' class names where they differ (eitherSeries), and the step key only
 * 19.0 has where a step leaves the page (LEAVES_THE_PAGE).
 */

const STORE_CARD = ".o_cartum_store_kanban .o_kanban_record:contains(Demo shop)";
const SECOND_CARD = ".o_cartum_store_kanban .o_kanban_record:contains(Second shop)";
const CARTUM_NOTIFICATION = ".o_notification.o_cartum_notification";
// The tours commit a running import's pages themselves, at once: its views need not wait
// two seconds to show them.
runRefresh.interval = 200;

// A list's selection in the control panel, with its buttons (Retry, Send Now) in a container
// around it: 18.0's classes, then 19.0's.
const SELECTION_BOX = [".o_list_selection_box", ".o_selection_box"];
const SELECTION_CONTAINER = [".o_list_selection_container", ".o_selection_container"];
// An item of the search's autocomplete: 18.0's list item, then 19.0's dropdown item.
const AUTOCOMPLETE_ITEM = [".o_menu_item", ".o-dropdown-item"];

/** A selector for either series: `pattern` with each of `classes` in place of "%s". */
function eitherSeries(classes, pattern) {
    return classes.map((cls) => pattern.replace("%s", cls)).join(", ");
}

/** Web_tour's stepUtils.goToAppSteps, as it is on both series (community, desktop). */
function goToApp(menuXmlid, description) {
    return [
        {
            content: "open the apps menu",
            trigger: ".o_navbar_apps_menu button:enabled",
            run: "click",
        },
        {
            content: description,
            trigger: `.o_app[data-menu-xmlid="${menuXmlid}"]`,
            run: "click",
        },
    ];
}

/* The card's dates, counters and buttons each stay on one line: no row is taller than one
 * line of text, and the quick actions share one line. */
function cardFitsOnItsLines(card) {
    return {
        content: `the card ${card} does not wrap its dates and buttons`,
        trigger: `${card} .o_cartum_store_facts`,
        run() {
            const record = this.anchor.closest(".o_kanban_record");
            const lineHeight = parseFloat(getComputedStyle(this.anchor).lineHeight) || 21;
            for (const row of record.querySelectorAll(".text-nowrap")) {
                if (row.scrollWidth > row.clientWidth + 1) {
                    throw new Error(`overflowing: ${row.textContent.trim()}`);
                }
            }
            for (const row of this.anchor.querySelectorAll(":scope > div")) {
                if (row.getBoundingClientRect().height > 1.8 * lineHeight) {
                    throw new Error(`wrapped: ${row.textContent.trim()}`);
                }
            }
            const buttons = [...record.querySelectorAll("footer .btn")];
            const tops = new Set(buttons.map((button) => button.getBoundingClientRect().top));
            if (!buttons.length || tops.size !== 1) {
                throw new Error("the quick actions are not on one line");
            }
        },
    };
}

/* The list's total of a column, in its footer. */
function listTotal(fieldName, total) {
    return {
        content: `the list sums ${fieldName}: ${total}`,
        trigger: `.o_list_view tfoot .o_list_number`,
        run() {
            // The footer cell under the column's header: 19.0's footer may span its first
            // columns in one cell, so cells are matched by position, not by index.
            const table = this.anchor.closest("table");
            const header = table.querySelector(`thead th[data-name=${fieldName}]`);
            const middle = header && (header.getBoundingClientRect().left + header.getBoundingClientRect().right) / 2;
            const cell = [...table.querySelectorAll("tfoot tr td")].find((td) => {
                const box = td.getBoundingClientRect();
                return box.left <= middle && middle <= box.right;
            });
            if (!cell || cell.textContent.trim() !== String(total)) {
                throw new Error(`${fieldName} total: ${cell && cell.textContent.trim()}`);
            }
        },
    };
}

/* The card's menu toggle (top right, shown on hover) is clear of the connection badge: the
 * menu is the only way to Import Orders… and Refresh Products from the dashboard. */
function cardMenuClearOfBadge(card) {
    return {
        content: `the menu of ${card} is not under its Connected badge`,
        trigger: `${card} .o_field_widget[name=connection_state]`,
        run() {
            // Shown on hover only, the toggle has its place in the card all the same.
            const record = this.anchor.closest(".o_kanban_record");
            const menu = record.querySelector(".o_dropdown_kanban").getBoundingClientRect();
            const badge = this.anchor;
            const box = badge.getBoundingClientRect();
            const apart =
                box.right <= menu.left ||
                menu.right <= box.left ||
                box.bottom <= menu.top ||
                menu.bottom <= box.top;
            if (!apart) {
                throw new Error("the card's menu toggle overlaps the connection badge");
            }
        },
    };
}

/* What the store's job does when it starts, written as it would: a run of the store. */
function storeJobStartsARun(storeName) {
    return {
        content: `the job of ${storeName} starts its run, after the sync log was shown`,
        trigger: ".o_list_view",
        async run() {
            const [store] = await rpc("/web/dataset/call_kw/cartum.store/search", {
                model: "cartum.store",
                method: "search",
                args: [[["name", "=", storeName]]],
                kwargs: {},
            });
            await rpc("/web/dataset/call_kw/cartum.sync.run/create", {
                model: "cartum.sync.run",
                method: "create",
                args: [{ store_id: store, trigger: "cron", state: "done" }],
                kwargs: {},
            });
        },
    };
}

/* What the store's job commits after a page, written as it would: the views that show the
 * run follow it without a reload. */
function runningRunCommits(values) {
    return {
        content: `the running import commits ${JSON.stringify(values)}`,
        trigger: "body",
        async run() {
            const ids = await rpc("/web/dataset/call_kw/cartum.sync.run/search", {
                model: "cartum.sync.run",
                method: "search",
                args: [[["state", "=", "running"]]],
                kwargs: {},
            });
            await rpc("/web/dataset/call_kw/cartum.sync.run/write", {
                model: "cartum.sync.run",
                method: "write",
                args: [ids, values],
                kwargs: {},
            });
        },
    };
}

function backTo(name) {
    return [
        {
            content: `back to ${name}`,
            trigger: `.o_breadcrumb .breadcrumb-item a:contains(${name})`,
            run: "click",
        },
        {
            content: `${name} is shown again`,
            trigger: `.o_breadcrumb .o_last_breadcrumb_item:contains(${name})`,
        },
    ];
}

function repairsMenu(menuXmlid) {
    return [
        {
            content: "open Repairs > Configuration",
            trigger: '.o_main_navbar button[data-menu-xmlid="repair.repair_menu_config"]',
            run: "click",
        },
        {
            content: `open the menu ${menuXmlid}`,
            trigger: `.o-dropdown--menu [data-menu-xmlid="${menuXmlid}"]`,
            run: "click",
        },
    ];
}

function openSearchPanel() {
    return {
        content: "open the filters and group by",
        trigger: ".o_control_panel .o_searchview_dropdown_toggler",
        run: "click",
    };
}

function selectRow(text) {
    return {
        content: `select the row ${text}`,
        trigger: `.o_list_view .o_data_row:contains(${text}) .o_list_record_selector input`,
        run: "check",
    };
}

registry.category("web_tour.tours").add("cartum_store_tour", {
    url: "/odoo/action-stock.action_stock_config_settings",
    steps: () => [
        // Settings > Inventory: the Cartum block links to the stores.
        {
            content: "the Cartum block of the inventory settings",
            trigger: ".o_setting_container #cartum_stores:contains(Import web orders)",
        },
        {
            content: "the setting a Settings administrator turns on for local test stores, on",
            trigger: "#cartum_allow_local_stores:contains(Allow Local Test Stores) input[type=checkbox]:checked",
        },
        {
            content: "press Cartum Stores",
            trigger: "#cartum_stores button:contains(Cartum Stores)",
            run: "click",
        },
        // The stores' dashboard.
        {
            content: "the stores open as a kanban dashboard",
            trigger: `${STORE_CARD}:contains(3 open failures):contains(1 pending push):not(:contains(1 pending pushes))`,
        },
        {
            content: "the card says when the next sync is",
            trigger: `${STORE_CARD}:contains(Next sync) .o_cartum_next_sync:contains(/\\d/)`,
        },
        cardFitsOnItsLines(STORE_CARD),
        cardFitsOnItsLines(SECOND_CARD),
        {
            content: "the card's last run, done with failures; its open failures in red",
            trigger: `${STORE_CARD}:has(.o_field_widget[name=last_run_state]:contains(Done with failures)) a.o_cartum_open_failures.btn-outline-danger`,
        },
        {
            content: "a store that never synced says Never, and its last run failed, with why",
            trigger: `${SECOND_CARD}:has(.o_cartum_never:contains(Never)):has(.o_field_widget[name=last_run_state]:contains(Failed)) .o_cartum_last_run_message:contains(Cartum answered HTTP 503)`,
        },
        {
            content: "0 open failures is not in red",
            trigger: `${SECOND_CARD} a.o_cartum_open_failures.btn-outline-secondary:not(.btn-outline-danger):contains(0 open failures)`,
        },
        // Quick actions of the cards.
        {
            content: "press Import Now on the card of the store never tested",
            trigger: `${SECOND_CARD} button.o_cartum_import_now`,
            run: "click",
        },
        {
            content: "Import Now says the store is not connected, and to press Test Connection",
            trigger: ".modal .modal-body:contains(Second shop is not connected):contains(Press Test Connection)",
        },
        {
            content: "close the message",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "press Test Connection on the card of the store never synced",
            trigger: `${SECOND_CARD} button.o_cartum_test_connection`,
            run: "click",
        },
        {
            content: "Test Connection says that the first import has started, and where to follow it",
            trigger: `${CARTUM_NOTIFICATION}:contains(Test Connection: Second shop):contains(The first import has started in the background):contains(Sync Log)`,
        },
        {
            content: "close the notification",
            trigger: `${CARTUM_NOTIFICATION}:contains(Second shop) .o_notification_close`,
            run: "click",
        },
        {
            content: "press Sync Log on the card",
            trigger: `${STORE_CARD} button.o_cartum_sync_log`,
            run: "click",
        },
        {
            content: "the store's sync log: its first import only, not the other store's run",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Second shop))) .o_data_row:contains(First import):contains(Demo shop)",
        },
        ...backTo("Cartum Stores"),
        {
            content: "press Import Now on the card",
            trigger: `${STORE_CARD} button.o_cartum_import_now`,
            run: "click",
        },
        {
            content: "Import Now opens the store's sync log",
            trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains(Cartum Sync Log)",
        },
        ...backTo("Cartum Stores"),
        {
            content: "press the open failures of the card",
            trigger: `${STORE_CARD} a.o_cartum_open_failures`,
            run: "click",
        },
        {
            content: "the store's open failures are listed",
            trigger: ".o_list_view:has(.o_data_row:contains(1008)):has(.o_data_row:contains(1009)) .o_data_row:contains(1010):contains(Open)",
        },
        ...backTo("Cartum Stores"),
        {
            content: "pause the store's sync on its card",
            trigger: `${STORE_CARD} .o_field_boolean_toggle input:not(:checked)`,
            run: "click",
        },
        {
            content: "the card shows the store paused, without a next sync nor Import Now",
            trigger: `${STORE_CARD}:contains(Paused):not(:has(.o_cartum_next_sync)):not(:has(button.o_cartum_import_now)) .o_field_boolean_toggle input:checked`,
        },
        cardMenuClearOfBadge(STORE_CARD),
        {
            content: "open the card's menu",
            trigger: STORE_CARD,
            run: `hover && click ${STORE_CARD} .o_dropdown_kanban .dropdown-toggle`,
        },
        {
            content: "press Settings in the card's menu",
            trigger: ".o-dropdown--menu .o_cartum_store_menu a:contains(Settings)",
            run: "click",
        },
        {
            content: "the store's form, connected",
            trigger: ".o_form_view .o_field_widget[name=connection_state]:contains(Connected)",
        },
        // Imported contacts: the store's company's by default, here shared by all companies.
        {
            content: "the store's imported contacts are its company's",
            trigger: ".o_form_view .o_field_widget[name=partner_scope] input[data-value=company]:checked",
        },
        {
            content: "choose contacts shared by all companies",
            trigger: ".o_form_view .o_field_widget[name=partner_scope] input[data-value=shared]",
            run: "click",
        },
        // Test Connection (saves the form first).
        {
            content: "press Test Connection",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_test_connection]",
            run: "click",
        },
        {
            content: "the notification says the store is connected",
            trigger: `${CARTUM_NOTIFICATION}:contains(Test Connection: Demo shop):contains(Connected.)`,
        },
        {
            content: "the form, reloaded, shows the store connected",
            trigger: ".o_form_view .o_field_widget[name=connection_state]:contains(Connected)",
        },
        // Refresh Products.
        {
            content: "press Refresh Products",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_refresh_products]",
            run: "click",
        },
        {
            content: "the notification tells how the product refresh went",
            trigger: `${CARTUM_NOTIFICATION}:contains(Product refresh: Demo shop)`,
        },
        // Stat buttons.
        {
            content: "press the Failed Orders stat button",
            trigger: ".o_form_view button[name=action_view_open_failures]:contains(Failed Orders):contains(3)",
            run: "click",
        },
        {
            content: "the open failures of the store are listed",
            trigger: ".o_list_view .o_data_row:contains(1010):contains(Open)",
        },
        ...backTo("Demo shop"),
        {
            content: "press the Pending Pushes stat button",
            trigger: ".o_form_view button[name=action_view_pending_pushes]:contains(Pending Pushes):contains(1)",
            run: "click",
        },
        {
            content: "the pending status push is listed",
            trigger: ".o_list_view .o_data_row:contains(WEB-1006):contains(Pending)",
        },
        ...backTo("Demo shop"),
        {
            content: "press the Repair Orders stat button",
            trigger: ".o_form_view button[name=action_view_repairs]:contains(Repair Orders):contains(6)",
            run: "click",
        },
        {
            content: "the store's repair orders are listed",
            trigger: ".o_list_view .o_data_row:contains(WEB-1001)",
        },
        {
            content: "only the six imported orders",
            trigger: ".o_list_view:not(:has(.o_data_row:eq(6))) .o_data_row:eq(5)",
        },
        ...backTo("Demo shop"),
        // Import Orders…
        {
            content: "press Import Orders…",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_open_import_wizard]",
            run: "click",
        },
        {
            content: "the import dialog opens, by order numbers",
            trigger: ".modal:contains(Import Orders) .o_field_widget[name=mode] input[data-value=numbers]:checked",
        },
        {
            content: "enter Cartum order numbers, one of them unknown to Cartum",
            trigger: ".modal .o_field_widget[name=order_numbers] textarea",
            run: "edit 1003, 1006, 9999",
        },
        {
            content: "press Import",
            trigger: ".modal .modal-footer button[name=action_import]",
            run: "click",
        },
        {
            content: "the sync run of the import opens",
            trigger: ".o_form_view .o_field_widget[name=trigger]:contains(Import of chosen orders)",
        },
        {
            content: "the run's state is a badge: done with failures; one order imported",
            trigger: ".o_form_view:not(:has(.o_statusbar_status)):has(.o_field_badge[name=state]:contains(Done with failures)) .o_field_widget[name=imported_count]:contains(1)",
        },
        {
            content: "the run lists its orders: 1003 imported, 1006 unchanged, 9999 failed",
            trigger: ".o_form_view:has(.o_field_widget[name=line_ids] .o_data_row:contains(1003):contains(Imported):contains(WEB-1003)):has(.o_field_widget[name=line_ids] .o_data_row:contains(1006):contains(Unchanged)) .o_field_widget[name=failed_external_ids]:contains(9999)",
        },
        {
            content: "9999 is reported by number as not found in Cartum",
            trigger: ".o_form_view .o_field_widget[name=failure_ids] .o_data_row:contains(9999):contains(Order 9999 was not found in Cartum.)",
        },
        {
            content: "the breadcrumb shows the run's start as the form does, in the user's time zone",
            trigger: ".o_form_view .o_field_widget[name=started_at] span",
            run() {
                // The same hour and minute: 19.0's form shows a shorter date ("Dec 1, 11:56 PM").
                const started = this.anchor.textContent.trim();
                const time = started.match(/\d{1,2}:\d{2}/);
                const crumb = document.querySelector(".o_breadcrumb .o_last_breadcrumb_item");
                const label = crumb.textContent.trim();
                if (!time || !label.startsWith("Demo shop ") || !label.includes(time[0])) {
                    throw new Error(`breadcrumb "${label}", started "${started}"`);
                }
            },
        },
        {
            content: "press Orders: the run's orders in a list of their own",
            trigger: ".o_form_view .o-form-buttonbox .oe_stat_button:contains(Orders)",
            run: "click",
        },
        {
            content: "the list has the run's two orders",
            trigger: ".o_list_view:not(:has(.o_data_row:eq(2))):has(.o_data_row:contains(1003):contains(Imported)) .o_data_row:contains(1006):contains(Unchanged)",
        },
        openSearchPanel(),
        {
            content: "filter: Unchanged",
            trigger: ".o_filter_menu .o_menu_item:contains(Unchanged)",
            run: "click",
        },
        {
            content: "only 1006, unchanged, is left",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(1003))) .o_data_row:contains(1006):contains(WEB-1006)",
        },
        ...backTo("Demo shop"),
        {
            content: "the store now has seven repair orders",
            trigger: ".o_form_view button[name=action_view_repairs]:contains(7)",
        },
        // Pause sync on the form: resumes the sync paused on the card.
        {
            content: "the toggle on the form shows the sync paused",
            trigger: ".o_form_view .o_field_widget[name=sync_paused] input:checked",
        },
        {
            content: "resume the sync on the form",
            trigger: ".o_form_view .o_field_widget[name=sync_paused] input",
            run: "click",
        },
        {
            content: "the toggle saved the store at once: the sync is on again",
            trigger: ".o_form_view .o_form_saved .o_field_widget[name=sync_paused] input:not(:checked)",
        },
        // Import Now.
        {
            content: "press Import Now",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_import_now]",
            run: "click",
        },
        {
            content: "the store's sync log opens",
            trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains(Cartum Sync Log)",
        },
        {
            content: "the sync log lists the store's runs",
            trigger: ".o_list_view .o_data_row:contains(Import of chosen orders):contains(Demo shop)",
        },
        storeJobStartsARun("Demo shop"),
        {
            content: "the run the job started shows without a reload",
            trigger: ".o_list_view .o_data_row:contains(Scheduled):contains(Demo shop)",
        },
        {
            content: "and its first import",
            trigger: ".o_list_view .o_data_row:contains(First import)",
        },
        {
            content: "a run started by hand names who started it",
            trigger: ".o_list_view .o_data_row:contains(Import of chosen orders) td[name=user_id]:contains(Administrator)",
        },
        listTotal("imported_count", 7),
        listTotal("unchanged_count", 1),
        listTotal("failed_count", 4),
    ],
});

registry.category("web_tour.tours").add("cartum_failure_push_tour", {
    url: "/odoo",
    steps: () => [
        ...goToApp("repair.menu_repair_order", "open Repairs"),
        // Cartum Failed Orders: Retry on the selection.
        ...repairsMenu("cartum_connector.cartum_sync_failure_menu"),
        {
            content: "the open failures: the orders were not in the company currency",
            trigger: ".o_list_view .o_data_row:contains(1008):contains(USD):contains(Open)",
        },
        selectRow(1008),
        {
            content: "press Retry for the selection",
            trigger: eitherSeries(SELECTION_CONTAINER, ".o_control_panel %s button:contains(Retry)"),
            run: "click",
        },
        {
            content: "the retry's sync run opens",
            trigger: ".o_form_view .o_field_widget[name=trigger]:contains(Retry of failed orders)",
        },
        {
            content: "the retry is done and imported the order",
            trigger: ".o_form_view:has(.o_field_badge[name=state]:contains(Done):not(:contains(failures))) .o_field_widget[name=imported_count]:contains(1)",
        },
        {
            content: "the retry lists the order it imported",
            trigger: ".o_form_view .o_field_widget[name=line_ids] .o_data_row:contains(1008):contains(Imported)",
        },
        ...backTo("Cartum Failed Orders"),
        // Retry on a row.
        {
            content: "1008 is no longer open; 1009 and 1010 are",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(1008))):has(.o_data_row:contains(1010)) .o_data_row:contains(1009)",
        },
        {
            content: "press Retry on the row of 1009",
            trigger: ".o_list_view .o_data_row:contains(1009) button[name=action_retry]",
            run: "click",
        },
        {
            content: "the row's retry opens its sync run",
            trigger: ".o_form_view:has(.o_field_widget[name=trigger]:contains(Retry of failed orders)) .o_field_widget[name=imported_count]:contains(1)",
        },
        ...backTo("Cartum Failed Orders"),
        {
            content: "only 1010 is still open",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(1009))) .o_data_row:contains(1010):contains(Open)",
        },
        // Retry All Failed Orders, on the first import's sync run.
        ...repairsMenu("cartum_connector.cartum_sync_run_menu"),
        {
            content: "open the first import in the sync log",
            trigger: ".o_list_view .o_data_row:contains(First import):contains(Done with failures) td[name=trigger]",
            run: "click",
        },
        {
            content: "the run lists its failures: 1010 still open, with its Retry button",
            trigger: ".o_form_view .o_field_widget[name=failure_ids] .o_data_row:contains(1010):contains(Open) button[name=action_retry]",
        },
        {
            content: "1008 and 1009 resolved, without Retry button",
            trigger: ".o_form_view .o_field_widget[name=failure_ids]:not(:has(.o_data_row:contains(1008) button[name=action_retry])) .o_data_row:contains(1009):contains(Resolved):not(:has(button[name=action_retry]))",
        },
        {
            content: "press Retry All Failed Orders",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_retry_failures]",
            run: "click",
        },
        {
            content: "the retry's sync run opens and imported the order",
            trigger: ".o_form_view:has(.o_field_widget[name=trigger]:contains(Retry of failed orders)) .o_field_widget[name=imported_count]:contains(1)",
        },
        {
            content: "back to the first import",
            trigger: ".o_breadcrumb .breadcrumb-item.o_back_button a",
            run: "click",
        },
        {
            content: "every failure of the first import is resolved",
            trigger: ".o_form_view:has(.o_field_widget[name=trigger]:contains(First import)) .o_field_widget[name=failure_ids]:not(:has(button[name=action_retry])) .o_data_row:contains(1010):contains(Resolved)",
        },
        ...repairsMenu("cartum_connector.cartum_sync_failure_menu"),
        {
            content: "no open failure is left",
            trigger: ".o_view_nocontent:contains(No failed order)",
        },
        {
            content: "show every failure, not only open ones",
            trigger: ".o_searchview_facet:contains(Open) .o_facet_remove",
            run: "click",
        },
        {
            content: "the failures are resolved",
            trigger: ".o_list_view:has(.o_data_row:contains(1008):contains(Resolved)):has(.o_data_row:contains(1009):contains(Resolved)) .o_data_row:contains(1010):contains(Resolved)",
        },
        // Cartum Status Pushes: Send Now.
        ...repairsMenu("cartum_connector.cartum_status_push_menu"),
        {
            content: "the pending push, retried in 2099",
            trigger: ".o_list_view .o_data_row:contains(WEB-1006):contains(Pending):contains(2099)",
        },
        selectRow("WEB-1006"),
        {
            content: "press Send Now",
            trigger: eitherSeries(
                SELECTION_CONTAINER,
                ".o_control_panel %s button:contains(Send Now)"
            ),
            run: "click",
        },
        {
            content: "the push is due now, no longer in 2099",
            trigger: ".o_list_view .o_data_row:contains(WEB-1006):contains(Pending):not(:contains(2099))",
        },
        // Cartum Sync Log.
        ...repairsMenu("cartum_connector.cartum_sync_run_menu"),
        {
            content: "the sync log lists the retries",
            trigger: ".o_list_view .o_data_row:contains(Retry of failed orders):contains(Done)",
        },
        openSearchPanel(),
        {
            content: "group the sync log by store",
            trigger: ".o_group_by_menu .o_menu_item:contains(/^Store$/)",
            run: "click",
        },
        {
            content: "one group for the store",
            trigger: ".o_list_view .o_group_header:contains(Demo shop)",
        },
        // Cartum Stores from the menu; the card's pending pushes.
        ...repairsMenu("cartum_connector.cartum_store_menu"),
        {
            content: "the stores' kanban: no open failure left, one push pending",
            trigger: `${STORE_CARD}:contains(0 open failures):contains(1 pending push):not(:contains(1 pending pushes))`,
        },
        {
            content: "switch the stores to their list",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        {
            content: "the store's row, its sync not paused",
            trigger: ".o_list_view .o_data_row:contains(Demo shop) td[name=sync_paused] input:not(:checked)",
        },
        {
            content: "back to the kanban",
            trigger: ".o_control_panel .o_switch_view.o_kanban",
            run: "click",
        },
        {
            content: "press the pending pushes of the card",
            trigger: `${STORE_CARD} a.o_cartum_pending_pushes`,
            run: "click",
        },
        {
            content: "the store's pending push is listed",
            trigger: ".o_list_view .o_data_row:contains(WEB-1006):contains(Pending)",
        },
    ],
});

registry.category("web_tour.tours").add("cartum_repair_tour", {
    url: "/odoo/action-repair.action_repair_order_tree",
    steps: () => [
        // The Store column links to the order's page in the Cartum admin.
        {
            content: "the Store column links to the order in Cartum",
            trigger: ".o_list_view .o_data_row:contains(WEB-1001) td[name=cartum_store_name] a[href*='/edit/orders/1001/']:contains(Demo shop)",
        },
        {
            content: "press the store link: the Cartum admin opens in another tab",
            trigger: ".o_list_view .o_data_row:contains(WEB-1001) td[name=cartum_store_name] a",
            run: "click",
        },
        {
            content: "the repair order did not open: still the list",
            trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains(Repair Orders)",
        },
        {
            content: "an imported order is scheduled today, when it was imported: not overdue",
            trigger: ".o_list_view .o_data_row:contains(WEB-1001) td[name=schedule_date]:contains(Today):not(:has(.text-danger))",
        },
        {
            content: "an order created in Odoo has no store link",
            trigger: ".o_list_view .o_data_row:not(:contains(WEB-)) td[name=cartum_store_name]:not(:has(a))",
        },
        // Filters and group by.
        openSearchPanel(),
        {
            content: "filter: Created in Odoo",
            trigger: ".o_filter_menu .o_menu_item:contains(Created in Odoo)",
            run: "click",
        },
        {
            content: "only the order created in Odoo is left",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(WEB-))) .o_data_row",
        },
        {
            content: "filter off: Created in Odoo",
            trigger: ".o_filter_menu .o_menu_item:contains(Created in Odoo)",
            run: "click",
        },
        {
            content: "filter: From Integrations",
            trigger: ".o_filter_menu .o_menu_item:contains(From Integrations)",
            run: "click",
        },
        {
            content: "only orders from Cartum are left",
            trigger: ".o_searchview_facet:contains(From Integrations)",
        },
        {
            content: "every row links to Cartum",
            trigger: ".o_list_view:not(:has(.o_data_row:not(:contains(WEB-)))) .o_data_row:contains(WEB-1007)",
        },
        {
            content: "filter off: From Integrations",
            trigger: ".o_filter_menu .o_menu_item:contains(From Integrations)",
            run: "click",
        },
        {
            content: "group by store",
            trigger: ".o_group_by_menu .o_menu_item:contains(/^Store$/)",
            run: "click",
        },
        {
            content: "one group for the store",
            trigger: ".o_list_view .o_group_header:contains(Demo shop):contains(6)",
        },
        {
            content: "one group for the orders without store",
            trigger: ".o_list_view .o_group_header:contains(None)",
        },
        {
            content: "ungroup",
            trigger: ".o_searchview_facet:contains(Store) .o_facet_remove",
            run: "click",
        },
        // The form's Cartum tab: refresh, twice.
        {
            content: "open the repair order WEB-1007",
            trigger: ".o_list_view .o_data_row:contains(WEB-1007) td[name=name]",
            run: "click",
        },
        {
            content: "open the Cartum tab",
            trigger: ".o_form_view .o_notebook_headers a[name=cartum]",
            run: "click",
        },
        {
            content: "the Cartum tab shows the order's store and number",
            trigger: ".o_form_view .o_field_widget[name=cartum_external_id]:contains(1007)",
        },
        {
            content: "the Cartum status in the user's language (English), not the store's",
            trigger: ".o_form_view .o_field_widget[name=cartum_status_name]:contains(Shipping)",
        },
        {
            content: "the order's coupon and its discount are shown beside the Cartum total",
            trigger: ".o_form_view .o_field_widget[name=cartum_coupon_code]:contains(AUTUMN10)",
        },
        {
            content: "the Cartum total is after the discount; the parts keep the line prices",
            trigger: ".o_form_view:has(.o_field_widget[name=cartum_discount_amount]:contains(535.00)) .o_field_widget[name=cartum_amount_total]:contains(4,815.00)",
        },
        {
            content: "the chatter says the status changed in Cartum",
            trigger: ".o-mail-Message:contains(Status changed in Cartum to Shipping.)",
        },
        {
            content: "press the refresh button next to Last Update",
            trigger: ".o_form_view .o_notebook button[name=action_cartum_refresh]",
            run: "click",
        },
        {
            content: "the order was refreshed",
            trigger: `${CARTUM_NOTIFICATION}:contains(Update from Cartum):contains(Refreshed: WEB-1007)`,
        },
        {
            content: "the Cartum tab, reloaded",
            trigger: ".o_form_view .o_notebook_headers a[name=cartum]",
            run: "click",
        },
        {
            content: "the time of the refresh by hand is shown",
            trigger: ".o_form_view .o_field_widget[name=cartum_last_refresh]",
        },
        {
            content: "press the refresh button again",
            trigger: ".o_form_view .o_notebook button[name=action_cartum_refresh]",
            run: "click",
        },
        {
            content: "the second refresh is refused",
            trigger: `${CARTUM_NOTIFICATION}:contains(Skipped WEB-1007: refreshed less than 10 minutes ago)`,
        },
        {
            content: "close the notification",
            trigger: `${CARTUM_NOTIFICATION}:contains(Skipped WEB-1007) .o_notification_close`,
            run: "click",
        },
        {
            content: "the refusal is closed",
            trigger: `body:not(:has(${CARTUM_NOTIFICATION}:contains(Skipped)))`,
        },
        {
            content: "open the form's Actions",
            trigger: ".o_control_panel .o_cp_action_menus button",
            run: "click",
        },
        {
            content: "press Update from Cartum in the form",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(Update from Cartum)",
            run: "click",
        },
        {
            content: "refused too, within 10 minutes",
            trigger: `${CARTUM_NOTIFICATION}:contains(Skipped WEB-1007: refreshed less than 10 minutes ago)`,
        },
        ...backTo("Repair Orders"),
        // Actions > Update from Cartum on three orders.
        selectRow("WEB-1001"),
        selectRow("WEB-1002"),
        selectRow("WEB-1005"),
        {
            content: "three orders are selected",
            trigger: eitherSeries(SELECTION_BOX, "%s:contains(3)"),
        },
        {
            content: "open the Actions menu",
            trigger: ".o_cp_action_menus button:contains(Actions)",
            run: "click",
        },
        {
            content: "press Update from Cartum",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(Update from Cartum)",
            run: "click",
        },
        {
            content: "the three orders were refreshed",
            trigger: `${CARTUM_NOTIFICATION}:contains(Refreshed:):contains(WEB-1001):contains(WEB-1002):contains(WEB-1005)`,
        },
        {
            content: "nothing was skipped",
            trigger: `${CARTUM_NOTIFICATION}:contains(WEB-1005):not(:contains(Skipped))`,
        },
    ],
});

/* The chatter of a repair whose status Cartum applied says what was sent. */
function sentStatusSteps() {
    return [
        {
            content: "open the repair order WEB-1006",
            trigger: ".o_list_view .o_data_row:contains(WEB-1006) td[name=name]",
            run: "click",
        },
        {
            content: "the chatter says which status was sent to Cartum",
            trigger: ".o-mail-Message:contains(Status sent to Cartum as Processing.)",
        },
    ];
}

/* Repairs > Configuration > Products (product templates): the From Cartum filter, the search
 * by Cartum external ID and the Cartum tab of the product form. */
function productSteps() {
    return [
        ...goToApp("repair.menu_repair_order", "open Repairs"),
        ...repairsMenu("repair.repair_menu_product_template"),
        {
            content: "the products are shown, a product made in Odoo among them",
            trigger: ".o_kanban_view .o_kanban_record:contains(Made in Odoo)",
        },
        openSearchPanel(),
        {
            content: "filter: From Cartum",
            trigger: ".o_filter_menu .o_menu_item:contains(From Cartum)",
            run: "click",
        },
        {
            content: "products from Cartum, a product made in Odoo left out",
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains(Made in Odoo))) .o_kanban_record:contains(Дисплей iPhone 13)",
        },
        {
            content: "search by Cartum external ID",
            trigger: ".o_searchview_input",
            run: "edit BAT-IP12",
        },
        {
            content: "choose: search Cartum External ID",
            trigger: eitherSeries(
                AUTOCOMPLETE_ITEM,
                ".o_searchview_autocomplete %s:contains(Cartum External ID)"
            ),
            run: "click",
        },
        {
            content: "only the product with that article is left",
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains(Дисплей iPhone 13))) .o_kanban_record:contains(Акумулятор iPhone 12)",
        },
        {
            content: "open the product",
            trigger: ".o_kanban_record:contains(Акумулятор iPhone 12)",
            run: "click",
        },
        {
            content: "open the product's Cartum tab",
            trigger: ".o_form_view .o_notebook_headers a[name=cartum]",
            run: "click",
        },
        {
            content: "the product form shows its Cartum link: store and article",
            trigger: ".o_form_view .o_field_widget[name=cartum_link_ids] .o_data_row:contains(Demo shop):contains(BAT-IP12)",
        },
    ];
}

/* A running import in the sync log and its form: they follow its commits by themselves,
 * until it ends. */
function progressSteps() {
    return [
        {
            content: "the running import in the sync log, with its orders so far",
            trigger: ".o_list_view .o_data_row:contains(Running):contains(Manual) td[name=imported_count]:contains(200)",
        },
        runningRunCommits({ imported_count: 300, page_count: 3 }),
        {
            content: "the list follows the run by itself: 300 orders now",
            trigger: ".o_list_view .o_data_row:contains(Running) td[name=imported_count]:contains(300)",
        },
        {
            content: "open the running import",
            trigger: ".o_list_view .o_data_row:contains(Running) td[name=trigger]",
            run: "click",
        },
        {
            content: "its progress: orders so far, pages, time",
            trigger: ".o_form_view .o_cartum_run_progress:has(.o_field_widget[name=order_count]:contains(300)):has(.o_field_widget[name=page_count]:contains(3)) .o_field_widget[name=duration]",
        },
        {
            content: "who started it",
            trigger: ".o_form_view .o_field_widget[name=user_id]:contains(Administrator)",
        },
        runningRunCommits({ imported_count: 400, page_count: 4 }),
        {
            content: "the form follows the run by itself: 400 orders, 4 pages",
            trigger: ".o_form_view .o_cartum_run_progress:has(.o_field_widget[name=order_count]:contains(400)) .o_field_widget[name=page_count]:contains(4)",
        },
        runningRunCommits({ state: "done", finished_at: "2026-01-01 00:00:00" }),
        {
            content: "the run ends: Done, the progress gone, without a reload",
            trigger: ".o_form_view:not(:has(.o_cartum_run_progress)) .o_field_badge[name=state]:contains(Done)",
        },
    ];
}

// 19.0 wants a step that leaves the page to say so; 18.0's steps have no such key.
const LEAVES_THE_PAGE = session.server_version_info[0] >= 19 ? { expectUnloadPage: true } : {};

/* A new page, as a user typing an address: a tour goes on after it loads. */
function goToUrl(url) {
    return { content: `go to ${url}`, trigger: "body", run: `goToUrl ${url}`, ...LEAVES_THE_PAGE };
}

registry.category("web_tour.tours").add("cartum_chatter_products_progress_tour", {
    url: "/odoo/action-repair.action_repair_order_tree",
    steps: () => [
        ...sentStatusSteps(),
        goToUrl("/odoo"),
        ...productSteps(),
        goToUrl("/odoo/action-cartum_connector.cartum_sync_run_action"),
        ...progressSteps(),
    ],
});

/* The dashboard, Import Orders… and a connection error in the user's language (`t`), for
 * a store that writes in English (its responsible user's language). */
function languageTourSteps(t) {
    return [
        cardFitsOnItsLines(STORE_CARD),
        cardFitsOnItsLines(SECOND_CARD),
        {
            content: "the card: last sync, next sync, the last run, in the user's language",
            trigger: `${STORE_CARD}:contains(${t.lastSync}):contains(${t.nextSync}) .o_field_widget[name=last_run_state]:contains(${t.doneWithFailures})`,
        },
        {
            content: "a store that never synced",
            trigger: `${SECOND_CARD} .o_cartum_never:contains(${t.never})`,
        },
        {
            content: "the card counts in the language's plural forms",
            trigger: `${STORE_CARD}:has(a.o_cartum_open_failures:contains(${t.threeOpenFailures})) a.o_cartum_pending_pushes:contains(${t.onePendingPush})`,
        },
        {
            content: "quick actions in the user's language",
            trigger: `${STORE_CARD}:has(button.o_cartum_import_now:contains(${t.importNow})) button.o_cartum_test_connection:contains(${t.testConnectionButton})`,
        },
        cardMenuClearOfBadge(STORE_CARD),
        {
            content: "open the card's menu",
            trigger: STORE_CARD,
            run: `hover && click ${STORE_CARD} .o_dropdown_kanban .dropdown-toggle`,
        },
        {
            content: "press Import Orders… in the card's menu",
            trigger: `.o-dropdown--menu .o_cartum_store_menu a:contains(${t.importOrders})`,
            run: "click",
        },
        {
            content: "enter an order number unknown to Cartum",
            trigger: ".modal .o_field_widget[name=order_numbers] textarea",
            run: "edit 9999",
        },
        {
            content: "press Import",
            trigger: ".modal .modal-footer button[name=action_import]",
            run: "click",
        },
        {
            content: "the reason is written in the store's language: English",
            trigger: ".o_form_view .o_field_widget[name=failure_ids] .o_data_row:contains(Order 9999 was not found in Cartum.)",
        },
        {
            content: "the run opens in the user's language: its labels, values and buttons",
            trigger: `.o_form_view:has(.o_field_badge[name=state]:contains(${t.doneWithFailures})):has(.o_field_widget[name=trigger]:contains(${t.chosenOrders})):has(.o_form_label:contains(${t.trigger})) button[name=action_retry_failures]:contains(${t.retryAll})`,
        },
        goToUrl("/odoo/action-cartum_connector.cartum_store_action?view_type=list"),
        {
            content: "open the store never synced from the list of stores",
            trigger: ".o_list_view .o_data_row:contains(Second shop) td[name=name]",
            run: "click",
        },
        {
            content: "type its address without http://: it becomes https://",
            trigger: ".o_form_view .o_field_widget[name=url] input",
            run() {
                this.anchor.value = this.anchor.value.replace("http://", "");
                this.anchor.dispatchEvent(new Event("input", { bubbles: true }));
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "press Test Connection",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_test_connection]",
            run: "click",
        },
        {
            content: "the connection error is whole sentences in the user's language: what to check",
            trigger: `${CARTUM_NOTIFICATION}:contains(${t.testConnectionTitle}):contains(Second shop):contains(${t.notSecure}):not(:contains(attempt)):not(:contains(auth))`,
        },
        {
            content: "the form shows the store in error, with the same message",
            trigger: `.o_form_view .alert-danger .o_field_widget[name=connection_message]:contains(${t.notSecure})`,
        },
    ];
}

registry.category("web_tour.tours").add("cartum_spanish_tour", {
    url: "/odoo/action-cartum_connector.cartum_store_action",
    steps: () =>
        languageTourSteps({
            lastSync: "Última sincronización",
            nextSync: "Próxima sincronización",
            doneWithFailures: "Hecho con fallos",
            never: "Nunca",
            threeOpenFailures: "3 fallos abiertos",
            onePendingPush: "1 envío pendiente",
            importNow: "Importar ahora",
            testConnectionButton: "Probar conexión",
            testConnectionTitle: "Probar conexión: Second shop",
            importOrders: "Importar pedidos",
            chosenOrders: "Importación de pedidos elegidos",
            trigger: "Activador",
            retryAll: "Reintentar todos los pedidos fallidos",
            notSecure: "no aceptó una conexión segura",
        }),
});

registry.category("web_tour.tours").add("cartum_ukrainian_tour", {
    url: "/odoo/action-cartum_connector.cartum_store_action",
    steps: () =>
        languageTourSteps({
            lastSync: "Остання синхронізація",
            nextSync: "Наступна синхронізація",
            doneWithFailures: "Виконано зі збоями",
            never: "Ніколи",
            threeOpenFailures: "3 відкриті збої",
            onePendingPush: "1 статус в черзі",
            importNow: "Імпортувати зараз",
            testConnectionButton: "Перевірити",
            testConnectionTitle: "Перевірка",
            importOrders: "Імпортувати замовлення",
            chosenOrders: "Імпорт вибраних замовлень",
            trigger: "Спосіб запуску",
            retryAll: "Повторити всі невдалі замовлення",
            notSecure: "не прийняв захищене",
        }),
});
