"""The environment, through environs: typed values, and errors that name the variable."""

from pathlib import Path

from dotenv import load_dotenv
from environs import Env

# Values already in the environment win over the .env file, in its
# references to other variables too (as in docker compose), so a deployment
# or a test run can override any line of it. python-dotenv comes with environs.
load_dotenv(Path(__file__).resolve().parent.parent / ".env", override=False)
env = Env()
