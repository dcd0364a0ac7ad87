from datetime import datetime, timedelta

from ..database import db
from ..models import TokenBlocklist


def remove_old_tokens():
    """Delete the tokens created more than 40 days ago."""
    forty_days_ago = datetime.now() - timedelta(days=40)
    query = TokenBlocklist.__table__.delete().where(TokenBlocklist.created_at < forty_days_ago)
    db.session.execute(query)
    db.session.commit()
    print("Old tokens removed.")
