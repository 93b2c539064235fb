/** @odoo-module */

import { onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";
import { listView } from "@web/views/list/list_view";
import { ListController } from "@web/views/list/list_controller";

// A running import commits every page: while a run shown is running, its view reloads at this
// pace (milliseconds), so that its counts, pages and time move without a manual reload. The
// tours, which stand for the job's commits themselves, shorten it.
export const runRefresh = { interval: 2000 };

function useRefreshWhileRunning(isRunning, reload) {
    let timer;
    let loading = false;
    onMounted(() => {
        timer = setInterval(async () => {
            if (loading || !isRunning()) {
                return;
            }
            loading = true;
            try {
                await reload();
            } finally {
                loading = false;
            }
        }, runRefresh.interval);
    });
    onWillUnmount(() => clearInterval(timer));
}

export class CartumSyncRunListController extends ListController {
    setup() {
        super.setup();
        // Import Now opens the list before its job has started the run: the list reloads
        // until a run newer than the last one at the click shows.
        const awaitedAfter = this.props.context.cartum_run_awaited_after;
        useRefreshWhileRunning(
            () =>
                !this.model.root.isGrouped &&
                (this.model.root.records.some((record) => record.data.state === "running") ||
                    (awaitedAfter !== undefined &&
                        !this.model.root.records.some((record) => record.resId > awaitedAfter))),
            () => this.model.root.load()
        );
    }
}

export class CartumSyncRunFormController extends FormController {
    setup() {
        super.setup();
        useRefreshWhileRunning(
            () => this.model.root.data.state === "running",
            () => this.model.root.load()
        );
    }
}

registry.category("views").add("cartum_sync_run_list", {
    ...listView,
    Controller: CartumSyncRunListController,
});
registry.category("views").add("cartum_sync_run_form", {
    ...formView,
    Controller: CartumSyncRunFormController,
});
