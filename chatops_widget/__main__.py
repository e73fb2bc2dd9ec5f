"""``python -m chatops_widget serve ...`` -- same as the ``chatops-widget`` command."""

import sys

from .server.cli import main

sys.exit(main())
