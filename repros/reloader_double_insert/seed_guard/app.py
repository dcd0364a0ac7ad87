import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
db = SQLAlchemy(app)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


# Seed once: skip the reloader's watcher process.
if not app.debug or os.environ.get("WERKZEUG_RUN_MAIN") == "true":
    with app.app_context():
        db.create_all()
        db.session.add(User(id=1, name="admin"))
        db.session.commit()


@app.route("/users")
def users():
    return {"users": [u.name for u in User.query.order_by(User.id)]}


if __name__ == "__main__":
    app.run(debug=True, port=int(os.environ.get("PORT", 5000)))
