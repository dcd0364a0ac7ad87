"""The nightly report: reads the app's database with plain SQLAlchemy, no Flask needed."""
from sqlalchemy import create_engine, text

engine = create_engine("sqlite:///app.db")
with engine.connect() as con:
    print(f"users: {con.execute(text('SELECT count(*) FROM user')).scalar()}")
