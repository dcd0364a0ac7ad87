"""Delete empty notes; cron runs it as a module: python -m notes.cleanup"""
from notes import create_app, db
from notes.models import Note

if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        db.session.execute(db.delete(Note).where(Note.text == ""))
        db.session.commit()
