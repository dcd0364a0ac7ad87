"""Rename a user: python rename.py USER_ID NAME."""
import sys

from users import rename_user

user = rename_user(int(sys.argv[1]), sys.argv[2])
print(f"renamed to {user.name}")
