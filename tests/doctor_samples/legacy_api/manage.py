"""python manage.py reset: drop and recreate every table."""
import sys

from app import create_app, db

if __name__ == "__main__" and sys.argv[1:] == ["reset"]:
    app = create_app()
    db.drop_all(app=app)
    db.create_all(app=app)
