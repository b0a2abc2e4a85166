"""``python -m tribune.cli``: the same as the ``tribune`` command."""

import sys

from tribune.cli import main

sys.exit(main())
