"""The environment, read through environs: typed values, and errors that name the variable.

https://github.com/sloria/environs
"""

from pathlib import Path

from environs import Env

env = Env()
# Values already in the environment win over the .env file, so a deployment
# (or a test run) can override any line of it.
env.read_env(Path(__file__).resolve().parent.parent / ".env", recurse=False)
