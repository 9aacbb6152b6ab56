import sys

from anyecg.cli import main

sys.exit(main())
