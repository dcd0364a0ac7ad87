"""The Flask-SQLAlchemy Pitfall Lab: documented failures as runnable evidence."""
