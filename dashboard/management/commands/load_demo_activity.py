"""Fill the demo tenant with real activity: the seed's five use cases run unchanged through the SDK.

Each sample is a user script (a subprocess) talking to the running Memori server with the demo API
key and to the offline OpenAI-compatible server (started here unless --llm-url is given). Two short
extra scripts, also plain SDK code, add what the samples do not produce on their own: agents that
disagree (a contradiction) and a second support round handed over without ``wait()``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from memory.management.commands.seed_demo import DEMO_TENANT, demo_key_file
from memory.models import ApiKey, Exchange, Tenant, hash_api_key
from memory.services.api_keys import api_key_create

SAMPLES = (
    "uc1_research_pipeline.py",
    "uc2_support_handoff.py",
    "uc3_dev_team.py",
    "uc4_parallel.py",
    "uc5_product_team.py",
)
SHARED_SAMPLES = settings.BASE_DIR.parent / "shared" / "seed-examples"
VENDORED_SAMPLES = settings.BASE_DIR / "tests" / "sdk" / "seed_examples"

# Plain SDK code, as a user would write it: two agents disagree about where the customer is based,
# then a third agent is handed the customer while the disagreement is unresolved.
DISAGREEING_AGENTS = """
from memori import Memori
from openai import OpenAI

def agent(process_id):
    client = OpenAI()
    mem = Memori().llm.register(client)
    mem.attribution(entity_id="customer_456", process_id=process_id)
    return client, mem

client, mem = agent("billing_agent")
client.chat.completions.create(model="gpt-4o-mini", messages=[
    {"role": "system", "content": "You are a billing specialist."},
    {"role": "user", "content": "The customer is located in Lisbon. The invoice is due on March 5."}])
mem.augmentation.wait()
client, mem = agent("technical_agent")
client.chat.completions.create(model="gpt-4o-mini", messages=[
    {"role": "system", "content": "You are a technical support specialist."},
    {"role": "user", "content": "The customer is located in Porto. The invoice is due on March 12."}])
mem.augmentation.wait()
client, mem = agent("triage_agent")
client.chat.completions.create(model="gpt-4o-mini", messages=[
    {"role": "system", "content": "You are a triage agent."},
    {"role": "user", "content": "Which city is the customer located in, and when is the invoice due?"}])
"""

# A second support round handed over at once, without wait(): the dashboard lists it as a handoff gap.
HURRIED_HANDOFF = """
from memori import Memori
from openai import OpenAI

for process_id, text in [
    ("triage_agent", "The customer wants to upgrade to the Enterprise plan and needs SSO with Okta."),
    ("billing_agent", "Prepare the Enterprise plan upgrade quote for the customer."),
    ("technical_agent", "Set up SSO with Okta for the customer's Enterprise plan."),
]:
    client = OpenAI()
    mem = Memori().llm.register(client)
    mem.attribution(entity_id="customer_789", process_id=process_id)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
"""


class Command(BaseCommand):
    help = "Run the seed's use cases through the real SDK against the running server (demo dashboard data)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default=os.environ.get("MEMORI_API_URL", "http://127.0.0.1:8000"))
        parser.add_argument("--llm-url", default="", help="OpenAI-compatible base URL; default: start the offline one")
        parser.add_argument("--skip-if-not-empty", action="store_true", help="do nothing if the demo has exchanges")

    def handle(self, *args, url: str, llm_url: str, skip_if_not_empty: bool, **options) -> None:
        if skip_if_not_empty and Exchange.objects.filter(entity__tenant__name=DEMO_TENANT).exists():
            self.stdout.write("The demo tenant already has activity; nothing to do.")
            return
        call_command("seed_demo", stdout=self.stdout)
        self._check_server(url)
        offline = None
        if not llm_url:
            from memori_site.offline_llm import OfflineLLM

            offline = OfflineLLM().start()
            llm_url = offline.base_url
        env = self._environment(url, llm_url)
        try:
            for name in SAMPLES:
                self._run(name, [sys.executable, str(self._sample(name))], env)
            self._run("two agents disagree", [sys.executable, "-c", DISAGREEING_AGENTS], env)
            self._run("hurried handoff (no wait)", [sys.executable, "-c", HURRIED_HANDOFF], env)
        finally:
            if offline is not None:
                offline.stop()
        count = Exchange.objects.filter(entity__tenant__name=DEMO_TENANT).count()
        self.stdout.write(self.style.SUCCESS(f"Demo activity loaded: {count} exchanges. Open {url}/ (admin/admin)."))

    def _check_server(self, url: str) -> None:
        try:
            urllib.request.urlopen(f"{url}/api/v1/health/", timeout=5)  # noqa: S310 - our own server
        except (urllib.error.URLError, OSError) as error:
            raise CommandError(f"The Memori server at {url} is not reachable ({error}); start it with `make run`.")

    def _environment(self, url: str, llm_url: str) -> dict:
        env = dict(os.environ)
        env.pop("DJANGO_SETTINGS_MODULE", None)  # the samples are user scripts, not part of the server
        env.update(
            MEMORI_API_URL=url,
            MEMORI_API_KEY=self._demo_key(),
            OPENAI_BASE_URL=llm_url,
            OPENAI_API_KEY=env.get("OPENAI_API_KEY") or "offline",
            PYTHONPATH=os.pathsep.join(filter(None, [str(settings.BASE_DIR), env.get("PYTHONPATH", "")])),
        )
        return env

    def _demo_key(self) -> str:
        """The demo key from var/; a new one when that file outlived its database (a fresh DB, same var/)."""
        path = demo_key_file()
        raw_key = path.read_text().strip() if path.exists() else ""
        valid = ApiKey.objects.filter(
            key_hash=hash_api_key(raw_key), tenant__name=DEMO_TENANT, revoked_at__isnull=True
        ).exists()
        if not valid:
            tenant = Tenant.objects.get(name=DEMO_TENANT)
            _, raw_key = api_key_create(tenant=tenant, name=f"demo-agents-{secrets.token_hex(3)}")
            path.write_text(raw_key)
        return raw_key

    def _sample(self, name: str) -> Path:
        path = SHARED_SAMPLES / name
        return path if path.exists() else VENDORED_SAMPLES / f"{name}.txt"

    def _run(self, label: str, command: list[str], env: dict) -> None:
        self.stdout.write(f"Running {label} …")
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
        if completed.returncode != 0:
            raise CommandError(f"{label} failed:\n{completed.stderr[-2000:]}")
