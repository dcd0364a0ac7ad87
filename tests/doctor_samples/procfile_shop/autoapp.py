"""The app as the Procfile serves it."""
from shop import create_app
from shop.settings import ProdConfig

app = create_app(ProdConfig)
