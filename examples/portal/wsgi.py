"""gunicorn's entry point: `gunicorn -c gunicorn.conf.py wsgi:app` from examples/portal."""
from portal import create_app

app = create_app()
