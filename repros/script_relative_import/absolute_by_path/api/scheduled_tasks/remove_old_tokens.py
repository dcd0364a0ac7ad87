import os
import sys
from datetime import datetime, timedelta

# Put the project root on the path so that the absolute imports below work.
sys.path.append(os.path.abspath("../../"))

from api import create_app  # noqa: E402
from api.database import db  # noqa: E402
from api.models import TokenBlocklist  # noqa: E402


def remove_old_tokens():
    """Delete the tokens created more than 40 days ago."""
    forty_days_ago = datetime.now() - timedelta(days=40)
    query = TokenBlocklist.__table__.delete().where(TokenBlocklist.created_at < forty_days_ago)
    db.session.execute(query)
    db.session.commit()
    print("Old tokens removed.")


if __name__ == "__main__":
    with create_app().app_context():
        remove_old_tokens()
