from flask import Blueprint

from notes import db
from notes.models import Note

bp = Blueprint("notes", __name__)


@bp.get("/notes")
def index():
    return {"notes": [n.text for n in db.session.scalars(db.select(Note))]}
