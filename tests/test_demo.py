"""bin/cartum-demo stopped by a signal to its own PID, as a process manager or a user sends it.

The demo is started for real, with this interpreter's Odoo, in a throwaway database; the signal
comes while Odoo installs the addon (the longest step), which is as far as a test goes without
minutes of installing. Where this interpreter has no Odoo, or PostgreSQL does not answer, the
tests are skipped and say why.
"""

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO = REPO_ROOT / "bin" / "cartum-demo"
# Deadlines against a hang only: each is far above what the step takes.
START_DEADLINE = 120
STOP_DEADLINE = 60

psutil = pytest.importorskip("psutil", reason="psutil comes with Odoo; this one has no Odoo")
psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2 comes with Odoo; this one has no Odoo")


def _database_server():
    """Connection arguments of PostgreSQL as the demo finds it, or skip."""
    if importlib.util.find_spec("odoo") is None:
        pytest.skip(f"{sys.executable} has no Odoo")
    server = {
        "host": os.environ.get("ODOO_DB_HOST", "127.0.0.1"),
        "port": os.environ.get("ODOO_DB_PORT", "5432"),
        "user": os.environ.get("ODOO_DB_USER") or None,
    }
    try:
        psycopg2.connect(dbname="postgres", connect_timeout=5, **server).close()
    except psycopg2.OperationalError as error:
        pytest.skip(f"PostgreSQL does not answer: {error}")
    return server


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(condition, what):
    deadline = time.monotonic() + START_DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"the demo never got to {what}"
        time.sleep(0.2)


def _is_odoo_install(process):
    try:
        command = process.cmdline()
    except psutil.NoSuchProcess:
        return False
    return "odoo" in command and "--stop-after-init" in command


@pytest.fixture
def database():
    server = _database_server()
    name = f"cartum_demo_test_{os.getpid()}_{time.time_ns()}"
    yield name
    connection = psycopg2.connect(dbname="postgres", **server)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    connection.close()


@pytest.mark.parametrize(
    ("stop_signal", "ignored_at_start", "exit_code"),
    [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)],
    ids=["INT, ignored when started", "TERM"],
)
def test_a_signal_to_the_demos_pid_stops_it_whole(
    tmp_path, database, stop_signal, ignored_at_start, exit_code
):
    """Odoo and the sandbox stop, the sandbox writes its state, and the demo ends, also when
    it was started with SIGINT ignored, as another script's background job is."""
    environment = dict(
        os.environ,
        CARTUM_DEMO_DB=database,
        SANDBOX_ACCESS_LOG=str(tmp_path / "access.log"),
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "sandbox")]),
    )
    demo = subprocess.Popen(
        [str(DEMO), "--python", sys.executable, "--port", str(_free_port()),
         "--sandbox-port", str(_free_port())],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own session: a signal that went to its process group instead would not count.
        start_new_session=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if ignored_at_start
        else None,
    )
    shell = psutil.Process(demo.pid)
    try:
        _wait_for(lambda: any(map(_is_odoo_install, shell.children())), "installing Odoo")
        steps = shell.children(recursive=True)
        assert len(steps) >= 2  # the sandbox, and Odoo installing
        demo.send_signal(stop_signal)
        output, _ = demo.communicate(timeout=STOP_DEADLINE)
    finally:
        if demo.poll() is None:
            for process in [shell, *shell.children(recursive=True)]:
                process.kill()
            demo.wait()
    assert demo.returncode == exit_code, output
    _gone, alive = psutil.wait_procs(steps, timeout=0)
    assert alive == [], output
    assert "Stopping." in output  # the sandbox's last word
    assert (tmp_path / "cartum-sandbox-state.json").exists()


