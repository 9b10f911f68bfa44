"""The deployment matrix: the store guarantees checked under real gunicorn servers.

* :mod:`.app` is the WSGI app every server runs (``tests.deploy.app:create_app()``).
* :mod:`.launcher` starts gunicorn in one worker shape on a free 127.0.0.1 port
  and stops its whole process group by PID.
* :mod:`.client` sends bounded HTTP requests and turns "no answer in time"
  into a result, never a hang.
* :mod:`.signals` lets a test hold a request in flight inside the server.
* :mod:`.stores` names the stores the matrix runs against, one line each.

The scenarios themselves are in ``tests/test_deployment_matrix.py``.
"""
