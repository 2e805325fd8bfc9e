"""Production entry point: ``gunicorn -w 4 wsgi:app``."""

from scheduler import create_app
from scheduler.config import check_production_config

app = create_app()
check_production_config(app.config)
