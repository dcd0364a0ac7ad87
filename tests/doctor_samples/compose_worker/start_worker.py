"""Started by the worker service: it reads its queue's address, then serves jobs until killed."""
import os
import time

from board import create_app

queue_url = os.environ["BOARD_QUEUE_URL"]
app = create_app()


def serve(url):
    while True:
        time.sleep(1)


if __name__ == "__main__":
    serve(queue_url)
