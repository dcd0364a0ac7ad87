# `flask run` reads this file (python-dotenv); nothing else names the app
FLASK_APP="blog:create_app('production')"
FLASK_DEBUG=0
