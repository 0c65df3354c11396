"""Model: loading by Hub id, folder or GGUF file, training revisions, hooked units and pooled passes."""
