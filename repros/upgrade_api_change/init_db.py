"""Run once at deploy: python init_db.py"""
from app import create_app, db

app = create_app()
db.create_all(app=app)
print("tables created")
