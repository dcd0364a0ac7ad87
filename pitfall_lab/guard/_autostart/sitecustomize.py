"""On PYTHONPATH (python -m pitfall_lab.guard prints this folder): every interpreter that starts
installs the guard when PITFALL_LAB_GUARD says so, a server's workers included."""
import os

if os.environ.get("PITFALL_LAB_GUARD"):
    from pitfall_lab import guard

    guard.install_from_env()
