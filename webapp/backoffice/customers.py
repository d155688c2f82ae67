"""The shared customer file: search, 360° view, merge, prospects, exports."""
