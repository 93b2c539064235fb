"""Everything that differs between the Odoo series the addon supports (18.0 and 19.0).

The rest of the addon is written once, for both, against these names; what differs for the
tests alone is in ``tests/series.py``. A port to a new series starts here: README.rst,
Roadmap, lists what 20.0 is known to need.
"""

from odoo import models, release

SERIES = release.version_info[0]  # 18 or 19

# Fields renamed in 19.0.
GROUP_IDS = "group_ids" if SERIES >= 19 else "groups_id"  # res.users, ir.actions.server
USER_IDS = "user_ids" if SERIES >= 19 else "users"  # res.groups
# A contact's phone numbers, first the one a match prefers: 19.0 has no "mobile".
PARTNER_PHONE_FIELDS = ("phone",) if SERIES >= 19 else ("phone", "mobile")
# The decimal precision of quantities, renamed in 19.0.
QUANTITY_PRECISION = "Product Unit" if SERIES >= 19 else "Product Unit of Measure"

if SERIES >= 19:
    Constraint = models.Constraint
else:

    class Constraint:
        """19.0's ``models.Constraint`` on 18.0: ``_name = Constraint(definition, message)``
        in a model adds ``(name, definition, message)`` to its ``_sql_constraints``. Both series
        name the constraint ``<table>_<name>``, so a database keeps it from one to the next."""

        def __init__(self, definition, message=""):
            self.definition = definition
            self.message = message

        def __set_name__(self, owner, name):
            constraint = (name.removeprefix("_"), self.definition, self.message)
            owner._sql_constraints = [*owner.__dict__.get("_sql_constraints", ()), constraint]


def set_groups_category(groups, category, privilege_xmlid):
    """Show ``groups`` under ``category`` in the user form. 19.0 puts groups in a privilege
    (``privilege_xmlid``, made here) whose category is the module category."""
    if SERIES < 19:
        groups.category_id = category
        return
    privilege = groups.env["res.groups.privilege"]._load_records(
        [
            {
                "xml_id": privilege_xmlid,
                "values": {"name": category.name, "category_id": category.id},
                "noupdate": False,
            }
        ]
    )
    groups.privilege_id = privilege


def commit_cron_progress(env, done, remaining):
    """Commit, and show in Settings > Technical > Scheduled Actions how far the running
    scheduled job got: ``done`` items so far, ``remaining`` to go (nothing outside a job)."""
    if SERIES >= 19:
        progress_id = env.context.get("ir_cron_progress_id")
        reported = env["ir.cron.progress"].sudo().browse(progress_id).done if progress_id else 0
        env["ir.cron"]._commit_progress(max(done - reported, 0), remaining=remaining)
    else:
        env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        env.cr.commit()  # pylint: disable=invalid-commit


# Records an autovacuum method deletes per batch.
VACUUM_BATCH_SIZE = 1000


def unlink_in_batches(model, domain):
    """Delete the records of ``model`` that match ``domain``, ``VACUUM_BATCH_SIZE`` at a time (as
    Odoo's own garbage collectors and OCA's queue_job do), for an ``@api.autovacuum`` method.
    Returns ``(deleted, remaining)``: 19.0's vacuum cleaner calls the method again while
    ``remaining``; 18.0's ignores it.

    Only in a scheduled job (``cron_id`` in the context: the autovacuum job, the one caller;
    19.0 refuses to vacuum outside a job) is each batch committed before the next, so a year of
    history is many short transactions, and what is deleted stays deleted if the job is
    stopped. Anywhere else nothing is committed: the caller owns its transaction, and a test's
    cursor refuses a commit."""
    in_job = bool(model.env.context.get("cron_id"))
    batch_size = VACUUM_BATCH_SIZE
    deleted = 0
    while True:
        records = model.search(domain, limit=batch_size)
        records.unlink()
        deleted += len(records)
        if len(records) < batch_size:
            return deleted, False
        if in_job and not commit_vacuum_batch(model.env):
            return deleted, True


def commit_vacuum_batch(env):
    """Commit a batch of the autovacuum job; False when 19.0's job is out of time (its vacuum
    cleaner then calls the method again in the job's next run).

    On 19.0 ``ir.cron._commit_progress()`` with nothing processed commits and answers the time
    left, and leaves alone the cleaner's progress, which counts methods, not records (so not
    ``commit_cron_progress``). 18.0's cleaner has no progress nor time limit: a plain commit,
    as it does after each method."""
    if SERIES >= 19:
        return bool(env["ir.cron"]._commit_progress())
    env.cr.commit()  # pylint: disable=invalid-commit
    return True
