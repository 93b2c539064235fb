"""What differs between the Odoo series (18.0 and 19.0) for the tests alone: the addon's own
differences are in ``compat.py``, which ships with it."""

import contextlib

from odoo import http

from ..compat import SERIES

# The record a repair order makes to group its stock moves, procurement group in 18.0.
REPAIR_MOVES_GROUP = "reference_ids" if SERIES >= 19 else "procurement_group_id"
# The required description of a stock move on 18.0; 19.0 has no such field.
STOCK_MOVE_DESCRIPTION = {} if SERIES >= 19 else {"name": "Part"}


def read_group(model, domain, groupby):
    """The public grouped read the web client calls, grouped by one field: a list of dicts
    with ``groupby``'s value, ``(id, name)`` for a many2one. 19.0 deprecates ``read_group``."""
    if SERIES >= 19:
        return model.formatted_read_group(domain, [groupby], ["__count"])
    return model.read_group(domain, [groupby], [groupby])


@contextlib.contextmanager
def registry_test_mode(case):
    """New cursors of the registry, for a test ``case``, wrap the test's cursor: what a
    scheduled job commits in them stays in the test's transaction."""
    if SERIES >= 19:
        with case.enter_registry_test_mode():
            yield
        return
    case.env.flush_all()
    case.registry.enter_test_mode(case.env.cr)
    try:
        yield
    finally:
        case.registry.leave_test_mode()
        case.env.invalidate_all()


def load_static_paths():
    """Read every addon's manifest for the static files now: Python 3.11.7 may fail ("AST
    constructor recursion depth mismatch") when the browser's parallel requests parse Python
    source in two threads at once."""
    if SERIES >= 19:
        from odoo.modules.module import Manifest  # 19.0 only

        for manifest in Manifest.all_addon_manifests():
            http.root.static_path(manifest.name)
    else:
        http.root.statics  # noqa: B018
