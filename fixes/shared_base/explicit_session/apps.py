from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.model import DefaultMeta, Model
from sqlalchemy.ext.declarative import declarative_base

# One declarative base with a custom metaclass, shared by both extensions.
MyModel = declarative_base(cls=Model, name="MyModel", metaclass=DefaultMeta)


class Config:
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SQLALCHEMY_TRACK_MODIFICATIONS = False


app_a = Flask("app_a")
app_a.config.from_object(Config)
db_a = SQLAlchemy(app_a, model_class=MyModel)

app_b = Flask("app_b")
app_b.config.from_object(Config)
db_b = SQLAlchemy(app_b, model_class=MyModel)


class A(db_a.Model):
    __tablename__ = "a"
    id = db_a.Column(db_a.Integer, primary_key=True, autoincrement=True)
    content = db_a.Column(db_a.Text, nullable=False)


class B(db_b.Model):
    __tablename__ = "b"
    id = db_b.Column(db_b.Integer, primary_key=True, autoincrement=True)
    content = db_b.Column(db_b.Text, nullable=False)


@app_a.route("/a")
def a():
    a_s = db_a.session.query(A).all()
    return jsonify([a.content for a in a_s])


@app_b.route("/b")
def b():
    bs = db_b.session.query(B).all()
    return jsonify([b.content for b in bs])
