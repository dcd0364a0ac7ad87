"""``python -m pitfall_lab.guard`` prints the folder to put on PYTHONPATH (see the package)."""
from pitfall_lab.guard import autostart_path

print(autostart_path())
