"""An imitation of the Cartum (Horoshop) store API over real HTTP, for tests and demos."""

from .seed import demo_store, generated_store
from .server import CartumSandbox
from .store import Faults, SandboxStore

__all__ = ["CartumSandbox", "Faults", "SandboxStore", "demo_store", "generated_store"]
