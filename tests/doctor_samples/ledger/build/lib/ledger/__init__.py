"""What setup.py build left: a copy of the package, copied as code is."""
