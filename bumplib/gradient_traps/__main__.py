"""``python -m bumplib.gradient_traps``: see :mod:`bumplib.gradient_traps.command`."""

import sys

from bumplib.gradient_traps.command import main

sys.exit(main())
