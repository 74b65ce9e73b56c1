// Placeholder translation unit until the report sources land (issue #7); delete when they do.
