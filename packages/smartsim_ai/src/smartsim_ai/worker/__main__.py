"""``python -m smartsim_ai.worker``: run one worker process (started by the ``ai`` module)."""

import sys

from smartsim_ai.worker.main import main

sys.exit(main())
