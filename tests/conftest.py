import sys
from pathlib import Path

from hypothesis import settings

# Let tests import the shared hypothesis strategies module.
sys.path.insert(0, str(Path(__file__).parent))

# The suite is deterministic: the same examples on every run and machine, so CI passes or
# fails on the code alone. To hunt for new failing examples, run
#   pytest --hypothesis-profile explore
# (fresh random examples each run); add any it finds as a regression test.
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile("deterministic")
