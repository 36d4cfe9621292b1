from cm_tui.entry import main

main()
