"""Production entry point, from any directory: ``gunicorn --workers 4 scheduler.wsgi:app``."""

from scheduler import create_app
from scheduler.calendar.warming import warm_feeds
from scheduler.config import check_production_config

app = create_app()
check_production_config(app.config)

# gunicorn imports this module in each worker before it takes requests (no --preload).
warm_feeds(app)
