"""Print a user and their posts: run by hand or from cron."""
from users import get_user

user = get_user(1)
print(f"{user.name}: {', '.join(post.title for post in user.posts)}")
