// Placeholder translation unit until the tokenizer sources land (issue #3); delete when they do.
