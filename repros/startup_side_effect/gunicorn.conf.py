workers = 2
threads = 2
preload_app = False
