"""The main window's controllers: documents (open, save, autosave, undo, layer edits), jobs (engine work and
its results), selection (object selection gestures) and actions (menus, toolbars, shortcuts). Each gets its
collaborators in its constructor; the MainWindow builds them and wires their signals."""
