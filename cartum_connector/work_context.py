"""What one job of one store works with, handed from step to step as OCA/connector's
``WorkContext`` is, so that no step takes these flags one by one."""

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkContext:
    """``store``: the ``cartum.store`` worked for. ``run``: the ``cartum.sync.run`` an import
    counts its orders and records its failures in (None outside an import).

    ``commit``: a scheduled job, which commits after each step (so that an interruption keeps
    what it did) and holds the store's lock across its commits; anything else commits nothing.
    ``interactive``: a user waits on the answer, so Cartum's calls wait less and try less
    (``cartum.adapter``)."""

    store: object
    run: object = None
    commit: bool = False
    interactive: bool = False

    def __post_init__(self):
        if self.commit and self.interactive:
            raise ValueError("A user's click never commits: no work is both.")

    @classmethod
    def click(cls, store, run=None):
        """The work of a user's click: short timeouts, nothing committed."""
        return cls(store, run, interactive=True)
