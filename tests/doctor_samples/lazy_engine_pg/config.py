import os


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev")
    # Heroku's DATABASE_URL in production; the team's PostgreSQL otherwise.
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", "postgres://shop:secret@db.example.com:5432/shop")
    SQLALCHEMY_TRACK_MODIFICATIONS = False


class TestConfig(Config):
    SQLALCHEMY_DATABASE_URI = "sqlite://"
