import sys

from sanctuarywatch.cli import main

sys.exit(main())
