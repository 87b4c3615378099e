from inception_tools.cli import main

raise SystemExit(main())
