import sys

from iamreach.cli import main

sys.exit(main())
