"""Run a sandbox store from the command line: python -m cartum_sandbox --seed demo."""

import argparse
import os
import signal
import threading

from .seed import demo_store, generated_store
from .server import CartumSandbox
from .store import SandboxStore


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cartum_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", choices=("demo", "generated"), default="demo")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--customers", type=int, default=1500)
    parser.add_argument("--random-seed", type=int, default=1)
    parser.add_argument(
        "--access-log", metavar="FILE", help="append one line per request to FILE (default: none)"
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="keep the store in FILE across restarts: read at start when it exists (instead of "
        "the seed), written when the sandbox stops (default: none, the store is in memory)",
    )
    return parser.parse_args(argv)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    arguments = parse_arguments(argv)
    if arguments.state and os.path.exists(arguments.state):
        store = SandboxStore.load(arguments.state)
    elif arguments.seed == "demo":
        store = demo_store()
    else:
        store = generated_store(
            orders=arguments.orders,
            products=arguments.products,
            customers=arguments.customers,
            seed=arguments.random_seed,
        )
    # SIGTERM (e.g. from a test or a process manager) stops as cleanly as Ctrl-C, and so does
    # SIGINT sent to this process alone: a shell script's background job starts with SIGINT
    # ignored, and Python then leaves it so.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    with CartumSandbox(store, arguments.host, arguments.port, arguments.access_log) as sandbox:
        try:  # a stop may come as soon as the address is printed
            print(f"Cartum sandbox: {sandbox.base_url}", flush=True)
            print(f"login: {store.login}", flush=True)
            print(f"password: {store.password}", flush=True)
            threading.Event().wait()
        except KeyboardInterrupt:
            print("Stopping.", flush=True)
        finally:
            if arguments.state:
                store.save(arguments.state)


if __name__ == "__main__":
    main()
