def send_welcome(user):
    print(f"welcome, {user.email}")
