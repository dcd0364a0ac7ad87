from app import create_app
from models import User

app = create_app()
with app.app_context():
    print(f"{User.query.count()} users")