@pytest.mark.skipif(
    not os.environ.get("CARTUM_DEMO_FULL"),
    reason="a first start of the demo takes minutes: CARTUM_DEMO_FULL=1 runs it "
    "(CARTUM_DEMO_PYTHON chooses the Odoo, python3's by default)",
)
def test_a_first_start_of_the_demo(tmp_path, database):
    """The whole demo, as a newcomer starts it: Odoo on 127.0.0.1 only, Contacts installed, no
    "Skipped" run once Odoo's jobs have started, a change made in the sandbox's admin followed
    by Odoo, and kill -TERM to its PID stopping it whole."""
    python = os.environ.get("CARTUM_DEMO_PYTHON", sys.executable)
    http_port, sandbox_port = _free_port(), _free_port()
    environment = dict(
        os.environ,
        CARTUM_DEMO_DB=database,
        SANDBOX_ACCESS_LOG=str(tmp_path / "access.log"),
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "sandbox")]),
    )
    demo = subprocess.Popen(
        [str(DEMO), "--python", python, "--port", str(http_port),
         "--sandbox-port", str(sandbox_port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    shell = psutil.Process(demo.pid)
    odoo_url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 15 * 60
        while not _listens(http_port):
            assert demo.poll() is None and time.monotonic() < deadline, "Odoo never served"
            time.sleep(1)
        started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        listening = {
            connection.laddr.ip
            for process in shell.children(recursive=True)
            # net_connections() from psutil 6 on, connections() before
            for connection in getattr(process, "net_connections", process.connections)("inet")
            if connection.status == psutil.CONN_LISTEN
        }
        assert listening == {"127.0.0.1"}
        rpc = _OdooRpc(odoo_url, database)
        assert rpc("ir.module.module", "search_count", [[("name", "=", "contacts"),
                                                         ("state", "=", "installed")]]) == 1
        # Odoo's jobs start with it: every job due then (the status push job at least) runs.
        while rpc("ir.cron", "search_count", [[("nextcall", "<=", started)]]):
            assert time.monotonic() < deadline, "Odoo's scheduled jobs never ran"
            time.sleep(1)
        runs = rpc("cartum.sync.run", "search_read", [[]], {"fields": ["trigger", "state"]})
        assert [(run["trigger"], run["state"]) for run in runs] == [("first", "done")]

        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        # The demo store's parts got their Odoo stock (the saved state below lists what
        # Cartum received), shown in the sandbox's admin.
        orders_page = requests.get(f"{sandbox_url}/edit/orders/", timeout=10).text
        assert "Stock in the catalog" in orders_page
        session = requests.Session()
        page = session.get(f"{sandbox_url}/edit/orders/1006/", timeout=10).text
        form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
        changed = session.post(f"{sandbox_url}/edit/orders/1006/status/", timeout=10,
                               data={"form_token": form_token, "status": "2"})
        assert changed.ok
        repair = rpc("repair.order", "search", [[("cartum_external_id", "=", "1006")]])
        assert rpc("repair.order", "read", [repair, ["state"]])[0]["state"] == "draft"
        rpc("repair.order", "action_cartum_refresh", [repair])
        assert rpc("repair.order", "read", [repair, ["state"]])[0]["state"] == "confirmed"

        steps = shell.children(recursive=True)
        demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=STOP_DEADLINE)
    finally:
        if demo.poll() is None:
            for process in [shell, *shell.children(recursive=True)]:
                process.kill()
            demo.wait()
    assert demo.returncode == 143, output
    assert psutil.wait_procs(steps, timeout=0)[1] == []
    saved = json.loads((tmp_path / "cartum-sandbox-state.json").read_text(encoding="utf-8"))
    assert saved["orders"]["1006"]["stat_status"] == 2
    assert {entry["article"] for entry in saved["stock_imports"]} >= {"DSP-IP12", "BAT-IP12"}


def _listens(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return False
    return True


class _OdooRpc:
    """Calls of the demo's Odoo as its admin (admin/admin), over XML-RPC."""

    def __init__(self, url, database):
        self.database = database
        self.uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(
            database, "admin", "admin", {}
        )
        self.models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def __call__(self, model, method, arguments, options=None):
        return self.models.execute_kw(
            self.database, self.uid, "admin", model, method, arguments, options or {}
        )
