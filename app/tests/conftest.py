"""pytest fixtures of the app's tests. They live in appsupport.py so that test modules import
helpers from a uniquely named module (the project has several conftest.py files)."""

from appsupport import *  # noqa: F401,F403  (fixtures are registered from this namespace)
from appsupport import _free_port, _restore_root_logger  # noqa: F401
