from postdesk.cli import main

# Guarded: the mail parser's worker processes (spawned) import this module again as "__mp_main__".
if __name__ == "__main__":
    main()
