SQLALCHEMY_DATABASE_URI = "sqlite:///ledger.sqlite3"
