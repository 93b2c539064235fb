from . import (
    cartum_order_mapper,
    cartum_status_mapping,
    cartum_status_push,
    cartum_store,
    cartum_sync_failure,
    cartum_sync_run,
    repair_order,
    res_config_settings,
    res_partner,
    stock_move,
)
