"""``qiantou bootstrap_admins`` — create the three administrator accounts (三员) of a new installation.

Each gets a random initial password, printed once, that must be changed at first login. Existing
accounts of these names are left alone.
"""

from __future__ import annotations

import secrets
import string
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from qiantou.accounts.models import Role, User
from qiantou.audit.services import audit_record
from qiantou.security.services import STAFF_ROLES

ACCOUNTS = [
    ("sysadmin", Role.SYSTEM_ADMIN, "系统管理员"),
    ("secadmin", Role.SECURITY_ADMIN, "安全管理员"),
    ("secauditor", Role.SECURITY_AUDITOR, "安全审计员"),
]


def initial_password() -> str:
    """16 random characters with letters, digits and symbols (passes the validators)."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_=+"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(16))
        if any(c.isalpha() for c in pw) and any(c.isdigit() for c in pw) and any(not c.isalnum() for c in pw):
            return pw


class Command(BaseCommand):
    help = "Create the system administrator, security administrator and security auditor accounts (三员)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--prefix", default="", help="prefix for the three usernames")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create what is missing and print the initial passwords once."""
        for name, role, label in ACCOUNTS:
            username = options["prefix"] + name
            if User.objects.filter(username=username).exists():
                self.stdout.write(f"{username}: exists, unchanged")
                continue
            password = initial_password()
            with transaction.atomic():
                user = User(username=username, role=role, display_name=label, is_staff=role in STAFF_ROLES)
                user.must_change_password = True
                user.set_password(password)
                user.save()
                audit_record(actor=None, action="accounts.bootstrap_admin", obj=user, payload={"role": role})
            self.stdout.write(f"{username} ({label}): {password}  — change at first login")
