from django.core.management.base import BaseCommand

from memory.management.commands.seed_demo import DEMO_ADMIN, demo_key_file


class Command(BaseCommand):
    help = "Print where Memori runs and the local demo's admin login and API key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, url: str, **options) -> None:
        key_file = demo_key_file()
        api_key = key_file.read_text().strip() if key_file.exists() else "(none: run manage.py create_api_key)"
        self.stdout.write(
            f"\nMemori is running at {url}/\n"
            f"  dashboard and admin login: {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}  ({url}/admin/)\n"
            f"  API key: {api_key}\n"
            f"  SDK:     export MEMORI_API_URL={url} MEMORI_API_KEY={api_key}\n"
        )
