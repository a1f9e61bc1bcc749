"""The WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``.

The settings come from the ``REGISTRY_*`` environment; the instance's keys must exist
(``python -m registry init`` makes them once).
"""

from registry import create_app

app = create_app()
