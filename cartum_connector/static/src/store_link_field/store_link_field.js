import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * The store's name, as a link to the order's page in that store's Cartum admin.
 * A click opens the admin in a new tab instead of opening the repair order.
 */
export class CartumStoreLinkField extends Component {
    static template = "cartum_connector.CartumStoreLinkField";
    static props = { ...standardFieldProps };

    get storeName() {
        return this.props.record.data[this.props.name] || "";
    }

    get adminUrl() {
        return this.props.record.data.cartum_admin_url || "";
    }
}

export const cartumStoreLinkField = {
    component: CartumStoreLinkField,
    displayName: "Cartum store link",
    supportedTypes: ["char"],
    fieldDependencies: [{ name: "cartum_admin_url", type: "char" }],
};

registry.category("fields").add("cartum_store_link", cartumStoreLinkField);
