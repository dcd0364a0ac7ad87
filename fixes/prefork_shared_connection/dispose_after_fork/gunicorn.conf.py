workers = 2
threads = 2
preload_app = True


def post_fork(server, worker):
    # Leave the master's pooled connections alone; open new ones in this worker.
    from flask_app import app, db

    with app.app_context():
        db.engine.dispose(close=False)
