"""What the line says, as content in flows/: loading, checking, rendering and
drawing it."""
