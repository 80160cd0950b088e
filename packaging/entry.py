"""The bundle's entry point (packaging/deepscope.spec): what the `deepscope` script runs."""
import sys

from gui.app import main

sys.exit(main())
