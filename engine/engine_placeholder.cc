// Placeholder translation unit until the engine sources land (issue #2); delete when they do.
