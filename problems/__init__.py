"""Built-in pathtrack plugins, registered under the ``pathtrack.problems`` entry-point group."""
