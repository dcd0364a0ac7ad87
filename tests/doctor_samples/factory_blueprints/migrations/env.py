# Alembic's environment (flask db init); the doctor leaves migrations alone.
from alembic import context  # noqa: F401
