// Placeholder translation unit until the task sources land (issue #5); delete when they do.
