"""sanctuarywatch: official claims about crime and immigration policy, re-checked from the sources.

Import it to query the warehouse (`sanctuarywatch.warehouse.connect`), run collections
(`sanctuarywatch.collect`), or use the command line (`sanctuarywatch --help`).
"""

__version__ = "0.1.0"
