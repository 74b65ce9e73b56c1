// Placeholder translation unit until the dataset sources land (issue #4); delete when they do.
