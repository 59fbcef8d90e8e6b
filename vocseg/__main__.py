import sys

from vocseg.cli import main

sys.exit(main())
