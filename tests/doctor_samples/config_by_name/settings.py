import os

from secrets_vault import load_secret  # installed on the servers only


class Production:
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///prod.db")
    SECRET_KEY = load_secret("flask")
