"""Pushes the visit count to the shared cache, every hour."""
import socket


def main():
    cache = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    cache.settimeout(2)
    cache.connect(("cache.invalid", 6379))
    cache.sendall(b"PING\r\n")


if __name__ == "__main__":
    main()
