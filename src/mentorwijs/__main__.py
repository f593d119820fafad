from mentorwijs.cli import main

raise SystemExit(main())
