"""Print yesterday's total; cron runs it every night."""
from reports import create_app, db
from reports.models import Sale

if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        db.create_all()
        print(sum(s.amount for s in Sale.query.all()))
