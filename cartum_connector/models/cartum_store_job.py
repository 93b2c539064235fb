import logging
import random
import time

from odoo import api, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .. import compat

_logger = logging.getLogger(__name__)

# Advisory lock namespace of a store's jobs (first key; the store id is the second).
STORE_LOCK_NAMESPACE = 0x0CA7
# PostgreSQL's answers to two transactions writing the same rows at the same time (Odoo's own
# list): the later one is refused, and succeeds when run again in a fresh transaction.
RETRYABLE_DB_ERRORS = PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
# How many times a scheduled job runs a step again after such a refusal.
STEP_ATTEMPTS = 6


class CartumStoreJob(models.AbstractModel):
    """The locks, retries and commits of a store's jobs (the import, the catalog refresh, the
    status pushes), in one place.

    A store's jobs never write the same store at the same time: the import holds the store's
    lock for its whole run; the others take it (or wait for it) for their transaction. A
    scheduled job commits after each step, so that an interruption keeps what it did, and runs
    a step PostgreSQL refused (another job wrote the same rows) again, alone, in a fresh
    transaction. A user's click commits nothing: Odoo runs its whole request again.
    """

    _name = "cartum.store.job"
    _description = "Cartum Store Job"

    @api.model
    def _lock_store(self, work):
        """Take the lock of ``work``'s store; False if another job of the store holds it. A
        job that commits (``work.commit``) holds it across its commits, until
        ``_unlock_store``; any other, until its transaction ends."""
        function = "pg_try_advisory_lock" if work.commit else "pg_try_advisory_xact_lock"
        self.env.cr.execute(f"SELECT {function}(%s, %s)", (STORE_LOCK_NAMESPACE, work.store.id))
        return self.env.cr.fetchone()[0]

    @api.model
    def _unlock_store(self, work):
        """Release the lock a committing ``work`` took with ``_lock_store``."""
        self.env.cr.execute(
            "SELECT pg_advisory_unlock(%s, %s)", (STORE_LOCK_NAMESPACE, work.store.id)
        )

    @api.model
    def _wait_for_store(self, work):
        """For the store's other scheduled jobs (catalog refresh): wait until the store's import,
        if one is running, ends; the lock is then held until this transaction ends. What the
        import committed meanwhile may refuse this transaction's writes: run the job through
        ``_retry_transient``."""
        self.env.cr.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", (STORE_LOCK_NAMESPACE, work.store.id)
        )

    @api.model
    def _retry_transient(self, step, description, give_up_until=None):
        """Scheduled jobs only: run ``step()`` and commit; returns what it returned. When
        PostgreSQL refuses it because another job wrote the same rows, roll back (what
        ``step`` wrote, counts and failures included) and run it again in a fresh transaction.
        After ``STEP_ATTEMPTS``, the refusal is raised; or, with ``give_up_until`` (when the
        job runs next, for the log), logged, and None returned. ``description`` names the step
        in the log."""
        for attempt in range(1, STEP_ATTEMPTS + 1):
            try:
                result = step()
                self.env.cr.commit()  # pylint: disable=invalid-commit
                return result
            except RETRYABLE_DB_ERRORS as error:
                self.env.cr.rollback()
                if attempt == STEP_ATTEMPTS:
                    if give_up_until is None:
                        raise
                    _logger.warning("%s: given up until %s", description, give_up_until)
                    return None
                _logger.info("%s collided with another job (%s): run again", description, error)
                time.sleep(random.uniform(0, 0.05 * 2**attempt))

    @api.model
    def _commit_progress(self, done, remaining):
        """Commit; Settings > Technical > Scheduled Actions shows how far the job got."""
        compat.commit_cron_progress(self.env, done=done, remaining=remaining)
