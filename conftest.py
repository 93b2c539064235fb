"""pytest's own set-up for the Odoo suite run in several processes (pytest-xdist): each worker
keeps a filestore of its own.

pytest-odoo gives each worker a copy of the database, but points every copy at the original
database's filestore. Odoo's TransactionCase collects that filestore's garbage after each class,
against its own database only: it deleted the files another worker had just written (the tours'
asset bundles, which their browser then failed to load). Nothing here runs for the pure tests,
nor in a single process."""

import os
import shutil
from unittest import mock

import pytest


@pytest.fixture(scope="session", autouse=True)
def filestore_of_each_worker(request):
    if not (os.getenv("PYTEST_XDIST_WORKER") and request.config.pluginmanager.has_plugin("odoo")):
        yield
        return
    request.getfixturevalue("load_registry")  # pytest-odoo's: the worker's copy of the database
    from odoo.tests.common import get_db_name
    from odoo.tools import config

    database = get_db_name()
    shared = config.filestore(database)  # as pytest-odoo points it: the original database's
    own = os.path.join(config["data_dir"], "filestore", database)
    if os.path.isdir(shared):  # a database whose install wrote no file has none yet
        shutil.copytree(shared, own, ignore=shutil.ignore_patterns("checklist"), dirs_exist_ok=True)
    with mock.patch.object(
        config, "filestore", lambda dbname: os.path.join(config["data_dir"], "filestore", dbname)
    ):
        yield
    shutil.rmtree(own, ignore_errors=True)
