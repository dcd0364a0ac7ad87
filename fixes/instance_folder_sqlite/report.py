"""The nightly report: reads the app's database with plain SQLAlchemy, no Flask needed."""
from sqlalchemy import create_engine, text

from config import DATABASE_URL

engine = create_engine(DATABASE_URL)
with engine.connect() as con:
    print(f"users: {con.execute(text('SELECT count(*) FROM user')).scalar()}")
