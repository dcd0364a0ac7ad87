import os
import subprocess

workers = 2
threads = 2
preload_app = False


def on_starting(server):
    # Once, in the master, before any worker loads the app; in a process of its own, so the
    # master never holds a connection for the workers to inherit.
    subprocess.run(["flask", "log-startup"], env={**os.environ, "FLASK_APP": "flask_app"},
                   check=True)
