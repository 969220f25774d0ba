#!/usr/bin/env python
"""Django's manage.py; ``qiantou`` (the console script) does the same."""

from qiantou.cli import main

if __name__ == "__main__":
    main()
