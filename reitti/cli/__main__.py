"""``python -m reitti.cli``: the ``reitti`` command."""

import sys

from reitti.cli import main

sys.exit(main())
