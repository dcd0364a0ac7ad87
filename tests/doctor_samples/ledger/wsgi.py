"""The app, as gunicorn serves it."""
from ledger import create_app

app = create_app()
