from cm_tui.cli import main

main(prog_name="cm-tui")
