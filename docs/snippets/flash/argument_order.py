import flask
from flask_sessionstore import flash

flash("error", "Wrong password")  # ours: category first
flask.flash("Wrong password", "error")  # Flask's: message first
