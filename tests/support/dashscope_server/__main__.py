"""`python -m tests.support.dashscope_server`: serve until SIGTERM/SIGINT (see `cli.main`)."""

import sys

from .cli import main

sys.exit(main())
