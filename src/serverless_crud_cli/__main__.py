"""`python -m serverless_crud_cli`."""

import sys

from serverless_crud_cli.main import main

sys.exit(main())
