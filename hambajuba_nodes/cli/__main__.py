"""`python -m hambajuba_nodes.cli ...` runs the same command line as `hambajuba`."""
import sys

from . import main

sys.exit(main())
