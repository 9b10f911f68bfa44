"""Example applications for flask-sessionstore (``make demo`` runs ``examples.app``)."""
