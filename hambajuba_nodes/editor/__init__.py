"""The instrument window (Dear PyGui). Entry point: app.App; scripted runs
and the CLI go through hambajuba_nodes.cli.perform."""
