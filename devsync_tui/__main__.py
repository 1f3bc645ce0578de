from devsync_tui.cli import main

raise SystemExit(main())
