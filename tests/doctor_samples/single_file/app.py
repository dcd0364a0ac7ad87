from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///notes.db"
db = SQLAlchemy(app)


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(200), nullable=False)


with app.app_context():
    db.create_all()
    db.session.add(Note(text="Welcome!"))
    db.session.commit()


@app.route("/notes", methods=["GET", "POST"])
def notes():
    if request.method == "POST":
        db.session.add(Note(text=request.form["text"]))
        db.session.commit()
    return {"notes": [n.text for n in Note.query.all()]}


if __name__ == "__main__":
    app.run(debug=True)
