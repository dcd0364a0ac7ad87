from app import create_app
from models import User

app = create_app()
print(f"{User.query.count()} users")
