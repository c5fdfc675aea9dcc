"""The public widget: which sites may use it."""
