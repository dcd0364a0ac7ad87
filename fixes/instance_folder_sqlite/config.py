from pathlib import Path

# One absolute path for every reader: a relative sqlite:/// URL means the current directory to
# SQLAlchemy and the instance folder to Flask-SQLAlchemy 3.
DATABASE_URL = f"sqlite:///{Path(__file__).resolve().parent / 'app.db'}"
