import flask
from flask_sessionstore import flash

flash("error", "Wrong password")  # flask_sessionstore.flash: category first
flask.flash("Wrong password", "error")  # flask.flash: message first
