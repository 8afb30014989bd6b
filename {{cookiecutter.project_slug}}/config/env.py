"""The environment, through environs: typed values, and errors that name the variable."""

from pathlib import Path

from dotenv import load_dotenv
from environs import Env, validate

# Values already in the environment win over the .env file, in its
# references to other variables too (as in docker compose), so a deployment
# or a test run can override any line of it. python-dotenv comes with environs.
load_dotenv(Path(__file__).resolve().parent.parent / ".env", override=False)
env = Env()


def metrics_port() -> int:
    """DJANGO_METRICS_PORT: where gunicorn's master and the worker serve metrics (0: not)."""
    return env.int(
        "DJANGO_METRICS_PORT",
        8001,
        validate=validate.Range(min=0, max=65535, error="Not a port. Use 1-65535, or 0 for none."),
    )
