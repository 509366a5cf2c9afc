import sys

from trtplug.cli import main

sys.exit(main())
