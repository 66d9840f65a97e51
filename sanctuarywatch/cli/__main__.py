"""`python -m sanctuarywatch.cli`, as `python -m sanctuarywatch`."""

import sys

from sanctuarywatch.cli import main

sys.exit(main())
